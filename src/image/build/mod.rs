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
    /// [`Content::Filler`] with `text` written over it at byte `at` (clipped to `len`): a
    /// firmware image carrying its revision in plain text, as real images do.
    Marked {
        /// Length in bytes.
        len: u64,
        /// Seed of the filler.
        seed: u64,
        /// Where the text starts.
        at: u64,
        /// The text.
        text: Vec<u8>,
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
            Content::Filler { len, .. } | Content::Marked { len, .. } => *len,
        }
    }

    /// `len` bytes of filler seeded by `seed` with `text` in plain text at `at` (or as near
    /// the end as it fits).
    pub fn marked(len: u64, seed: u64, at: u64, text: &str) -> Content {
        Content::Marked { len, seed, at, text: text.as_bytes().to_vec() }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader of the bytes.
    pub fn reader(&self) -> Box<dyn Read + '_> {
        match self {
            Content::Bytes(b) => Box::new(b.as_slice()),
            Content::Filler { len, seed } => Box::new(filler(*len, *seed)),
            Content::Marked { len, seed, at, text } => {
                let text_len = (text.len() as u64).min(*len);
                let at = (*at).min(len - text_len);
                Box::new(Overlay { inner: filler(*len, *seed), pos: 0, at, text: &text[..text_len as usize] })
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

fn filler(len: u64, seed: u64) -> Filler {
    Filler { left: len, state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 }
}

/// A reader whose bytes from `at` are replaced by `text`.
struct Overlay<'t> {
    inner: Filler,
    pos: u64,
    at: u64,
    text: &'t [u8],
}

impl Read for Overlay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        let (t_start, t_end) = (self.at, self.at + self.text.len() as u64);
        if start < t_end && t_start < end {
            let from = start.max(t_start);
            let to = end.min(t_end);
            buf[(from - start) as usize..(to - start) as usize]
                .copy_from_slice(&self.text[(from - t_start) as usize..(to - t_start) as usize]);
        }
        self.pos = end;
        Ok(n)
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

    #[test]
    fn marked_filler_carries_its_text_across_reads() {
        let m = Content::marked(100_000, 7, 65_530, "EC25EFAR06A17M4G_20.200.20.200");
        let mut v = Vec::new();
        m.reader().read_to_end(&mut v).unwrap();
        assert_eq!(v.len(), 100_000);
        assert_eq!(&v[65_530..65_560], b"EC25EFAR06A17M4G_20.200.20.200");
        let mut plain = Vec::new();
        Content::Filler { len: 100_000, seed: 7 }.reader().read_to_end(&mut plain).unwrap();
        assert_eq!((&v[..65_530], &v[65_560..]), (&plain[..65_530], &plain[65_560..]));
        // Clipped to the end when it would not fit.
        let mut short = Vec::new();
        Content::marked(10, 1, 8, "ABCD").reader().read_to_end(&mut short).unwrap();
        assert_eq!(&short[6..], b"ABCD");
    }
}
