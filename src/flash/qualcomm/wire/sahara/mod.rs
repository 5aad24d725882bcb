//! Sahara, the boot ROM's protocol in emergency download (EDL): packets, modes, client commands
//! and status codes, encoded and decoded the same way by the host and the simulated module.
//!
//! Every packet is `u32 command, u32 length` (length includes the 8 header bytes) and fixed-size
//! little-endian fields; the `_64` packets use u64 fields. Image data (after READ_DATA) and
//! command-mode data (after EXECUTE_DATA) travel raw, without a header. Command ids, lengths and
//! the protocol version each appeared in: linux-msm/qdl `src/sahara.c` (l.62-111); the status
//! codes: bkerler/edl `edlclient/Library/sahara_defs.py` (`status_t`); the client commands:
//! linux-msm/qdl `sahara.c` and qualcomm/qdlrs `qdl/src/sahara.rs`.

mod codes;

pub use codes::{ClientCommand, Command, Mode, Status};

/// The length of every packet header.
pub const HEADER_LEN: usize = 8;
/// The longest packet there is (HELLO and HELLO_RESP, 0x30 bytes).
pub const MAX_PACKET_LEN: usize = 0x30;

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
