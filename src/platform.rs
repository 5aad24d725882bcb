//! The chip platforms Quectel modules are built on, and the USB modes a module can be in: one
//! vocabulary for the rules, the USB table, port discovery, package readers, the simulator and
//! the flashing core.
//!
//! The spellings (`qualcomm`, `edl`, ...) are the ones `rules/` and `rules/usb.toml` use, and the
//! ones printed in JSON.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A chip platform: the family of SoCs whose boot ROM and download protocols a module shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Qualcomm MDM/SDX: DIAG switch to emergency download (Sahara, then Firehose).
    Qualcomm,
    /// ASR (Crane and its successors): `AT+QDOWNLOAD=1` to the AROM boot ROM.
    Asr,
    /// Unisoc (UIS8910 and others): `AT+QDOWNLOAD=1` to the ROM download port.
    Unisoc,
    /// Eigencomm (EC618 and others): `AT+QDOWNLOAD=1`.
    Eigencomm,
    /// MediaTek.
    Mediatek,
}

/// The word `rules/` uses for a chipset fwguard has no platform for: a USB-UART bridge in the USB
/// table, or a family on a chip with no flashing path (the family's `chipset` then names it).
pub const OTHER_PLATFORM: &str = "other";

/// Parses a platform as `rules/` spells it: a [`Platform`], or [`OTHER_PLATFORM`] (`Some(None)`).
pub fn parse_usb_platform(text: &str) -> Option<Option<Platform>> {
    if text == OTHER_PLATFORM { Some(None) } else { Platform::parse(text).map(Some) }
}

impl Platform {
    /// Every platform, in a stable order.
    pub const ALL: [Platform; 5] =
        [Platform::Qualcomm, Platform::Asr, Platform::Unisoc, Platform::Eigencomm, Platform::Mediatek];

    /// Parses the lower-case spelling: `qualcomm`, `asr`, `unisoc`, `eigencomm`, `mediatek`.
    pub fn parse(text: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Parses a spelling in any case (`Qualcomm`, `ASR`), as people type it.
    pub fn parse_any_case(text: &str) -> Option<Platform> {
        Platform::parse(&text.trim().to_ascii_lowercase())
    }

    /// The lower-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Qualcomm => "qualcomm",
            Platform::Asr => "asr",
            Platform::Unisoc => "unisoc",
            Platform::Eigencomm => "eigencomm",
            Platform::Mediatek => "mediatek",
        }
    }

    /// Every spelling, joined for messages: `qualcomm, asr, unisoc, eigencomm, mediatek`.
    pub fn names() -> String {
        Platform::ALL.map(Platform::as_str).join(", ")
    }

    /// Whether `AT+QDOWNLOAD=1` takes a module of this platform to its download mode (Qualcomm
    /// modules use the DIAG download command instead).
    pub fn has_qdownload(self) -> bool {
        matches!(self, Platform::Asr | Platform::Unisoc | Platform::Eigencomm)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a module is doing, as its USB id tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Normal mode: AT, DIAG and NMEA ports.
    At,
    /// Qualcomm emergency download (Sahara, then Firehose).
    Edl,
    /// ASR AROM boot ROM download.
    Arom,
    /// Unisoc ROM download (PDL) or SPRD diag.
    Unisoc,
    /// ASR/Marvell WTPTP download.
    Wtptp,
    /// Android fastboot.
    Fastboot,
    /// Qualcomm crash dump.
    Dump,
    /// Eigencomm download.
    Eigencomm,
}

impl Mode {
    /// Every mode, in a stable order.
    pub const ALL: [Mode; 8] =
        [Mode::At, Mode::Edl, Mode::Arom, Mode::Unisoc, Mode::Wtptp, Mode::Fastboot, Mode::Dump, Mode::Eigencomm];

    /// Parses the table's spelling.
    pub fn parse(text: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The table's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::At => "at",
            Mode::Edl => "edl",
            Mode::Arom => "arom",
            Mode::Unisoc => "unisoc",
            Mode::Wtptp => "wtptp",
            Mode::Fastboot => "fastboot",
            Mode::Dump => "dump",
            Mode::Eigencomm => "eigencomm",
        }
    }

    /// Every spelling, joined for messages.
    pub fn names() -> String {
        Mode::ALL.map(Mode::as_str).join(", ")
    }

    /// Whether this is a download (or recovery) mode.
    pub fn is_download(self) -> bool {
        self != Mode::At
    }

    /// The platform whose boot ROM or boot loader this mode belongs to; `None` for normal mode
    /// and for fastboot, which several platforms use.
    pub fn platform(self) -> Option<Platform> {
        match self {
            Mode::Edl | Mode::Dump => Some(Platform::Qualcomm),
            Mode::Arom | Mode::Wtptp => Some(Platform::Asr),
            Mode::Unisoc => Some(Platform::Unisoc),
            Mode::Eigencomm => Some(Platform::Eigencomm),
            Mode::At | Mode::Fastboot => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
            assert_eq!(Platform::parse_any_case(&p.as_str().to_ascii_uppercase()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(Platform::parse("Qualcomm"), None);
        assert_eq!(Platform::parse("other"), None);
        assert_eq!(Mode::parse("EDL"), None);
    }

    #[test]
    fn download_modes_name_their_platform() {
        assert_eq!(Mode::Edl.platform(), Some(Platform::Qualcomm));
        assert_eq!(Mode::Wtptp.platform(), Some(Platform::Asr));
        assert_eq!(Mode::At.platform(), None);
        for m in Mode::ALL.into_iter().filter(|m| m.is_download() && *m != Mode::Fastboot) {
            assert!(m.platform().is_some(), "{m}");
        }
        assert!(Platform::Asr.has_qdownload() && !Platform::Qualcomm.has_qdownload());
    }
}
