//! HDLC-like framing of the Qualcomm DIAG port: the payload, its CRC-16/X.25 (little-endian), then
//! the flag `0x7E`; `0x7D` and `0x7E` inside are sent as `0x7D, byte ^ 0x20`.
//!
//! The framing is that of the DIAG clients that drive Quectel modules: QFirehose and fwupd send
//! `4B 65 01 00 54 0F 7E` for the download switch (fwupd
//! `plugins/modem-manager/fu-mm-qcdm-device.c`), and QFirehose's build-id query is `7E 7C 93 49 7E`
//! (`stream_download_protocol.c`): the CRC of `7C` is `0x4993`. A leading flag is optional and
//! empty frames between flags are ignored.

use crc::{CRC_16_IBM_SDLC, Crc};

/// The frame delimiter.
pub const FLAG: u8 = 0x7E;
/// The escape byte; the byte after it is XORed with [`ESCAPE_XOR`].
pub const ESCAPE: u8 = 0x7D;
/// What an escaped byte is XORed with.
pub const ESCAPE_XOR: u8 = 0x20;
/// The longest frame [`Decoder`] collects (unescaped, CRC included): larger input is dropped as
/// noise. DIAG responses of interest are well under 1 KiB.
pub const MAX_FRAME: usize = 16 * 1024;

/// CRC-16/X.25 (the `crc` crate calls it IBM-SDLC: poly 0x1021 reflected, init and xorout 0xFFFF).
const X25: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_SDLC);

/// The CRC-16/X.25 of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    X25.checksum(bytes)
}

/// Frames `payload`: escaped payload, escaped little-endian CRC, `0x7E`. No leading flag, as
/// QFirehose and fwupd send it.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let crc = crc16(payload).to_le_bytes();
    let mut out = Vec::with_capacity(payload.len() + 4);
    for &b in payload.iter().chain(&crc) {
        if b == FLAG || b == ESCAPE {
            out.extend([ESCAPE, b ^ ESCAPE_XOR]);
        } else {
            out.push(b);
        }
    }
    out.push(FLAG);
    out
}

/// A frame taken off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A frame whose CRC matched: its payload, CRC removed.
    Good(Vec<u8>),
    /// A frame whose CRC did not match (or was too short to hold one), unescaped as received.
    BadCrc(Vec<u8>),
    /// More than [`MAX_FRAME`] bytes without a flag: dropped.
    Overlong,
}

/// Collects frames from a byte stream that arrives in arbitrary pieces.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    current: Vec<u8>,
    escaped: bool,
    overlong: bool,
}

impl Decoder {
    /// Takes received bytes; returns the frames they complete.
    pub fn feed(&mut self, input: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &b in input {
            if b == FLAG {
                if let Some(frame) = self.finish() {
                    frames.push(frame);
                }
                continue;
            }
            if self.overlong {
                continue;
            }
            if self.escaped {
                self.escaped = false;
                self.current.push(b ^ ESCAPE_XOR);
            } else if b == ESCAPE {
                self.escaped = true;
            } else {
                self.current.push(b);
            }
            if self.current.len() > MAX_FRAME {
                self.current.clear();
                self.overlong = true;
            }
        }
        frames
    }

    /// Bytes of an unfinished frame held so far.
    pub fn pending(&self) -> usize {
        self.current.len()
    }

    fn finish(&mut self) -> Option<Frame> {
        self.escaped = false;
        if std::mem::take(&mut self.overlong) {
            return Some(Frame::Overlong);
        }
        let bytes = std::mem::take(&mut self.current);
        if bytes.is_empty() {
            return None;
        }
        if bytes.len() < 3 {
            return Some(Frame::BadCrc(bytes));
        }
        let (payload, crc) = bytes.split_at(bytes.len() - 2);
        if crc16(payload).to_le_bytes() == crc {
            Some(Frame::Good(payload.to_vec()))
        } else {
            Some(Frame::BadCrc(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_frames() {
        // fu-mm-qcdm-device.c and QFirehose: the download switch, byte for byte.
        assert_eq!(encode(&[0x4B, 0x65, 0x01, 0x00]), [0x4B, 0x65, 0x01, 0x00, 0x54, 0x0F, 0x7E]);
        // QFirehose's build-id query: 7E 7C 93 49 7E.
        assert_eq!(crc16(&[0x7C]), 0x4993);
        assert_eq!(encode(&[0x7C]), [0x7C, 0x93, 0x49, 0x7E]);
    }

    #[test]
    fn escapes_round_trip_in_any_pieces() {
        let payload = vec![0x7E, 0x7D, 0x00, 0x5E, 0x5D, 0xFF, 0x7E];
        let wire = encode(&payload);
        assert!(!wire[..wire.len() - 1].contains(&FLAG));
        for split in 0..wire.len() {
            let mut d = Decoder::default();
            let mut frames = d.feed(&[FLAG]);
            frames.extend(d.feed(&wire[..split]));
            frames.extend(d.feed(&wire[split..]));
            assert_eq!(frames, [Frame::Good(payload.clone())], "split at {split}");
        }
    }

    #[test]
    fn damaged_and_overlong_frames_are_reported_not_returned() {
        let mut wire = encode(b"abc");
        wire[1] ^= 1;
        assert!(matches!(Decoder::default().feed(&wire)[..], [Frame::BadCrc(_)]));
        assert!(matches!(Decoder::default().feed(&[1, 2, FLAG])[..], [Frame::BadCrc(_)]));
        let mut d = Decoder::default();
        assert!(d.feed(&vec![0x41; MAX_FRAME + 10]).is_empty());
        assert_eq!(d.feed(&[FLAG]), [Frame::Overlong]);
        assert_eq!(d.feed(&encode(b"ok")), [Frame::Good(b"ok".to_vec())]);
    }
}
