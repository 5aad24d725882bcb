//! What the simulated module has installed in its flash, and what it boots into: a hook per
//! platform, so that a new `--state` flash holds the profile's firmware (not blank bytes) and a
//! reset boots from whatever the flash holds now.
//!
//! Each platform implements [`SimFirmware`] in its own folder (Qualcomm:
//! `sim::qualcomm::QualcommFirmware`, ASR: `sim::asr::firmware::AsrFirmware`, Unisoc:
//! `sim::unisoc::UnisocFirmware`); [`for_platform`] picks it. A platform without one yet
//! installs nothing and always boots normally with the profile's revision.

use std::io;

use super::profile::{Platform, Profile};
use super::storage::FlashStore;

/// What the module comes up in after a power-on or reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// Normal mode, running this full revision (what `AT+QGMR` reports).
    Normal {
        /// The revision found in the flash.
        revision: String,
    },
    /// The boot loader is gone or damaged: the boot ROM's download mode.
    Download {
        /// Why (for the simulator's log).
        reason: String,
    },
}

/// A platform's installed firmware, as the simulator models it.
pub trait SimFirmware: Send + Sync {
    /// Writes the profile's installed firmware into a new (erased) flash: at least the boot
    /// loader, the revision in plain text in the firmware partition, and calibration/NV bytes
    /// derived from the IMEI in the protected areas.
    fn preload(&self, profile: &Profile, store: &mut FlashStore) -> io::Result<()>;

    /// What the module boots into from `store`.
    fn boot(&self, profile: &Profile, store: &FlashStore) -> Boot;
}

/// The firmware model of `platform`.
pub fn for_platform(platform: Platform) -> Box<dyn SimFirmware> {
    match platform {
        Platform::Qualcomm => Box::new(super::qualcomm::QualcommFirmware),
        Platform::Asr => Box::new(super::asr::firmware::AsrFirmware),
        Platform::Unisoc => Box::new(super::unisoc::UnisocFirmware),
        _ => Box::new(NotModelled),
    }
}

/// A platform whose flash contents are not modelled yet: nothing is installed, and the module
/// always boots normally with its profile's revision.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotModelled;

impl SimFirmware for NotModelled {
    fn preload(&self, _profile: &Profile, _store: &mut FlashStore) -> io::Result<()> {
        Ok(())
    }

    fn boot(&self, profile: &Profile, _store: &FlashStore) -> Boot {
        Boot::Normal { revision: profile.revision.clone() }
    }
}

/// The first full revision of `product` (`EC200UCNAA`) in `len` bytes of `store` from `start`:
/// a run of letters, digits, `_` and `.` that starts with the product and parses as a revision
/// of it. Real firmware images carry their revision in plain text, and the fixture builders put
/// it there; this is how a simulated module finds the build it runs.
pub fn revision_in(store: &FlashStore, start: u64, len: u64, product: &str) -> Option<String> {
    const WINDOW: u64 = 1 << 20;
    const OVERLAP: u64 = 256;
    let needle = product.as_bytes();
    let mut offset = 0;
    while offset < len {
        let n = WINDOW.min(len - offset);
        let chunk = store.read(start + offset, usize::try_from(n).ok()?).ok()?;
        for at in chunk.windows(needle.len().max(1)).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i) {
            let token: String = chunk[at..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
                .map(|b| char::from(*b))
                .collect();
            if crate::identity::Revision::parse(&token).is_ok_and(|r| r.product() == product) {
                return Some(token);
            }
        }
        if n < WINDOW {
            break;
        }
        offset += n - OVERLAP;
    }
    None
}
