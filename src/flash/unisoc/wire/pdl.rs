//! The UIS8910 boot ROM's PDL packets, both directions (amitv87/unisoc_dloader `pac.h`
//! `PDL_CMD_T`, `PDLREQ`, `PDLREP`; `main.c` `pdl_send_cmd`, `pdl_flash_id`).
//!
//! A packet is `AE | LE32 n | FF | 00 00` followed by n bytes. A request's n bytes are
//! `LE32 command, LE32 address, LE32 size, data...`; a reply's are `LE32 code` (the minimal form
//! unisoc_dloader reads: it looks only at the first word).

/// The first byte of every packet.
pub const TAG: u8 = 0xAE;
/// The flow id byte.
pub const FLOW_ID: u8 = 0xFF;
/// Bytes before the body.
pub const HEADER_LEN: usize = 8;
/// Bytes of a request body before its data: command, address, size.
pub const REQUEST_HEADER_LEN: usize = 12;
/// Data chunk of MID_DATA (unisoc_dloader `FRAMESZ_PDL`).
pub const MID_DATA_CHUNK: usize = 0x800;
/// The data START_DATA carries (unisoc_dloader `pdl_flash_id`).
pub const START_DATA_MAGIC: &[u8] = b"PDL1\0";
/// The data END_DATA carries (unisoc_dloader `pdl_flash_id`, `end_flag`).
pub const END_DATA_FLAG: [u8; 4] = [0x1C, 0x3C, 0x6E, 0x06];
/// The largest body either side accepts: a MID_DATA chunk with headroom. Longer declared
/// lengths are noise, not packets.
pub const MAX_BODY: usize = 0x1_0000;

crate::flash::unisoc::wire::codes! {
    u32,
    /// A PDL request (unisoc_dloader `PDLREQ`).
    PdlCommand {
        /// Start talking.
        Connect = 0, "CONNECT";
        /// Erase flash.
        EraseFlash = 1, "ERASE_FLASH";
        /// Erase a partition.
        ErasePartition = 2, "ERASE_PARTITION";
        /// Erase everything.
        EraseAll = 3, "ERASE_ALL";
        /// Begin a download: address and size.
        StartData = 4, "START_DATA";
        /// A chunk of the download; the address field is its sequence index.
        MidData = 5, "MID_DATA";
        /// End the download.
        EndData = 6, "END_DATA";
        /// Run what was downloaded.
        ExecData = 7, "EXEC_DATA";
        /// Read flash.
        ReadFlash = 8, "READ_FLASH";
        /// Read the partition table.
        ReadPartitions = 9, "READ_PARTITIONS";
        /// Reset to normal mode.
        NormalReset = 10, "NORMAL_RESET";
        /// Read the chip id.
        ReadChipId = 11, "READ_CHIPID";
        /// Change the baud rate.
        SetBaudrate = 12, "SET_BAUDRATE";
    }
}

crate::flash::unisoc::wire::codes! {
    u32,
    /// A PDL reply code (unisoc_dloader `PDLREP`).
    PdlReply {
        /// Done.
        Ack = 0, "ACK";
        /// The command is not valid now.
        InvalidCmd = 1, "INVALID_CMD";
        /// The command is not known.
        UnknownCmd = 2, "UNKNOWN_CMD";
        /// The address is not valid.
        InvalidAddr = 3, "INVALID_ADDR";
        /// The baud rate is not valid.
        InvalidBaudrate = 4, "INVALID_BAUDRATE";
        /// The partition is not valid.
        InvalidPartition = 5, "INVALID_PARTITION";
        /// The size is wrong.
        SizeError = 6, "SIZE_ERROR";
        /// The device waited too long.
        WaitTimeout = 7, "WAIT_TIMEOUT";
        /// Verification failed.
        VerifyError = 8, "VERIFY_ERROR";
        /// A checksum did not match.
        ChecksumError = 9, "CHECKSUM_ERROR";
        /// The operation failed.
        OperationFailed = 10, "OPERATION_FAILED";
        /// Device initialisation failed (DDR, NAND).
        DeviceError = 11, "DEVICE_ERROR";
        /// The device is out of memory.
        NoMemory = 12, "NO_MEMORY";
    }
}

/// A request as the ROM receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdlRequest {
    /// The command.
    pub command: PdlCommand,
    /// The address field (MID_DATA: the chunk's sequence index).
    pub address: u32,
    /// The size field.
    pub size: u32,
    /// The data after the three words.
    pub data: Vec<u8>,
}

impl PdlRequest {
    /// A request with no data.
    pub fn new(command: PdlCommand, address: u32, size: u32) -> PdlRequest {
        PdlRequest { command, address, size, data: Vec::new() }
    }

    /// The packet bytes.
    pub fn encode(&self) -> Vec<u8> {
        let n = REQUEST_HEADER_LEN + self.data.len();
        let mut out = header(n);
        out.extend_from_slice(&self.command.code().to_le_bytes());
        out.extend_from_slice(&self.address.to_le_bytes());
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Parses a packet body as a request.
    pub fn parse(body: &[u8]) -> Result<PdlRequest, String> {
        if body.len() < REQUEST_HEADER_LEN {
            return Err(format!("a request body has at least {REQUEST_HEADER_LEN} bytes, this one {}", body.len()));
        }
        Ok(PdlRequest {
            command: PdlCommand::from_code(le32(&body[0..4])),
            address: le32(&body[4..8]),
            size: le32(&body[8..12]),
            data: body[REQUEST_HEADER_LEN..].to_vec(),
        })
    }
}

/// The packet bytes of a reply with `code`.
pub fn encode_reply(code: PdlReply) -> Vec<u8> {
    let mut out = header(4);
    out.extend_from_slice(&code.code().to_le_bytes());
    out
}

/// Parses a packet body as a reply: its first word.
pub fn parse_reply(body: &[u8]) -> Result<PdlReply, String> {
    match body.get(0..4) {
        Some(w) => Ok(PdlReply::from_code(le32(w))),
        None => Err(format!("a reply body has at least 4 bytes, this one {}", body.len())),
    }
}

fn header(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + n);
    out.push(TAG);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&[FLOW_ID, 0, 0]);
    out
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// What the decoder found in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdlEvent {
    /// A whole packet's body.
    Packet(Vec<u8>),
    /// Bytes that are not a packet, skipped (the count and why).
    Skipped {
        /// How many bytes.
        bytes: usize,
        /// Why.
        why: String,
    },
}

/// Splits a byte stream into PDL packets. Bytes before a tag, and headers with a wrong flow id or
/// an absurd length, are skipped and reported; memory stays bounded by [`MAX_BODY`].
#[derive(Debug, Default, Clone)]
pub struct PdlDecoder {
    buf: Vec<u8>,
}

impl PdlDecoder {
    /// A decoder with nothing buffered.
    pub fn new() -> PdlDecoder {
        PdlDecoder::default()
    }

    /// Bytes buffered towards the next packet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Takes the bytes buffered towards the next packet (when the protocol changes after a
    /// packet, they belong to the next protocol).
    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Takes received bytes; returns what they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<PdlEvent> {
        self.extend(bytes);
        std::iter::from_fn(|| self.next_event()).collect()
    }

    /// Buffers received bytes without decoding them (see [`PdlDecoder::next_event`]).
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next packet or skipped run from what is buffered, if one is complete.
    pub fn next_event(&mut self) -> Option<PdlEvent> {
        let start = self.buf.iter().position(|&b| b == TAG).unwrap_or(self.buf.len());
        if start > 0 {
            self.buf.drain(..start);
            return Some(PdlEvent::Skipped { bytes: start, why: "no packet tag (0xAE)".into() });
        }
        if self.buf.len() < HEADER_LEN {
            return None;
        }
        let n = le32(&self.buf[1..5]) as usize;
        let bad = if self.buf[5] != FLOW_ID {
            Some(format!("flow id {:#04x}, expected {FLOW_ID:#04x}", self.buf[5]))
        } else if n > MAX_BODY {
            Some(format!("declared length {n} is more than {MAX_BODY}"))
        } else {
            None
        };
        if let Some(why) = bad {
            self.buf.drain(..1);
            return Some(PdlEvent::Skipped { bytes: 1, why });
        }
        if self.buf.len() < HEADER_LEN + n {
            return None;
        }
        let body = self.buf[HEADER_LEN..HEADER_LEN + n].to_vec();
        self.buf.drain(..HEADER_LEN + n);
        Some(PdlEvent::Packet(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_is_the_published_bytes() {
        assert_eq!(encode_reply(PdlReply::Ack), [0xAE, 4, 0, 0, 0, 0xFF, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse_reply(&[9, 0, 0, 0]).unwrap(), PdlReply::ChecksumError);
        assert!(parse_reply(&[0, 0]).is_err());
    }

    #[test]
    fn request_round_trip_across_split_reads() {
        let mut req = PdlRequest::new(PdlCommand::StartData, 0x8000C0, 0x1234);
        req.data = START_DATA_MAGIC.to_vec();
        let bytes = req.encode();
        assert_eq!(&bytes[..8], [0xAE, 17, 0, 0, 0, 0xFF, 0, 0]);
        let mut d = PdlDecoder::new();
        let mut events = d.push(b"zz");
        events.extend(d.push(&bytes[..8]));
        events.extend(d.push(&bytes[8..20]));
        assert_eq!(events, [PdlEvent::Skipped { bytes: 2, why: "no packet tag (0xAE)".into() }]);
        let events = d.push(&bytes[20..]);
        let [PdlEvent::Packet(body)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(PdlRequest::parse(body).unwrap(), req);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn absurd_headers_are_skipped_not_buffered() {
        let mut d = PdlDecoder::new();
        let events = d.push(&[0xAE, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0, 0, 0xAE, 4, 0, 0, 0, 0xFF, 0, 0, 1, 0, 0, 0]);
        assert!(matches!(events[0], PdlEvent::Skipped { .. }));
        assert_eq!(events.last(), Some(&PdlEvent::Packet(vec![1, 0, 0, 0])));
        assert!(PdlRequest::parse(&[0; 11]).is_err());
        assert_eq!(PdlCommand::from_code(99), PdlCommand::Other(99));
        assert_eq!(PdlCommand::ExecData.to_string(), "EXEC_DATA (0x7)");
    }
}
