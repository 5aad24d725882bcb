//! Sahara, the boot ROM's protocol in emergency download (EDL): packets, modes, client commands
//! and status codes, encoded and decoded the same way by the host and the simulated module.
//!
//! Every packet is `u32 command, u32 length` (length includes the 8 header bytes) and fixed-size
//! little-endian fields; the `_64` packets use u64 fields. Image data (after READ_DATA) and
//! command-mode data (after EXECUTE_DATA) travel raw, without a header. Command ids, lengths and
//! the protocol version each appeared in: linux-msm/qdl `src/sahara.c` (l.62-111); the status
//! codes: bkerler/edl `edlclient/Library/sahara_defs.py` (`status_t`); the client commands:
//! linux-msm/qdl `sahara.c` and qualcomm/qdlrs `qdl/src/sahara.rs`.

use std::fmt;

/// The length of every packet header.
pub const HEADER_LEN: usize = 8;
/// The longest packet there is (HELLO and HELLO_RESP, 0x30 bytes).
pub const MAX_PACKET_LEN: usize = 0x30;

/// A Sahara command id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x01, target to host: the target's greeting (protocol 1.0).
    Hello,
    /// 0x02, host to target: the host's answer and the mode it wants.
    HelloResp,
    /// 0x03, target to host: send `length` bytes of image `image` at `offset`.
    ReadData,
    /// 0x04, target to host: the image is done (status 0) or refused (any other status).
    EndImageTx,
    /// 0x05, host to target: acknowledges the end of the transfer.
    Done,
    /// 0x06, target to host: 1 = all images done (the loaded image runs), 0 = more pending.
    DoneResp,
    /// 0x07, host to target: reset.
    Reset,
    /// 0x08, target to host: the reset is going to happen.
    ResetResp,
    /// 0x09, target to host: memory debug (crash dump) table (protocol 2.0).
    MemoryDebug,
    /// 0x0A, host to target: read memory (protocol 2.0).
    MemoryRead,
    /// 0x0B, target to host: command mode entered (protocol 2.1).
    CmdReady,
    /// 0x0C, host to target: leave command mode; the target greets again (protocol 2.1).
    SwitchMode,
    /// 0x0D, host to target: run a client command (protocol 2.1).
    Execute,
    /// 0x0E, target to host: the client command's answer length (protocol 2.1).
    ExecuteResp,
    /// 0x0F, host to target: send the client command's answer (protocol 2.1).
    ExecuteData,
    /// 0x10, target to host: 64-bit memory debug (protocol 2.5).
    MemoryDebug64,
    /// 0x11, host to target: 64-bit memory read (protocol 2.5).
    MemoryRead64,
    /// 0x12, target to host: 64-bit READ_DATA (protocol 2.8).
    ReadData64,
    /// 0x13, host to target: restart the state machine (protocol 2.9).
    ResetStateMachine,
    /// 0x14: write data (protocol 3.0; listed by qdl only).
    WriteData,
}

impl Command {
    /// Every command, by id.
    pub const ALL: [Command; 20] = [
        Command::Hello,
        Command::HelloResp,
        Command::ReadData,
        Command::EndImageTx,
        Command::Done,
        Command::DoneResp,
        Command::Reset,
        Command::ResetResp,
        Command::MemoryDebug,
        Command::MemoryRead,
        Command::CmdReady,
        Command::SwitchMode,
        Command::Execute,
        Command::ExecuteResp,
        Command::ExecuteData,
        Command::MemoryDebug64,
        Command::MemoryRead64,
        Command::ReadData64,
        Command::ResetStateMachine,
        Command::WriteData,
    ];

    /// The command id.
    pub fn id(self) -> u32 {
        Command::ALL.iter().position(|c| *c == self).map_or(0, |i| i as u32 + 1)
    }

    /// The command with this id.
    pub fn from_id(id: u32) -> Option<Command> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        Command::ALL.get(index).copied()
    }

    /// The packet length this command always has (`None` for WRITE_DATA, whose layout no public
    /// source gives).
    pub fn length(self) -> Option<usize> {
        Some(match self {
            Command::Hello | Command::HelloResp => 0x30,
            Command::ReadData => 0x14,
            Command::EndImageTx | Command::ExecuteResp | Command::MemoryDebug | Command::MemoryRead => 0x10,
            Command::Done | Command::Reset | Command::ResetResp | Command::CmdReady | Command::ResetStateMachine => {
                0x08
            }
            Command::DoneResp | Command::SwitchMode | Command::Execute | Command::ExecuteData => 0x0C,
            Command::MemoryDebug64 | Command::MemoryRead64 => 0x18,
            Command::ReadData64 => 0x20,
            Command::WriteData => return None,
        })
    }

    /// The name the protocol documents give it.
    pub fn name(self) -> &'static str {
        match self {
            Command::Hello => "HELLO",
            Command::HelloResp => "HELLO_RESP",
            Command::ReadData => "READ_DATA",
            Command::EndImageTx => "END_IMAGE_TX",
            Command::Done => "DONE",
            Command::DoneResp => "DONE_RESP",
            Command::Reset => "RESET",
            Command::ResetResp => "RESET_RESP",
            Command::MemoryDebug => "MEMORY_DEBUG",
            Command::MemoryRead => "MEMORY_READ",
            Command::CmdReady => "CMD_READY",
            Command::SwitchMode => "SWITCH_MODE",
            Command::Execute => "EXECUTE",
            Command::ExecuteResp => "EXECUTE_RESP",
            Command::ExecuteData => "EXECUTE_DATA",
            Command::MemoryDebug64 => "MEMORY_DEBUG_64",
            Command::MemoryRead64 => "MEMORY_READ_64",
            Command::ReadData64 => "READ_DATA_64",
            Command::ResetStateMachine => "RESET_STATE_MACHINE",
            Command::WriteData => "WRITE_DATA",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), self.id())
    }
}

/// What HELLO offers and HELLO_RESP and SWITCH_MODE ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode(pub u32);

impl Mode {
    /// 0: an image transfer is pending (upload the programmer).
    pub const IMAGE_TX_PENDING: Mode = Mode(0);
    /// 1: image transfer complete.
    pub const IMAGE_TX_COMPLETE: Mode = Mode(1);
    /// 2: memory debug (crash dump).
    pub const MEMORY_DEBUG: Mode = Mode(2);
    /// 3: command mode (chip serial, HW id, OEM key hash).
    pub const COMMAND: Mode = Mode(3);

    /// The mode's name, when it is one of the four.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "IMAGE_TX_PENDING",
            1 => "IMAGE_TX_COMPLETE",
            2 => "MEMORY_DEBUG",
            3 => "COMMAND",
            _ => return None,
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({})", name, self.0),
            None => write!(f, "unknown mode {}", self.0),
        }
    }
}

/// A command-mode client command (carried by EXECUTE, EXECUTE_RESP and EXECUTE_DATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientCommand(pub u32);

impl ClientCommand {
    /// 0x00: no operation.
    pub const NOP: ClientCommand = ClientCommand(0x00);
    /// 0x01: the chip serial number, 4 bytes.
    pub const SERIAL_NUM_READ: ClientCommand = ClientCommand(0x01);
    /// 0x02: the MSM HW id, 8 bytes: `MSM_ID << 32 | OEM_ID << 16 | MODEL_ID` (protocol < 3).
    pub const MSM_HW_ID_READ: ClientCommand = ClientCommand(0x02);
    /// 0x03: the OEM public-key hash (32, 48 or 64 bytes, often repeated or zero-padded).
    pub const OEM_PK_HASH_READ: ClientCommand = ClientCommand(0x03);
    /// 0x04: switch to DMSS download.
    pub const SWITCH_TO_DMSS_DLOAD: ClientCommand = ClientCommand(0x04);
    /// 0x05: switch to streaming download.
    pub const SWITCH_TO_STREAM_DLOAD: ClientCommand = ClientCommand(0x05);
    /// 0x06: read debug data.
    pub const READ_DEBUG_DATA: ClientCommand = ClientCommand(0x06);
    /// 0x07: the SBL software version, 4 bytes.
    pub const GET_SOFTWARE_VERSION_SBL: ClientCommand = ClientCommand(0x07);
    /// 0x08: the list of supported client commands.
    pub const GET_COMMAND_ID_LIST: ClientCommand = ClientCommand(0x08);
    /// 0x09: training data.
    pub const GET_TRAINING_DATA: ClientCommand = ClientCommand(0x09);
    /// 0x0A: chip id, protocol 3 (MSM_ID u32 at 36, OEM_ID u16 at 40, MODEL_ID u16 at 42).
    pub const READ_CHIP_ID_V3: ClientCommand = ClientCommand(0x0A);

    /// The command's name, when it is a known one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "NOP",
            0x01 => "SERIAL_NUM_READ",
            0x02 => "MSM_HW_ID_READ",
            0x03 => "OEM_PK_HASH_READ",
            0x04 => "SWITCH_TO_DMSS_DLOAD",
            0x05 => "SWITCH_TO_STREAM_DLOAD",
            0x06 => "READ_DEBUG_DATA",
            0x07 => "GET_SOFTWARE_VERSION_SBL",
            0x08 => "GET_COMMAND_ID_LIST",
            0x09 => "GET_TRAINING_DATA",
            0x0A => "READ_CHIP_ID_V3",
            _ => return None,
        })
    }
}

impl fmt::Display for ClientCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({:#04x})", name, self.0),
            None => write!(f, "client command {:#04x}", self.0),
        }
    }
}

/// A status code, as END_IMAGE_TX and HELLO_RESP carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub u32);

/// The names of the status codes 0x00 to 0x28, in order (bkerler/edl `sahara_defs.py`
/// `status_t`; that file's human-readable `ErrorDesc` list is off by one, so it is not used).
const STATUS_NAMES: [&str; 0x29] = [
    "SUCCESS",
    "INVALID_CMD",
    "PROTOCOL_MISMATCH",
    "INVALID_TARGET_PROTOCOL",
    "INVALID_HOST_PROTOCOL",
    "INVALID_PACKET_SIZE",
    "UNEXPECTED_IMAGE_ID",
    "INVALID_HEADER_SIZE",
    "INVALID_DATA_SIZE",
    "INVALID_IMAGE_TYPE",
    "INVALID_TX_LENGTH",
    "INVALID_RX_LENGTH",
    "GENERAL_TX_RX_ERROR",
    "READ_DATA_ERROR",
    "UNSUPPORTED_NUM_PHDRS",
    "INVALID_PDHR_SIZE",
    "MULTIPLE_SHARED_SEG",
    "UNINIT_PHDR_LOC",
    "INVALID_DEST_ADDR",
    "INVALID_IMG_HDR_DATA_SIZE",
    "INVALID_ELF_HDR",
    "UNKNOWN_HOST_ERROR",
    "TIMEOUT_RX",
    "TIMEOUT_TX",
    "INVALID_HOST_MODE",
    "INVALID_MEMORY_READ",
    "INVALID_DATA_SIZE_REQUEST",
    "MEMORY_DEBUG_NOT_SUPPORTED",
    "INVALID_MODE_SWITCH",
    "CMD_EXEC_FAILURE",
    "EXEC_CMD_INVALID_PARAM",
    "EXEC_CMD_UNSUPPORTED",
    "EXEC_DATA_INVALID_CLIENT_CMD",
    "HASH_TABLE_AUTH_FAILURE",
    "HASH_VERIFICATION_FAILURE",
    "HASH_TABLE_NOT_FOUND",
    "TARGET_INIT_FAILURE",
    "IMAGE_AUTH_FAILURE",
    "INVALID_IMG_HASH_TABLE_SIZE",
    "ENUMERATION_FAILURE",
    "HW_BULK_TRANSFER_ERROR",
];

impl Status {
    /// 0x00: success.
    pub const SUCCESS: Status = Status(0x00);
    /// 0x01: the command is not valid now.
    pub const INVALID_CMD: Status = Status(0x01);
    /// 0x02: the host's protocol version is not one the target speaks.
    pub const PROTOCOL_MISMATCH: Status = Status(0x02);
    /// 0x05: a packet of the wrong length.
    pub const INVALID_PACKET_SIZE: Status = Status(0x05);
    /// 0x06: the image id is not the one expected.
    pub const UNEXPECTED_IMAGE_ID: Status = Status(0x06);
    /// 0x0E: too many program headers.
    pub const UNSUPPORTED_NUM_PHDRS: Status = Status(0x0E);
    /// 0x0F: program header entries of the wrong size.
    pub const INVALID_PDHR_SIZE: Status = Status(0x0F);
    /// 0x12: a segment would load outside the memory this chip loads images into.
    pub const INVALID_DEST_ADDR: Status = Status(0x12);
    /// 0x13: the image's sizes do not fit (a segment beyond what the target loads).
    pub const INVALID_IMG_HDR_DATA_SIZE: Status = Status(0x13);
    /// 0x14: not an ELF image for this chip.
    pub const INVALID_ELF_HDR: Status = Status(0x14);
    /// 0x15: the host reported an error (HELLO_RESP with a status other than 0).
    pub const UNKNOWN_HOST_ERROR: Status = Status(0x15);
    /// 0x18: the host asked for a mode the target does not offer.
    pub const INVALID_HOST_MODE: Status = Status(0x18);
    /// 0x1B: the target has no memory debug (crash dump) mode now.
    pub const MEMORY_DEBUG_NOT_SUPPORTED: Status = Status(0x1B);
    /// 0x1C: SWITCH_MODE to a mode that cannot be switched to.
    pub const INVALID_MODE_SWITCH: Status = Status(0x1C);
    /// 0x1F: the client command is not supported.
    pub const EXEC_CMD_UNSUPPORTED: Status = Status(0x1F);
    /// 0x20: EXECUTE_DATA for another client command than the one executed.
    pub const EXEC_DATA_INVALID_CLIENT_CMD: Status = Status(0x20);
    /// 0x22: a segment does not match its hash in the hash table.
    pub const HASH_VERIFICATION_FAILURE: Status = Status(0x22);
    /// 0x23: the image has no hash table segment.
    pub const HASH_TABLE_NOT_FOUND: Status = Status(0x23);
    /// 0x25: the image is not signed for a secure-boot target.
    pub const IMAGE_AUTH_FAILURE: Status = Status(0x25);
    /// 0x26: the hash table's size does not fit the image.
    pub const INVALID_IMG_HASH_TABLE_SIZE: Status = Status(0x26);

    /// The code's name, when it is a known one.
    pub fn name(self) -> Option<&'static str> {
        STATUS_NAMES.get(usize::try_from(self.0).ok()?).copied()
    }

    /// Whether this is SUCCESS.
    pub fn is_success(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({:#04x})", name, self.0),
            None => write!(f, "unknown status {:#x}", self.0),
        }
    }
}

/// One Sahara packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    /// HELLO.
    Hello {
        /// The target's protocol version.
        version: u32,
        /// The oldest version it still speaks.
        compatible: u32,
        /// The longest command packet it takes.
        max_command_len: u32,
        /// The mode it is in.
        mode: Mode,
    },
    /// HELLO_RESP.
    HelloResp {
        /// The host's protocol version.
        version: u32,
        /// The oldest version the host speaks.
        compatible: u32,
        /// 0 = OK.
        status: Status,
        /// The mode the host wants.
        mode: Mode,
    },
    /// READ_DATA.
    ReadData {
        /// The image id (13 for a Firehose programmer on Quectel modules).
        image: u32,
        /// Offset in the image.
        offset: u32,
        /// Bytes wanted.
        length: u32,
    },
    /// READ_DATA_64.
    ReadData64 {
        /// The image id.
        image: u64,
        /// Offset in the image.
        offset: u64,
        /// Bytes wanted.
        length: u64,
    },
    /// END_IMAGE_TX.
    EndImageTx {
        /// The image id.
        image: u32,
        /// SUCCESS, or why the image was refused.
        status: Status,
    },
    /// DONE.
    Done,
    /// DONE_RESP.
    DoneResp {
        /// 1 = complete (the image runs), 0 = more images pending.
        status: u32,
    },
    /// RESET.
    Reset,
    /// RESET_RESP.
    ResetResp,
    /// MEMORY_DEBUG.
    MemoryDebug {
        /// Address of the region table.
        address: u32,
        /// Its length.
        length: u32,
    },
    /// MEMORY_READ.
    MemoryRead {
        /// Address.
        address: u32,
        /// Length.
        length: u32,
    },
    /// CMD_READY.
    CmdReady,
    /// SWITCH_MODE.
    SwitchMode {
        /// The mode to switch to.
        mode: Mode,
    },
    /// EXECUTE.
    Execute {
        /// The client command.
        command: ClientCommand,
    },
    /// EXECUTE_RESP.
    ExecuteResp {
        /// The client command.
        command: ClientCommand,
        /// How many raw bytes its answer has.
        length: u32,
    },
    /// EXECUTE_DATA.
    ExecuteData {
        /// The client command.
        command: ClientCommand,
    },
    /// MEMORY_DEBUG_64.
    MemoryDebug64 {
        /// Address of the region table.
        address: u64,
        /// Its length.
        length: u64,
    },
    /// MEMORY_READ_64.
    MemoryRead64 {
        /// Address.
        address: u64,
        /// Length.
        length: u64,
    },
    /// RESET_STATE_MACHINE.
    ResetStateMachine,
}

/// Why bytes are not a Sahara packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Fewer than 8 bytes, or fewer than the header's length.
    #[error("a Sahara packet needs {need} bytes, {got} arrived")]
    Short {
        /// Bytes needed.
        need: usize,
        /// Bytes there are.
        got: usize,
    },
    /// The command id is none of 0x01 to 0x14.
    #[error("unknown Sahara command {0:#x}")]
    UnknownCommand(u32),
    /// The header's length is not the command's.
    #[error("{command} packets are {expected:#x} bytes long; this one says {got:#x}")]
    Length {
        /// The command.
        command: Command,
        /// Its length.
        expected: usize,
        /// The header's.
        got: u32,
    },
    /// WRITE_DATA, whose layout no public source documents.
    #[error("{0} is not supported")]
    Unsupported(Command),
}

/// Reads the header of `bytes`: command id and length. `None` before 8 bytes.
pub fn header(bytes: &[u8]) -> Option<(u32, u32)> {
    let h = bytes.get(..HEADER_LEN)?;
    Some((u32_at(h, 0), u32_at(h, 4)))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32_at(b, i)) | (u64::from(u32_at(b, i + 4)) << 32)
}

impl Packet {
    /// The packet's command.
    pub fn command(&self) -> Command {
        match self {
            Packet::Hello { .. } => Command::Hello,
            Packet::HelloResp { .. } => Command::HelloResp,
            Packet::ReadData { .. } => Command::ReadData,
            Packet::ReadData64 { .. } => Command::ReadData64,
            Packet::EndImageTx { .. } => Command::EndImageTx,
            Packet::Done => Command::Done,
            Packet::DoneResp { .. } => Command::DoneResp,
            Packet::Reset => Command::Reset,
            Packet::ResetResp => Command::ResetResp,
            Packet::MemoryDebug { .. } => Command::MemoryDebug,
            Packet::MemoryRead { .. } => Command::MemoryRead,
            Packet::CmdReady => Command::CmdReady,
            Packet::SwitchMode { .. } => Command::SwitchMode,
            Packet::Execute { .. } => Command::Execute,
            Packet::ExecuteResp { .. } => Command::ExecuteResp,
            Packet::ExecuteData { .. } => Command::ExecuteData,
            Packet::MemoryDebug64 { .. } => Command::MemoryDebug64,
            Packet::MemoryRead64 { .. } => Command::MemoryRead64,
            Packet::ResetStateMachine => Command::ResetStateMachine,
        }
    }

    /// The packet's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let command = self.command();
        let mut words: Vec<u8> = Vec::with_capacity(MAX_PACKET_LEN);
        let mut put = |v: u32| words.extend(v.to_le_bytes());
        match *self {
            Packet::Hello { version, compatible, max_command_len, mode } => {
                for v in [version, compatible, max_command_len, mode.0, 0, 0, 0, 0, 0, 0] {
                    put(v);
                }
            }
            Packet::HelloResp { version, compatible, status, mode } => {
                for v in [version, compatible, status.0, mode.0, 0, 0, 0, 0, 0, 0] {
                    put(v);
                }
            }
            Packet::ReadData { image, offset, length } => [image, offset, length].into_iter().for_each(put),
            Packet::EndImageTx { image, status } => [image, status.0].into_iter().for_each(put),
            Packet::DoneResp { status } => put(status),
            Packet::MemoryDebug { address, length } | Packet::MemoryRead { address, length } => {
                [address, length].into_iter().for_each(put)
            }
            Packet::SwitchMode { mode } => put(mode.0),
            Packet::Execute { command } | Packet::ExecuteData { command } => put(command.0),
            Packet::ExecuteResp { command, length } => [command.0, length].into_iter().for_each(put),
            Packet::ReadData64 { image, offset, length } => {
                for v in [image, offset, length] {
                    words.extend(v.to_le_bytes());
                }
            }
            Packet::MemoryDebug64 { address, length } | Packet::MemoryRead64 { address, length } => {
                for v in [address, length] {
                    words.extend(v.to_le_bytes());
                }
            }
            Packet::Done | Packet::Reset | Packet::ResetResp | Packet::CmdReady | Packet::ResetStateMachine => {}
        }
        let len = HEADER_LEN + words.len();
        let mut out = Vec::with_capacity(len);
        out.extend(command.id().to_le_bytes());
        out.extend((len as u32).to_le_bytes());
        out.extend(words);
        out
    }

    /// Decodes one packet from the start of `bytes` (which must hold at least the header's
    /// length); the length must be the command's.
    pub fn decode(bytes: &[u8]) -> Result<Packet, PacketError> {
        let (id, len) = header(bytes).ok_or(PacketError::Short { need: HEADER_LEN, got: bytes.len() })?;
        let command = Command::from_id(id).ok_or(PacketError::UnknownCommand(id))?;
        let expected = command.length().ok_or(PacketError::Unsupported(command))?;
        if len as usize != expected {
            return Err(PacketError::Length { command, expected, got: len });
        }
        if bytes.len() < expected {
            return Err(PacketError::Short { need: expected, got: bytes.len() });
        }
        let w = |i: usize| u32_at(bytes, HEADER_LEN + 4 * i);
        let q = |i: usize| u64_at(bytes, HEADER_LEN + 8 * i);
        Ok(match command {
            Command::Hello => {
                Packet::Hello { version: w(0), compatible: w(1), max_command_len: w(2), mode: Mode(w(3)) }
            }
            Command::HelloResp => {
                Packet::HelloResp { version: w(0), compatible: w(1), status: Status(w(2)), mode: Mode(w(3)) }
            }
            Command::ReadData => Packet::ReadData { image: w(0), offset: w(1), length: w(2) },
            Command::EndImageTx => Packet::EndImageTx { image: w(0), status: Status(w(1)) },
            Command::Done => Packet::Done,
            Command::DoneResp => Packet::DoneResp { status: w(0) },
            Command::Reset => Packet::Reset,
            Command::ResetResp => Packet::ResetResp,
            Command::MemoryDebug => Packet::MemoryDebug { address: w(0), length: w(1) },
            Command::MemoryRead => Packet::MemoryRead { address: w(0), length: w(1) },
            Command::CmdReady => Packet::CmdReady,
            Command::SwitchMode => Packet::SwitchMode { mode: Mode(w(0)) },
            Command::Execute => Packet::Execute { command: ClientCommand(w(0)) },
            Command::ExecuteResp => Packet::ExecuteResp { command: ClientCommand(w(0)), length: w(1) },
            Command::ExecuteData => Packet::ExecuteData { command: ClientCommand(w(0)) },
            Command::MemoryDebug64 => Packet::MemoryDebug64 { address: q(0), length: q(1) },
            Command::MemoryRead64 => Packet::MemoryRead64 { address: q(0), length: q(1) },
            Command::ReadData64 => Packet::ReadData64 { image: q(0), offset: q(1), length: q(2) },
            Command::ResetStateMachine => Packet::ResetStateMachine,
            Command::WriteData => return Err(PacketError::Unsupported(command)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_lengths_match_qdl() {
        // linux-msm/qdl src/sahara.c l.62-106.
        let table = [
            (Command::Hello, 0x01, Some(0x30)),
            (Command::HelloResp, 0x02, Some(0x30)),
            (Command::ReadData, 0x03, Some(0x14)),
            (Command::EndImageTx, 0x04, Some(0x10)),
            (Command::Done, 0x05, Some(0x08)),
            (Command::DoneResp, 0x06, Some(0x0C)),
            (Command::Reset, 0x07, Some(0x08)),
            (Command::CmdReady, 0x0B, Some(0x08)),
            (Command::SwitchMode, 0x0C, Some(0x0C)),
            (Command::Execute, 0x0D, Some(0x0C)),
            (Command::ExecuteResp, 0x0E, Some(0x10)),
            (Command::ExecuteData, 0x0F, Some(0x0C)),
            (Command::MemoryRead64, 0x11, Some(0x18)),
            (Command::ReadData64, 0x12, Some(0x20)),
            (Command::ResetStateMachine, 0x13, Some(0x08)),
            (Command::WriteData, 0x14, None),
        ];
        for (c, id, len) in table {
            assert_eq!((c.id(), Command::from_id(id), c.length()), (id, Some(c), len), "{c}");
        }
        assert_eq!(Command::from_id(0), None);
        assert_eq!(Command::from_id(0x15), None);
    }

    #[test]
    fn every_status_has_its_name() {
        assert_eq!(Status(0x1F).to_string(), "EXEC_CMD_UNSUPPORTED (0x1f)");
        assert_eq!(Status::INVALID_DEST_ADDR.name(), Some("INVALID_DEST_ADDR"));
        assert_eq!(Status::HASH_VERIFICATION_FAILURE.name(), Some("HASH_VERIFICATION_FAILURE"));
        assert_eq!(Status(0x28).name(), Some("HW_BULK_TRANSFER_ERROR"));
        assert_eq!(Status(0x29).name(), None);
        assert_eq!(Status(0x1234).to_string(), "unknown status 0x1234");
    }

    #[test]
    fn packets_round_trip() {
        let all = [
            Packet::Hello { version: 2, compatible: 1, max_command_len: 0x400, mode: Mode::IMAGE_TX_PENDING },
            Packet::HelloResp { version: 2, compatible: 1, status: Status::SUCCESS, mode: Mode::COMMAND },
            Packet::ReadData { image: 13, offset: 0x34, length: 0x80 },
            Packet::ReadData64 { image: 13, offset: 1 << 33, length: 0x1000 },
            Packet::EndImageTx { image: 13, status: Status::SUCCESS },
            Packet::Done,
            Packet::DoneResp { status: 1 },
            Packet::Reset,
            Packet::ResetResp,
            Packet::MemoryDebug { address: 1, length: 2 },
            Packet::MemoryRead { address: 1, length: 2 },
            Packet::CmdReady,
            Packet::SwitchMode { mode: Mode::IMAGE_TX_PENDING },
            Packet::Execute { command: ClientCommand::SERIAL_NUM_READ },
            Packet::ExecuteResp { command: ClientCommand::MSM_HW_ID_READ, length: 8 },
            Packet::ExecuteData { command: ClientCommand::OEM_PK_HASH_READ },
            Packet::MemoryDebug64 { address: 1, length: 2 },
            Packet::MemoryRead64 { address: 1, length: 2 },
            Packet::ResetStateMachine,
        ];
        for p in all {
            let bytes = p.encode();
            assert_eq!(Some(bytes.len()), p.command().length(), "{p:?}");
            assert_eq!(Packet::decode(&bytes), Ok(p));
        }
        // A real HELLO from a 9x07 (version 2, compatible 1, max 0x400, mode 0).
        let hello = Packet::Hello { version: 2, compatible: 1, max_command_len: 0x400, mode: Mode(0) }.encode();
        assert_eq!(&hello[..16], [1, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn bad_packets_say_why() {
        assert!(matches!(Packet::decode(&[1, 0, 0]), Err(PacketError::Short { need: 8, got: 3 })));
        let mut done = Packet::Done.encode();
        done[4] = 9;
        assert!(matches!(Packet::decode(&done), Err(PacketError::Length { command: Command::Done, .. })));
        assert_eq!(Packet::decode(&[0x99, 0, 0, 0, 8, 0, 0, 0]), Err(PacketError::UnknownCommand(0x99)));
        let hello = Packet::Hello { version: 2, compatible: 1, max_command_len: 0, mode: Mode(0) }.encode();
        assert!(matches!(Packet::decode(&hello[..20]), Err(PacketError::Short { need: 0x30, got: 20 })));
        assert!(matches!(Packet::decode(&[0x14, 0, 0, 0, 8, 0, 0, 0]), Err(PacketError::Unsupported(_))));
    }
}
