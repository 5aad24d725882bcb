//! Identity from content: the revision folder, contents.xml, and the package's own name,
//! cross-checked.

use std::collections::HashSet;
use std::path::Path;

use super::contents::{self, ListedFile};
use super::layout::Layout;
use crate::identity::{ImageKind, ImageName, Revision};
use crate::image::Inspection;
use crate::image::archive::Storage;
use crate::image::claims::{name_conflict, same_build, stem};
use crate::image::scan::Scan;

/// A revision named by a folder or value, if it is one.
fn revision_named(text: &str) -> Option<Revision> {
    match ImageName::parse(text).ok()?.kind {
        ImageKind::Build(r) => Some(r),
        _ => None,
    }
}

/// The paths of the `listed` files no member has: a file is there when a member's path is its
/// name, or ends with `/` and its name (ASCII case ignored). The members are indexed once, by
/// their lower-cased path and every lower-cased tail that follows a `/`.
fn missing_files<'c, 'm>(listed: &'c [ListedFile], members: impl Iterator<Item = &'m str>) -> Vec<&'c str> {
    let mut present: HashSet<String> = HashSet::new();
    for path in members {
        let lower = path.to_ascii_lowercase();
        for (at, _) in lower.match_indices('/') {
            present.insert(lower[at + 1..].to_string());
        }
        present.insert(lower);
    }
    listed.iter().filter(|f| !present.contains(&f.name.to_ascii_lowercase())).map(|f| f.path.as_str()).collect()
}

/// Sets `ins.revision`, `ins.product` and `ins.name_conflict`, and notes disagreements.
pub(super) fn read(path: &Path, storage: Storage, lay: &Layout, scanned: &Scan, ins: &mut Inspection) {
    let folder = lay.root.rsplit('/').next().filter(|s| !s.is_empty());
    let from_folder = folder.and_then(|f| revision_named(f).map(|r| (r, f.to_string())));
    let contents_path = lay.join("contents.xml");
    let mut from_contents = None;
    if let Some(text) = scanned.text(&contents_path) {
        match contents::parse_contents(&text) {
            Ok(c) => {
                let missing = missing_files(&c.files, scanned.digests.keys().map(String::as_str));
                if !missing.is_empty() {
                    ins.problems
                        .push(format!("contents.xml lists file(s) the package does not have: {}", missing.join(", ")));
                }
                from_contents = c.revisions.first().and_then(|r| revision_named(r));
            }
            Err(e) => ins.problems.push(format!("contents.xml: {e}")),
        }
    }
    // A folder package given as the revision folder itself names its revision by its own name.
    let from_own_name = (storage == Storage::Folder && lay.root.is_empty())
        .then(|| stem(path))
        .and_then(|s| revision_named(&s).map(|r| (r, s)));
    let content = from_folder.or(from_own_name).map(|(r, _)| r);
    match (&content, &from_contents) {
        (Some(a), Some(b)) if !same_build(a, b) => {
            ins.problems.push(format!("contents.xml names {b}, but the revision folder is {a}"));
        }
        _ => {}
    }
    let Some(revision) = content.or(from_contents) else {
        ins.problems.push(match folder {
            Some(f) => format!("the package folder {f:?} is not a revision, and contents.xml names none: the content does not say what it is"),
            None => "no revision folder and no revision in contents.xml: the content does not say what it is".into(),
        });
        return;
    };
    ins.name_conflict = name_conflict(&path.display().to_string(), Some(&revision), None);
    ins.product = Some(revision.product().to_string());
    ins.revision = Some(revision.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str) -> ListedFile {
        ListedFile { path: format!("update/{name}"), name: name.to_string() }
    }

    #[test]
    fn missing_files_match_names_and_tails() {
        let members = ["EC25/update/SBL1.mbn", "EC25/update/firehose/x.xml", "top.txt"];
        let files =
            [listed("sbl1.mbn"), listed("firehose/x.xml"), listed("top.txt"), listed("bl1.mbn"), listed("gone")];
        assert_eq!(missing_files(&files, members.into_iter()), ["update/bl1.mbn", "update/gone"]);
    }

    #[test]
    fn many_files_and_members_are_indexed_once() {
        let n = 50_000;
        let members: Vec<String> = (0..n).map(|i| format!("EC25/update/d{}/f{i}.mbn", i % 100)).collect();
        let mut files: Vec<ListedFile> = (0..n).map(|i| listed(&format!("F{i}.MBN"))).collect();
        files.push(listed("absent.mbn"));
        assert_eq!(missing_files(&files, members.iter().map(String::as_str)), ["update/absent.mbn"]);
    }
}
