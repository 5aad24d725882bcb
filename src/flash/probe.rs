//! Reading what a module's boot loader says about its storage, writing nothing: into the
//! download mode, [`Driver::probe_storage`], and back to normal mode, found again and answering
//! AT. `fwguard check` learns the flash chip this way (DESIGN's "flash ID from the bootloader"),
//! and `fwguard flash` before it judges a package for a family whose variants only the chip
//! tells apart.
//!
//! Every phase is bounded ([`ProbeBounds`]); whatever fails, the module is looked for in normal
//! mode afterwards, and the result says where it was left.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::driver::{Driver, NormalModule, StorageInfo};
use super::error::FlashError;
use super::finder::{Finder, Reidentified};
use crate::image::Package;

/// How long each phase may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeBounds {
    /// From the download command until discovery sees the download port.
    pub download: Duration,
    /// The boot loader session (handshake, stages, probe, reset).
    pub probe: Duration,
    /// From the reset until the module answers AT again.
    pub reboot: Duration,
}

impl Default for ProbeBounds {
    /// 30 s to reach the download mode, 30 s in the boot loader, 60 s to boot and answer AT.
    fn default() -> ProbeBounds {
        ProbeBounds {
            download: Duration::from_secs(30),
            probe: Duration::from_secs(30),
            reboot: Duration::from_secs(60),
        }
    }
}

impl ProbeBounds {
    /// The most the whole read takes (the AT command that starts it aside, bounded by its
    /// session's own timeouts).
    pub fn total(&self) -> Duration {
        self.download + self.probe + self.reboot
    }
}

/// What a read of the storage report did.
#[derive(Debug)]
pub struct StorageRead {
    /// What the boot loader reported, or why nothing was read.
    pub storage: Result<StorageInfo, FlashError>,
    /// The module in normal mode again, or why it was not found there.
    pub back: Result<Reidentified, FlashError>,
    /// The download port the boot loader spoke on, once found.
    pub download_port: Option<PathBuf>,
    /// How long it all took.
    pub elapsed: Duration,
}

/// Takes the module in normal mode to its download mode, reads the storage report with
/// `package`'s boot-loader stages, and waits for it to answer AT again.
pub fn read_storage(
    driver: &dyn Driver,
    module: NormalModule<'_>,
    finder: &mut dyn Finder,
    package: &mut dyn Package,
    bounds: &ProbeBounds,
) -> StorageRead {
    let started = Instant::now();
    let mut download_port = None;
    let storage = (|| {
        driver
            .enter_download(module)
            .map_err(|source| FlashError::Driver { operation: "entering the download mode".into(), source })?;
        let port = finder.download_port(driver.download_modes(), bounds.download)?;
        download_port = Some(port.clone());
        driver.probe_storage(&port, package, bounds.probe).map_err(|source| FlashError::Driver {
            operation: format!("reading the storage report on {}", port.display()),
            source,
        })
    })();
    let back = finder.reidentify(bounds.reboot);
    StorageRead { storage, back, download_port, elapsed: started.elapsed() }
}
