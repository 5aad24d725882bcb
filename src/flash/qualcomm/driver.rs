//! The Qualcomm platform for the flashing core: a Quectel NAND package planned from its
//! rawprogram and patch XML ([`super::planner`]), the module sent from normal mode to emergency
//! download by the DIAG switch, and connected through Sahara (command mode for the chip's
//! identity, then the package's programmer) to Firehose ([`super::connection`]).

use std::path::Path;
use std::sync::Mutex;

use super::connection::EdlConnection;
use super::diag::DiagOptions;
use super::edl;
use super::error::QualcommError;
use super::firehose::{FirehoseOptions, FirehoseSession};
use super::link::Link;
use super::planner::{self, MAX_PROGRAMMER};
use super::sahara::{SaharaOptions, SaharaSession};
use crate::device::SerialTransport;
use crate::flash::driver::{Connection, Driver, DriverError, Layout, NormalModule, TargetInfo};
use crate::image::{Inspection, Package};
use crate::platform::{Mode, Platform};

/// Flashes Qualcomm modules (EC2x, EG2x, EG9x, BG96, EM05, EP06 on MDM9x07 NAND).
#[derive(Debug, Default)]
pub struct QualcommDriver {
    /// The DIAG session's bounds.
    pub diag: DiagOptions,
    /// Sahara's bounds.
    pub sahara: SaharaOptions,
    /// Firehose's configuration and bounds.
    pub firehose: FirehoseOptions,
    /// What the module said before the switch (its DIAG build id), for the connection's notes.
    before: Mutex<Vec<String>>,
}

impl QualcommDriver {
    /// A driver with the default bounds.
    pub fn new() -> QualcommDriver {
        QualcommDriver::default()
    }
}

fn platform(e: QualcommError) -> DriverError {
    DriverError::platform(e)
}

impl Driver for QualcommDriver {
    fn platform(&self) -> Platform {
        Platform::Qualcomm
    }

    fn download_modes(&self) -> &'static [Mode] {
        &[Mode::Edl]
    }

    fn plan(&self, package: &mut dyn Package, inspection: &Inspection) -> Result<Layout, DriverError> {
        let planned = planner::plan(package, inspection)?;
        for dropped in &planned.dropped {
            tracing::warn!("{dropped}");
        }
        Ok(planned.layout)
    }

    /// The DIAG port by the USB table's interface layout, the build id, the switch.
    fn enter_download(&self, module: NormalModule<'_>) -> Result<(), DriverError> {
        let Some(found) = module.module else {
            return Err(DriverError::Package(
                "the module was not found through port discovery, so its DIAG port is unknown".into(),
            ));
        };
        let build_id = edl::switch(found, self.diag).map_err(platform)?;
        let note = match build_id {
            Some(b) => format!("DIAG build id before the switch: {} (MSM {:#x})", b.software_revision, b.msm),
            None => "DIAG: no answer to the build-id query; the switch was sent anyway".to_string(),
        };
        if let Ok(mut notes) = self.before.lock() {
            notes.push(note);
        }
        Ok(())
    }

    /// Sahara (command mode, then the package's programmer), Firehose `configure` and
    /// `getstorageinfo`.
    fn connect(&self, port: &Path, package: &mut dyn Package) -> Result<Box<dyn Connection>, DriverError> {
        let files = planner::package_files(package)?;
        let programmer = package.read(&files.programmer, MAX_PROGRAMMER)?;
        let mibib_at = planner::mibib_at(package, &files)?;
        let transport = SerialTransport::open(port, 115_200).map_err(|e| DriverError::Io {
            port: port.display().to_string(),
            operation: "opening the emergency download port".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let mut notes: Vec<String> = self.before.lock().map(|mut n| std::mem::take(&mut *n)).unwrap_or_default();
        let mut sahara = SaharaSession::connect(Link::new(transport), self.sahara).map_err(platform)?;
        let chip = sahara.read_chip_info().map_err(platform)?;
        let upload = sahara.upload(&programmer, &mut |_, _| {}).map_err(platform)?;
        notes.extend(sahara.log().iter().map(|l| format!("sahara: {l}")));
        notes.push(format!(
            "programmer {} ({} bytes) uploaded as image {} in {} requests",
            files.programmer,
            programmer.len(),
            upload.image_id,
            upload.requests
        ));
        let session: FirehoseSession<'static> =
            FirehoseSession::connect(sahara.into_link(), self.firehose.clone()).map_err(platform)?;
        let c = session.config();
        notes.push(format!(
            "firehose: {} version {}, payload {} bytes{}",
            c.memory_name,
            c.version,
            c.max_payload,
            c.target_name.as_ref().map(|t| format!(", target {t}")).unwrap_or_default()
        ));
        let target = TargetInfo {
            serial: chip.serial.map(|s| format!("0x{s:08x}")),
            hw_id: chip.hw_id.map(|h| format!("0x{:016x}", h.as_u64())),
            pk_hash: chip.pk_hash.as_ref().map(|h| h.iter().map(|b| format!("{b:02x}")).collect()),
            notes: notes.clone(),
        };
        let conn = EdlConnection::new(session, target, mibib_at, notes).map_err(platform)?;
        Ok(Box::new(conn))
    }
}
