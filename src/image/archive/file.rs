//! A package that is one file (`.pac`, `.binpkg`, a QuecPython `.bin`): one member, named like
//! the file, whose parts a platform addresses by offset.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

use super::guard::{self, Bounded};
use crate::image::package::{Visitor, find_member};
use crate::image::{FileEntry, ImageError, Member, Package};

/// A single-file package.
#[derive(Debug)]
pub struct FilePackage {
    path: String,
    file: std::path::PathBuf,
    members: Vec<Member>,
}

impl FilePackage {
    /// Opens the regular file at `path`; its one member is its file name.
    pub fn open(path: &Path) -> Result<FilePackage, ImageError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| ImageError::Io { path: shown.clone(), source: e })?;
        if !meta.is_file() {
            return Err(ImageError::Unsafe { path: shown, problem: "not a regular file".into() });
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
        Ok(FilePackage {
            path: shown,
            file: path.to_path_buf(),
            members: vec![Member { path: name, size: meta.len() }],
        })
    }

    fn open_at(&self, member: &str, offset: u64) -> Result<(Member, Bounded<File>), ImageError> {
        let m = find_member(&self.path, &self.members, member, offset)?;
        let mut file = File::open(&self.file).map_err(|e| guard::read_failure(&self.path, member, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| guard::read_failure(&self.path, member, e))?;
        let left = m.size - offset;
        Ok((m, Bounded::new(file, left)))
    }
}

impl Package for FilePackage {
    fn path(&self) -> &str {
        &self.path
    }

    fn members(&self) -> &[Member] {
        &self.members
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let (m, mut reader) = self.open_at(member, 0)?;
        if m.size > limit {
            return Err(guard::over_limit(&self.path, member, m.size, limit));
        }
        guard::read_limited(&mut reader, limit)
            .map_err(|e| guard::read_failure(&self.path, member, e))?
            .map_err(|limit| guard::over_limit(&self.path, member, m.size, limit))
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let (m, mut reader) = self.open_at(member, 0)?;
        let d = guard::digest(&mut reader, false).map_err(|e| guard::read_failure(&self.path, member, e))?;
        Ok(d.entry(&m.path))
    }

    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let (m, mut reader) = self.open_at(member, offset)?;
        visit(&m, &mut reader)
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let name = self.members[0].path.clone();
        self.stream_member(&name, 0, visit)
    }
}
