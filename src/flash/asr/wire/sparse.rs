//! Android sparse images, the form in which an image larger than `max-download-size` reaches
//! the ASR flasher in pieces: the host builds them, the simulated flasher reads them.
//!
//! Format (AOSP `system/core/libsparse/sparse_format.h`,
//! <https://android.googlesource.com/platform/system/core/+/refs/heads/main/libsparse/sparse_format.h>):
//! a 28-byte file header (u32 magic `0xED26FF3A`, u16 major 1, u16 minor 0, u16 file header size
//! 28, u16 chunk header size 12, u32 block size, u32 total output blocks, u32 chunk count, u32
//! image checksum), then chunks, each a 12-byte header (u16 type, u16 reserved, u32 output blocks,
//! u32 total bytes including the header) and its data: RAW `0xCAC1` (the blocks), FILL `0xCAC2`
//! (a 4-byte pattern), DONT_CARE `0xCAC3` (nothing: skip the blocks), CRC32 `0xCAC4` (4 bytes).
//! All little-endian. Larger header sizes are honoured by skipping the extra bytes, as libsparse
//! does, so the 32/16-byte variant annkirin/asr-flash `sparse.go` writes is read too.
//!
//! A piece of a split image is a sparse image of the whole image's size: a DONT_CARE chunk over
//! what earlier pieces wrote, a RAW chunk with this piece's bytes, a DONT_CARE chunk over the rest,
//! and a CRC32 chunk (asr.md's reading of annkirin/asr-flash `flashSegmented`, which says the
//! stock tool splits `cp.bin` that way; the flasher's strings include "invalid sparse crc"). The
//! CRC32 chunk holds the zlib CRC-32 of the RAW and FILL output bytes before it (DONT_CARE adds
//! nothing), which is what annkirin/asr-flash writes; the exact rule of ASR's flasher is not
//! published.

use crc::{CRC_32_ISO_HDLC, Crc};

/// The sparse magic.
pub const MAGIC: u32 = 0xED26_FF3A;
/// Major version.
pub const MAJOR: u16 = 1;
/// File header size of the first revision of the format.
pub const FILE_HEADER_SIZE: usize = 28;
/// Chunk header size of the first revision of the format.
pub const CHUNK_HEADER_SIZE: usize = 12;
/// The block size fwguard writes (the ASR tools use 4096).
pub const BLOCK_SIZE: u32 = 4096;
/// RAW chunk.
pub const CHUNK_RAW: u16 = 0xCAC1;
/// FILL chunk.
pub const CHUNK_FILL: u16 = 0xCAC2;
/// DONT_CARE chunk.
pub const CHUNK_DONT_CARE: u16 = 0xCAC3;
/// CRC32 chunk.
pub const CHUNK_CRC32: u16 = 0xCAC4;
/// Bytes a piece spends on headers: the file header, four chunk headers and the CRC value.
pub const PIECE_OVERHEAD: u32 = (FILE_HEADER_SIZE + 4 * CHUNK_HEADER_SIZE + 4) as u32;
/// Most chunks read from one image (a piece has four).
pub const MAX_CHUNKS: u32 = 65_536;

/// The CRC the CRC32 chunk carries (zlib's CRC-32).
pub const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// Whether `bytes` start with the sparse magic.
pub fn is_sparse(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&MAGIC.to_le_bytes()[..])
}

/// How many image bytes one piece can carry when a download may be `max_download` bytes: a
/// whole number of blocks. `None` when not even one block fits.
pub fn piece_capacity(max_download: u32) -> Option<u32> {
    let room = max_download.checked_sub(PIECE_OVERHEAD)?;
    let blocks = room / BLOCK_SIZE;
    (blocks > 0).then_some(blocks * BLOCK_SIZE)
}

/// Builds the piece of an image of `image_len` bytes that holds `data`, which starts at byte
/// `offset` of the image (a multiple of [`BLOCK_SIZE`]). The last block is padded with `0xFF`,
/// the erased value of NOR flash, so the padding leaves the flash as erased.
pub fn piece(image_len: u64, offset: u64, data: &[u8]) -> Vec<u8> {
    let block = u64::from(BLOCK_SIZE);
    debug_assert_eq!(offset % block, 0, "pieces start on a block");
    let skip = u32::try_from(offset / block).unwrap_or(u32::MAX);
    let blocks = u32::try_from((data.len() as u64).div_ceil(block)).unwrap_or(u32::MAX);
    let total = u32::try_from(image_len.div_ceil(block)).unwrap_or(u32::MAX).max(skip.saturating_add(blocks));
    let tail = total - skip - blocks;
    let mut raw = data.to_vec();
    raw.resize(blocks as usize * BLOCK_SIZE as usize, 0xFF);
    let chunks = 2 + u32::from(skip > 0) + u32::from(tail > 0);

    let mut out = Vec::with_capacity(raw.len() + PIECE_OVERHEAD as usize);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&MAJOR.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&(CHUNK_HEADER_SIZE as u16).to_le_bytes());
    for v in [BLOCK_SIZE, total, chunks, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let header = |out: &mut Vec<u8>, kind: u16, blocks: u32, data_len: usize| {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&blocks.to_le_bytes());
        out.extend_from_slice(&((CHUNK_HEADER_SIZE + data_len) as u32).to_le_bytes());
    };
    if skip > 0 {
        header(&mut out, CHUNK_DONT_CARE, skip, 0);
    }
    header(&mut out, CHUNK_RAW, blocks, raw.len());
    out.extend_from_slice(&raw);
    if tail > 0 {
        header(&mut out, CHUNK_DONT_CARE, tail, 0);
    }
    header(&mut out, CHUNK_CRC32, 0, 4);
    out.extend_from_slice(&CRC32.checksum(&raw).to_le_bytes());
    out
}

/// What a chunk does to the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// Write these bytes.
    Raw(&'a [u8]),
    /// Write this 4-byte pattern over the chunk's blocks.
    Fill([u8; 4]),
    /// Leave the chunk's blocks as they are.
    DontCare,
    /// The CRC-32 of the output so far.
    Crc32(u32),
}

/// One chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The first output block it covers.
    pub block: u32,
    /// How many output blocks it covers.
    pub blocks: u32,
    /// What it does.
    pub body: Body<'a>,
}

/// A parsed, bounds-checked sparse image (borrowing its data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sparse<'a> {
    /// Output block size.
    pub block_size: u32,
    /// Output size in blocks.
    pub total_blocks: u32,
    /// The chunks in order.
    pub chunks: Vec<Chunk<'a>>,
}

/// Why a sparse image was refused; the text follows the flasher's own messages where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sparse image: {0}")]
pub struct SparseError(pub String);

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Sparse<'a> {
    /// Parses `bytes`, refusing an image whose output would exceed `max_output` bytes.
    pub fn parse(bytes: &'a [u8], max_output: u64) -> Result<Sparse<'a>, SparseError> {
        let err = |s: String| SparseError(s);
        let short = || err("buffer overreads occured due to invalid sparse header".into());
        if u32_at(bytes, 0) != Some(MAGIC) {
            return Err(err("not a sparse file image".into()));
        }
        let major = u16_at(bytes, 4).ok_or_else(short)?;
        let file_header = usize::from(u16_at(bytes, 8).ok_or_else(short)?);
        let chunk_header = usize::from(u16_at(bytes, 10).ok_or_else(short)?);
        let block_size = u32_at(bytes, 12).ok_or_else(short)?;
        let total_blocks = u32_at(bytes, 16).ok_or_else(short)?;
        let count = u32_at(bytes, 20).ok_or_else(short)?;
        if major != MAJOR {
            return Err(err(format!("major version {major}, only {MAJOR} is known")));
        }
        if file_header < FILE_HEADER_SIZE || chunk_header < CHUNK_HEADER_SIZE || file_header > bytes.len() {
            return Err(err(format!("sparse header size mismatch ({file_header}/{chunk_header} bytes)")));
        }
        if block_size == 0 || block_size % 4 != 0 {
            return Err(err(format!("block size {block_size} is not a non-zero multiple of 4")));
        }
        let output = u64::from(total_blocks) * u64::from(block_size);
        if output > max_output {
            return Err(err(format!("the image is {output} bytes, more than the {max_output} it may write")));
        }
        if count > MAX_CHUNKS || count as usize > (bytes.len() - file_header) / chunk_header {
            return Err(err(format!("{count} chunks do not fit in {} bytes", bytes.len())));
        }
        let mut chunks = Vec::with_capacity(count as usize);
        let mut at = file_header;
        let mut block = 0u32;
        for i in 0..count {
            let kind = u16_at(bytes, at).ok_or_else(short)?;
            let blocks = u32_at(bytes, at + 4).ok_or_else(short)?;
            let total = u32_at(bytes, at + 8).ok_or_else(short)? as usize;
            let data_len = total.checked_sub(chunk_header).ok_or_else(|| err(format!("chunk {i}: bogus size")))?;
            let data = bytes.get(at + chunk_header..at + total).ok_or_else(short)?;
            let covered = u64::from(blocks) * u64::from(block_size);
            let body = match kind {
                CHUNK_RAW if data_len as u64 == covered => Body::Raw(data),
                CHUNK_FILL if data_len == 4 => Body::Fill([data[0], data[1], data[2], data[3]]),
                CHUNK_DONT_CARE if data_len == 0 => Body::DontCare,
                CHUNK_CRC32 if data_len == 4 => Body::Crc32(u32::from_le_bytes([data[0], data[1], data[2], data[3]])),
                CHUNK_RAW | CHUNK_FILL | CHUNK_DONT_CARE | CHUNK_CRC32 => {
                    return Err(err(format!("chunk {i} ({kind:#06x}): {data_len} data bytes for {blocks} blocks")));
                }
                _ => return Err(err(format!("Unkown chunk type: {kind:x}"))),
            };
            let end = block.checked_add(blocks).filter(|e| *e <= total_blocks);
            let end = end.ok_or_else(|| err("Chunk data size exceeds partition size".into()))?;
            chunks.push(Chunk { block, blocks, body });
            block = end;
            at += total;
        }
        if at != bytes.len() {
            return Err(err(format!("{} bytes after the last chunk", bytes.len() - at)));
        }
        Ok(Sparse { block_size, total_blocks, chunks })
    }

    /// The output size in bytes.
    pub fn output_len(&self) -> u64 {
        u64::from(self.total_blocks) * u64::from(self.block_size)
    }

    /// Checks every CRC32 chunk against the RAW and FILL output before it.
    pub fn check_crc(&self) -> Result<(), SparseError> {
        let mut digest = CRC32.digest();
        for chunk in &self.chunks {
            match chunk.body {
                Body::Raw(data) => digest.update(data),
                Body::Fill(pattern) => {
                    let bytes = u64::from(chunk.blocks) * u64::from(self.block_size);
                    let row = pattern.repeat(1024);
                    let mut left = bytes;
                    while left > 0 {
                        let n = left.min(row.len() as u64) as usize;
                        digest.update(&row[..n]);
                        left -= n as u64;
                    }
                }
                Body::DontCare => {}
                Body::Crc32(stored) => {
                    let counted = digest.clone().finalize();
                    if counted != stored {
                        return Err(SparseError(format!(
                            "invalid sparse crc (Count crc32 = {counted:#x},  crc in sparse = {stored:#x})"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The writes the image makes: (byte offset in the output, bytes), FILL chunks expanded one
    /// block at a time.
    pub fn writes(&self) -> impl Iterator<Item = (u64, std::borrow::Cow<'a, [u8]>)> + '_ {
        let bs = u64::from(self.block_size);
        self.chunks.iter().flat_map(move |c| {
            let start = u64::from(c.block) * bs;
            let items: Box<dyn Iterator<Item = (u64, std::borrow::Cow<'a, [u8]>)>> = match c.body {
                Body::Raw(data) => Box::new(std::iter::once((start, std::borrow::Cow::Borrowed(data)))),
                Body::Fill(p) => {
                    let block: Vec<u8> = p.iter().copied().cycle().take(bs as usize).collect();
                    Box::new(
                        (0..u64::from(c.blocks)).map(move |k| (start + k * bs, std::borrow::Cow::Owned(block.clone()))),
                    )
                }
                Body::DontCare | Body::Crc32(_) => Box::new(std::iter::empty()),
            };
            items
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(s: &Sparse<'_>) -> Vec<Option<u8>> {
        let mut out = vec![None; s.output_len() as usize];
        for (at, bytes) in s.writes() {
            for (k, b) in bytes.iter().enumerate() {
                out[at as usize + k] = Some(*b);
            }
        }
        out
    }

    #[test]
    fn pieces_cover_the_image_once() {
        let image: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
        let cap = 8192;
        let mut seen = vec![None; 20_480];
        for offset in (0..image.len()).step_by(cap) {
            let data = &image[offset..(offset + cap).min(image.len())];
            let p = piece(image.len() as u64, offset as u64, data);
            let s = Sparse::parse(&p, 1 << 20).unwrap();
            s.check_crc().unwrap();
            assert_eq!(s.output_len(), 20_480);
            for (k, b) in expand(&s).into_iter().enumerate() {
                if let Some(b) = b {
                    assert!(seen[k].is_none(), "byte {k} written twice");
                    seen[k] = Some(b);
                }
            }
        }
        let got: Vec<u8> = seen.iter().map(|b| b.unwrap()).collect();
        assert_eq!(&got[..image.len()], image.as_slice());
        assert!(got[image.len()..].iter().all(|b| *b == 0xFF), "padding is erased flash");
    }

    #[test]
    fn capacity() {
        assert_eq!(piece_capacity(0x1C_0000), Some(0x1C_0000 - BLOCK_SIZE));
        assert_eq!(piece_capacity(BLOCK_SIZE + PIECE_OVERHEAD), Some(BLOCK_SIZE));
        assert_eq!(piece_capacity(BLOCK_SIZE), None);
        let p = piece(0x40_0000, 0x10_0000, &vec![1; piece_capacity(0x1C_0000).unwrap() as usize]);
        assert!(p.len() <= 0x1C_0000);
    }

    #[test]
    fn damage_is_refused() {
        let good = piece(8192, 4096, &[5; 100]);
        assert!(Sparse::parse(&good, 8192).is_ok());
        assert!(Sparse::parse(&good, 4096).is_err(), "larger than allowed");
        let mut crc = good.clone();
        let n = crc.len();
        crc[n - 1] ^= 1;
        assert!(Sparse::parse(&crc, 8192).unwrap().check_crc().unwrap_err().0.contains("invalid sparse crc"));
        for cut in [0, 3, 27, 40, good.len() - 1] {
            assert!(Sparse::parse(&good[..cut], 8192).is_err(), "cut at {cut}");
        }
        let mut kind = good.clone();
        kind[28] = 0x99;
        assert!(Sparse::parse(&kind, 8192).is_err());
        let mut longer = good.clone();
        longer.push(0);
        assert!(Sparse::parse(&longer, 8192).is_err());
    }

    #[test]
    fn larger_headers_and_fill_chunks() {
        // A 32/16-byte header variant: extra header bytes are skipped.
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC.to_le_bytes());
        b.extend_from_slice(&[1, 0, 0, 0, 32, 0, 16, 0]);
        for v in [4096u32, 3, 2, 0, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&CHUNK_DONT_CARE.to_le_bytes());
        b.extend_from_slice(&[0, 0, 1, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&CHUNK_FILL.to_le_bytes());
        b.extend_from_slice(&[0, 0, 2, 0, 0, 0, 20, 0, 0, 0, 9, 9, 9, 9, 0xAB, 0xCD, 0xEF, 0x01]);
        let s = Sparse::parse(&b, 1 << 20).unwrap();
        let out = expand(&s);
        assert!(out[..4096].iter().all(Option::is_none));
        assert_eq!(&out[4096..4100], &[Some(0xAB), Some(0xCD), Some(0xEF), Some(0x01)]);
        assert_eq!(out.len(), 3 * 4096);
    }
}
