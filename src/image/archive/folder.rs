//! A package that is a folder on disk. Links are followed only while they stay inside the folder;
//! anything but regular files, folders and such links is refused.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::guard::{self, Bounded};
use super::limits::{Census, MAX_DEPTH};
use crate::image::package::Visitor;
use crate::image::{FileEntry, ImageError, Member, Package};

/// A package stored as a folder tree.
#[derive(Debug)]
pub struct FolderPackage {
    path: String,
    members: Vec<Member>,
    /// Member path to the real file it reads (links resolved, inside the folder).
    files: BTreeMap<String, PathBuf>,
}

impl FolderPackage {
    /// Lists the folder at `path`, refusing links that leave it, special files and trees over
    /// the caps in [`super::limits`].
    pub fn open(path: &Path) -> Result<FolderPackage, ImageError> {
        let shown = path.display().to_string();
        let io = |p: &Path, e| ImageError::Io { path: p.display().to_string(), source: e };
        let root = fs::canonicalize(path).map_err(|e| io(path, e))?;
        let mut census = Census::new(&shown);
        let mut files = BTreeMap::new();
        let mut visited = HashSet::new();
        visited.insert(root.clone());
        let mut stack = vec![(root.clone(), String::new(), 0usize)];
        while let Some((dir, prefix, depth)) = stack.pop() {
            let listing = fs::read_dir(&dir).map_err(|e| io(&dir, e))?;
            let mut entries = counted(listing, &mut census).map_err(|e| e.into_image_error(&dir))?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let os_name = entry.file_name();
                let name = os_name.to_str().ok_or_else(|| ImageError::Malformed {
                    path: shown.clone(),
                    part: format!("{prefix}{}", os_name.to_string_lossy()),
                    problem: "the file name is not UTF-8".into(),
                })?;
                let rel = format!("{prefix}{name}");
                if name.contains(['\\', ':']) || super::path::normalise(&rel).as_deref() != Ok(rel.as_str()) {
                    return Err(ImageError::Unsafe {
                        path: shown.clone(),
                        problem: format!(
                            "member {rel}: the name has '\\', ':' or another form Windows reads differently"
                        ),
                    });
                }
                let meta = fs::symlink_metadata(entry.path()).map_err(|e| io(&entry.path(), e))?;
                let (real, meta) = if meta.file_type().is_symlink() {
                    let target = fs::canonicalize(entry.path()).map_err(|_| ImageError::Unsafe {
                        path: shown.clone(),
                        problem: format!("member {rel}: a link to nothing"),
                    })?;
                    if !target.starts_with(&root) {
                        return Err(ImageError::Unsafe {
                            path: shown.clone(),
                            problem: format!("member {rel}: a link that leaves the package, to {}", target.display()),
                        });
                    }
                    let meta = fs::metadata(&target).map_err(|e| io(&target, e))?;
                    (target, meta)
                } else {
                    (entry.path(), meta)
                };
                if meta.is_dir() {
                    if depth + 1 > MAX_DEPTH {
                        return Err(ImageError::Unsafe {
                            path: shown.clone(),
                            problem: format!("member {rel}: folders nested deeper than {MAX_DEPTH} (cap MAX_DEPTH)"),
                        });
                    }
                    let canonical = fs::canonicalize(&real).map_err(|e| io(&real, e))?;
                    if visited.insert(canonical.clone()) {
                        stack.push((canonical, format!("{rel}/"), depth + 1));
                    }
                } else if meta.is_file() {
                    census.admit(&rel, meta.len(), None)?;
                    files.insert(rel, real);
                } else {
                    return Err(ImageError::Unsafe {
                        path: shown.clone(),
                        problem: format!("member {rel}: not a regular file (a device, pipe or socket)"),
                    });
                }
            }
        }
        let members = files
            .iter()
            .map(|(p, real)| {
                let size = fs::metadata(real).map_err(|e| io(real, e))?.len();
                Ok(Member { path: p.clone(), size })
            })
            .collect::<Result<Vec<_>, ImageError>>()?;
        Ok(FolderPackage { path: shown, members, files })
    }

    fn open_member(&self, member: &str) -> Result<(Member, Bounded<File>), ImageError> {
        // `members` comes from a BTreeMap, sorted by path: no linear search per member, which made
        // a pass over 100,000 members quadratic.
        let m = self
            .members
            .binary_search_by(|m| m.path.as_str().cmp(member))
            .map(|i| self.members[i].clone())
            .map_err(|_| guard::no_member(&self.path, member))?;
        let real = self.files.get(member).ok_or_else(|| guard::no_member(&self.path, member))?;
        let file = File::open(real).map_err(|e| guard::read_failure(&self.path, member, e))?;
        Ok((m.clone(), Bounded::new(file, m.size)))
    }
}

impl Package for FolderPackage {
    fn path(&self) -> &str {
        &self.path
    }

    fn members(&self) -> &[Member] {
        &self.members
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let (m, mut reader) = self.open_member(member)?;
        if m.size > limit {
            return Err(guard::over_limit(&self.path, member, m.size, limit));
        }
        guard::read_limited(&mut reader, limit)
            .map_err(|e| guard::read_failure(&self.path, member, e))?
            .map_err(|limit| guard::over_limit(&self.path, member, m.size, limit))
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let (m, mut reader) = self.open_member(member)?;
        let d = guard::digest(&mut reader, false).map_err(|e| guard::read_failure(&self.path, member, e))?;
        Ok(d.entry(&m.path))
    }

    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let m = crate::image::package::find_member(&self.path, &self.members, member, offset)?;
        let real = self.files.get(member).ok_or_else(|| guard::no_member(&self.path, member))?;
        let mut file = File::open(real).map_err(|e| guard::read_failure(&self.path, member, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| guard::read_failure(&self.path, member, e))?;
        visit(&m, &mut Bounded::new(file, m.size - offset))
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        for member in self.members.clone() {
            let (m, mut reader) = self.open_member(&member.path)?;
            visit(&m, &mut reader)?;
        }
        Ok(())
    }
}

/// Why a listing stopped: a cap, or a read failure.
enum ListError {
    Cap(ImageError),
    Io(std::io::Error),
}

impl ListError {
    fn into_image_error(self, dir: &Path) -> ImageError {
        match self {
            ListError::Cap(e) => e,
            ListError::Io(e) => ImageError::Io { path: dir.display().to_string(), source: e },
        }
    }
}

/// Collects a folder's entries, counting each against [`super::limits::MAX_MEMBERS`] as it is
/// read, so a folder with millions of entries is refused at the cap, not listed first.
fn counted<T>(listing: impl Iterator<Item = std::io::Result<T>>, census: &mut Census) -> Result<Vec<T>, ListError> {
    let mut entries = Vec::new();
    for entry in listing {
        census.count_entry().map_err(ListError::Cap)?;
        entries.push(entry.map_err(ListError::Io)?);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::archive::limits::MAX_MEMBERS;

    #[test]
    fn a_listing_is_refused_at_the_cap_while_it_is_read() {
        // An endless listing: collecting it before counting would never end.
        let endless = std::iter::repeat_with(|| Ok(0u8));
        let mut census = Census::new("pkg");
        let Err(ListError::Cap(err)) = counted(endless, &mut census) else { panic!("an endless listing was accepted") };
        assert!(matches!(err, ImageError::Unsafe { .. }) && err.to_string().contains("MAX_MEMBERS"), "{err}");
        let mut census = Census::new("pkg");
        assert_eq!(counted((0..MAX_MEMBERS).map(Ok), &mut census).ok().map(|v| v.len()), Some(MAX_MEMBERS));
    }
}
