//! BSL frames, the HDLC-like framing of SPRD boot ROMs and of every FDL, both directions
//! (ilyakurdyukov/spreadtrum_flash `spd_cmd.h`, `spd_dump.c` `encode_msg`/`recv_msg1`;
//! amitv87/unisoc_dloader `pac.h` `BSL_CMD_E`, `main.c` `bsl_send_cmd`).
//!
//! A frame is `7E | type BE16 | length BE16 | payload | check BE16 | 7E`, where `7E` and `7D`
//! inside are sent as `7D, byte ^ 0x20`. spd_dump escapes everything between the delimiters;
//! unisoc_dloader escapes payload and check but sends the 5-byte head raw. [`decode`] takes both.
//! Check-baud is not a frame: the host sends bare `7E` bytes and the device answers
//! `BSL_REP_VER`.

use super::check::Check;

/// The frame delimiter, and the check-baud byte.
pub const FLAG: u8 = 0x7E;
/// The escape byte.
pub const ESCAPE: u8 = 0x7D;
/// What an escaped byte is XORed with.
pub const ESCAPE_XOR: u8 = 0x20;
/// Type, length and check: the bytes of a frame besides its payload.
pub const OVERHEAD: usize = 6;
/// The largest payload the 16-bit length allows.
pub const MAX_PAYLOAD: usize = 0xFFFF;
/// The most raw (escaped) bytes one frame may take; more is noise.
pub const MAX_RAW: usize = 2 * (MAX_PAYLOAD + OVERHEAD);

crate::flash::unisoc::wire::codes! {
    u16,
    /// A BSL command (spd_dump `spd_cmd.h`, unisoc_dloader `BSL_CMD_E`).
    BslCommand {
        /// Start talking.
        Connect = 0x00, "CONNECT";
        /// Begin a download: address and size (or partition name and size).
        StartData = 0x01, "START_DATA";
        /// A chunk of the download.
        MidstData = 0x02, "MIDST_DATA";
        /// End the download.
        EndData = 0x03, "END_DATA";
        /// Run what was downloaded.
        ExecData = 0x04, "EXEC_DATA";
        /// Reset to normal mode.
        NormalReset = 0x05, "NORMAL_RESET";
        /// Read flash: address, size, offset.
        ReadFlash = 0x06, "READ_FLASH";
        /// Read the chip type.
        ReadChipType = 0x07, "READ_CHIP_TYPE";
        /// Look up an NV item.
        ReadNvItem = 0x08, "READ_NVITEM";
        /// Change the baud rate.
        ChangeBaud = 0x09, "CHANGE_BAUD";
        /// Erase flash: address and size (or partition name).
        EraseFlash = 0x0A, "ERASE_FLASH";
        /// Repartition.
        Repartition = 0x0B, "REPARTITION";
        /// Read the flash type.
        ReadFlashType = 0x0C, "READ_FLASH_TYPE";
        /// Read flash information.
        ReadFlashInfo = 0x0D, "READ_FLASH_INFO";
        /// Read the NOR sector size.
        ReadSectorSize = 0x0F, "READ_SECTOR_SIZE";
        /// Partition read: start.
        ReadStart = 0x10, "READ_START";
        /// Partition read: a chunk.
        ReadMidst = 0x11, "READ_MIDST";
        /// Partition read: end.
        ReadEnd = 0x12, "READ_END";
        /// Keep charging.
        KeepCharge = 0x13, "KEEP_CHARGE";
        /// Read the flash UID.
        ReadFlashUid = 0x15, "READ_FLASH_UID";
        /// Power off.
        PowerOff = 0x17, "POWER_OFF";
        /// Read the chip UID.
        ReadChipUid = 0x1A, "READ_CHIP_UID";
        /// Stop escaping 7E/7D.
        DisableTranscode = 0x21, "DISABLE_TRANSCODE";
        /// Write the PAC build time.
        WriteDatetime = 0x22, "WRITE_DATETIME";
        /// Read the partition table.
        ReadPartition = 0x2D, "READ_PARTITION";
        /// Check baud (bare 7E bytes, never a frame).
        CheckBaud = 0x7E, "CHECK_BAUD";
        /// End the flash process.
        EndProcess = 0x7F, "END_PROCESS";
    }
}

crate::flash::unisoc::wire::codes! {
    u16,
    /// A BSL reply (spd_dump `spd_cmd.h`, unisoc_dloader `BSL_CMD_E`).
    BslReply {
        /// Done.
        Ack = 0x80, "ACK";
        /// The version string, the answer to check-baud.
        Ver = 0x81, "VER";
        /// The command is not valid now.
        InvalidCmd = 0x82, "INVALID_CMD";
        /// The command is not known.
        UnknownCmd = 0x83, "UNKNOW_CMD";
        /// The operation failed.
        OperationFailed = 0x84, "OPERATION_FAILED";
        /// The baud rate is not supported.
        NotSupportBaudrate = 0x85, "NOT_SUPPORT_BAUDRATE";
        /// Data before START_DATA.
        DownNotStart = 0x86, "DOWN_NOT_START";
        /// START_DATA twice.
        DownMultiStart = 0x87, "DOWN_MULTI_START";
        /// END_DATA before all data arrived.
        DownEarlyEnd = 0x88, "DOWN_EARLY_END";
        /// The destination is not valid.
        DownDestError = 0x89, "DOWN_DEST_ERROR";
        /// The size is wrong.
        DownSizeError = 0x8A, "DOWN_SIZE_ERROR";
        /// Verification (or the frame's check) failed.
        VerifyError = 0x8B, "VERIFY_ERROR";
        /// The data was not verified.
        NotVerify = 0x8C, "NOT_VERIFY";
        /// Flash data, the answer to READ_FLASH.
        ReadFlash = 0x93, "READ_FLASH";
        /// FDL2 answers EXEC_DATA with this on 8910 and smartphones; the tools treat it as success.
        IncompatiblePartition = 0x96, "INCOMPATIBLE_PARTITION";
        /// The signature did not verify.
        SignVerifyError = 0xA6, "SIGN_VERIFY_ERROR";
        /// The chip UID.
        ReadChipUid = 0xAB, "READ_CHIP_UID";
        /// The partition table.
        ReadPartition = 0xBA, "READ_PARTITION";
        /// The command is not supported.
        Unsupported = 0xFE, "UNSUPPORTED";
        /// A log line (text), sent between replies.
        Log = 0xFF, "LOG";
    }
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The type: a command or a reply code.
    pub kind: u16,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame.
    pub fn new(kind: u16, payload: Vec<u8>) -> Frame {
        Frame { kind, payload }
    }

    /// The type as a command.
    pub fn command(&self) -> BslCommand {
        BslCommand::from_code(self.kind)
    }

    /// The type as a reply.
    pub fn reply(&self) -> BslReply {
        BslReply::from_code(self.kind)
    }

    /// The frame bytes with `check`, everything between the delimiters escaped. A payload longer
    /// than [`MAX_PAYLOAD`] is a bug in the caller (callers chunk data far below it).
    pub fn encode(&self, check: Check) -> Vec<u8> {
        assert!(self.payload.len() <= MAX_PAYLOAD, "BSL payload of {} bytes", self.payload.len());
        let mut raw = Vec::with_capacity(self.payload.len() + OVERHEAD);
        raw.extend_from_slice(&self.kind.to_be_bytes());
        raw.extend_from_slice(&(self.payload.len() as u16).to_be_bytes());
        raw.extend_from_slice(&self.payload);
        let value = check.compute(&raw);
        raw.extend_from_slice(&value.to_be_bytes());
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 16 + 2);
        out.push(FLAG);
        escape_into(&raw, &mut out);
        out.push(FLAG);
        out
    }
}

/// Appends `bytes` to `out` with 7E and 7D escaped.
pub fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b == FLAG || b == ESCAPE {
            out.push(ESCAPE);
            out.push(b ^ ESCAPE_XOR);
        } else {
            out.push(b);
        }
    }
}

/// Why the bytes between two delimiters are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// An escape byte at the end, or followed by a byte that is not an escaped 7E or 7D.
    #[error("bad escape sequence at byte {at}")]
    Escape {
        /// Where, in the raw bytes.
        at: usize,
    },
    /// Fewer bytes than type, length and check.
    #[error("{len} bytes between the delimiters, fewer than the 6 of type, length and check")]
    Short {
        /// How many.
        len: usize,
    },
    /// The length field disagrees with the bytes.
    #[error("the length field says {declared} payload bytes, the frame has {actual}")]
    Length {
        /// What the field says.
        declared: usize,
        /// What arrived.
        actual: usize,
    },
    /// The check value is wrong.
    #[error("check value {got:#06x}, expected {expected:#06x} ({check:?})")]
    Check {
        /// Which check.
        check: Check,
        /// What the frame carries.
        got: u16,
        /// What its bytes give.
        expected: u16,
    },
}

fn unescape(raw: &[u8], offset: usize, out: &mut Vec<u8>) -> Result<(), FrameError> {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == ESCAPE {
            match raw.get(i + 1) {
                Some(&e) if e == FLAG ^ ESCAPE_XOR || e == ESCAPE ^ ESCAPE_XOR => out.push(e ^ ESCAPE_XOR),
                _ => return Err(FrameError::Escape { at: offset + i }),
            }
            i += 2;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(())
}

fn parse(bytes: &[u8], check: Check) -> Result<Frame, FrameError> {
    if bytes.len() < OVERHEAD {
        return Err(FrameError::Short { len: bytes.len() });
    }
    let declared = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    let actual = bytes.len() - OVERHEAD;
    if declared != actual {
        return Err(FrameError::Length { declared, actual });
    }
    let (body, tail) = bytes.split_at(bytes.len() - 2);
    let got = u16::from_be_bytes([tail[0], tail[1]]);
    if !check.accepts(body, got) {
        return Err(FrameError::Check { check, got, expected: check.compute(body) });
    }
    Ok(Frame { kind: u16::from_be_bytes([bytes[0], bytes[1]]), payload: body[4..].to_vec() })
}

/// Decodes the raw bytes between two delimiters: fully escaped (spd_dump, every device), or
/// with the 4 bytes of type and length raw (unisoc_dloader). The first reading that gives a
/// consistent frame wins; if neither does, the error is the fully escaped reading's.
pub fn decode(raw: &[u8], check: Check) -> Result<Frame, FrameError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let escaped = unescape(raw, 0, &mut bytes).and_then(|()| parse(&bytes, check));
    if escaped.is_ok() || raw.len() < 4 {
        return escaped;
    }
    let mut bytes = raw[..4].to_vec();
    match unescape(&raw[4..], 4, &mut bytes).and_then(|()| parse(&bytes, check)) {
        Ok(frame) => Ok(frame),
        Err(_) => escaped,
    }
}

/// What the deframer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    /// The raw bytes between two delimiters, for [`decode`].
    Frame(Vec<u8>),
    /// More than [`MAX_RAW`] bytes without a closing delimiter; they were dropped.
    Overflow,
}

/// Splits a byte stream at 7E delimiters. Empty frames (repeated delimiters, check-baud bytes)
/// are skipped; a 7E within the first 4 bytes of a frame is taken as a raw length byte of
/// unisoc_dloader's unescaped head (no escaped frame is shorter than 6 bytes). Memory stays
/// bounded by [`MAX_RAW`].
#[derive(Debug, Default, Clone)]
pub struct Deframer {
    started: bool,
    body: Vec<u8>,
    skipped: usize,
}

impl Deframer {
    /// A deframer waiting for a delimiter.
    pub fn new() -> Deframer {
        Deframer::default()
    }

    /// Whether no frame is in progress (nothing buffered since the last delimiter).
    pub fn is_idle(&self) -> bool {
        self.body.is_empty()
    }

    /// Raw bytes of the frame in progress.
    pub fn pending(&self) -> usize {
        self.body.len()
    }

    /// Bytes dropped before any delimiter was seen, so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Takes received bytes; returns what they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Raw> {
        let mut out = Vec::new();
        for &b in bytes {
            if !self.started {
                if b == FLAG {
                    self.started = true;
                } else {
                    self.skipped += 1;
                }
                continue;
            }
            if b == FLAG {
                match self.body.len() {
                    0 => {}
                    1..4 => self.body.push(b),
                    _ => out.push(Raw::Frame(std::mem::take(&mut self.body))),
                }
                continue;
            }
            self.body.push(b);
            if self.body.len() > MAX_RAW {
                self.body = Vec::new();
                self.started = false;
                out.push(Raw::Overflow);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_the_published_bytes() {
        let ack = Frame::new(BslReply::Ack.code(), vec![]);
        assert_eq!(ack.encode(Check::Crc16), [0x7E, 0x00, 0x80, 0x00, 0x00, 0x3B, 0x5A, 0x7E]);
        assert_eq!(ack.encode(Check::Sum), [0x7E, 0x00, 0x80, 0x00, 0x00, 0xFF, 0x7F, 0x7E]);
    }

    #[test]
    fn escaping_round_trips_through_split_reads() {
        let frame = Frame::new(BslCommand::MidstData.code(), vec![0x7E, 0x7D, 0x00, 0x5E, 0x7E]);
        let bytes = frame.encode(Check::Sum);
        assert!(!bytes[1..bytes.len() - 1].contains(&FLAG));
        let mut d = Deframer::new();
        let mut raws = d.push(&[0x11, 0x22]);
        for b in &bytes {
            raws.extend(d.push(std::slice::from_ref(b)));
        }
        assert_eq!(d.skipped(), 2);
        let [Raw::Frame(raw)] = raws.as_slice() else { panic!("{raws:?}") };
        assert_eq!(decode(raw, Check::Sum).unwrap(), frame);
        assert!(matches!(decode(raw, Check::Crc16), Err(FrameError::Check { .. })));
    }

    /// unisoc_dloader sends type and length raw: a length byte of 7E or 7D must not break it.
    #[test]
    fn raw_heads_are_taken() {
        for len in [0x7Eusize, 0x7D, 0x17D, 0x7E02] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let frame = Frame::new(BslCommand::MidstData.code(), payload);
            let full = frame.encode(Check::Sum);
            // Rebuild it the dloader way: head raw, the rest escaped.
            let mut dl = vec![FLAG];
            dl.extend_from_slice(&frame.kind.to_be_bytes());
            dl.extend_from_slice(&(len as u16).to_be_bytes());
            let mut rest = frame.payload.clone();
            let mut head_and_payload = dl[1..].to_vec();
            head_and_payload.extend_from_slice(&frame.payload);
            rest.extend_from_slice(&Check::Sum.compute(&head_and_payload).to_be_bytes());
            escape_into(&rest, &mut dl);
            dl.push(FLAG);
            for bytes in [full, dl] {
                let mut d = Deframer::new();
                let raws = d.push(&bytes);
                let [Raw::Frame(raw)] = raws.as_slice() else { panic!("{len:#x}: {raws:?}") };
                assert_eq!(decode(raw, Check::Sum).unwrap(), frame, "{len:#x}");
            }
        }
    }

    #[test]
    fn bad_frames_say_why() {
        assert_eq!(decode(&[0, 0x80, 0], Check::Sum), Err(FrameError::Short { len: 3 }));
        assert!(matches!(decode(&[0, 0x80, 0, 1, 0xFF, 0x7F], Check::Sum), Err(FrameError::Length { .. })));
        assert!(matches!(decode(&[0, 0x80, 0, 0, 0x7D], Check::Sum), Err(FrameError::Escape { at: 4 })));
        assert!(matches!(decode(&[0, 0x80, 0, 0, 0xFF, 0x7E], Check::Sum), Err(FrameError::Check { .. })));
        let mut d = Deframer::new();
        let mut raws = d.push(&[FLAG]);
        raws.extend(d.push(&vec![0x55; MAX_RAW + 1]));
        assert_eq!(raws, [Raw::Overflow]);
        assert!(d.is_idle());
        assert_eq!(BslReply::from_code(0x89).to_string(), "DOWN_DEST_ERROR (0x89)");
    }
}
