//! The simulated Unisoc UIS8910 module in its download mode (0525:a4a7), mirroring the host's
//! `flash::unisoc` file for file: the boot ROM speaking PDL ([`pdl`]), FDL1 and FDL2 speaking BSL
//! ([`bsl`], [`fdl`]), over the NOR flash at 0x60000000 ([`nor`], [`layout`]).
//!
//! After EXEC_DATA of FDL1 the link speaks BSL at once, with no check-baud (unisoc_dloader sends
//! CHANGE_BAUD straight away); check-baud is answered in either loader. Each answer goes out in
//! one write (unisoc_dloader reads an answer with a single `read()`).
//!
//! Faults: `nak-at=N` refuses the N-th packet or frame the module receives (counting from 1,
//! across the ROM and both loaders; check-baud bytes are no packet): the ROM answers
//! VERIFY_ERROR, a loader VERIFY_ERROR (what an SPRD loader answers a damaged frame), and nothing
//! is done. `flash-id=HEX` changes the flash chip, which the 8910 loaders cannot report but whose
//! size they show (see [`nor`]). `drop-at` is the server's.

pub mod bsl;
pub mod fdl;
pub mod firmware;
pub mod layout;
pub mod nor;
pub mod pdl;

pub use self::firmware::UnisocFirmware;

use self::bsl::{BslPort, Incoming};
use self::fdl::{Fdl, FdlOutcome};
use self::pdl::{Rom, RomOutcome};
use super::download::{DownloadContext, DownloadMode, DownloadStep};
use crate::device::Mode;
use crate::flash::unisoc::wire::bsl::BslReply;
use crate::flash::unisoc::wire::check::Check;
use crate::flash::unisoc::wire::payload::{FDL_VERSION_8910, encode_version};
use crate::flash::unisoc::wire::pdl::{PdlDecoder, PdlEvent, PdlReply, PdlRequest, encode_reply};

/// Where the module is.
#[derive(Debug)]
enum Stage {
    Rom { decoder: PdlDecoder, rom: Rom },
    Loader { port: BslPort, fdl: Fdl },
}

/// The UIS8910 download mode.
#[derive(Debug)]
pub struct Uis8910Download {
    stage: Stage,
    packets: u64,
}

impl Uis8910Download {
    /// The module as it enters download mode: its boot ROM waits for PDL.
    pub fn new() -> Uis8910Download {
        Uis8910Download { stage: Stage::Rom { decoder: PdlDecoder::new(), rom: Rom::default() }, packets: 0 }
    }

    /// Counts a packet; whether `nak-at` refuses it.
    fn nak(&mut self, ctx: &DownloadContext<'_>) -> bool {
        self.packets += 1;
        ctx.faults.nak_at == Some(self.packets)
    }

    fn feed_rom(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>, out: &mut Vec<u8>) -> Option<Vec<u8>> {
        match &mut self.stage {
            Stage::Rom { decoder, .. } => decoder.extend(input),
            Stage::Loader { .. } => return None,
        }
        loop {
            let Stage::Rom { decoder, .. } = &mut self.stage else { return None };
            // The ROM ignores bytes that are no packet.
            let event = decoder.next_event()?;
            let PdlEvent::Packet(body) = event else { continue };
            if self.nak(ctx) {
                out.extend(encode_reply(PdlReply::VerifyError));
                continue;
            }
            let Stage::Rom { rom, decoder } = &mut self.stage else { return None };
            let code = match PdlRequest::parse(&body) {
                Err(_) => PdlReply::InvalidCmd,
                Ok(req) => match rom.handle(&req) {
                    RomOutcome::Reply(code) => code,
                    RomOutcome::Exec => {
                        out.extend(encode_reply(PdlReply::Ack));
                        let rest = decoder.take_pending();
                        self.stage = Stage::Loader { port: BslPort::new(Check::Sum), fdl: Fdl::new() };
                        return Some(rest);
                    }
                },
            };
            out.extend(encode_reply(code));
        }
    }

    fn feed_loader(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>, out: &mut Vec<u8>) -> bool {
        let incoming = match &mut self.stage {
            Stage::Loader { port, .. } => port.receive(input),
            Stage::Rom { .. } => return false,
        };
        let mut reset = false;
        for item in incoming {
            let nak = matches!(item, Incoming::Frame(_)) && self.nak(ctx);
            let Stage::Loader { port, fdl } = &mut self.stage else { return reset };
            let (code, payload) = match item {
                Incoming::CheckBaud => (BslReply::Ver, encode_version(FDL_VERSION_8910)),
                Incoming::Bad(_) | Incoming::Overflow => (BslReply::VerifyError, Vec::new()),
                Incoming::Frame(_) if nak => (BslReply::VerifyError, Vec::new()),
                Incoming::Frame(frame) => match fdl.handle(&frame, ctx) {
                    FdlOutcome::Reply(code, payload) => (code, payload),
                    FdlOutcome::StartFdl2(code) => (code, Vec::new()),
                    FdlOutcome::Reset(code) => {
                        reset = true;
                        (code, Vec::new())
                    }
                },
            };
            out.extend(port.reply(code, payload));
            if reset {
                break;
            }
        }
        reset
    }
}

impl Default for Uis8910Download {
    fn default() -> Uis8910Download {
        Uis8910Download::new()
    }
}

impl DownloadMode for Uis8910Download {
    fn mode(&self) -> Mode {
        Mode::Unisoc
    }

    fn start(&mut self, _ctx: &mut DownloadContext<'_>) -> Vec<u8> {
        Vec::new()
    }

    fn feed(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>) -> DownloadStep {
        let mut output = Vec::new();
        let mut input = input.to_vec();
        if let Some(rest) = self.feed_rom(&input, ctx, &mut output) {
            input = rest;
        } else if matches!(self.stage, Stage::Rom { .. }) {
            return DownloadStep { output, ..DownloadStep::default() };
        }
        let reset = !input.is_empty() && self.feed_loader(&input, ctx, &mut output);
        DownloadStep { output, reset, ..DownloadStep::default() }
    }
}

/// Whether the simulator speaks `profile`'s download protocol: a Unisoc module on the UIS8910
/// (by its chipset, or for a module described by hand by its model). The UIS8850's ROM answers
/// and flash map are not recorded, so it is not simulated.
pub fn simulates(profile: &crate::sim::Profile) -> bool {
    profile.platform == crate::sim::Platform::Unisoc
        && (profile.chipset.to_ascii_uppercase().contains("8910")
            || (profile.chipset == "unknown"
                && crate::image::pac::describe::chip_of_model(&profile.model) == Some("8910")))
}
