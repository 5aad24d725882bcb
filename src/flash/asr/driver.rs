//! The ASR platform's [`Driver`]: plans a package from its `download.json`, takes the module
//! to AROM with `AT+QDOWNLOAD=1`, and opens an [`AsrConnection`] on the download port.
//!
//! Entering download mode: `AT+QDOWNLOAD=1` on the AT port (IharRusak/QDloader `main.c` for the
//! EC200S; every QuecPython ASR flow), after which the module re-enumerates as the AROM boot ROM
//! (2ecc:3004 or 2ecc:3017) and the core finds it through discovery. A module that comes back as
//! WTPTP (the ASR1802S/1803S download stack of the EC200T and EC200A) is found too, so the wait
//! ends, but it speaks no aboot: the connection then fails naming the port, rather than fwguard
//! waiting out its bound.

use std::path::Path;
use std::time::{Duration, Instant};

use super::super::driver::{Connection, Driver, DriverError, Layout, NormalModule, StorageInfo};
use super::aboot::{AbootOptions, AbootSession, Timeouts};
use super::connection::AsrConnection;
use super::recipe::FlashRecipe;
use crate::device::{DeviceError, SerialTransport, SessionOptions};
use crate::image::{Inspection, Package};
use crate::platform::{Mode, Platform};

/// The command that sends an ASR module to its download mode.
pub const QDOWNLOAD: &str = "AT+QDOWNLOAD=1";

/// The ASR driver.
#[derive(Debug, Clone, Default)]
pub struct AsrDriver {
    /// The aboot session's waits (aboot-tiny's by default).
    pub options: AbootOptions,
    /// The AT session that sends `AT+QDOWNLOAD=1`.
    pub at: SessionOptions,
}

impl AsrDriver {
    /// The session options bounded by `limit`: no single wait longer, and
    /// [`AbootSession::set_deadline`] bounds them all together.
    fn bounded(&self, limit: Duration) -> AbootOptions {
        let t = &self.options.timeouts;
        let mut link = self.options.link.clone();
        link.stage_start = link.stage_start.min(limit);
        link.step_timeout = link.step_timeout.min(limit);
        AbootOptions {
            link,
            timeouts: Timeouts {
                first: t.first.min(limit),
                reply: t.reply.min(limit),
                after_data: t.after_data.min(limit),
                call: t.call.min(limit),
            },
        }
    }
}

impl Driver for AsrDriver {
    fn platform(&self) -> Platform {
        Platform::Asr
    }

    fn download_modes(&self) -> &'static [Mode] {
        &[Mode::Arom, Mode::Wtptp]
    }

    fn plan(&self, package: &mut dyn Package, _inspection: &Inspection) -> Result<Layout, DriverError> {
        FlashRecipe::read(package)?.layout()
    }

    fn enter_download(&self, module: NormalModule<'_>) -> Result<(), DriverError> {
        let (mut session, port) = module.at_session(&self.at, QDOWNLOAD)?;
        match session.command(QDOWNLOAD) {
            Ok(reply) if reply.result.is_ok() => Ok(()),
            Ok(reply) => Err(DriverError::Device {
                operation: format!("{}: {QDOWNLOAD}", port.display()),
                message: format!("the module answered {} instead of OK", reply.result),
            }),
            // The module may leave before its answer is read: discovery tells.
            Err(DeviceError::Disconnected { .. } | DeviceError::Timeout { .. }) => Ok(()),
            Err(e) => Err(DriverError::platform(e)),
        }
    }

    fn connect(&self, port: &Path, package: &mut dyn Package) -> Result<Box<dyn Connection>, DriverError> {
        let recipe = FlashRecipe::read(package)?;
        let conn = AsrConnection::open(port, package, &recipe, self.options.clone())?;
        Ok(Box::new(conn))
    }

    /// The prelude up to the flash probe, then `reboot`, all within `limit`: what `check` needs
    /// to learn the flash chip. Any package's stages and flash table will do (the probe line is
    /// logged before the table is compared), and nothing is written.
    fn probe_storage(
        &self,
        port: &Path,
        package: &mut dyn Package,
        limit: Duration,
    ) -> Result<StorageInfo, DriverError> {
        let deadline = Instant::now() + limit;
        let recipe = FlashRecipe::read(package)?;
        let io = SerialTransport::open(port, 115_200).map_err(DriverError::platform)?;
        let shown = port.display().to_string();
        let mut session =
            AbootSession::open(Box::new(io), &shown, self.bounded(limit)).map_err(DriverError::platform)?;
        session.set_deadline(Some(deadline));
        let mut conn = AsrConnection::prelude(session, package, &recipe)?;
        let storage = conn.storage().clone();
        conn.reset()?;
        Ok(storage)
    }
}
