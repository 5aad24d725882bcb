//! The simulated UIS8910 boot ROM: PDL packets load FDL1 into SRAM and start it (the device side
//! of `flash::unisoc::pdl`; packet format in `flash::unisoc::wire::pdl`).
//!
//! It takes FDL1 only at 0x8000C0 and at most 0xFF40 bytes (waybyte/logicromsdk
//! `core_config.json`), MID_DATA chunks in sequence (their address field is the index, as
//! amitv87/unisoc_dloader sends them), END_DATA with the flag `1C 3C 6E 06`, and EXEC_DATA of a
//! complete image that starts with a uImage header. Every answer is the minimal reply packet.

use crate::flash::unisoc::wire::payload::{FDL1_ADDRESS_8910, FDL1_MAX_8910, UIMAGE_MAGIC};
use crate::flash::unisoc::wire::pdl::{END_DATA_FLAG, PdlCommand, PdlReply, PdlRequest};

/// What the ROM does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RomOutcome {
    /// Answer and stay.
    Reply(PdlReply),
    /// Answer ACK and start FDL1.
    Exec,
}

#[derive(Debug, Default)]
struct Load {
    size: u32,
    image: Vec<u8>,
    next_index: u32,
    ended: bool,
}

/// The ROM's state.
#[derive(Debug, Default)]
pub struct Rom {
    load: Option<Load>,
}

impl Rom {
    /// Handles one request.
    pub fn handle(&mut self, req: &PdlRequest) -> RomOutcome {
        RomOutcome::Reply(match req.command {
            PdlCommand::Connect => PdlReply::Ack,
            PdlCommand::StartData => self.start(req),
            PdlCommand::MidData => self.mid(req),
            PdlCommand::EndData => self.end(req),
            PdlCommand::ExecData => return self.exec(),
            // The ROM's other commands (erase, read, reset, chip id, baud) are for its own
            // flashing mode, which no published tool uses with it.
            _ => PdlReply::UnknownCmd,
        })
    }

    fn start(&mut self, req: &PdlRequest) -> PdlReply {
        if req.address != FDL1_ADDRESS_8910 {
            return PdlReply::InvalidAddr;
        }
        if req.size == 0 || req.size > FDL1_MAX_8910 {
            return PdlReply::SizeError;
        }
        self.load = Some(Load { size: req.size, image: Vec::with_capacity(req.size as usize), ..Load::default() });
        PdlReply::Ack
    }

    fn mid(&mut self, req: &PdlRequest) -> PdlReply {
        let Some(load) = self.load.as_mut().filter(|l| !l.ended) else {
            return PdlReply::InvalidCmd;
        };
        if req.address != load.next_index {
            return PdlReply::InvalidAddr;
        }
        if req.size as usize != req.data.len() || load.image.len() + req.data.len() > load.size as usize {
            return PdlReply::SizeError;
        }
        load.image.extend_from_slice(&req.data);
        load.next_index += 1;
        PdlReply::Ack
    }

    fn end(&mut self, req: &PdlRequest) -> PdlReply {
        let Some(load) = self.load.as_mut().filter(|l| !l.ended) else {
            return PdlReply::InvalidCmd;
        };
        if load.image.len() != load.size as usize {
            return PdlReply::SizeError;
        }
        if req.data != END_DATA_FLAG {
            return PdlReply::VerifyError;
        }
        load.ended = true;
        PdlReply::Ack
    }

    fn exec(&mut self) -> RomOutcome {
        match &self.load {
            Some(load) if load.ended && load.image.starts_with(&UIMAGE_MAGIC) => RomOutcome::Exec,
            Some(load) if load.ended => RomOutcome::Reply(PdlReply::VerifyError),
            _ => RomOutcome::Reply(PdlReply::InvalidCmd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(command: PdlCommand, address: u32, size: u32, data: &[u8]) -> PdlRequest {
        PdlRequest { command, address, size, data: data.to_vec() }
    }

    #[test]
    fn loads_in_order_and_refuses_what_is_wrong() {
        let mut rom = Rom::default();
        let r = |o| RomOutcome::Reply(o);
        assert_eq!(rom.handle(&req(PdlCommand::ExecData, 0, 0, &[])), r(PdlReply::InvalidCmd));
        assert_eq!(rom.handle(&req(PdlCommand::StartData, 0x800000, 8, b"PDL1\0")), r(PdlReply::InvalidAddr));
        assert_eq!(rom.handle(&req(PdlCommand::StartData, FDL1_ADDRESS_8910, 0x10000, b"")), r(PdlReply::SizeError));
        assert_eq!(rom.handle(&req(PdlCommand::StartData, FDL1_ADDRESS_8910, 8, b"PDL1\0")), r(PdlReply::Ack));
        assert_eq!(rom.handle(&req(PdlCommand::MidData, 1, 4, &UIMAGE_MAGIC)), r(PdlReply::InvalidAddr));
        assert_eq!(rom.handle(&req(PdlCommand::MidData, 0, 4, &UIMAGE_MAGIC)), r(PdlReply::Ack));
        assert_eq!(rom.handle(&req(PdlCommand::EndData, 0, 0, &END_DATA_FLAG)), r(PdlReply::SizeError));
        assert_eq!(rom.handle(&req(PdlCommand::MidData, 1, 8, &[0; 8])), r(PdlReply::SizeError));
        assert_eq!(rom.handle(&req(PdlCommand::MidData, 1, 4, &[0; 4])), r(PdlReply::Ack));
        assert_eq!(rom.handle(&req(PdlCommand::EndData, 0, 0, &[0; 4])), r(PdlReply::VerifyError));
        assert_eq!(rom.handle(&req(PdlCommand::EndData, 0, 0, &END_DATA_FLAG)), r(PdlReply::Ack));
        assert_eq!(rom.handle(&req(PdlCommand::ReadChipId, 0, 0, &[])), r(PdlReply::UnknownCmd));
        assert_eq!(rom.handle(&req(PdlCommand::ExecData, 0, 0, &[])), RomOutcome::Exec);
    }

    #[test]
    fn an_image_that_is_no_uimage_is_not_run() {
        let mut rom = Rom::default();
        rom.handle(&req(PdlCommand::StartData, FDL1_ADDRESS_8910, 4, b"PDL1\0"));
        rom.handle(&req(PdlCommand::MidData, 0, 4, b"ELF!"));
        rom.handle(&req(PdlCommand::EndData, 0, 0, &END_DATA_FLAG));
        assert_eq!(rom.handle(&req(PdlCommand::ExecData, 0, 0, &[])), RomOutcome::Reply(PdlReply::VerifyError));
    }
}
