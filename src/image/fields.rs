//! Reading fixed-layout binary structures safely: little-endian fields, fixed-size strings,
//! SHA-256 through a fixed buffer. Every read is bounds-checked and turns into an
//! [`ImageError::Malformed`] naming the package and the structure, never a panic.

use std::io::{Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

use super::archive::{STREAM_BUFFER, hex};
use super::error::ImageError;

/// Builds a `Malformed` error.
pub(crate) fn malformed(path: &str, part: &str, problem: impl Into<String>) -> ImageError {
    ImageError::Malformed { path: path.to_string(), part: part.to_string(), problem: problem.into() }
}

/// Builds an `Io` error.
pub(crate) fn io_error(path: &str, source: std::io::Error) -> ImageError {
    ImageError::Io { path: path.to_string(), source }
}

/// A byte slice holding one structure, with the names used in error messages.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    bytes: &'a [u8],
    path: &'a str,
    part: &'a str,
}

impl<'a> View<'a> {
    /// Wraps `bytes`, the structure `part` of the package `path`.
    pub(crate) fn new(bytes: &'a [u8], path: &'a str, part: &'a str) -> View<'a> {
        View { bytes, path, part }
    }

    /// The error for this structure.
    pub(crate) fn bad(&self, problem: impl Into<String>) -> ImageError {
        malformed(self.path, self.part, problem)
    }

    /// `len` bytes at `at`, or a "truncated" error.
    pub(crate) fn bytes(&self, at: usize, len: usize) -> Result<&'a [u8], ImageError> {
        at.checked_add(len).and_then(|end| self.bytes.get(at..end)).ok_or_else(|| {
            self.bad(format!(
                "truncated: a field at offset {at:#x} needs {len} bytes, the structure has {} bytes",
                self.bytes.len()
            ))
        })
    }

    /// A little-endian `u16` at `at`.
    pub(crate) fn u16(&self, at: usize) -> Result<u16, ImageError> {
        let b = self.bytes(at, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// A little-endian `u32` at `at`.
    pub(crate) fn u32(&self, at: usize) -> Result<u32, ImageError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.bytes(at, 4)?);
        Ok(u32::from_le_bytes(a))
    }

    /// A little-endian `u64` at `at`.
    pub(crate) fn u64(&self, at: usize) -> Result<u64, ImageError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.bytes(at, 8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A NUL-padded ASCII string of `len` bytes at `at`; `what` names it in errors.
    pub(crate) fn ascii(&self, at: usize, len: usize, what: &str) -> Result<String, ImageError> {
        ascii_z(self.bytes(at, len)?).ok_or_else(|| self.bad(format!("{what} is not printable ASCII text")))
    }

    /// A NUL-terminated UTF-16LE string of `len` bytes at `at`; `what` names it in errors.
    pub(crate) fn utf16(&self, at: usize, len: usize, what: &str) -> Result<String, ImageError> {
        utf16_z(self.bytes(at, len)?).ok_or_else(|| self.bad(format!("{what} is not valid UTF-16LE text")))
    }
}

/// The ASCII text before the first NUL; `None` when it holds control or non-ASCII bytes.
pub(crate) fn ascii_z(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = &bytes[..end];
    if text.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        Some(text.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

/// UTF-16LE text before the first NUL unit; `None` when it is not valid UTF-16 or holds
/// control characters.
pub(crate) fn utf16_z(bytes: &[u8]) -> Option<String> {
    let units: Vec<u16> =
        bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).take_while(|&u| u != 0).collect();
    let text = String::from_utf16(&units).ok()?;
    if text.chars().any(char::is_control) { None } else { Some(text) }
}

/// Encodes `text` as NUL-padded UTF-16LE in exactly `len` bytes (truncating if needed).
pub(crate) fn put_utf16(out: &mut [u8], text: &str) {
    let mut at = 0;
    for unit in text.encode_utf16() {
        if at + 2 > out.len() {
            break;
        }
        out[at..at + 2].copy_from_slice(&unit.to_le_bytes());
        at += 2;
    }
    out[at..].fill(0);
}

/// Copies `text` into `out` as NUL-padded bytes (truncating if needed).
pub(crate) fn put_ascii(out: &mut [u8], text: &str) {
    let n = text.len().min(out.len());
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out[n..].fill(0);
}

/// SHA-256 of `bytes`, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of `len` bytes at `offset` of `reader`, read through a fixed buffer.
pub(crate) fn sha256_range<R: Read + Seek>(reader: &mut R, offset: u64, len: u64) -> std::io::Result<String> {
    reader.seek(SeekFrom::Start(offset))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; STREAM_BUFFER];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(STREAM_BUFFER as u64)).unwrap_or(STREAM_BUFFER);
        let chunk = &mut buf[..want];
        reader.read_exact(chunk)?;
        hasher.update(&*chunk);
        left -= want as u64;
    }
    Ok(hex(&hasher.finalize()))
}

/// The length of a seekable stream; leaves the position at the start.
pub(crate) fn stream_len<R: Seek>(reader: &mut R) -> std::io::Result<u64> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    Ok(len)
}

/// The last component of a `/`- or `\`-separated path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_fields() {
        let mut b = [0u8; 16];
        put_utf16(&mut b, "BP_R1");
        assert_eq!(utf16_z(&b).as_deref(), Some("BP_R1"));
        put_ascii(&mut b, "bpkg");
        assert_eq!(ascii_z(&b).as_deref(), Some("bpkg"));
        let v = View::new(&b, "p", "s");
        assert_eq!(v.u32(0).unwrap(), u32::from_le_bytes(*b"bpkg"));
        assert!(v.u32(14).is_err());
        assert!(v.bytes(usize::MAX, 2).is_err());
        assert_eq!(file_name("a/b\\c.pac"), "c.pac");
        assert!(ascii_z(b"a\x01").is_none());
    }

    #[test]
    fn hashing_a_range() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut c = std::io::Cursor::new(&data);
        assert_eq!(sha256_range(&mut c, 10, 150_000).unwrap(), sha256_hex(&data[10..150_010]));
        assert!(sha256_range(&mut c, 199_999, 5).is_err());
    }
}
