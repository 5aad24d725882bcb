//! A Quectel Qualcomm NAND package as the flashing core's [`Layout`]: the rawprogram and patch XML
//! of `update/firehose/` (read with [`crate::image::qualcomm`]), sectors turned into byte
//! regions, partitions named from the package's MIBIB, in Quectel's NAND order.
//!
//! - **Order** ([`super::nand_order`]): every erase at sector 0 (the SBL) first, the other erases,
//!   the other programs, the patches, and the programs at sector 0 last. QFirehose sends the disk
//!   patches after the SBL; fwguard sends them before it, so that a module boots only once its
//!   partition table is complete (a flash cut short in the patches leaves a module in emergency
//!   download, which `--resume` finishes, rather than one booting a half-patched MIBIB).
//! - **Writes**: each program sends `ceil(size / sector)` sectors, as QFirehose recomputes
//!   `num_partition_sectors` from the file size, the tail padded with `0xFF` (erased NAND), as
//!   fwupd pads; a file larger than its entry's sectors is refused.
//! - **Patches**: real packages patch the MIBIB file (`patch_p2K_b128K.xml` of the EG25-G package
//!   in Biktorgj/quectel_eg25_recovery: the last partition's length `NUM_DISK_BLOCKS-1458.` and
//!   the CRC page `CRC32(0,4096)`). Their values depend on the device, so they go to the
//!   programmer as disk patches at the sectors the file was written to ([`Patch::to_disk`]) and
//!   the programmer evaluates them. A patch of a file the package does not write is dropped.
//! - **Dropped**, as QFirehose drops them: `<program>` entries without a file, and `<erase>`
//!   entries without `SECTOR_SIZE_IN_BYTES` (they erase the whole device, calibration included).
//! - **Partitions**: the MIBIB the package writes names every partition, `efs2` among them (not
//!   written, so the core backs it up and keeps every step off it); the entry whose length a
//!   `NUM_DISK_BLOCKS` patch sets counts as one block here (its length is the device's to say).

use std::collections::HashMap;

use super::nand_order::{self, Phase};
use super::wire::firehose;
use super::wire::patch::{Patch, SectorExpr, parse_patches};
use crate::flash::driver::{DriverError, Layout, PatchSpec, Region, Source, StepSpec, StorageClaim};
use crate::image::qualcomm::layout::{self as files, Layout as Folders};
use crate::image::qualcomm::mibib::{self, Mibib};
use crate::image::qualcomm::rawprogram::{self, Step, StepKind};
use crate::image::qualcomm::xml::MAX_XML_SIZE;
use crate::image::{Inspection, Member, Package};

/// The largest programmer fwguard uploads (real ones are 0.3 to 1 MiB).
pub const MAX_PROGRAMMER: u64 = 16 << 20;
/// The largest MIBIB file read for its partition names (real ones are four pages).
const MAX_MIBIB: u64 = 1 << 20;

/// The members of a package the Qualcomm driver uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFiles {
    /// Where the package's folders are.
    pub folders: Folders,
    /// The rawprogram XML it flashes.
    pub rawprogram: String,
    /// The patch XML files, in name order.
    pub patches: Vec<String>,
    /// The Firehose programmer.
    pub programmer: String,
}

/// Finds the rawprogram, patch and programmer members. With several rawprogram files the
/// `_update` one is taken (a `_factory` layout rewrites calibration); otherwise several are
/// refused, naming them.
pub fn package_files(package: &dyn Package) -> Result<PackageFiles, DriverError> {
    let members = package.members();
    let shown = package.path();
    let folders = match files::find_layout(members) {
        Ok(Some(f)) => f,
        Ok(None) => return Err(DriverError::Package(format!("{shown} has no update/firehose folder"))),
        Err(why) => return Err(DriverError::Package(format!("{shown}: {why}"))),
    };
    let mut names = folders.firehose_files(members);
    names.sort_unstable();
    let at = |n: &str| format!("{}/{n}", folders.firehose);
    let raw: Vec<&str> = names.iter().copied().filter(|n| files::is_rawprogram(n)).collect();
    let rawprogram = match raw.as_slice() {
        [] => return Err(DriverError::Package(format!("{shown} has no rawprogram*.xml in {}", folders.firehose))),
        [one] => *one,
        many => {
            let update: Vec<&str> =
                many.iter().copied().filter(|n| n.to_ascii_lowercase().contains("update")).collect();
            match update.as_slice() {
                [one] => *one,
                _ => {
                    return Err(DriverError::Package(format!(
                        "{shown} has {} rawprogram files ({}); fwguard will not guess which layout to flash",
                        many.len(),
                        many.join(", ")
                    )));
                }
            }
        }
    };
    let programmer = files::find_programmer(&names).ok_or_else(|| {
        DriverError::Package(format!(
            "{shown} has no Firehose programmer in {} (looked for {})",
            folders.firehose,
            files::PROGRAMMER_PATTERNS.join(", ")
        ))
    })?;
    Ok(PackageFiles {
        rawprogram: at(rawprogram),
        patches: names.iter().filter(|n| files::is_patch(n)).map(|n| at(n)).collect(),
        programmer: at(programmer),
        folders,
    })
}

/// The layout and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// What the core plans with.
    pub layout: Layout,
    /// Steps of the XML left out, each with why.
    pub dropped: Vec<String>,
    /// Where the package writes its MIBIB, as (start sector, sector size), when it does.
    pub mibib_at: Option<(u64, u32)>,
}

/// NAND geometry of the package, from its XML (or the names, when the XML gives none).
#[derive(Debug, Clone, Copy)]
struct Geometry {
    sector: u64,
    pages_per_block: u64,
}

impl Geometry {
    fn block(&self) -> u64 {
        self.sector * self.pages_per_block
    }
}

/// Lays a Qualcomm NAND package out.
pub fn plan(package: &mut dyn Package, inspection: &Inspection) -> Result<Planned, DriverError> {
    let found = package_files(package)?;
    let shown = package.path().to_string();
    let xml = |package: &mut dyn Package, member: &str| -> Result<String, DriverError> {
        let bytes = package.read(member, MAX_XML_SIZE)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = xml(package, &found.rawprogram)?;
    let steps =
        rawprogram::parse_steps(&text).map_err(|e| DriverError::Package(format!("{}: {e}", found.rawprogram)))?;
    let mut patches: Vec<(String, Patch)> = Vec::new();
    for member in &found.patches {
        let text = xml(package, member)?;
        let parsed = parse_patches(&text).map_err(|e| DriverError::Package(format!("{member}: {e}")))?;
        patches.extend(parsed.into_iter().map(|p| (member.clone(), p)));
    }
    let geometry = geometry(&found.rawprogram, &steps, inspection)?;
    let members = package.members().to_vec();
    let by_path: HashMap<String, &Member> = members.iter().map(|m| (m.path.to_ascii_lowercase(), m)).collect();
    let resolve = |name: &str| -> Result<&Member, DriverError> {
        let path = rawprogram::resolve(&found.folders.firehose, name, &found.folders.root).ok_or_else(|| {
            DriverError::Package(format!("{}: file {name:?} points outside the package", found.rawprogram))
        })?;
        by_path.get(&path.to_ascii_lowercase()).copied().ok_or_else(|| {
            DriverError::Package(format!("{} writes {name}, which {shown} does not have", found.rawprogram))
        })
    };
    let mibib_step = steps
        .iter()
        .find(|s| s.kind == StepKind::Program && s.filename.as_deref().is_some_and(|f| files::is_mibib(base_name(f))));
    let table = match mibib_step.and_then(|s| s.filename.as_deref()) {
        Some(f) => {
            // A MIBIB that cannot be read names nothing: partitions come from the inspection.
            let member = resolve(f)?.path.clone();
            package.read(&member, MAX_MIBIB).ok().and_then(|bytes| mibib::parse_mibib(&bytes).ok())
        }
        None => None,
    };
    let variable = table.as_ref().and_then(|t| patched_entry(t, &patches));
    let names = Names { table: table.as_ref(), geometry, inspection };
    let mut planned = Planned {
        layout: Layout::default(),
        dropped: Vec::new(),
        mibib_at: mibib_step.and_then(|s| s.start_sector).map(|s| (s, geometry.sector as u32)),
    };
    let mut programs: Vec<(&Step, &Member)> = Vec::new();
    let mut last: Vec<StepSpec> = Vec::new();
    for o in nand_order::quectel_nand_order(&steps) {
        let step = o.step;
        let spec = match o.phase {
            Phase::Dropped(why) => {
                planned.dropped.push(format!("{} step {} {}: {why}", found.rawprogram, step.number, step.describe()));
                continue;
            }
            Phase::EraseBootLoader | Phase::Erase => StepSpec::Erase(extent(step, geometry, &names, &found)?),
            Phase::Program | Phase::ProgramBootLoader => {
                let member = resolve(step.filename.as_deref().unwrap_or_default())?;
                programs.push((step, member));
                program(step, member, geometry, &names, &found)?
            }
            Phase::DiskPatch | Phase::FilePatch => continue, // patches come from the patch files
        };
        if o.phase == Phase::ProgramBootLoader {
            last.push(spec);
        } else {
            planned.layout.steps.push(spec);
        }
    }
    for (member, patch) in &patches {
        match disk_patch(patch, &programs, geometry) {
            Ok(Some((disk, sector))) => planned.layout.steps.push(patch_step(&disk, sector, &names)?),
            Ok(None) => planned
                .dropped
                .push(format!("{member}: the patch of {} is dropped: the package writes no such file", patch.filename)),
            Err(e) => return Err(DriverError::Package(format!("{member}: {e}"))),
        }
    }
    planned.layout.steps.extend(last);
    planned.layout.partitions = partitions(table.as_ref(), variable, geometry, inspection);
    planned.layout.storage = StorageClaim {
        page_size: u32::try_from(geometry.sector).ok(),
        block_size: u32::try_from(geometry.block()).ok(),
        flash_ids: Vec::new(),
        min_size: None,
    };
    Ok(planned)
}

/// The sector size and pages per block every erase and program agrees on; the names'
/// geometry where the XML gives no `PAGES_PER_BLOCK`. A package without either is not a NAND
/// package fwguard flashes.
fn geometry(rawprogram: &str, steps: &[Step], inspection: &Inspection) -> Result<Geometry, DriverError> {
    let mut sector: Option<(u64, usize)> = None;
    let mut ppb: Option<(u64, usize)> = None;
    for s in steps.iter().filter(|s| s.kind != StepKind::Patch && s.sector_size.is_some()) {
        for (slot, value, what) in
            [(&mut sector, s.sector_size, "SECTOR_SIZE_IN_BYTES"), (&mut ppb, s.pages_per_block, "PAGES_PER_BLOCK")]
        {
            match (value, *slot) {
                (Some(v), Some((had, at))) if v != had => {
                    return Err(DriverError::Package(format!(
                        "{rawprogram}: step {} gives {what}={v}, step {at} gives {had}",
                        s.number
                    )));
                }
                (Some(v), None) => *slot = Some((v, s.number)),
                _ => {}
            }
        }
    }
    let named = inspection.nand.map(|g| (u64::from(g.page_kib) * 1024, u64::from(g.block_kib / g.page_kib.max(1))));
    let sector = sector.map(|s| s.0).or(named.map(|n| n.0));
    let ppb = ppb.map(|p| p.0).or(named.map(|n| n.1));
    match (sector, ppb) {
        (Some(sector), Some(pages_per_block)) if sector > 0 && pages_per_block > 0 => {
            Ok(Geometry { sector, pages_per_block })
        }
        _ => Err(DriverError::Package(format!(
            "{rawprogram} gives no NAND geometry (SECTOR_SIZE_IN_BYTES and PAGES_PER_BLOCK, or p<page>_b<block> in its name): fwguard flashes Qualcomm NAND packages"
        ))),
    }
}

/// Names partitions by where they start: the package's MIBIB, else the inspection's partitions,
/// else the sector.
struct Names<'a> {
    table: Option<&'a Mibib>,
    geometry: Geometry,
    inspection: &'a Inspection,
}

impl Names<'_> {
    fn at(&self, sector: u64) -> String {
        let ppb = self.geometry.pages_per_block;
        if let Some(t) = self.table {
            let inside = |e: &&mibib::MibibEntry| {
                let start = u64::from(e.offset_blocks).saturating_mul(ppb);
                start <= sector && sector < start.saturating_add(u64::from(e.length_blocks).max(1).saturating_mul(ppb))
            };
            if let Some(e) = t.entries.iter().find(inside) {
                return partition_name(&e.name);
            }
        }
        let byte = sector.checked_mul(self.geometry.sector);
        let listed = self.inspection.partitions.iter().find(|p| byte.is_some() && p.start == byte);
        listed.map_or_else(|| format!("sector {sector}"), |p| p.name.clone())
    }
}

/// `0:EFS2` -> `efs2`.
fn partition_name(table_name: &str) -> String {
    let name = table_name.split_once(':').map_or(table_name, |(_, n)| n);
    name.trim().to_ascii_lowercase()
}

fn base_name(filename: &str) -> &str {
    filename.rsplit(['\\', '/']).next().unwrap_or(filename)
}

/// Start sector and sector count of an erase or program, on the one physical partition NAND has.
/// The step's first sector and sector count, refused when the range does not fit in bytes.
fn sectors(step: &Step, g: Geometry, found: &PackageFiles) -> Result<(u64, u64), DriverError> {
    let bad = |what: String| {
        DriverError::Package(format!("{} step {} {}: {what}", found.rawprogram, step.number, step.describe()))
    };
    if step.physical_partition.unwrap_or(0) != 0 {
        return Err(bad("a physical partition other than 0 (NAND has one)".into()));
    }
    let start = step.start_sector.ok_or_else(|| bad("start_sector is not a number".into()))?;
    let count =
        step.num_sectors.filter(|n| *n > 0).ok_or_else(|| bad("num_partition_sectors is missing or 0".into()))?;
    if start.checked_add(count).and_then(|end| end.checked_mul(g.sector)).is_none() {
        return Err(bad(format!("{count} sectors of {} bytes from sector {start} run past any flash", g.sector)));
    }
    Ok((start, count))
}

fn extent(step: &Step, g: Geometry, names: &Names<'_>, found: &PackageFiles) -> Result<Region, DriverError> {
    let (start, count) = sectors(step, g, found)?;
    check_sector(step, g, found)?;
    Ok(Region::new(&names.at(start), start * g.sector, count * g.sector))
}

fn check_sector(step: &Step, g: Geometry, found: &PackageFiles) -> Result<(), DriverError> {
    match step.sector_size {
        Some(s) if s != g.sector => Err(DriverError::Package(format!(
            "{} step {} gives SECTOR_SIZE_IN_BYTES={s}; the package's sectors are {}",
            found.rawprogram, step.number, g.sector
        ))),
        _ => Ok(()),
    }
}

fn program(
    step: &Step,
    member: &Member,
    g: Geometry,
    names: &Names<'_>,
    found: &PackageFiles,
) -> Result<StepSpec, DriverError> {
    let (start, count) = sectors(step, g, found)?;
    check_sector(step, g, found)?;
    if member.size == 0 {
        return Err(DriverError::Package(format!(
            "{} step {} writes {}, which is empty",
            found.rawprogram, step.number, member.path
        )));
    }
    let need = member.size.div_ceil(g.sector);
    if need > count {
        return Err(DriverError::Package(format!(
            "{} is {} bytes ({need} sectors of {}); {} step {} gives it {count} sectors at sector {start}",
            member.path, member.size, g.sector, found.rawprogram, step.number
        )));
    }
    let region = Region::new(&names.at(start), start * g.sector, need * g.sector);
    Ok(StepSpec::Write(region, Source { member: member.path.clone(), offset: 0, length: member.size, pad: 0xFF }))
}

/// A patch as the disk patch the programmer gets, with the sector it changes: a disk patch as
/// it is, a file patch moved to where the file is written. `None`: it patches a file the
/// package does not write.
fn disk_patch(patch: &Patch, programs: &[(&Step, &Member)], g: Geometry) -> Result<Option<(Patch, u64)>, String> {
    if u64::from(patch.sector_size) != g.sector {
        return Err(format!(
            "a patch gives SECTOR_SIZE_IN_BYTES={}; the package's sectors are {}",
            patch.sector_size, g.sector
        ));
    }
    if u64::from(patch.byte_offset) + u64::from(patch.size_in_bytes) > g.sector {
        return Err(format!(
            "the patch at byte {} of {} bytes runs past its {}-byte sector",
            patch.byte_offset, patch.size_in_bytes, g.sector
        ));
    }
    let disk = if patch.is_disk() {
        patch.clone()
    } else {
        let target = base_name(&patch.filename).to_ascii_lowercase();
        let written = programs
            .iter()
            .find(|(s, _)| s.filename.as_deref().is_some_and(|f| base_name(f).eq_ignore_ascii_case(&target)));
        match written.and_then(|(s, _)| s.start_sector) {
            Some(start) => patch.to_disk(start),
            None => return Ok(None),
        }
    };
    match disk.start_sector {
        SectorExpr::At(sector) => Ok(Some((disk, sector))),
        other => Err(format!(
            "a disk patch at {other:?}, counted from the end of the device: fwguard places every patch before it sends anything, and Quectel NAND packages patch their MIBIB only"
        )),
    }
}

fn patch_step(disk: &Patch, sector: u64, names: &Names<'_>) -> Result<StepSpec, DriverError> {
    let g = names.geometry;
    let partition = names.at(sector);
    let offset =
        sector.checked_mul(g.sector).and_then(|b| b.checked_add(u64::from(disk.byte_offset))).ok_or_else(|| {
            DriverError::Package(format!("a patch at sector {sector} of {} bytes lies past any flash", g.sector))
        })?;
    let region = Region::new(&partition, offset, u64::from(disk.size_in_bytes));
    let value = disk.attrs().into_iter().find(|(k, _)| *k == "value").map(|(_, v)| v).unwrap_or_default();
    let what = match &disk.what {
        Some(w) => format!(
            "{partition}: {} bytes at sector {sector} byte {} = {value} ({w})",
            disk.size_in_bytes, disk.byte_offset
        ),
        None => {
            format!("{partition}: {} bytes at sector {sector} byte {} = {value}", disk.size_in_bytes, disk.byte_offset)
        }
    };
    let spec = String::from_utf8_lossy(&firehose::command("patch", &disk.attrs())).into_owned();
    Ok(StepSpec::Patch(region, PatchSpec { what, spec }))
}

/// The MIBIB entry whose length a `NUM_DISK_BLOCKS` patch sets (the table's page holds a
/// 16-byte header, then 28-byte entries whose length is at byte 20).
fn patched_entry(table: &Mibib, patches: &[(String, Patch)]) -> Option<usize> {
    patches.iter().find_map(|(_, p)| {
        let value_from_end = matches!(
            p.value,
            super::wire::patch::PatchValue::Number(SectorExpr::BlocksFromEnd(_) | SectorExpr::SectorsFromEnd(_))
        );
        let on_table = !p.is_disk() && files::is_mibib(base_name(&p.filename)) && p.start_sector == SectorExpr::At(1);
        let at = (p.byte_offset as usize).checked_sub(mibib::HEADER_SIZE)?;
        (value_from_end && on_table && at % mibib::ENTRY_SIZE == 20 && at / mibib::ENTRY_SIZE < table.entries.len())
            .then_some(at / mibib::ENTRY_SIZE)
    })
}

/// The partitions: the MIBIB's (the patched entry one block long), else the inspection's.
fn partitions(table: Option<&Mibib>, variable: Option<usize>, g: Geometry, inspection: &Inspection) -> Vec<Region> {
    match table {
        Some(t) => t
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.length_blocks > 0)
            .map(|(i, e)| {
                let blocks = if Some(i) == variable { 1 } else { u64::from(e.length_blocks) };
                Region::new(&partition_name(&e.name), u64::from(e.offset_blocks) * g.block(), blocks * g.block())
            })
            .collect(),
        None => inspection
            .partitions
            .iter()
            .filter_map(|p| Some(Region::new(&p.name, p.start?, p.size.filter(|s| *s > 0)?)))
            .collect(),
    }
}

/// Where the package writes its MIBIB: the start sector and sector size of the program of its
/// `partition_complete_*.mbn`, when it has one.
pub fn mibib_at(package: &mut dyn Package, found: &PackageFiles) -> Result<Option<(u64, u32)>, DriverError> {
    let bytes = package.read(&found.rawprogram, MAX_XML_SIZE)?;
    let steps = rawprogram::parse_steps(&String::from_utf8_lossy(&bytes))
        .map_err(|e| DriverError::Package(format!("{}: {e}", found.rawprogram)))?;
    Ok(steps.iter().find_map(|s| {
        let writes_mibib =
            s.kind == StepKind::Program && s.filename.as_deref().is_some_and(|f| files::is_mibib(base_name(f)));
        let sector = u32::try_from(s.sector_size?).ok()?;
        writes_mibib.then_some((s.start_sector?, sector))
    }))
}
