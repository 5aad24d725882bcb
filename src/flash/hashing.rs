//! SHA-256 of what a write puts on the module: a range of a package member and its padding,
//! hashed in one pass over the package when the plan is made, and again while the bytes are
//! sent (so a package that changes under a flash is caught).

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::driver::Source;
use super::error::FlashError;
use crate::image::archive::{STREAM_BUFFER, hex};
use crate::image::{ImageError, Package};

/// The SHA-256 (hex) of each `(source, region length)`: the source's bytes, then its pad byte up
/// to the region's length. Reads the package once, in its storage order.
pub fn hash_sources(package: &mut dyn Package, sources: &[(Source, u64)]) -> Result<Vec<String>, FlashError> {
    let mut hashers: Vec<Sha256> = sources.iter().map(|_| Sha256::new()).collect();
    let mut done = vec![false; sources.len()];
    let shown = package.path().to_string();
    package.for_each(&mut |member, reader| {
        let wanted: Vec<usize> = (0..sources.len()).filter(|&i| sources[i].0.member == member.path).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let end = wanted.iter().map(|&i| sources[i].0.offset + sources[i].0.length).max().unwrap_or(0);
        let mut buf = vec![0u8; STREAM_BUFFER];
        let mut pos = 0u64;
        while pos < end {
            let want = usize::try_from(end - pos).unwrap_or(usize::MAX).min(buf.len());
            let n = reader.read(&mut buf[..want]).map_err(|e| read_error(&shown, &member.path, e))?;
            if n == 0 {
                return Err(ImageError::Malformed {
                    path: shown.clone(),
                    part: member.path.clone(),
                    problem: format!("ended at byte {pos}, before byte {end} the plan needs"),
                });
            }
            let chunk_end = pos + n as u64;
            for &i in &wanted {
                let (s, _) = &sources[i];
                let (from, to) = (s.offset.max(pos), (s.offset + s.length).min(chunk_end));
                if from < to {
                    hashers[i].update(&buf[(from - pos) as usize..(to - pos) as usize]);
                }
            }
            pos = chunk_end;
        }
        for &i in &wanted {
            done[i] = true;
        }
        Ok(())
    })?;
    let mut out = Vec::with_capacity(sources.len());
    for (i, (hasher, (source, region_len))) in hashers.into_iter().zip(sources).enumerate() {
        if !done[i] {
            return Err(FlashError::Plan(format!("the package has no member {}", source.member)));
        }
        out.push(finish_with_pad(hasher, source.pad, region_len.saturating_sub(source.length)));
    }
    Ok(out)
}

/// Feeds `count` pad bytes and returns the hex digest.
fn finish_with_pad(mut hasher: Sha256, pad: u8, count: u64) -> String {
    let block = [pad; 4096];
    let mut left = count;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    hex(&hasher.finalize())
}

fn read_error(package: &str, member: &str, e: io::Error) -> ImageError {
    crate::image::archive::read_failure(package, member, e)
}

/// The bytes of a write as they are sent: `length` bytes of the member reader, then the pad
/// byte up to `total`, hashed on the way.
pub struct WriteReader<'r> {
    inner: &'r mut dyn Read,
    from_member: u64,
    total: u64,
    sent: u64,
    pad: u8,
    hasher: Sha256,
}

impl<'r> WriteReader<'r> {
    /// `length` bytes of `inner`, padded with `pad` to `total`.
    pub fn new(inner: &'r mut dyn Read, length: u64, total: u64, pad: u8) -> WriteReader<'r> {
        WriteReader { inner, from_member: length, total, sent: 0, pad, hasher: Sha256::new() }
    }

    /// Bytes produced so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The hex SHA-256 of what was produced.
    pub fn sha256(self) -> String {
        hex(&self.hasher.finalize())
    }
}

impl Read for WriteReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent >= self.total || buf.is_empty() {
            return Ok(0);
        }
        let left = self.total - self.sent;
        let n = if self.sent < self.from_member {
            let want = (self.from_member - self.sent).min(left).min(buf.len() as u64) as usize;
            let n = self.inner.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the member ended after {} of {} bytes", self.sent, self.from_member),
                ));
            }
            n
        } else {
            let n = left.min(buf.len() as u64) as usize;
            buf[..n].fill(self.pad);
            n
        };
        self.hasher.update(&buf[..n]);
        self.sent += n as u64;
        Ok(n)
    }
}

/// A writer that only hashes (for read-back verification and backups' second reads).
#[derive(Default)]
pub struct HashWriter {
    hasher: Sha256,
    /// Bytes written.
    pub written: u64,
}

impl HashWriter {
    /// The hex SHA-256 of what was written.
    pub fn sha256(self) -> String {
        hex(&self.hasher.finalize())
    }
}

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::memory::MemoryPackage;

    fn src(member: &str, offset: u64, length: u64, pad: u8) -> Source {
        Source { member: member.into(), offset, length, pad }
    }

    #[test]
    fn ranges_and_padding_hash_like_the_bytes_they_stand_for() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut pkg = MemoryPackage::new("p", vec![("a.bin".into(), data.clone()), ("b.bin".into(), b"xyz".to_vec())]);
        let sources = vec![
            (src("a.bin", 0, 200_000, 0xFF), 200_000),
            (src("a.bin", 70_000, 10, 0x00), 4096),
            (src("b.bin", 0, 3, 0xFF), 8),
        ];
        let got = hash_sources(&mut pkg, &sources).unwrap();
        let mut padded = data[70_000..70_010].to_vec();
        padded.resize(4096, 0);
        assert_eq!(got[0], hex(&Sha256::digest(&data)));
        assert_eq!(got[1], hex(&Sha256::digest(&padded)));
        assert_eq!(got[2], hex(&Sha256::digest(b"xyz\xff\xff\xff\xff\xff")));

        // The reader that sends the bytes gives the same bytes and the same hash.
        let mut member = &data[70_000..];
        let mut w = WriteReader::new(&mut member, 10, 4096, 0);
        let mut sent = Vec::new();
        w.read_to_end(&mut sent).unwrap();
        assert_eq!(sent, padded);
        assert_eq!(w.sha256(), got[1]);

        let err = hash_sources(&mut pkg, &[(src("a.bin", 199_999, 2, 0), 2)]).unwrap_err();
        assert!(err.to_string().contains("before byte 200001"), "{err}");
        let err = hash_sources(&mut pkg, &[(src("zz", 0, 1, 0), 1)]).unwrap_err();
        assert!(err.to_string().contains("no member zz"), "{err}");
    }
}
