//! DFOTA delta packages (<https://projects.osmocom.org/projects/quectel-modems/wiki/EC20_DFOTA>):
//! `EC20EQAR02A05V03-R02A09V02.zip`, a diff
//! from one build to another that only applies on a module running exactly the source build.
//!
//! No public source describes what such a zip holds, so fwguard takes the source and target
//! from the name, hashes every member, and when a member's path names a delta too, takes that
//! as the content's claim and checks the file name against it.

use std::path::Path;

use super::archive::Storage;
use super::claims::stem;
use super::fields::file_name;
use super::scan::{Keep, scan};
use super::{ImageError, Inspection, Package};
use crate::identity::{ImageKind, ImageName, Revision, strip_archive_suffix};

/// The delta a name gives: (source, target).
fn delta_in(text: &str) -> Option<(Revision, Revision)> {
    match ImageName::parse(text).ok()?.kind {
        ImageKind::Delta { source, target } => Some((source, target)),
        _ => None,
    }
}

/// Whether the package at `path` is named like a DFOTA delta.
pub fn claims(path: &Path) -> bool {
    delta_in(&stem(path)).is_some()
}

/// Reads a DFOTA delta package.
pub fn read(package: &mut dyn Package, path: &Path, storage: Storage) -> Result<Inspection, ImageError> {
    let shown = package.path().to_string();
    let stem = stem(path);
    let from_name = delta_in(&stem).ok_or_else(|| ImageError::UnknownFormat {
        path: shown.clone(),
        reason: format!("{stem:?} is not a delta name like EC20EQAR02A05V03-R02A09V02"),
    })?;
    let from_content = package
        .members()
        .iter()
        .find_map(|m| m.path.split('/').find_map(|c| delta_in(strip_archive_suffix(c))).map(|d| (m.path.clone(), d)));
    let scanned = scan(package, &|_| Keep::Nothing, false)?;
    let mut ins = Inspection {
        path: shown,
        format: "dfota".into(),
        // The DFOTA sources (EC20, EP06/EG06/EM06, BG96 guides) are all Qualcomm modules.
        platform: Some(crate::platform::Platform::Qualcomm),
        files: scanned.into_files(),
        ..Inspection::default()
    };
    if storage != Storage::Zip {
        ins.problems.push(format!("a delta stored as a {}; Quectel ships deltas as .zip", storage.label()));
    }
    if ins.files.is_empty() {
        ins.problems.push("the delta holds no files".into());
    }
    let (source, target) = match from_content {
        Some((member, content)) if content != from_name => {
            ins.name_conflict = Some(format!(
                "the file name {:?} says a delta from {} to {}, the member {member} says from {} to {}",
                file_name(&ins.path),
                from_name.0,
                from_name.1,
                content.0,
                content.1
            ));
            content
        }
        _ => from_name,
    };
    ins.product = Some(target.product().to_string());
    ins.revision = Some(target.to_string());
    ins.source_revision = Some(source.to_string());
    Ok(ins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::memory::MemoryPackage;

    fn read_named(name: &str, member: &str) -> Inspection {
        let mut pkg = MemoryPackage::new(name, vec![(member.into(), vec![1, 2, 3])]);
        read(&mut pkg, Path::new(name), Storage::Zip).unwrap()
    }

    #[test]
    fn a_member_naming_another_delta_is_a_conflict_naming_both() {
        let ins = read_named("/dl/EC20EQAR02A05V03-R02A09V02.zip", "EC20EQAR02A05V03-R02A10V01/delta.bin");
        assert_eq!(ins.revision.as_deref(), Some("EC20EQAR02A10V01"));
        assert_eq!(ins.source_revision.as_deref(), Some("EC20EQAR02A05V03"));
        let c = ins.name_conflict.expect("the name and the member disagree");
        assert_eq!(
            c,
            "the file name \"EC20EQAR02A05V03-R02A09V02.zip\" says a delta from EC20EQAR02A05V03 to EC20EQAR02A09V02, \
             the member EC20EQAR02A05V03-R02A10V01/delta.bin says from EC20EQAR02A05V03 to EC20EQAR02A10V01"
        );

        let ins = read_named("EC20EQAR02A05V03-R02A09V02.zip", "EC20EQAR02A05V03-R02A09V02/delta.bin");
        assert_eq!(ins.name_conflict, None);
        assert_eq!(ins.revision.as_deref(), Some("EC20EQAR02A09V02"));
    }
}
