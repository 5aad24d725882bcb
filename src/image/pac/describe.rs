//! What a read PAC claims: identity, files, partitions, FDLs and the steps that touch NV,
//! calibration or IMEI.

use super::PacFile;
use super::entry::{FLAG_FDL, FLAG_OPERATION, PacEntry};
use super::scheme::SchemeFile;
use crate::identity::normalise_model;
use crate::image::claims::{name_conflict, revision_in};
use crate::image::protected::{self, Area};
use crate::image::{FileEntry, Inspection, Partition};

/// UIS8910 logical address: erase NV.
pub const ADDR_ERASE_NV: u32 = 0xFE00_0001;
/// UIS8910 logical address: PhaseCheck.
pub const ADDR_PHASECHECK: u32 = 0xFE00_0002;
/// UIS8910 logical address: NV.
pub const ADDR_NV: u32 = 0xFE00_0003;
/// UIS8910 logical address: format flash / erase sysfs.
pub const ADDR_FORMAT_FLASH: u32 = 0xFE00_0006;

/// The Unisoc chip a module model is built on (`IharRusak/QDloader:main.c`), as the substring PAC header
/// strings carry.
pub fn chip_of_model(product: &str) -> Option<&'static str> {
    const MODELS: &[(&str, &str)] = &[
        ("EC200U", "8910"),
        ("EC600U", "8910"),
        ("EG912U", "8910"),
        ("EG915U", "8910"),
        ("EC800G", "8850"),
        ("EC600G", "8850"),
        ("EC200D", "8310"),
        ("RG500U", "710"),
        ("RM500U", "710"),
    ];
    let p = normalise_model(product);
    MODELS.iter().find(|(m, _)| p.starts_with(m)).map(|(_, c)| *c)
}

/// The chip named in the header strings, by the substrings unisoc_dloader looks for.
pub fn chip_of_header(name: &str, version: &str) -> Option<&'static str> {
    ["8910", "8850", "8310", "710"].into_iter().find(|c| name.contains(c) || version.contains(c))
}

/// Fills `insp` from a read PAC.
pub fn describe(pac: &PacFile, insp: &mut Inspection) {
    let h = &pac.header;
    insp.format = super::FORMAT.into();
    insp.platform = Some(crate::platform::Platform::Unisoc);
    let texts = pac.entries.iter().flat_map(|e| [e.file_name.as_str(), e.file_version.as_str()]).chain([
        h.product_version.as_str(),
        h.product_alias.as_str(),
        h.product_name.as_str(),
    ]);
    let content_rev = revision_in(texts);
    crate::image::claims::fill_identity(insp, content_rev.as_ref());
    insp.name_conflict = name_conflict(&insp.path, content_rev.as_ref(), None);
    insp.problems.extend(pac.problems.iter().cloned());
    if let (Some(rev), Some(chip)) = (&content_rev, chip_of_header(&h.product_name, &h.product_version))
        && let Some(expected) = chip_of_model(rev.product())
        && expected != chip
    {
        insp.problems.push(format!(
            "the PAC header names chip {chip} ({:?}), but {} is a UIS{expected} module",
            h.product_name,
            rev.product()
        ));
    }
    for e in pac.entries.iter().filter(|e| e.size > 0) {
        let sha256 = pac.sha256.get(e.index).cloned().unwrap_or_default();
        insp.files.push(FileEntry { path: e.label(), size: e.size, sha256 });
    }
    insp.partitions = partitions(pac);
    insp.erases = erases(pac);
    check_fdls(pac, &mut insp.problems);
    check_scheme(pac, &mut insp.problems);
}

fn entry_for<'a>(pac: &'a PacFile, id: &str) -> Option<&'a PacEntry> {
    pac.entries.iter().find(|e| !id.is_empty() && e.file_id.eq_ignore_ascii_case(id))
}

fn is_erase(kind: &str, id: &str) -> bool {
    kind.to_ascii_lowercase().starts_with("erase") || id.to_ascii_uppercase().starts_with("ERASE")
}

fn partitions(pac: &PacFile) -> Vec<Partition> {
    match &pac.scheme {
        Some(s) => s
            .files
            .iter()
            .map(|f| {
                let entry = entry_for(pac, &f.id).filter(|e| e.size > 0);
                Partition {
                    name: f.id.clone(),
                    start: f.base,
                    size: f.size.or(entry.map(|e| e.size)),
                    file: entry.map(PacEntry::label),
                    erase: is_erase(&f.kind, &f.id),
                }
            })
            .collect(),
        None => pac
            .entries
            .iter()
            .filter(|e| e.flag != super::entry::FLAG_XML)
            .map(|e| Partition {
                name: if e.file_id.is_empty() { e.label() } else { e.file_id.clone() },
                start: e.addresses.first().map(|&a| u64::from(a)),
                size: (e.size > 0).then_some(e.size),
                file: (e.size > 0).then(|| e.label()),
                erase: e.flag == FLAG_OPERATION && is_erase("", &e.file_id),
            })
            .collect(),
    }
}

/// Which protected area a name or address refers to: the UIS8910 logical addresses, then the
/// names by [`protected::area`].
fn protected(text: &str, address: Option<u64>) -> Option<&'static str> {
    match address.and_then(|a| u32::try_from(a).ok()) {
        Some(ADDR_ERASE_NV | ADDR_NV) => return Some(Area::Nv.label()),
        Some(ADDR_PHASECHECK) => return Some(Area::PhaseCheck.label()),
        Some(ADDR_FORMAT_FLASH) => return Some("the whole flash (format)"),
        _ => {}
    }
    protected::area(text).map(Area::label)
}

fn backup_clause(pac: &PacFile) -> String {
    let backed: Vec<&str> = match &pac.scheme {
        Some(s) if s.nv_backup => s.nv_items.iter().filter(|i| i.backup).map(|i| i.name.as_str()).collect(),
        _ => Vec::new(),
    };
    if backed.is_empty() {
        "with no NV item backed up".into()
    } else {
        format!("backing up and restoring {}", backed.join(", "))
    }
}

fn erases(pac: &PacFile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    let steps: Vec<SchemeFile> = match &pac.scheme {
        Some(s) => s.files.clone(),
        None => pac
            .entries
            .iter()
            .map(|e| SchemeFile {
                id: e.file_id.clone(),
                kind: if e.flag == FLAG_OPERATION { "EraseFlash".into() } else { String::new() },
                base: e.addresses.first().map(|&a| u64::from(a)),
                ..SchemeFile::default()
            })
            .collect(),
    };
    for f in &steps {
        let names = format!("{} {} {}", f.id, f.id_alias.as_deref().unwrap_or(""), f.kind);
        let Some(area) = protected(&names, f.base) else { continue };
        let at = f.base.map(|b| format!(" at {b:#x}")).unwrap_or_default();
        let written = entry_for(pac, &f.id).filter(|e| e.size > 0);
        if is_erase(&f.kind, &f.id) || written.is_none() && f.base == Some(u64::from(ADDR_ERASE_NV)) {
            push(format!("erases {area} (step {}{at})", f.id));
        } else if let Some(e) = written {
            let clause = if area == Area::Nv.label() { format!(", {}", backup_clause(pac)) } else { String::new() };
            push(format!("overwrites {area} with {} (step {}{at}){clause}", e.label(), f.id));
        }
    }
    out
}

fn check_fdls(pac: &PacFile, problems: &mut Vec<String>) {
    let kinds: Vec<(String, String)> = match &pac.scheme {
        Some(s) => s.files.iter().map(|f| (f.kind.to_ascii_uppercase(), f.id.clone())).collect(),
        None => Vec::new(),
    };
    let by_kind = |k: &[&str]| kinds.iter().find(|(kind, _)| k.contains(&kind.as_str())).map(|(_, id)| id.clone());
    let fdl1 = by_kind(&["FDL", "HOST_FDL", "FDL1"]).or_else(|| {
        pac.entries
            .iter()
            .find(|e| matches!(e.file_id.to_ascii_uppercase().as_str(), "FDL" | "FDL1" | "HOST_FDL"))
            .map(|e| e.file_id.clone())
    });
    let fdl2 = by_kind(&["FDL2"])
        .or_else(|| pac.entries.iter().find(|e| e.file_id.eq_ignore_ascii_case("FDL2")).map(|e| e.file_id.clone()));
    for (which, id) in [("FDL1", fdl1), ("FDL2", fdl2)] {
        match id {
            None => problems.push(format!("no {which} in the PAC: a download cannot start")),
            Some(id) => {
                if entry_for(pac, &id).is_none_or(|e| e.size == 0) {
                    problems.push(format!("{which} ({id}) has no data in the PAC"));
                }
            }
        }
    }
    for e in pac.entries.iter().filter(|e| e.flag == FLAG_FDL && e.size == 0) {
        problems.push(format!("FDL entry {} has no data", e.label()));
    }
}

fn check_scheme(pac: &PacFile, problems: &mut Vec<String>) {
    let Some(s) = &pac.scheme else {
        problems.push("no XML download scheme in the PAC".into());
        return;
    };
    if let Some(p) = &s.product
        && !p.eq_ignore_ascii_case(&pac.header.product_name)
    {
        problems.push(format!("the XML scheme is for product {p:?}, the header names {:?}", pac.header.product_name));
    }
    for f in &s.files {
        let Some(e) = entry_for(pac, &f.id) else {
            problems.push(format!("the XML scheme's step {:?} has no file entry in the PAC", f.id));
            continue;
        };
        if let (Some(base), Some(&addr)) = (f.base, e.addresses.first())
            && addr != 0
            && u64::from(addr) != base
        {
            problems.push(format!("{}: the XML says address {base:#x}, the file entry {addr:#x}", f.id));
        }
    }
}
