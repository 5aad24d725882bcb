//! ASR (Crane family) packages: a zip holding `download.json`, `partition.bin`,
//! `flashinfo.bin`, the `preboot.img` / `flasher.img` FIP stages and the images, as in
//! `waybyte/logicromsdk:lib/asr160x/pack/` (a real package's files).
//!
//! [`inspect_asr`] reads every structure, checks CRCs and bounds, hashes every member, and
//! cross-checks the identity the content gives (file names inside, arelease PRODUCT/VARIANT,
//! the flash size of `flashinfo.bin`) with the package's own file name.

pub mod download_json;
pub mod fip;
pub mod flashinfo;
pub mod partition_table;
#[cfg(test)]
mod tests;

use self::download_json::{Recipe, Step, StepKind};
use self::fip::Fip;
use self::flashinfo::FlashInfo;
use self::partition_table::PartitionTable;
use super::claims::{name_claim, name_conflict, revision_in};
use super::fields::{file_name, malformed};
use super::protected::{self, Area};
use super::scan::{Keep, scan};
use super::{ImageError, Inspection, Member, Package, Partition};

/// `Inspection::format` of an ASR package.
pub const FORMAT: &str = "asr-zip";
/// Most bytes of `download.json` read.
pub const RECIPE_LIMIT: u64 = 1 << 20;
/// Most bytes of `partition.bin` / `flashinfo.bin` read.
pub const TABLE_LIMIT: u64 = 128 << 10;
/// Most bytes of a FIP stage read.
pub const FIP_LIMIT: u64 = 32 << 20;

/// Everything read from an ASR package.
#[derive(Debug, Clone, Default)]
pub struct AsrPackage {
    /// The folder inside the package that holds `download.json` (`""` or `dir/`).
    pub root: String,
    /// The recipe, when the package has one.
    pub recipe: Option<Recipe>,
    /// The partition table.
    pub partitions: Option<PartitionTable>,
    /// The flash information table.
    pub flashinfo: Option<FlashInfo>,
    /// The FIP stages by member path.
    pub stages: Vec<(String, Fip)>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

impl AsrPackage {
    /// The flash size in MiB the package is built for: `flashinfo.bin`'s size when it is a
    /// whole, non-zero number of MiB, else the size the recipe's arelease VARIANT names
    /// (`QUEC_CRANEL_SS_04MB_OPEN`). `None` when neither gives one.
    pub fn flash_mib(&self) -> Option<u64> {
        const MIB: u64 = 1 << 20;
        self.flashinfo
            .as_ref()
            .and_then(|f| (f.flash_size > 0 && f.flash_size % MIB == 0).then_some(f.flash_size / MIB))
            .or_else(|| self.recipe.as_ref().and_then(Recipe::variant_flash_mb))
    }
}

/// The member a recipe step names: `name` under the package's root (in `<version>/` first
/// when the step gives a boot ROM version), else anywhere below the root.
pub fn member_for(asr: &AsrPackage, members: &[Member], name: &str, version: Option<&str>) -> Option<String> {
    find_member(members, &asr.root, name, version)
}

/// Whether a package's members look like an ASR package: a `download.json`, `partition.bin` or
/// `flashinfo.bin`, or a `system.img` at the top (which QuecPython's tool takes for ASR1601:
/// `QuecPython/download_tool:qpy.py`).
pub fn is_asr_package(members: &[Member]) -> bool {
    members.iter().any(|m| {
        matches!(file_name(&m.path), "download.json" | "partition.bin" | "flashinfo.bin") || m.path == "system.img"
    })
}

/// Reads an ASR package: recipe, tables and stages, all checked.
pub fn read_asr(pkg: &mut dyn Package) -> Result<AsrPackage, ImageError> {
    let members: Vec<Member> = pkg.members().to_vec();
    let path = pkg.path().to_string();
    let anchor = shallowest(&members, "download.json")
        .or_else(|| shallowest(&members, "partition.bin"))
        .or_else(|| shallowest(&members, "flashinfo.bin"));
    let root = anchor.map(|p| p[..p.len() - file_name(p).len()].to_string()).unwrap_or_default();
    let mut out = AsrPackage { root: root.clone(), ..AsrPackage::default() };
    let is_member = |name: &str| find_member(&members, &root, name, None).is_some();
    if let Some(json) = members.iter().find(|m| m.path == format!("{root}download.json")) {
        let bytes = pkg.read(&json.path, RECIPE_LIMIT)?;
        let mut recipe = Recipe::parse(&bytes, &path, &is_member)?;
        for info in release_info_members(&members, &root) {
            recipe.note_release_info(&pkg.read(&info, RECIPE_LIMIT)?);
        }
        out.recipe = Some(recipe);
    } else {
        out.problems.push("no download.json: the download steps are unknown".into());
    }
    let (tables, mut stages) = loaded_images(out.recipe.as_ref(), &members, &root, &path)?;
    for member in &tables {
        load_table(pkg, member, &path, &mut out)?;
    }
    // A recipe whose steps were not recognised still leaves the standard names to read.
    for name in ["partition.bin", "flashinfo.bin"] {
        if (out.partitions.is_none() || out.flashinfo.is_none())
            && let Some(m) = find_member(&members, &root, name, None).filter(|m| !tables.contains(m))
        {
            load_table(pkg, &m, &path, &mut out)?;
        }
    }
    if stages.is_empty() {
        stages = ["preboot.img", "flasher.img"].iter().filter_map(|n| find_member(&members, &root, n, None)).collect();
    }
    for member in stages {
        let bytes = pkg.read(&member, FIP_LIMIT)?;
        let fip = Fip::parse(&bytes, &path, &member)?;
        out.stages.push((member, fip));
    }
    if out.partitions.is_none() {
        out.problems.push("no partition table (partition.bin)".into());
    }
    check_table_fits(&out, &path)?;
    if out.flashinfo.is_none() {
        out.problems.push("no flash information table (flashinfo.bin): the accepted flash chips are unknown".into());
    }
    Ok(out)
}

/// Refuses a partition table that describes a larger flash than `flashinfo.bin` gives: its
/// partitions run past the flash the package is for.
fn check_table_fits(asr: &AsrPackage, path: &str) -> Result<(), ImageError> {
    let (Some(table), Some(info)) = (&asr.partitions, &asr.flashinfo) else {
        return Ok(());
    };
    match table.flash_size() {
        Some(size) if info.flash_size > 0 && size > info.flash_size => Err(malformed(
            path,
            "partition.bin",
            format!(
                "the table describes a flash of {size:#x} bytes, flashinfo.bin one of {:#x}: its partitions run past the flash",
                info.flash_size
            ),
        )),
        _ => Ok(()),
    }
}

/// Reads `member` as whichever table its magic says it is.
fn load_table(pkg: &mut dyn Package, member: &str, path: &str, out: &mut AsrPackage) -> Result<(), ImageError> {
    let bytes = pkg.read(member, TABLE_LIMIT)?;
    if partition_table::is_partition_table(&bytes) {
        if out.partitions.is_some() {
            out.problems.push(format!("{member}: a second partition table is ignored"));
        } else {
            out.partitions = Some(PartitionTable::parse(&bytes, path)?);
        }
    } else if flashinfo::is_flashinfo(&bytes) {
        if out.flashinfo.is_some() {
            out.problems.push(format!("{member}: a second flash information table is ignored"));
        } else {
            out.flashinfo = Some(FlashInfo::parse(&bytes, path)?);
        }
    } else {
        return Err(malformed(path, member, "neither a partition table (\"BTPA\") nor a flash table (\"FNIF\")"));
    }
    Ok(())
}

/// The members the `partition` steps load (tables) and the `call` steps load (FIP stages).
/// Without a recipe, the standard names.
fn loaded_images(
    recipe: Option<&Recipe>,
    members: &[Member],
    root: &str,
    path: &str,
) -> Result<(Vec<String>, Vec<String>), ImageError> {
    let Some(recipe) = recipe else {
        let pick = |names: &[&str]| -> Vec<String> {
            names.iter().filter_map(|n| find_member(members, root, n, None)).collect()
        };
        return Ok((pick(&["partition.bin", "flashinfo.bin"]), pick(&["preboot.img", "flasher.img"])));
    };
    let (mut tables, mut stages) = (Vec::new(), Vec::new());
    for step in &recipe.steps {
        let (image, list) = match &step.kind {
            StepKind::Partition { image } => (image, &mut tables),
            StepKind::Call { image } => (image, &mut stages),
            StepKind::Flash { image, .. } => {
                find_member(members, root, image, None).ok_or_else(|| missing(path, image))?;
                continue;
            }
            _ => continue,
        };
        let found =
            find_member(members, root, image, step.version_bootrom.as_deref()).ok_or_else(|| missing(path, image))?;
        if !list.contains(&found) {
            list.push(found);
        }
    }
    Ok((tables, stages))
}

/// The other small JSON members beside `download.json` (arelease's `<revision>.json`), at most
/// eight, which may name the arelease PRODUCT and VARIANT.
fn release_info_members(members: &[Member], root: &str) -> Vec<String> {
    members
        .iter()
        .filter(|m| m.size <= RECIPE_LIMIT)
        .filter_map(|m| m.path.strip_prefix(root).map(|rest| (m, rest)))
        .filter(|(_, rest)| !rest.contains('/') && rest.ends_with(".json") && *rest != "download.json")
        .map(|(m, _)| m.path.clone())
        .take(8)
        .collect()
}

fn missing(path: &str, image: &str) -> ImageError {
    malformed(path, "download.json", format!("the recipe loads {image:?}, which the package does not contain"))
}

/// The member with file name `name` nearest the top.
fn shallowest<'m>(members: &'m [Member], name: &str) -> Option<&'m str> {
    members
        .iter()
        .filter(|m| file_name(&m.path) == name)
        .min_by_key(|m| m.path.matches('/').count())
        .map(|m| m.path.as_str())
}

/// Finds `name` under `root`, in `root/<version>/` first when a ROM version is given, then
/// anywhere below `root`.
fn find_member(members: &[Member], root: &str, name: &str, version: Option<&str>) -> Option<String> {
    let name = name.trim_start_matches("./");
    let mut wanted = Vec::new();
    if let Some(v) = version {
        wanted.push(format!("{root}{v}/{name}"));
    }
    wanted.push(format!("{root}{name}"));
    for w in &wanted {
        if let Some(m) = members.iter().find(|m| &m.path == w) {
            return Some(m.path.clone());
        }
    }
    let suffix = format!("/{name}");
    members.iter().find(|m| m.path.starts_with(root) && m.path.ends_with(&suffix)).map(|m| m.path.clone())
}

/// Reads, checks and hashes an ASR package, giving what it claims.
pub fn inspect_asr(pkg: &mut dyn Package) -> Result<Inspection, ImageError> {
    let asr = read_asr(pkg)?;
    let members: Vec<Member> = pkg.members().to_vec();
    let mut insp = Inspection {
        path: pkg.path().to_string(),
        format: FORMAT.into(),
        platform: Some(crate::platform::Platform::Asr),
        ..Inspection::default()
    };
    // One pass hashes every member: on a 7z, a pass per member would decode the solid stream
    // again for each.
    insp.files = scan(pkg, &|_| Keep::Nothing, false)?.into_files();
    describe(&asr, &members, &mut insp);
    Ok(insp)
}

/// Fills identity, chips, partitions, erases and problems of `insp` from a read package.
pub fn describe(asr: &AsrPackage, members: &[Member], insp: &mut Inspection) {
    let content_rev = revision_in(members.iter().map(|m| m.path.as_str()));
    super::claims::fill_identity(insp, content_rev.as_ref());
    if let Some(info) = &asr.flashinfo {
        insp.flash_chips = info.chip_entries();
        insp.problems.extend(info.problems.iter().cloned());
    }
    if let Some(table) = &asr.partitions {
        insp.problems.extend(table.problems.iter().cloned());
    }
    for (_, fip) in &asr.stages {
        insp.problems.extend(fip.problems.iter().cloned());
    }
    insp.problems.extend(asr.problems.iter().cloned());
    let steps: &[Step] = asr.recipe.as_ref().map(|r| r.steps.as_slice()).unwrap_or(&[]);
    if let Some(recipe) = &asr.recipe {
        insp.problems.extend(recipe.problems.iter().cloned());
    }
    insp.partitions = partitions(asr, members, steps, &mut insp.problems);
    insp.erases = erases(asr, steps);
    let flash_mib = asr.flash_mib();
    let mut conflicts: Vec<String> = name_conflict(&insp.path, content_rev.as_ref(), flash_mib).into_iter().collect();
    if let (Some(chip), Some(name)) = (asr.recipe.as_ref().and_then(Recipe::chip), name_claim(&insp.path))
        && let Some(expected) = expected_chip(name.product())
        && expected != chip
    {
        conflicts.push(format!(
            "the file name is for {} ({expected}), the package is built for {chip} ({})",
            name.product(),
            asr.recipe.as_ref().and_then(|r| r.arelease_product.clone()).unwrap_or_default()
        ));
    }
    if !conflicts.is_empty() {
        insp.name_conflict = Some(conflicts.join("; "));
    }
}

/// The ASR chip of a module by model (the logicrom SDK readmes, `waybyte/logicromsdk`, and
/// `IharRusak/QDloader:main.c`).
pub fn expected_chip(product: &str) -> Option<&'static str> {
    const MODELS: &[(&str, &str)] = &[
        ("EG800AK", "ASR1605"),
        ("EG600AK", "ASR1605"),
        ("EC200M", "ASR1606"),
        ("EC600M", "ASR1606"),
        ("EC800M", "ASR1606"),
        ("EG810M", "ASR1606"),
        ("EC810M", "ASR1606"),
        ("EC800K", "ASR1602"),
        ("EC600K", "ASR1602"),
        ("EG800K", "ASR1602"),
        ("EG915K", "ASR1602"),
        ("EG800P", "ASR1609"),
        ("EG800W", "ASR1607"),
        ("EC600N", "ASR1603"),
        ("EC200N", "ASR1603"),
        ("EC100N", "ASR1603"),
        ("EG915N", "ASR1603"),
        ("EC800N", "ASR1603"),
        ("EC200S", "ASR1601"),
        ("EC600S", "ASR1601"),
        ("EC100Y", "ASR1601"),
    ];
    let p = product.to_ascii_uppercase();
    MODELS.iter().find(|(m, _)| p.starts_with(m)).map(|(_, c)| *c)
}

fn partitions(asr: &AsrPackage, members: &[Member], steps: &[Step], problems: &mut Vec<String>) -> Vec<Partition> {
    let mut out: Vec<Partition> = Vec::new();
    if let Some(table) = &asr.partitions {
        for e in &table.entries {
            out.push(Partition {
                name: e.name.clone(),
                start: Some(u64::from(e.start)),
                size: Some(u64::from(e.size)),
                file: None,
                erase: false,
            });
        }
    }
    for step in steps {
        let (name, image) = match &step.kind {
            StepKind::Flash { image, partition } => (partition, Some(image)),
            StepKind::Erase { partition } => (partition, None),
            _ => continue,
        };
        let idx = match out.iter().position(|p| &p.name == name) {
            Some(i) => i,
            None => {
                if asr.partitions.is_some() {
                    problems
                        .push(format!("download.json uses partition {name:?}, which partition.bin does not define"));
                }
                out.push(Partition { name: name.clone(), start: None, size: None, file: None, erase: false });
                out.len() - 1
            }
        };
        let part = &mut out[idx];
        match image {
            Some(img) => {
                part.file = Some(img.clone());
                let member = find_member(members, &asr.root, img, None);
                let size = member.and_then(|p| members.iter().find(|m| m.path == p)).map(|m| m.size);
                if let (Some(size), Some(limit)) = (size, part.size)
                    && size > limit
                    && limit > 0
                {
                    problems.push(format!("{img} ({size} bytes) is larger than partition {name:?} ({limit} bytes)"));
                }
            }
            None => part.erase = true,
        }
    }
    out
}

fn erases(asr: &AsrPackage, steps: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    for step in steps {
        let when = if step.production_only { " (production mode only)" } else { "" };
        match &step.kind {
            StepKind::Erase { partition } => {
                let depth = asr.partitions.as_ref().and_then(|t| t.get(partition)).map(|e| e.depth);
                if partition == "all" || matches!(depth, Some(0 | 1)) {
                    out.push(format!(
                        "erases the whole flash (partition {partition:?}), including calibration, NV and IMEI{when}"
                    ));
                } else if let Some(what) = protected::area(partition).map(Area::label) {
                    out.push(format!("erases partition {partition:?} ({what}){when}"));
                }
            }
            StepKind::Flash { image, partition } => {
                if let Some(what) = protected::area(partition).map(Area::label) {
                    out.push(format!("overwrites partition {partition:?} ({what}) with {image}{when}"));
                }
            }
            _ => {}
        }
    }
    out
}
