//! The simulated ASR Crane module in its download mode (AROM, USB `2ecc:3004`): the boot ROM,
//! `preboot.img` and `flasher.img` speaking aboot over SMUX, byte for byte as the host side in
//! [`crate::flash::asr`] and the published tools (amitv87/asr_aboot, ASR's aboot-tiny) expect,
//! over a NOR flash store.
//!
//! One file per layer, mirroring the host: [`smux`] (the link), [`aboot`] (commands, stages),
//! [`flasher`] (probe, partition table, writes, read-back), with [`nor`] for the flash and
//! [`layout`] for where each profile keeps its firmware and NV data.
//!
//! Faults: `nak-at=N` makes the N-th aboot command (counted over all stages from 1) answer
//! `FAIL`; `flash-id=HEX` is the chip the flasher probes; `drop-at` cuts the link as everywhere.

pub mod aboot;
pub mod firmware;
pub mod flasher;
pub mod layout;
pub mod nor;
pub mod smux;

use std::time::{Duration, Instant};

use self::aboot::{AbootDevice, Effect, REBOOT_DELAY, Stage};
use self::smux::{DeviceLink, Inbound};
use super::Profile;
use super::download::{DownloadContext, DownloadMode, DownloadStep};
use crate::device::Mode;

/// How often the boot ROM sends its heartbeat `~}%H~` (amitv87/asr_aboot:ethos.c: every 300 ms). The simulated
/// ROM starts once HELLO is answered (when the real one starts is not recorded; a heartbeat
/// before the sync would land where amitv87/asr_aboot's detector looks for `UABT`).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(300);

/// An ASR module in AROM download mode.
#[derive(Debug, Clone)]
pub struct AsrDownload {
    link: DeviceLink,
    aboot: AbootDevice,
    heartbeat_due: Option<Instant>,
    reset_at: Option<Instant>,
}

impl AsrDownload {
    /// The boot ROM of `profile`, waiting for the preamble.
    pub fn new(profile: &Profile) -> AsrDownload {
        AsrDownload {
            link: DeviceLink::default(),
            aboot: AbootDevice::new(profile),
            heartbeat_due: None,
            reset_at: None,
        }
    }

    /// The stage that answers.
    pub fn stage(&self) -> Stage {
        self.aboot.stage()
    }
}

impl DownloadMode for AsrDownload {
    fn mode(&self) -> Mode {
        Mode::Arom
    }

    fn start(&mut self, _ctx: &mut DownloadContext<'_>) -> Vec<u8> {
        Vec::new()
    }

    fn feed(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>) -> DownloadStep {
        let mut output = Vec::new();
        let mut inbound = Vec::new();
        self.link.feed(input, &mut output, &mut inbound);
        let mut reset = false;
        for item in inbound {
            match item {
                Inbound::Data(data) => self.aboot.on_data(&data, &self.link, &mut output),
                Inbound::Command(line) => match self.aboot.on_command(&line, &self.link, ctx, &mut output) {
                    Effect::None => {}
                    Effect::NewStage => {
                        self.link.restart();
                        self.heartbeat_due = None;
                    }
                    Effect::RebootLater => self.reset_at = Some(Instant::now() + REBOOT_DELAY),
                    Effect::RebootNow => {
                        reset = true;
                        break;
                    }
                },
            }
        }
        DownloadStep { output, reset, ..DownloadStep::default() }
    }

    fn tick(&mut self, now: Instant, _ctx: &mut DownloadContext<'_>) -> DownloadStep {
        let mut output = Vec::new();
        if self.aboot.stage() == Stage::Rom && self.link.running() {
            match self.heartbeat_due {
                Some(due) if now >= due => {
                    self.link.heartbeat(&mut output);
                    self.heartbeat_due = Some(now + HEARTBEAT_INTERVAL);
                }
                Some(_) => {}
                None => self.heartbeat_due = Some(now + HEARTBEAT_INTERVAL),
            }
        }
        DownloadStep { output, reset: self.reset_at.is_some_and(|t| now >= t), ..DownloadStep::default() }
    }
}
