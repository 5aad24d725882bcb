//! Zip member data, inflated with one decompressor and one input buffer for the whole package.
//!
//! The zip crate builds a new decompressor (its state, a 32 KiB window and a read buffer) for
//! every member it opens. Freed between members while the small records of a pass (names,
//! digests) are allocated in between, those blocks left the heap so fragmented that a zip of
//! 100,000 small members took 1.9 GB of memory. Reading the raw member data and inflating it here,
//! with state kept from member to member, holds a pass to a fixed few hundred KiB.

use std::io::{self, Read};

use crc::{CRC_32_ISO_HDLC, Crc};
use flate2::{Decompress, FlushDecompress, Status};

use super::guard::STREAM_BUFFER;

/// CRC-32 as zip uses it (ISO-HDLC, the one of zlib and PNG).
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// A raw-deflate decompressor and its input buffer, reused for every member of a package.
pub(crate) struct Inflater {
    state: Decompress,
    input: Vec<u8>,
    pos: usize,
    filled: usize,
}

impl Inflater {
    pub(crate) fn new() -> Inflater {
        Inflater { state: Decompress::new(false), input: vec![0; STREAM_BUFFER], pos: 0, filled: 0 }
    }

    /// A reader of one member: `raw` yields its stored bytes, inflated when `deflated`; at the
    /// end of the data its CRC-32 must be `crc`, the one the archive records.
    pub(crate) fn member<R: Read>(&mut self, raw: R, deflated: bool, crc: u32) -> MemberData<'_, R> {
        self.state.reset(false);
        self.pos = 0;
        self.filled = 0;
        MemberData {
            inflater: self,
            raw,
            deflated,
            expected: crc,
            digest: CRC32.digest(),
            raw_done: false,
            stream_end: false,
            checked: false,
        }
    }
}

/// The bytes of one member, checked against its CRC-32 when they end.
pub(crate) struct MemberData<'a, R> {
    inflater: &'a mut Inflater,
    raw: R,
    deflated: bool,
    expected: u32,
    digest: crc::Digest<'static, u32>,
    raw_done: bool,
    stream_end: bool,
    checked: bool,
}

impl<R: Read> MemberData<'_, R> {
    fn inflate(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let inf = &mut *self.inflater;
        loop {
            if self.stream_end {
                return Ok(0);
            }
            if inf.pos == inf.filled && !self.raw_done {
                let n = read_retrying(&mut self.raw, &mut inf.input)?;
                self.raw_done = n == 0;
                inf.pos = 0;
                inf.filled = n;
            }
            let (in_before, out_before) = (inf.state.total_in(), inf.state.total_out());
            let status = inf
                .state
                .decompress(&inf.input[inf.pos..inf.filled], out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("deflate data: {e}")))?;
            let consumed = usize::try_from(inf.state.total_in() - in_before).unwrap_or(usize::MAX);
            let produced = usize::try_from(inf.state.total_out() - out_before).unwrap_or(usize::MAX);
            inf.pos = inf.pos.saturating_add(consumed).min(inf.filled);
            self.stream_end = status == Status::StreamEnd;
            if produced > 0 || self.stream_end {
                return Ok(produced);
            }
            if self.raw_done && consumed == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the deflate data ends before its final block (the member is truncated)",
                ));
            }
        }
    }

    /// At the end of the data: the CRC-32 must match the archive's.
    fn check(&mut self) -> io::Result<()> {
        if std::mem::replace(&mut self.checked, true) {
            return Ok(());
        }
        let found = self.digest.clone().finalize();
        if found != self.expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("CRC-32 mismatch: the archive records {:08x}, the data gives {found:08x}", self.expected),
            ));
        }
        Ok(())
    }
}

impl<R: Read> Read for MemberData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = if self.deflated { self.inflate(buf)? } else { read_retrying(&mut self.raw, buf)? };
        if n == 0 {
            self.check()?;
            return Ok(0);
        }
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// One read, retried when interrupted by a signal.
fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::DeflateEncoder;

    use super::*;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_members_one_after_another_with_one_state() {
        let mut inf = Inflater::new();
        for len in [0usize, 1, 70_000, 300_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let crc = CRC32.checksum(&data);
            let mut out = Vec::new();
            inf.member(deflate(&data).as_slice(), true, crc).read_to_end(&mut out).unwrap();
            assert_eq!(out, data, "{len}");
            let mut stored = Vec::new();
            inf.member(data.as_slice(), false, crc).read_to_end(&mut stored).unwrap();
            assert_eq!(stored, data);
        }
    }

    #[test]
    fn refuses_a_wrong_crc_and_a_cut_stream() {
        let data = b"firmware bytes ".repeat(1000);
        let mut inf = Inflater::new();
        let e = inf.member(deflate(&data).as_slice(), true, 1).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("CRC-32 mismatch"), "{e}");
        let packed = deflate(&data);
        let cut = &packed[..packed.len() / 2];
        let e = inf.member(cut, true, CRC32.checksum(&data)).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        let e = inf.member(&[0xffu8; 64][..], true, 0).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    }
}
