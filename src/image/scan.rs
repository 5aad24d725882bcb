//! One streaming pass over a package: every member hashed (SHA-256, and MD5 when asked), and the
//! few small members a reader needs kept in memory.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use super::archive::limits::MAX_KEPT_TOTAL;
use super::archive::{Digests, digest, read_failure};
use super::{FileEntry, ImageError, Member, Package};

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

    /// [`Scan::files`], giving up the scan: the paths and digests move into the list instead of
    /// being copied, which matters for a package of 100,000 members.
    pub fn into_files(self) -> Vec<FileEntry> {
        self.digests.into_iter().map(|(path, d)| FileEntry { path, size: d.size, sha256: d.sha256 }).collect()
    }

    /// Kept bytes of `path` as text (invalid UTF-8 replaced).
    pub fn text(&self, path: &str) -> Option<String> {
        self.kept.get(path).map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Hashes every member of `package` in one pass and keeps what `keep` asks for. Each kept member
/// is held to its own limit, and all kept bytes together to [`MAX_KEPT_TOTAL`].
pub fn scan(package: &mut dyn Package, keep: &dyn Fn(&str) -> Keep, with_md5: bool) -> Result<Scan, ImageError> {
    scan_within(package, keep, with_md5, MAX_KEPT_TOTAL)
}

/// [`scan`] with all kept bytes together held to `cap`.
fn scan_within(
    package: &mut dyn Package,
    keep: &dyn Fn(&str) -> Keep,
    with_md5: bool,
    cap: u64,
) -> Result<Scan, ImageError> {
    let name = package.path().to_string();
    let mut out = Scan::default();
    let mut kept_total = 0u64;
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
                budget(&name, member, cap, kept_total, member.size)?;
                let mut data = Vec::new();
                reader.take(limit).read_to_end(&mut data).map_err(fail)?;
                kept_total = budget(&name, member, cap, kept_total, data.len() as u64)?;
                let d = digest(&mut data.as_slice(), with_md5).map_err(fail)?;
                out.kept.insert(member.path.clone(), data);
                d
            }
            Keep::Prefix(n) => {
                budget(&name, member, cap, kept_total, member.size.min(n as u64))?;
                let mut tee = Tee { inner: reader, kept: Vec::new(), limit: n };
                let d = digest(&mut tee, with_md5).map_err(fail)?;
                kept_total = budget(&name, member, cap, kept_total, tee.kept.len() as u64)?;
                out.kept.insert(member.path.clone(), tee.kept);
                d
            }
        };
        out.digests.insert(member.path.clone(), d);
        Ok(())
    })?;
    Ok(out)
}

/// The kept total with `more` bytes of `member` added, or the refusal when that passes `cap`
/// ([`MAX_KEPT_TOTAL`] but in tests).
fn budget(package: &str, member: &Member, cap: u64, kept_total: u64, more: u64) -> Result<u64, ImageError> {
    let total = kept_total.saturating_add(more);
    if total > cap {
        return Err(ImageError::Unsafe {
            path: package.to_string(),
            problem: format!(
                "member {}: keeping its {more} bytes would hold {total} bytes of members in memory, over the {cap}-byte cap for one pass (MAX_KEPT_TOTAL)",
                member.path
            ),
        });
    }
    Ok(total)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::memory::MemoryPackage;

    const CAP: u64 = 1000;

    fn members(sizes: &[(&str, usize)]) -> MemoryPackage {
        MemoryPackage::new("p.zip", sizes.iter().map(|&(n, len)| (n.to_string(), vec![b'x'; len])).collect())
    }

    fn keep(p: &str) -> Keep {
        if p.ends_with(".xml") {
            Keep::Whole(400)
        } else if p.ends_with(".mbn") {
            Keep::Prefix(10)
        } else {
            Keep::Nothing
        }
    }

    #[test]
    fn kept_bytes_are_capped_in_total() {
        // Exactly the cap is kept; members that are not kept do not count, prefixes count as kept.
        let exact = [("a.xml", 400), ("b.xml", 400), ("c.xml", 190), ("d.mbn", 5000), ("e.bin", 5000)];
        let s = scan_within(&mut members(&exact), &keep, false, CAP).unwrap();
        assert_eq!(s.kept.values().map(Vec::len).sum::<usize>() as u64, CAP);
        assert_eq!(s.digests.len(), 5);
        // One byte more is refused, naming the member and the cap.
        for (extra, size) in [("f.xml", 1), ("f.mbn", 1)] {
            let mut over = exact.to_vec();
            over.push((extra, size));
            let err = scan_within(&mut members(&over), &keep, false, CAP).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, ImageError::Unsafe { .. }), "{text}");
            assert!(
                text.contains(&format!("member {extra}:"))
                    && text.contains("1000-byte cap")
                    && text.contains("MAX_KEPT_TOTAL"),
                "{text}"
            );
        }
    }
}
