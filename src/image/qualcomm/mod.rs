//! Quectel Qualcomm packages (a real tree and layout:
//! `defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`): a folder, `.zip` or `.7z` holding
//! `<REVISION>/update/...` with `update/firehose/` (programmer, rawprogram and patch XML, MIBIB).
//!
//! One streaming pass hashes every member (SHA-256 and MD5) and keeps the small text members;
//! then md5.txt is checked, the XML read into partitions and erase findings, the NAND geometry
//! taken from the names, the XML and the MIBIB, and the identity from the revision folder,
//! cross-checked with contents.xml and the package's file name.

pub mod contents;
pub mod erases;
mod identity;
pub mod layout;
pub mod md5sum;
pub mod mibib;
mod partitions;
pub mod rawprogram;
pub mod user_table;
pub mod xml;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use self::layout::Layout;
use super::archive::Digests;
use super::archive::Storage;
use super::scan::{Keep, Scan, scan};
use super::{ImageError, Inspection, Member, Package};

/// Whether the members look like a Qualcomm package: an `update/` folder with `firehose/` or
/// streaming loaders (`NPRG*.mbn`).
pub fn claims(members: &[Member]) -> bool {
    matches!(layout::find_layout(members), Ok(Some(_)) | Err(_))
}

/// Reads a Qualcomm package. `path` is the package as given (its file name is cross-checked
/// with the content); `storage` says how it is stored.
pub fn read(package: &mut dyn Package, path: &Path, storage: Storage) -> Result<Inspection, ImageError> {
    let shown = package.path().to_string();
    let lay = match layout::find_layout(package.members()) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Err(ImageError::UnknownFormat {
                path: shown,
                reason: "no update/firehose folder or NPRG loader: not a Qualcomm package".into(),
            });
        }
        Err(why) => {
            return Err(ImageError::Malformed { path: shown, part: "package layout".into(), problem: why });
        }
    };
    let keep = keeper(&lay);
    let scanned = scan(package, &keep, true)?;
    let mut ins = Inspection {
        path: shown.clone(),
        format: format!("qualcomm-{}", storage.label()),
        platform: Some(crate::platform::Platform::Qualcomm),
        ..Inspection::default()
    };
    check_md5(&shown, &lay, &scanned, storage, &mut ins)?;
    let members = package.members();
    let fh_names = lay.firehose_files(members);
    find_programmer(&lay, members, &fh_names, &mut ins);
    partitions::read(&shown, &lay, members, &fh_names, &scanned, &mut ins)?;
    identity::read(path, storage, &lay, &scanned, &mut ins);
    // Last, so the file list is not held twice (a package may have 100,000 members).
    ins.files = scanned.into_files();
    Ok(ins)
}

/// What to keep in memory during the pass: the text members and the MIBIB's first pages.
fn keeper(lay: &Layout) -> impl Fn(&str) -> Keep + use<> {
    let lay = lay.clone();
    move |p: &str| {
        let rel = lay.relative(p).to_ascii_lowercase();
        let in_firehose = p.strip_prefix(&format!("{}/", lay.firehose)).filter(|n| !n.contains('/'));
        if rel == "md5.txt" {
            Keep::Whole(md5sum::MAX_MD5_TXT)
        } else if rel == "contents.xml" || rel == "update/partition_nand.xml" {
            Keep::Whole(xml::MAX_XML_SIZE)
        } else if rel == "update/partition.mbn" {
            Keep::Prefix(user_table::MAX_SIZE as usize)
        } else if let Some(name) = in_firehose {
            if layout::is_rawprogram(name) || layout::is_patch(name) {
                Keep::Whole(xml::MAX_XML_SIZE)
            } else if layout::is_mibib(name) {
                Keep::Prefix(mibib::MIBIB_PREFIX)
            } else {
                Keep::Nothing
            }
        } else {
            Keep::Nothing
        }
    }
}

/// Checks md5.txt against the MD5 of every file it lists.
fn check_md5(
    shown: &str,
    lay: &Layout,
    scanned: &Scan,
    storage: Storage,
    ins: &mut Inspection,
) -> Result<(), ImageError> {
    let md5_path = lay.join("md5.txt");
    let Some(text) = scanned.text(&md5_path) else {
        ins.problems.push(match storage {
            Storage::Folder => "no md5.txt: the files' integrity is not checked (QFirehose accepts a folder without it)".into(),
            _ => "no md5.txt in the archive: the files' integrity is not checked (QFirehose refuses an archive without it)".into(),
        });
        return Ok(());
    };
    let parsed = md5sum::parse_md5_txt(&text);
    for (line, why) in &parsed.unreadable {
        ins.problems.push(format!("{md5_path} line {line} not understood: {why}"));
    }
    let root_name = lay.root.rsplit('/').next().unwrap_or_default();
    // Members by lower-cased path relative to the root (the first in order wins), indexed once.
    let mut by_relative: HashMap<String, (&String, &Digests)> = HashMap::with_capacity(scanned.digests.len());
    for (p, d) in &scanned.digests {
        by_relative.entry(lay.relative(p).to_ascii_lowercase()).or_insert((p, d));
    }
    let mut covered: HashSet<&str> = HashSet::new();
    for entry in &parsed.entries {
        let rel = entry
            .path
            .strip_prefix(root_name)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|_| !root_name.is_empty())
            .unwrap_or(&entry.path);
        let found = by_relative.get(&rel.to_ascii_lowercase()).copied();
        let Some((member, digests)) = found else {
            return Err(ImageError::Malformed {
                path: shown.to_string(),
                part: md5_path.clone(),
                problem: format!("line {} lists {}, which the package does not have", entry.line, entry.raw_path),
            });
        };
        let actual = digests.md5.clone().unwrap_or_default();
        if actual != entry.md5 {
            return Err(ImageError::Malformed {
                path: shown.to_string(),
                part: member.clone(),
                problem: format!(
                    "MD5 mismatch: md5.txt line {} expects {}, the file has {actual}",
                    entry.line, entry.md5
                ),
            });
        }
        covered.insert(member);
    }
    let update_prefix = format!("{}/", lay.update);
    let uncovered: Vec<&str> = scanned
        .digests
        .keys()
        .filter(|p| p.starts_with(&update_prefix) && !covered.contains(p.as_str()))
        .map(|p| lay.relative(p))
        .collect();
    if !uncovered.is_empty() {
        ins.problems.push(format!(
            "md5.txt does not cover {} file(s) under update/: {}",
            uncovered.len(),
            uncovered.join(", ")
        ));
    }
    Ok(())
}

/// Finds the Firehose programmer (or a streaming loader) and the platform its name gives.
fn find_programmer(lay: &Layout, members: &[Member], fh_names: &[&str], ins: &mut Inspection) {
    if let Some(name) = layout::find_programmer(fh_names) {
        ins.programmer = Some(format!("{}/{name}", lay.firehose));
        ins.chip = layout::chip_hint(name).map(str::to_string);
        return;
    }
    let prefix = format!("{}/", lay.update);
    let loader = members
        .iter()
        .filter_map(|m| m.path.strip_prefix(&prefix))
        .find(|n| !n.contains('/') && n.to_ascii_lowercase().starts_with("nprg"));
    if fh_names.is_empty() {
        ins.problems.push("no update/firehose folder: a streaming (NPRG) package, which fwguard does not flash".into());
    } else {
        ins.problems.push(format!(
            "no Firehose programmer in {} (looked for {})",
            lay.firehose,
            layout::PROGRAMMER_PATTERNS.join(", ")
        ));
    }
    ins.chip = loader.and_then(layout::chip_hint).map(str::to_string);
}

#[cfg(test)]
mod tests;
