//! The Unisoc platform's [`Driver`]: plans a PAC from its download scheme
//! ([`super::scheme::plan`], laid out by [`super::layout`]), takes the module to its download
//! mode with `AT+QDOWNLOAD=1`, and opens a [`UnisocConnection`] on the download port.
//!
//! After `AT+QDOWNLOAD=1` a UIS8910 module re-enumerates as 0525:a4a7 (or 1782:4d00), a UIS8850
//! one as 1782:4d16 ([`super::enter::download_ids`]); the USB table gives all three the
//! `unisoc` mode, which the core waits for through discovery within its bound. Only the UIS8910
//! is flashed: the plan of a UIS8850 package is refused naming what is not recorded about it.

use std::path::Path;

use super::connection::{Plan as ConnectionPlan, UnisocConnection};
use super::enter::QDOWNLOAD;
use super::layout::{Planned, lay_out};
use super::scheme::{self, DownloadPlan};
use super::{Timeouts, package};
use crate::device::{DeviceError, SessionOptions};
use crate::flash::{Connection, Driver, DriverError, Layout, NormalModule};
use crate::identity::{FlashKind, Revision};
use crate::image::pac::PacFile;
use crate::image::{Inspection, Package};
use crate::platform::{Mode, Platform};

/// The Unisoc driver.
#[derive(Debug, Clone, Default)]
pub struct UnisocDriver {
    /// The download sessions' waits.
    pub timeouts: Timeouts,
    /// The AT session that sends `AT+QDOWNLOAD=1`.
    pub at: SessionOptions,
}

/// A package read for a flash: its PAC, the scheme's plan and the layout.
struct Prepared {
    member: String,
    pac: PacFile,
    download: DownloadPlan,
    planned: Planned,
}

/// The NOR flash size the package's memory code names (`M08`: 8 MiB).
fn flash_size(inspection: &Inspection) -> Option<u64> {
    let revision = Revision::parse(inspection.revision.as_deref()?).ok()?;
    let code = revision.memory().filter(|m| m.kind() == FlashKind::Nor)?;
    Some(u64::from(code.size_mib()) << 20)
}

fn read(package: &mut dyn Package, inspection: Option<&Inspection>) -> Result<Prepared, DriverError> {
    let (member, pac) = package::read(package)?;
    let download = scheme::plan(&pac, &member).map_err(DriverError::platform)?;
    let planned = lay_out(&download, &pac, &member, inspection.and_then(flash_size)).map_err(DriverError::platform)?;
    Ok(Prepared { member, pac, download, planned })
}

impl Driver for UnisocDriver {
    fn platform(&self) -> Platform {
        Platform::Unisoc
    }

    fn download_modes(&self) -> &'static [Mode] {
        &[Mode::Unisoc]
    }

    fn plan(&self, package: &mut dyn Package, inspection: &Inspection) -> Result<Layout, DriverError> {
        self.plan_with_notes(package, inspection).map(|(layout, _)| layout)
    }

    fn plan_with_notes(
        &self,
        package: &mut dyn Package,
        inspection: &Inspection,
    ) -> Result<(Layout, Vec<String>), DriverError> {
        let r = read(package, Some(inspection))?;
        Ok((r.planned.layout, r.planned.notes))
    }

    fn enter_download(&self, module: NormalModule<'_>) -> Result<(), DriverError> {
        let (mut session, port) = module.at_session(&self.at, QDOWNLOAD)?;
        match super::enter::request_download_mode(&mut session) {
            Ok(()) => Ok(()),
            // The module may leave before its answer is read: discovery tells.
            Err(DeviceError::Disconnected { .. } | DeviceError::Timeout { .. }) => Ok(()),
            Err(e @ DeviceError::CommandFailed { .. }) => Err(DriverError::Device {
                operation: format!("{}: {QDOWNLOAD}", port.display()),
                message: format!("{e}: the module did not accept the command"),
            }),
            Err(e) => Err(DriverError::platform(e)),
        }
    }

    fn connect(&self, port: &Path, package: &mut dyn Package) -> Result<Box<dyn Connection>, DriverError> {
        let r = read(package, None)?;
        let plan = ConnectionPlan { pac: &r.pac, member: &r.member, download: &r.download, keep: &r.planned.keep };
        let conn = UnisocConnection::open(port, package, &plan, self.timeouts.clone())?;
        Ok(Box::new(conn))
    }
}
