//! One streaming pass over a package: every member hashed (SHA-256, and MD5 when asked), and the
//! few small members a reader needs kept in memory.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use super::archive::{Digests, digest, read_failure};
use super::{FileEntry, ImageError, Package};

/// What to keep of a member while it is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: hash only.
    Nothing,
    /// The whole member, refused if larger than this many bytes.
    Whole(u64),
    /// The first bytes, up to this many.
    Prefix(usize),
}

/// The result of a pass.
#[derive(Debug, Default)]
pub struct Scan {
    /// Digests by member path, sorted.
    pub digests: BTreeMap<String, Digests>,
    /// Kept bytes by member path.
    pub kept: HashMap<String, Vec<u8>>,
}

impl Scan {
    /// The file list of an inspection: every member with size and SHA-256, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        self.digests.iter().map(|(p, d)| d.entry(p)).collect()
    }

    /// Kept bytes of `path` as text (invalid UTF-8 replaced).
    pub fn text(&self, path: &str) -> Option<String> {
        self.kept.get(path).map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Hashes every member of `package` in one pass and keeps what `keep` asks for.
pub fn scan(package: &mut dyn Package, keep: &dyn Fn(&str) -> Keep, with_md5: bool) -> Result<Scan, ImageError> {
    let name = package.path().to_string();
    let mut out = Scan::default();
    package.for_each(&mut |member, reader| {
        let fail = |e| read_failure(&name, &member.path, e);
        let d = match keep(&member.path) {
            Keep::Nothing => digest(reader, with_md5).map_err(fail)?,
            Keep::Whole(limit) => {
                if member.size > limit {
                    return Err(ImageError::Unsafe {
                        path: name.clone(),
                        problem: format!(
                            "member {}: {} bytes, over the {limit}-byte limit for its kind",
                            member.path, member.size
                        ),
                    });
                }
                let mut data = Vec::new();
                reader.take(limit).read_to_end(&mut data).map_err(fail)?;
                let d = digest(&mut data.as_slice(), with_md5).map_err(fail)?;
                out.kept.insert(member.path.clone(), data);
                d
            }
            Keep::Prefix(n) => {
                let mut tee = Tee { inner: reader, kept: Vec::new(), limit: n };
                let d = digest(&mut tee, with_md5).map_err(fail)?;
                out.kept.insert(member.path.clone(), tee.kept);
                d
            }
        };
        out.digests.insert(member.path.clone(), d);
        Ok(())
    })?;
    Ok(out)
}

/// Passes bytes through and keeps the first `limit` of them.
struct Tee<'r> {
    inner: &'r mut dyn Read,
    kept: Vec<u8>,
    limit: usize,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = self.limit.saturating_sub(self.kept.len()).min(n);
        self.kept.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}
