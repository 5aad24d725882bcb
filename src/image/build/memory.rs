//! An in-memory [`Package`]: members held as byte vectors. Builders produce their members in
//! this form, so readers can be tested, benchmarked and simulated without files or zips.

use sha2::{Digest, Sha256};

use crate::image::archive::hex;
use crate::image::{FileEntry, ImageError, Member, Package, Visitor};

/// A package whose members live in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryPackage {
    path: String,
    members: Vec<Member>,
    data: Vec<Vec<u8>>,
}

impl MemoryPackage {
    /// A package called `path` holding `members` (path, content), kept in the given order.
    pub fn new(path: &str, members: Vec<(String, Vec<u8>)>) -> MemoryPackage {
        let mut pkg = MemoryPackage { path: path.to_string(), ..MemoryPackage::default() };
        for (name, bytes) in members {
            pkg.members.push(Member { path: name, size: bytes.len() as u64 });
            pkg.data.push(bytes);
        }
        pkg
    }

    fn find(&self, member: &str) -> Result<&[u8], ImageError> {
        self.members.iter().position(|m| m.path == member).and_then(|i| self.data.get(i)).map(Vec::as_slice).ok_or_else(
            || ImageError::Io {
                path: format!("{}:{member}", self.path),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such member"),
            },
        )
    }

    /// The members, in order, with their content.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.members.iter().zip(&self.data).map(|(m, d)| (m.path.as_str(), d.as_slice()))
    }

    /// Writes the members into a deflated zip, in order.
    pub fn to_zip(&self) -> std::io::Result<Vec<u8>> {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in self.entries() {
            w.start_file(name, options).map_err(std::io::Error::other)?;
            w.write_all(data)?;
        }
        Ok(w.finish().map_err(std::io::Error::other)?.into_inner())
    }

    /// Reads a zip produced by a builder (trusted input: only a per-member and a total cap, no
    /// further zip-bomb or traversal checks; readers of user packages use the archive module).
    #[cfg(test)]
    pub(crate) fn from_zip(path: &str, bytes: &[u8]) -> Result<MemoryPackage, ImageError> {
        use std::io::Read;
        let bad = |e: &dyn std::fmt::Display| crate::image::fields::malformed(path, "zip", e.to_string());
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
        let mut members = Vec::new();
        let mut total = 0u64;
        for i in 0..zip.len() {
            let file = zip.by_index(i).map_err(|e| bad(&e))?;
            if file.is_dir() {
                continue;
            }
            let name = file.name().map_err(|e| bad(&e))?.to_string();
            let mut data = Vec::new();
            file.take(1 << 28).read_to_end(&mut data).map_err(|e| bad(&e))?;
            total += data.len() as u64;
            if total > 1 << 30 {
                return Err(bad(&"more than 1 GiB unpacked"));
            }
            members.push((name, data));
        }
        Ok(MemoryPackage::new(path, members))
    }
}

impl Package for MemoryPackage {
    fn path(&self) -> &str {
        &self.path
    }

    fn members(&self) -> &[Member] {
        &self.members
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let data = self.find(member)?;
        if data.len() as u64 > limit {
            return Err(ImageError::Unsafe {
                path: self.path.clone(),
                problem: format!("member {member} is {} bytes, more than the {limit}-byte limit for it", data.len()),
            });
        }
        Ok(data.to_vec())
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let data = self.find(member)?;
        Ok(FileEntry { path: member.to_string(), size: data.len() as u64, sha256: hex(&Sha256::digest(data)) })
    }

    /// Streams the members from memory, in order, with no copy and no size limit.
    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        for (member, data) in self.members.iter().zip(&self.data) {
            visit(member, &mut data.as_slice())?;
        }
        Ok(())
    }
}

/// How often each way of reading a [`CountingPackage`] was used.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// [`Package::read`] calls.
    pub reads: usize,
    /// [`Package::hash`] calls.
    pub hashes: usize,
    /// [`Package::for_each`] calls.
    pub walks: usize,
}

/// A package that counts how it is read, to show a reader makes one pass.
#[cfg(test)]
pub(crate) struct CountingPackage {
    inner: Box<dyn Package>,
    counts: std::rc::Rc<std::cell::Cell<Counts>>,
}

#[cfg(test)]
impl CountingPackage {
    /// Wraps `inner`, counting into `counts`.
    pub(crate) fn new(inner: Box<dyn Package>, counts: std::rc::Rc<std::cell::Cell<Counts>>) -> CountingPackage {
        CountingPackage { inner, counts }
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        let mut c = self.counts.get();
        f(&mut c);
        self.counts.set(c);
    }
}

#[cfg(test)]
impl Package for CountingPackage {
    fn path(&self) -> &str {
        self.inner.path()
    }

    fn members(&self) -> &[Member] {
        self.inner.members()
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        self.count(|c| c.reads += 1);
        self.inner.read(member, limit)
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        self.count(|c| c.hashes += 1);
        self.inner.hash(member)
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        self.count(|c| c.walks += 1);
        self.inner.for_each(visit)
    }

    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        self.count(|c| c.reads += 1);
        self.inner.stream_member(member, offset, visit)
    }
}
