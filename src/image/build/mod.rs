//! Fixture builders: real-format packages made from code, for tests, benchmarks, the simulator
//! and flashing tests: Qualcomm ([`qualcomm`], folder, zip, 7z), ASR ([`asr`]), QuecPython
//! ([`quecpython`]), Unisoc PAC ([`pac`]) and Eigencomm ([`binpkg`]) packages with good and
//! damaged variants; [`programmer`] builds boot images (Firehose programmers, NAND boot
//! loaders); [`zip`] writes zips, hostile ones included.
//!
//! Large files are generated while they are written ([`Content::Filler`]), so a 256 MB fixture
//! never sits in memory.

pub mod asr;
pub mod binpkg;
pub mod memory;
pub mod pac;
pub mod programmer;
pub mod qualcomm;
pub mod quecpython;
pub mod zip;

use std::io::{self, Read};

use crate::image::archive::digest;

/// The bytes of a fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len` bytes of deterministic, incompressible filler seeded by `seed`.
    Filler {
        /// Length in bytes.
        len: u64,
        /// Seed; the same seed gives the same bytes.
        seed: u64,
    },
    /// `stamp` (e.g. a revision in plain text, as real modem images carry it), then filler up to
    /// `len` bytes in all.
    Stamped {
        /// The bytes at the start.
        stamp: Vec<u8>,
        /// Length in bytes (at least the stamp's).
        len: u64,
        /// The filler's seed.
        seed: u64,
    },
}

impl Content {
    /// Text content.
    pub fn text(s: &str) -> Content {
        Content::Bytes(s.as_bytes().to_vec())
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Filler { len, .. } => *len,
            Content::Stamped { stamp, len, .. } => (*len).max(stamp.len() as u64),
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader of the bytes.
    pub fn reader(&self) -> Box<dyn Read + '_> {
        match self {
            Content::Bytes(b) => Box::new(b.as_slice()),
            Content::Filler { len, seed } => {
                Box::new(Filler { left: *len, state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 })
            }
            Content::Stamped { stamp, len, seed } => {
                let rest = len.saturating_sub(stamp.len() as u64);
                Box::new(
                    stamp.as_slice().chain(Filler { left: rest, state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 }),
                )
            }
        }
    }

    /// MD5, lower-case hex.
    pub fn md5(&self) -> io::Result<String> {
        Ok(digest(&mut self.reader(), true)?.md5.unwrap_or_default())
    }

    /// SHA-256, lower-case hex.
    pub fn sha256(&self) -> io::Result<String> {
        Ok(digest(&mut self.reader(), false)?.sha256)
    }
}

/// xorshift64 filler.
struct Filler {
    left: u64,
    state: u64,
}

impl Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            let mut x = self.state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.state = x;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_is_deterministic() {
        let a = Content::Filler { len: 100_003, seed: 7 };
        assert_eq!(a.sha256().unwrap(), a.sha256().unwrap());
        let mut v = Vec::new();
        a.reader().read_to_end(&mut v).unwrap();
        assert_eq!(v.len(), 100_003);
        assert_ne!(a.sha256().unwrap(), Content::Filler { len: 100_003, seed: 8 }.sha256().unwrap());
    }
}
