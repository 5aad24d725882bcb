//! Partitions, erase findings and NAND geometry from the rawprogram and patch XML, the
//! partition_nand.xml names, the geometry in file names and the MIBIB header.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use super::layout::{self, Layout};
use super::rawprogram::{self, Step, StepKind};
use super::{contents, erases, mibib, user_table};
use crate::identity::NandGeometry;
use crate::image::scan::Scan;
use crate::image::{ImageError, Inspection, Member, Partition};

/// The `SECTOR_SIZE_IN_BYTES` values fwguard accepts: 512 bytes (eMMC sectors, small-page NAND)
/// to 64 KiB. Real packages give 512, 2048 or 4096; anything outside is a damaged or hostile file.
pub const SECTOR_SIZE_RANGE: RangeInclusive<u64> = 512..=(64 << 10);

/// Reads the XML of `update/firehose/` into `ins.partitions`, `ins.erases` and `ins.nand`.
pub(super) fn read(
    shown: &str,
    lay: &Layout,
    members: &[Member],
    fh_names: &[&str],
    scanned: &Scan,
    ins: &mut Inspection,
) -> Result<(), ImageError> {
    let malformed = |part: &str, problem: String| ImageError::Malformed {
        path: shown.to_string(),
        part: part.to_string(),
        problem,
    };
    let names = nand_names(lay, scanned, ins);
    let mut index = Index::new(members, &ins.partitions);
    let mut geometry = Geometry::default();
    let mut sorted: Vec<&str> = fh_names.to_vec();
    sorted.sort_unstable();
    let rawprograms: Vec<&str> = sorted.iter().copied().filter(|n| layout::is_rawprogram(n)).collect();
    if rawprograms.is_empty() && !fh_names.is_empty() {
        ins.problems.push(format!("no rawprogram*.xml in {}: the package does not say what to write", lay.firehose));
    }
    for name in sorted.iter().copied().filter(|n| layout::is_rawprogram(n) || layout::is_patch(n)) {
        let path = format!("{}/{name}", lay.firehose);
        let text = scanned.text(&path).unwrap_or_default();
        let steps = rawprogram::parse_steps(&text).map_err(|e| malformed(&path, e))?;
        for step in &steps {
            check_sector_size(step).map_err(|e| malformed(&path, e))?;
        }
        let rel = lay.relative(&path).to_string();
        if let Some(g) = NandGeometry::find_in(name) {
            geometry.named(g, &rel, shown)?;
        }
        let partition_of = |s: &Step| partition_name(s, &names, None);
        ins.erases.extend(erases::findings(&rel, &steps, &partition_of));
        if !layout::is_rawprogram(name) {
            continue;
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for step in &steps {
            geometry.take_step(step, &rel, shown)?;
            let nth = step.filename.as_deref().map(|f| {
                let count = seen.entry(base_name(f).to_ascii_lowercase()).or_default();
                *count += 1;
                *count - 1
            });
            let name = partition_name(step, &names, nth);
            add_partition(shown, lay, &mut index, &rel, step, name, ins)?;
        }
    }
    for name in fh_names.iter().copied().filter(|n| layout::is_mibib(n)) {
        let path = format!("{}/{name}", lay.firehose);
        let rel = lay.relative(&path).to_string();
        if let Some(g) = NandGeometry::find_in(name) {
            geometry.named(g, &rel, shown)?;
        }
        match mibib::parse_mibib(scanned.kept.get(&path).map(Vec::as_slice).unwrap_or_default()) {
            Ok(m) => {
                geometry.page_from_mibib(m.page_size, &rel, shown)?;
                if let Some(crc) = m.crc.filter(|c| c.stored != c.computed) {
                    ins.problems.push(format!(
                        "{rel}: the MIBIB's CRC page stores {:#010x}, its first two pages give {:#010x}: the table was edited after it was built",
                        crc.stored, crc.computed
                    ));
                }
            }
            Err(e) => ins.problems.push(format!("{rel}: not a MIBIB partition table: {e}")),
        }
    }
    check_user_table(lay, scanned, ins);
    ins.nand = geometry.result();
    Ok(())
}

/// Notes an `update/partition.mbn` that is not a user partition table (the streaming path's
/// copy of the layout; fwguard flashes through Firehose and does not use it).
fn check_user_table(lay: &Layout, scanned: &Scan, ins: &mut Inspection) {
    let path = format!("{}/partition.mbn", lay.update);
    if let Some(bytes) = scanned.kept.get(&path)
        && let Err(e) = user_table::parse_user_table(bytes)
    {
        ins.problems.push(format!("{}: not a user partition table: {e}", lay.relative(&path)));
    }
}

/// Image file name (lower case) to the partitions it is written to, in order, from
/// update/partition_nand.xml.
type NandNames = HashMap<String, Vec<String>>;

/// Reads update/partition_nand.xml into [`NandNames`].
fn nand_names(lay: &Layout, scanned: &Scan, ins: &mut Inspection) -> NandNames {
    let path = format!("{}/partition_nand.xml", lay.update);
    let Some(text) = scanned.text(&path) else {
        return HashMap::new();
    };
    match contents::parse_partition_nand(&text) {
        Ok(parts) => {
            let mut names = NandNames::new();
            for p in parts {
                if let Some(image) = p.image {
                    names.entry(image.to_ascii_lowercase()).or_default().push(p.name);
                }
            }
            names
        }
        Err(e) => {
            ins.problems.push(format!("{}: {e}", lay.relative(&path)));
            HashMap::new()
        }
    }
}

/// Refuses a `SECTOR_SIZE_IN_BYTES` outside [`SECTOR_SIZE_RANGE`], naming the step and the value.
fn check_sector_size(step: &Step) -> Result<(), String> {
    match step.sector_size {
        Some(size) if !SECTOR_SIZE_RANGE.contains(&size) => Err(format!(
            "step {} {}: SECTOR_SIZE_IN_BYTES is {size}, outside the plausible range {} to {} bytes",
            step.number,
            step.describe(),
            SECTOR_SIZE_RANGE.start(),
            SECTOR_SIZE_RANGE.end()
        )),
        _ => Ok(()),
    }
}

fn base_name(filename: &str) -> &str {
    filename.rsplit(['\\', '/']).next().unwrap_or(filename)
}

/// The partition a step writes: its label, else the `nth` partition partition_nand.xml gives its
/// image (all of them, joined with `/`, when `nth` is `None`).
fn partition_name(step: &Step, names: &NandNames, nth: Option<usize>) -> Option<String> {
    if let Some(l) = &step.label {
        return Some(l.clone());
    }
    let file = base_name(step.filename.as_deref()?);
    // Packages write the MIBIB from update/firehose/partition_complete_<geometry>.mbn, while
    // partition_nand.xml names update/partition.mbn as its image.
    if layout::is_mibib(file) {
        return Some("mibib".to_string());
    }
    let all = names.get(&file.to_ascii_lowercase())?;
    match nth {
        Some(n) => all.get(n).or(all.last()).cloned(),
        None => Some(all.join("/")),
    }
}

/// Lookups `add_partition` makes for every step, indexed once: members by lower-cased path, and
/// partitions by start.
struct Index<'m> {
    /// Lower-cased member path to the first member with it.
    members: HashMap<String, &'m Member>,
    /// Start to the position in `Inspection::partitions` of the first partition there.
    starts: HashMap<u64, usize>,
}

impl<'m> Index<'m> {
    fn new(members: &'m [Member], partitions: &[Partition]) -> Index<'m> {
        let mut index = Index { members: HashMap::with_capacity(members.len()), starts: HashMap::new() };
        for m in members {
            index.members.entry(m.path.to_ascii_lowercase()).or_insert(m);
        }
        for (i, p) in partitions.iter().enumerate() {
            if let Some(start) = p.start {
                index.starts.entry(start).or_insert(i);
            }
        }
        index
    }
}

fn add_partition(
    shown: &str,
    lay: &Layout,
    index: &mut Index<'_>,
    rel: &str,
    step: &Step,
    partition: Option<String>,
    ins: &mut Inspection,
) -> Result<(), ImageError> {
    if step.kind == StepKind::Program && step.filename.is_none() {
        return Ok(());
    }
    let file = match &step.filename {
        Some(f) => {
            let resolved = rawprogram::resolve(&lay.firehose, f, &lay.root).ok_or_else(|| ImageError::Unsafe {
                path: shown.to_string(),
                problem: format!("{rel} step {}: filename {f:?} points outside the package", step.number),
            })?;
            let found = index.members.get(&resolved.to_ascii_lowercase());
            if found.is_none() {
                ins.problems.push(format!(
                    "{rel} step {} writes {}, which the package does not have",
                    step.number,
                    lay.relative(&resolved)
                ));
            }
            Some(lay.relative(found.map_or(resolved.as_str(), |m| m.path.as_str())).to_string())
        }
        None => None,
    };
    let start = step.start_byte();
    let name = partition.unwrap_or_else(|| match (&step.filename, &step.start_sector_text) {
        (Some(f), _) => base_name(f).to_string(),
        (None, Some(s)) => format!("sector {s}"),
        (None, None) => "whole device".to_string(),
    });
    let erase = step.kind == StepKind::Erase;
    if let Some(existing) = start.and_then(|s| index.starts.get(&s)).and_then(|&i| ins.partitions.get_mut(i)) {
        existing.erase |= erase;
        if existing.file.is_none() {
            existing.file = file;
            existing.name = name;
        }
        return Ok(());
    }
    if let Some(s) = start {
        index.starts.insert(s, ins.partitions.len());
    }
    ins.partitions.push(Partition { name, start, size: step.size_bytes(), file, erase });
    Ok(())
}

/// NAND geometry gathered from names, XML attributes and the MIBIB, refusing disagreement.
#[derive(Default)]
struct Geometry {
    named: Option<(NandGeometry, String)>,
    from_xml: Option<(NandGeometry, String)>,
}

impl Geometry {
    fn clash(shown: &str, part: &str, a: String, b: String) -> ImageError {
        ImageError::Malformed {
            path: shown.to_string(),
            part: part.to_string(),
            problem: format!("the package names two NAND geometries: {a} and {b}"),
        }
    }

    fn named(&mut self, g: NandGeometry, source: &str, shown: &str) -> Result<(), ImageError> {
        match &self.named {
            Some((other, from)) if *other != g => {
                Err(Self::clash(shown, source, format!("{other} ({from})"), format!("{g} ({source})")))
            }
            Some(_) => Ok(()),
            None => {
                self.named = Some((g, source.to_string()));
                self.check().map_err(|(a, b)| Self::clash(shown, source, a, b))
            }
        }
    }

    fn take_step(&mut self, step: &Step, source: &str, shown: &str) -> Result<(), ImageError> {
        let (Some(sector), Some(ppb)) = (step.sector_size, step.pages_per_block) else {
            return Ok(());
        };
        let at = format!("{source} step {}", step.number);
        let bad =
            |problem: String| ImageError::Malformed { path: shown.to_string(), part: source.to_string(), problem };
        check_sector_size(step).map_err(bad)?;
        // Sizes in u64: a sector size in range and any PAGES_PER_BLOCK cannot overflow here.
        let too_large = || {
            bad(format!(
                "step {}: PAGES_PER_BLOCK {ppb} with {sector}-byte pages gives an erase block too large to be real",
                step.number
            ))
        };
        let page_kib = u32::try_from(sector / 1024).map_err(|_| too_large())?;
        let block_kib = sector.checked_mul(ppb).and_then(|b| u32::try_from(b / 1024).ok()).ok_or_else(too_large)?;
        let g = NandGeometry { page_kib, block_kib };
        match &self.from_xml {
            Some((other, from)) if *other != g => {
                Err(Self::clash(shown, source, format!("{other} ({from})"), format!("{g} ({at})")))
            }
            Some(_) => Ok(()),
            None => {
                self.from_xml = Some((g, at));
                self.check().map_err(|(a, b)| Self::clash(shown, source, a, b))
            }
        }
    }

    fn page_from_mibib(&mut self, page: u32, source: &str, shown: &str) -> Result<(), ImageError> {
        let known = self.named.as_ref().or(self.from_xml.as_ref());
        if let Some((g, from)) = known
            && u64::from(g.page_kib) * 1024 != u64::from(page)
        {
            return Err(Self::clash(
                shown,
                source,
                format!("{g} ({from})"),
                format!("{} KiB pages (the MIBIB table in {source})", page / 1024),
            ));
        }
        Ok(())
    }

    fn check(&self) -> Result<(), (String, String)> {
        match (&self.named, &self.from_xml) {
            (Some((a, fa)), Some((b, fb))) if a != b => Err((format!("{a} ({fa})"), format!("{b} ({fb})"))),
            _ => Ok(()),
        }
    }

    fn result(&self) -> Option<NandGeometry> {
        self.named.as_ref().or(self.from_xml.as_ref()).map(|(g, _)| *g)
    }
}
