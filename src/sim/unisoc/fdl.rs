//! The simulated 8910 FDL1 and FDL2 (the device side of `flash::unisoc::fdl`).
//!
//! FDL1 takes CHANGE_BAUD, CONNECT and FDL2 (START/MIDST/END_DATA into SRAM at 0x810000, at most
//! 0x30000 bytes) and EXEC_DATA, which FDL2 answers with INCOMPATIBLE_PARTITION as the real one
//! does. FDL2 writes, reads and erases the NOR flash and the logical NV and PhaseCheck areas
//! ([`super::nor`]), takes NV only sealed with its checksum, and resets on NORMAL_RESET. Both
//! answer check-baud with "Spreadtrum Boot Block version 1.2". The replies follow the SPRD FDL
//! conventions (ilyakurdyukov/spreadtrum_flash `custom_fdl/main.c`): data past the declared size
//! is DOWN_SIZE_ERROR, END_DATA before all data DOWN_EARLY_END, EXEC without an image
//! INVALID_CMD; what the 8910 FDL does not support ("cmd not support yet") is UNSUPPORTED.
//! One byte past the declared size is taken and dropped: unisoc_dloader pads odd chunks.

use super::nor::{MAX_READ, Nor, Place};
use crate::flash::unisoc::wire::bsl::{BslCommand, BslReply, Frame};
use crate::flash::unisoc::wire::check::nv_is_sealed;
use crate::flash::unisoc::wire::payload::{
    FDL2_ADDRESS_8910, FDL2_MAX_8910, LOGICAL_ERASE_NV, ReadFlash, StartData, Target, UIMAGE_MAGIC, parse_baud,
    parse_erase,
};
use crate::sim::download::DownloadContext;

/// Which loader runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// FDL1, loading FDL2.
    Fdl1,
    /// FDL2, flashing.
    Fdl2,
}

/// What a command leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdlOutcome {
    /// Answer and stay.
    Reply(BslReply, Vec<u8>),
    /// FDL2 starts and answers.
    StartFdl2(BslReply),
    /// Answer, then the module resets.
    Reset(BslReply),
}

#[derive(Debug)]
enum Dest {
    Ram,
    Flash(u64),
    Nv,
    PhaseCheck,
}

#[derive(Debug)]
struct Transfer {
    dest: Dest,
    size: u64,
    received: u64,
    checksum: Option<u32>,
    buffer: Vec<u8>,
}

/// The loaders' state.
#[derive(Debug)]
pub struct Fdl {
    /// Which one runs.
    pub loader: Loader,
    transfer: Option<Transfer>,
    ended: bool,
    fdl2_loaded: bool,
}

fn reply(code: BslReply) -> FdlOutcome {
    FdlOutcome::Reply(code, Vec::new())
}

impl Fdl {
    /// FDL1, just started by the ROM.
    pub fn new() -> Fdl {
        Fdl { loader: Loader::Fdl1, transfer: None, ended: false, fdl2_loaded: false }
    }

    /// Handles one command frame.
    pub fn handle(&mut self, frame: &Frame, ctx: &mut DownloadContext<'_>) -> FdlOutcome {
        let p = &frame.payload;
        match (frame.command(), self.loader) {
            (BslCommand::Connect, _) => reply(BslReply::Ack),
            (BslCommand::ChangeBaud, _) => match parse_baud(p) {
                Ok(b) if b > 0 => reply(BslReply::Ack),
                Ok(_) => reply(BslReply::NotSupportBaudrate),
                Err(_) => reply(BslReply::InvalidCmd),
            },
            (BslCommand::StartData, _) => reply(self.start(p, ctx)),
            (BslCommand::MidstData, _) => reply(self.midst(p, ctx)),
            (BslCommand::EndData, _) => reply(self.end(ctx)),
            (BslCommand::ExecData, Loader::Fdl1) if self.fdl2_loaded => {
                self.loader = Loader::Fdl2;
                self.transfer = None;
                FdlOutcome::StartFdl2(BslReply::IncompatiblePartition)
            }
            (BslCommand::ExecData, _) => reply(BslReply::InvalidCmd),
            (BslCommand::ReadFlash, Loader::Fdl2) => self.read(p, ctx),
            (BslCommand::EraseFlash, Loader::Fdl2) => reply(self.erase(p, ctx)),
            // Nothing to repartition on NOR; the 8910 FDL2 knows the command.
            (BslCommand::Repartition, Loader::Fdl2) => reply(BslReply::Ack),
            (BslCommand::NormalReset, Loader::Fdl2) => FdlOutcome::Reset(BslReply::Ack),
            _ => reply(BslReply::Unsupported),
        }
    }

    fn start(&mut self, p: &[u8], ctx: &mut DownloadContext<'_>) -> BslReply {
        if self.transfer.is_some() && !self.ended {
            return BslReply::DownMultiStart;
        }
        let Ok(start) = StartData::parse(p) else {
            return BslReply::InvalidCmd;
        };
        // The 8910 loaders work by address; they have no partition table.
        let Target::Address { address, size } = start.target else {
            return BslReply::DownDestError;
        };
        let size = u64::from(size);
        let dest = match self.loader {
            Loader::Fdl1 if address != FDL2_ADDRESS_8910 => return BslReply::DownDestError,
            Loader::Fdl1 if size > u64::from(FDL2_MAX_8910) => return BslReply::DownSizeError,
            Loader::Fdl1 => Dest::Ram,
            Loader::Fdl2 => match Nor::new(ctx).resolve(address, 0, size) {
                Err(code) => return code,
                Ok(Place::Flash(offset)) => {
                    let (from, len) = Nor::sectors(offset, size);
                    let len = len.min(ctx.flash.size() - from);
                    if ctx.flash.erase(from, len as usize).is_err() {
                        return BslReply::OperationFailed;
                    }
                    Dest::Flash(offset)
                }
                Ok(Place::Nv(_)) if start.checksum.is_none() => return BslReply::NotVerify,
                Ok(Place::Nv(_)) => Dest::Nv,
                Ok(Place::PhaseCheck(_)) => Dest::PhaseCheck,
            },
        };
        self.fdl2_loaded = false;
        self.ended = false;
        let buffer = if matches!(dest, Dest::Flash(_)) { Vec::new() } else { Vec::with_capacity(size as usize) };
        self.transfer = Some(Transfer { dest, size, received: 0, checksum: start.checksum, buffer });
        BslReply::Ack
    }

    fn midst(&mut self, p: &[u8], ctx: &mut DownloadContext<'_>) -> BslReply {
        let Some(t) = self.transfer.as_mut().filter(|_| !self.ended) else {
            return BslReply::DownNotStart;
        };
        let len = p.len() as u64;
        // One byte past an odd size is padding (unisoc_dloader); more is an error.
        let limit = t.size + t.size % 2;
        if t.received + len > limit {
            return BslReply::DownSizeError;
        }
        let keep = &p[..(t.size.saturating_sub(t.received)).min(len) as usize];
        match t.dest {
            Dest::Flash(offset) => {
                if ctx.flash.write(offset + t.received, keep).is_err() {
                    return BslReply::OperationFailed;
                }
            }
            _ => t.buffer.extend_from_slice(keep),
        }
        t.received += len;
        BslReply::Ack
    }

    fn end(&mut self, ctx: &mut DownloadContext<'_>) -> BslReply {
        let Some(t) = self.transfer.as_ref().filter(|_| !self.ended) else {
            return BslReply::DownNotStart;
        };
        if t.received < t.size {
            return BslReply::DownEarlyEnd;
        }
        let nor = Nor::new(ctx);
        let code = match t.dest {
            Dest::Ram if t.buffer.starts_with(&UIMAGE_MAGIC) => {
                self.fdl2_loaded = true;
                BslReply::Ack
            }
            Dest::Ram => BslReply::VerifyError,
            Dest::Flash(_) => BslReply::Ack,
            Dest::Nv if !t.checksum.is_some_and(|c| nv_is_sealed(&t.buffer, c)) => BslReply::VerifyError,
            Dest::Nv => store(ctx, nor.layout.nv, &t.buffer),
            Dest::PhaseCheck => store(ctx, nor.layout.phasecheck, &t.buffer),
        };
        self.ended = true;
        code
    }

    fn read(&mut self, p: &[u8], ctx: &mut DownloadContext<'_>) -> FdlOutcome {
        let Ok(r) = ReadFlash::parse(p) else {
            return reply(BslReply::InvalidCmd);
        };
        if r.size > MAX_READ {
            return reply(BslReply::DownSizeError);
        }
        let nor = Nor::new(ctx);
        match nor.resolve(r.address, u64::from(r.offset), u64::from(r.size)) {
            Err(code) => reply(code),
            Ok(place) => match ctx.flash.read(nor.offset(place), r.size as usize) {
                Ok(data) => FdlOutcome::Reply(BslReply::ReadFlash, data),
                Err(_) => reply(BslReply::OperationFailed),
            },
        }
    }

    fn erase(&mut self, p: &[u8], ctx: &mut DownloadContext<'_>) -> BslReply {
        let Ok(target) = parse_erase(p) else {
            return BslReply::InvalidCmd;
        };
        let Target::Address { address, size } = target else {
            return BslReply::DownDestError;
        };
        let nor = Nor::new(ctx);
        let (offset, len) = match (address, size) {
            (LOGICAL_ERASE_NV, _) => (nor.layout.nv.offset, nor.layout.nv.len),
            // unisoc_dloader's erase-all: address 0, size 0xFFFFFFFF.
            (0, u32::MAX) => (0, nor.extent),
            _ => match nor.resolve(address, 0, u64::from(size)) {
                Ok(Place::Flash(offset)) => (offset, u64::from(size)),
                Ok(_) => return BslReply::DownDestError,
                Err(code) => return code,
            },
        };
        match ctx.flash.erase(offset, len as usize) {
            Ok(()) => BslReply::Ack,
            Err(_) => BslReply::OperationFailed,
        }
    }
}

impl Default for Fdl {
    fn default() -> Fdl {
        Fdl::new()
    }
}

/// Replaces a logical area's content: erased, then written.
fn store(ctx: &mut DownloadContext<'_>, region: super::layout::Region, data: &[u8]) -> BslReply {
    let ok =
        ctx.flash.erase(region.offset, region.len as usize).is_ok() && ctx.flash.write(region.offset, data).is_ok();
    if ok { BslReply::Ack } else { BslReply::OperationFailed }
}
