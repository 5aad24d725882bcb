//! Sahara's numbers, by name: command ids (with their fixed lengths and the protocol version
//! each appeared in), modes, command-mode client commands and status codes. Sources: linux-msm/qdl
//! `src/sahara.c` (l.62-111) for commands and lengths; bkerler/edl
//! `edlclient/Library/sahara_defs.py` (`status_t`) for the status codes; linux-msm/qdl and
//! qualcomm/qdlrs `qdl/src/sahara.rs` for the client commands.

use std::fmt;

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
}
