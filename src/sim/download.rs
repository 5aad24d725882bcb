//! The slot for download modes: one state machine per platform, entered after `AT+QDOWNLOAD=1`
//! (ASR, Unisoc, Eigencomm) or the DIAG download switch (Qualcomm).
//!
//! ASR's AROM is [`super::asr::AsrDownload`], Qualcomm's EDL speaks Sahara and Firehose
//! (`sim::qualcomm::Edl`), the UIS8910 ROM speaks PDL then BSL ([`super::unisoc`]); a mode whose
//! protocol is not simulated yet (WTPTP, ...) gets [`Unimplemented`], which re-enumerates with
//! the right USB id and answers nothing.

use std::time::Instant;

use super::fault::Faults;
use super::profile::{Platform, Profile};
use super::storage::FlashStore;
use crate::device::{Mode, UsbTable};
use crate::identity::FlashId;

/// The Qualcomm DIAG command that resets the module into EDL (`4B 65 01 00`, CRC, `7E`).
pub const DIAG_DOWNLOAD_SWITCH: [u8; 7] = [0x4B, 0x65, 0x01, 0x00, 0x54, 0x0F, 0x7E];

use std::time::Duration;

/// What a download mode can see and change.
pub struct DownloadContext<'a> {
    /// The module.
    pub profile: &'a Profile,
    /// Its flash.
    pub flash: &'a mut FlashStore,
    /// The flash ID the boot loader reports (the profile's, or the `flash-id=` fault's).
    pub flash_id: Option<&'a FlashId>,
    /// Injected faults (`nak-at=N` is for the download protocols).
    pub faults: &'a Faults,
}

/// What a download mode wants after some input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadStep {
    /// Bytes to send.
    pub output: Vec<u8>,
    /// Reset the module: it boots again from its flash (normal mode, if the flash holds a
    /// boot loader).
    pub reset: bool,
    /// How long after `output` the reset happens (a Firehose `<power DelayInSeconds=...>`).
    pub reset_delay: Duration,
    /// The reset comes back in download mode whatever the flash holds (`reset_to_edl`).
    pub reset_to_download: bool,
    /// Bytes to send after a pause: a loaded programmer's banner, once it has started.
    pub later: Option<(Duration, Vec<u8>)>,
}

/// A platform's download protocol, as the simulated module speaks it.
pub trait DownloadMode: Send {
    /// The mode the module re-enumerates in.
    fn mode(&self) -> Mode;
    /// Bytes the mode sends on its own when it starts (a ROM greeting, e.g. a Sahara hello).
    fn start(&mut self, ctx: &mut DownloadContext<'_>) -> Vec<u8>;
    /// Received bytes in, what to do out.
    fn feed(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>) -> DownloadStep;
    /// Called every few milliseconds while the mode runs, for output that time drives (a boot
    /// ROM's heartbeat, a reset some time after `reboot`). The default does nothing.
    fn tick(&mut self, _now: Instant, _ctx: &mut DownloadContext<'_>) -> DownloadStep {
        DownloadStep::default()
    }
}

/// The download mode of `platform`.
pub fn for_platform(platform: Platform) -> Box<dyn DownloadMode> {
    if platform == Platform::Unisoc {
        return Box::new(super::unisoc::Uis8910Download::new());
    }
    let mode = match platform {
        Platform::Qualcomm => return Box::new(super::qualcomm::Edl::default()),
        Platform::Asr => Mode::Arom,
        Platform::Unisoc => Mode::Unisoc,
        Platform::Eigencomm => Mode::Eigencomm,
        // No simulated profile is MediaTek (profiles refuse it): it would stay in normal mode.
        Platform::Mediatek => Mode::At,
    };
    Box::new(Unimplemented { mode })
}

/// The download mode `profile` switches to: the mode the USB table gives its download-mode USB
/// id (an ASR module may come back in AROM or in WTPTP), else its platform's.
pub fn for_profile(profile: &Profile) -> Box<dyn DownloadMode> {
    let listed = profile
        .download_usb
        .and_then(|id| UsbTable::builtin().ok()?.lookup(id.vid, id.pid).map(|e| e.mode))
        .filter(|mode| mode.is_download());
    if profile.platform == Platform::Unisoc && listed.is_none_or(|m| m == Mode::Unisoc) {
        if super::unisoc::simulates(profile) {
            return Box::new(super::unisoc::Uis8910Download::new());
        }
        return Box::new(Unimplemented { mode: Mode::Unisoc });
    }
    match listed.unwrap_or_else(|| for_platform(profile.platform).mode()) {
        Mode::Arom => Box::new(super::asr::AsrDownload::new(profile)),
        Mode::Edl => for_platform(Platform::Qualcomm),
        mode => Box::new(Unimplemented { mode }),
    }
}

/// A download mode whose protocol is not simulated yet: it enumerates and stays silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unimplemented {
    mode: Mode,
}

impl DownloadMode for Unimplemented {
    fn mode(&self) -> Mode {
        self.mode
    }

    fn start(&mut self, _ctx: &mut DownloadContext<'_>) -> Vec<u8> {
        Vec::new()
    }

    fn feed(&mut self, _input: &[u8], _ctx: &mut DownloadContext<'_>) -> DownloadStep {
        DownloadStep::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_has_a_mode() {
        // A platform's mode is one the USB table has download ids of, for that platform.
        let table = UsbTable::builtin().unwrap();
        for platform in crate::sim::profile::SIMULATED_PLATFORMS {
            let mode = for_platform(platform).mode();
            assert!(mode.is_download(), "{platform:?}: {mode}");
            assert!(
                table.entries().iter().any(|e| e.mode == mode && e.platform == Some(platform)),
                "{platform:?}: the USB table has no {mode} id for it"
            );
        }
    }

    #[test]
    fn every_profile_enters_the_mode_of_its_download_id() {
        // The module re-enumerates with its download id; the mode it then speaks must be the one
        // port discovery will read from that id.
        let table = UsbTable::builtin().unwrap();
        for p in crate::sim::profile::builtin().unwrap() {
            let id = p.download_usb.unwrap_or_else(|| panic!("{}: no download_usb", p.name));
            let entry = table.lookup(id.vid, id.pid).unwrap_or_else(|| panic!("{}: {id} not in the table", p.name));
            assert_eq!(entry.platform, Some(p.platform), "{}", p.name);
            assert_eq!(for_profile(p).mode(), entry.mode, "{}", p.name);
        }
    }
}
