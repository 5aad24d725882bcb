//! A reader that yields exactly a member's declared size, digests computed while streaming, and
//! the mapping of read failures to [`ImageError`].

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::image::{FileEntry, ImageError};

/// The buffer size for streaming a member: 64 KiB, whatever the member's size.
pub const STREAM_BUFFER: usize = 64 << 10;

/// The stored data did not have the member's declared size.
#[derive(Debug)]
pub(crate) struct SizeMismatch {
    declared: u64,
    found: u64,
    longer: bool,
}

impl fmt::Display for SizeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.longer {
            write!(f, "declared {} bytes, but its data goes on past that", self.declared)
        } else {
            write!(f, "declared {} bytes, found {}", self.declared, self.found)
        }
    }
}

impl std::error::Error for SizeMismatch {}

/// Wraps a member's reader: yields at most `declared` bytes, and fails if the data is longer or
/// ends early.
pub(crate) struct Bounded<R> {
    inner: R,
    declared: u64,
    seen: u64,
}

impl<R: Read> Bounded<R> {
    pub(crate) fn new(inner: R, declared: u64) -> Bounded<R> {
        Bounded { inner, declared, seen: 0 }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.declared - self.seen;
        if left == 0 {
            // Probe one byte: a member whose data goes on past its declared size is refused.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    SizeMismatch { declared: self.declared, found: self.seen + 1, longer: true },
                )),
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                SizeMismatch { declared: self.declared, found: self.seen, longer: false },
            ));
        }
        self.seen += n as u64;
        Ok(n)
    }
}

/// Turns a failure while reading `member` of `package` into an [`ImageError`] naming both.
pub(crate) fn read_failure(package: &str, member: &str, e: io::Error) -> ImageError {
    if let Some(size) = e.get_ref().and_then(|inner| inner.downcast_ref::<SizeMismatch>()) {
        let problem = size.to_string();
        return if size.longer {
            ImageError::Unsafe { path: package.to_string(), problem: format!("member {member}: {problem}") }
        } else {
            ImageError::Malformed { path: package.to_string(), part: member.to_string(), problem }
        };
    }
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput => {
            ImageError::Malformed {
                path: package.to_string(),
                part: member.to_string(),
                problem: format!("its data is damaged: {e}"),
            }
        }
        _ => ImageError::Io { path: format!("{package}: {member}"), source: e },
    }
}

/// Size and digests of a member, computed in one streaming pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Bytes read.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// MD5, lower-case hex, when asked for.
    pub md5: Option<String>,
}

impl Digests {
    /// The file entry for `path`.
    pub fn entry(&self, path: &str) -> FileEntry {
        FileEntry { path: path.to_string(), size: self.size, sha256: self.sha256.clone() }
    }
}

/// Streams `reader` to its end through SHA-256 (and MD5 when `with_md5`), with a fixed buffer.
pub fn digest(reader: &mut dyn Read, with_md5: bool) -> io::Result<Digests> {
    let mut sha = Sha256::new();
    let mut md5 = with_md5.then(Md5::new);
    let mut buf = vec![0u8; STREAM_BUFFER];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buf[..n]);
        if let Some(m) = md5.as_mut() {
            m.update(&buf[..n]);
        }
        size += n as u64;
    }
    Ok(Digests { size, sha256: hex(&sha.finalize()), md5: md5.map(|m| hex(&m.finalize())) })
}

/// Reads `reader` into memory, refusing more than `limit` bytes.
pub(crate) fn read_limited(reader: &mut dyn Read, limit: u64) -> io::Result<Result<Vec<u8>, u64>> {
    let mut out = Vec::new();
    let mut limited = reader.take(limit.saturating_add(1));
    limited.read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Ok(Err(limit));
    }
    Ok(Ok(out))
}

/// Reads and discards the rest of `reader`.
pub(crate) fn drain(reader: &mut dyn Read) -> io::Result<u64> {
    io::copy(reader, &mut io::sink())
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Reads from `reader` until `buf` is full or the data ends; returns how many bytes were read.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The first `n` bytes of the file at `path` (fewer when it is shorter), for format detection.
pub(crate) fn sniff(path: &Path, n: usize) -> Result<Vec<u8>, ImageError> {
    let io = |e| ImageError::Io { path: path.display().to_string(), source: e };
    let mut file = File::open(path).map_err(io)?;
    let mut buf = vec![0u8; n];
    let got = read_up_to(&mut file, &mut buf).map_err(io)?;
    buf.truncate(got);
    Ok(buf)
}

/// The error for a member larger than a read limit.
pub(crate) fn over_limit(package: &str, member: &str, size: u64, limit: u64) -> ImageError {
    ImageError::Unsafe {
        path: package.to_string(),
        problem: format!("member {member}: {size} bytes, over the {limit}-byte limit for reading it into memory"),
    }
}

/// The error for a member the package does not have.
pub(crate) fn no_member(package: &str, member: &str) -> ImageError {
    ImageError::Malformed { path: package.to_string(), part: member.to_string(), problem: "no such member".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_catches_long_and_short() {
        let mut ok = Bounded::new(&b"abcd"[..], 4);
        assert_eq!(digest(&mut ok, true).unwrap().size, 4);
        let mut long = Bounded::new(&b"abcde"[..], 4);
        let e = digest(&mut long, false).unwrap_err();
        assert!(matches!(read_failure("p", "m", e), ImageError::Unsafe { .. }));
        let mut short = Bounded::new(&b"ab"[..], 4);
        let e = digest(&mut short, false).unwrap_err();
        assert!(matches!(read_failure("p", "m", e), ImageError::Malformed { .. }));
    }

    #[test]
    fn reading_up_to_and_hex() {
        let mut buf = [0u8; 4];
        assert_eq!(read_up_to(&mut &b"ab"[..], &mut buf).unwrap(), 2);
        assert_eq!(read_up_to(&mut &b"abcdef"[..], &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"abcd");
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }

    #[test]
    fn known_digests() {
        let d = digest(&mut &b"abc"[..], true).unwrap();
        assert_eq!(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(d.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
    }
}
