//! The contract between the flashing core and a platform: what a platform folder
//! (`flash/qualcomm/`, `flash/asr/`, `flash/unisoc/`) implements, and nothing the core knows about
//! any protocol.
//!
//! The shape follows probe-rs's flashing (a plan of erase and program steps over regions, made
//! before anything moves: <https://github.com/probe-rs/probe-rs>, `probe-rs/src/flashing/`) and
//! espflash's pluggable reset strategies and digest checks (<https://github.com/esp-rs/espflash>,
//! `espflash/src/connection/reset.rs`, `espflash/src/flasher/mod.rs`):
//!
//! 1. [`Driver::plan`] turns a package into a [`Layout`]: the storage's partitions, the ordered
//!    erase and write steps (each over a [`Region`], a write naming the package bytes it sends),
//!    and what the package says about the storage. It talks to no module.
//! 2. [`Driver::enter_download`] takes a module in normal mode to its download mode (the DIAG
//!    switch, `AT+QDOWNLOAD=1`); the core then finds it again through discovery in one of
//!    [`Driver::download_modes`].
//! 3. [`Driver::connect`] opens a [`Connection`] on the download port: handshake with the boot
//!    ROM, upload of the programmer or loader stages from the package, and what the device says
//!    about itself ([`TargetInfo`]) and its storage ([`StorageInfo`]).
//! 4. The core drives the [`Connection`]: reads protected areas for the backup, erases and
//!    writes the plan's steps, verifies every write by [`Connection::digest`] or a read back,
//!    and resets the module.
//!
//! Every wait inside a driver is bounded by a deadline; every error names what was expected and
//! what came ([`DriverError`]).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::device::{Module, SerialTransport, Session, SessionOptions};
use crate::diagnostic::Diagnostic;
use crate::identity::FlashId;
use crate::image::{Inspection, Package};
use crate::platform::{Mode, Platform};

/// A byte range of the module's storage, named by the partition it belongs to.
///
/// `offset` and `length` are bytes from the start of the storage the platform addresses (for
/// NAND: main area, page by page without spare bytes). A platform whose protocol addresses
/// sectors or pages converts, and refuses a region that is not aligned to them.
///
/// Some loaders also reach areas by a logical address rather than a storage offset (the Unisoc
/// 8910 FDL keeps NV and PhaseCheck in its file systems and reads and writes them at
/// 0xFE000003 and 0xFE000002). Such an area is a [`Region::logical`]: its offset lies at or
/// above [`Region::LOGICAL`], out of every storage's range, so it overlaps no storage region
/// and no other logical area, counts for no storage size, and is shown by its address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Region {
    /// The partition (`sbl`, `modem`, `efs2`, `system`, ...).
    pub partition: String,
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

impl Region {
    /// A region.
    pub fn new(partition: &str, offset: u64, length: u64) -> Region {
        Region { partition: partition.to_string(), offset, length }
    }

    /// Where logical areas start: offsets from here on are `LOGICAL + (address << 24) + offset
    /// into the area`, so every logical address has 16 MiB of room.
    pub const LOGICAL: u64 = 1 << 62;

    /// `length` bytes (at most 16 MiB) of the area a loader reaches at logical `address`.
    pub fn logical(partition: &str, address: u32, length: u64) -> Region {
        Region::new(partition, Region::LOGICAL + (u64::from(address) << 24), length)
    }

    /// The logical address and the offset into its area, for a [`Region::logical`] region.
    pub fn logical_address(&self) -> Option<(u32, u64)> {
        let rel = self.offset.checked_sub(Region::LOGICAL)?;
        Some((u32::try_from(rel >> 24).ok()?, rel & 0xFF_FFFF))
    }

    /// Whether the region is a logical area rather than bytes of the storage.
    pub fn is_logical(&self) -> bool {
        self.offset >= Region::LOGICAL
    }

    /// Where the region starts, for people: `0x5dc0000`, or `logical 0xfe000003`.
    pub fn place(&self) -> String {
        match self.logical_address() {
            Some((address, 0)) => format!("logical {address:#x}"),
            Some((address, offset)) => format!("logical {address:#x}+{offset:#x}"),
            None => format!("{:#x}", self.offset),
        }
    }

    /// One past the last byte (saturating).
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.length)
    }

    /// Whether the two regions share a byte.
    pub fn overlaps(&self, other: &Region) -> bool {
        self.offset < other.end() && other.offset < self.end()
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}, +{:#x})", self.partition, self.place(), self.length)
    }
}

/// Where the bytes of a write come from: `length` bytes of a package member from `offset`,
/// then `pad` up to the region's length (a protocol that programs whole pages or sectors pads
/// the tail).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Source {
    /// The package member, as [`Package::members`] names it.
    pub member: String,
    /// First byte of the member.
    pub offset: u64,
    /// Bytes taken from the member.
    pub length: u64,
    /// The byte that fills the region after them.
    pub pad: u8,
}

/// A change the device makes in place, over bytes the plan wrote before it, with a value the
/// device works out itself (a Qualcomm `<patch>`, whose `NUM_DISK_BLOCKS-n.` or `CRC32(...)` the
/// programmer evaluates on the target). The core journals it, guards its region like any write
/// and hands it back to [`Connection::patch`]; only the platform reads `spec`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct PatchSpec {
    /// What it does, for people and the journal (`mibib: the last partition's length,
    /// NUM_DISK_BLOCKS-1458.`).
    pub what: String,
    /// The platform's own encoding of it (for Qualcomm, the `<patch>` attributes as sent).
    pub spec: String,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepSpec {
    /// Erase the region.
    Erase(Region),
    /// Write the source's bytes (and padding) over the whole region.
    Write(Region, Source),
    /// Have the device change the region in place ([`PatchSpec`]).
    Patch(Region, PatchSpec),
}

impl StepSpec {
    /// The region the step changes.
    pub fn region(&self) -> &Region {
        match self {
            StepSpec::Erase(r) | StepSpec::Write(r, _) | StepSpec::Patch(r, _) => r,
        }
    }
}

/// What the package says about the storage it is laid out for. Empty fields say nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StorageClaim {
    /// NAND page size in bytes.
    pub page_size: Option<u32>,
    /// NAND erase block size in bytes.
    pub block_size: Option<u32>,
    /// The flash chips the package accepts, as hex (`98AC9026`, `204117`).
    pub flash_ids: Vec<String>,
    /// The smallest storage the layout fits in, in bytes.
    pub min_size: Option<u64>,
}

/// A package as a platform lays it out on the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The storage's partitions as the package lays them out, written by the package or not:
    /// the core backs up the protected ones (calibration, NV, IMEI) before the first write.
    pub partitions: Vec<Region>,
    /// The steps, in the order the platform needs them (e.g. on Qualcomm NAND the boot loader
    /// erased first and written last).
    pub steps: Vec<StepSpec>,
    /// What the package says about the storage.
    pub storage: StorageClaim,
}

/// The kind of storage a module has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Raw NAND.
    Nand,
    /// SPI NOR.
    Nor,
    /// eMMC or UFS (managed flash).
    Managed,
}

/// What the boot ROM or programmer reports about the storage. A field is `None` only when the
/// platform's protocol does not report it; a protocol that should report a value and did not
/// is a [`DriverError`], not a `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StorageInfo {
    /// NAND, NOR or managed flash.
    pub kind: Option<StorageKind>,
    /// The chip's id: the NAND id bytes or the SPI JEDEC id, as hex.
    pub flash_id: Option<String>,
    /// NAND page size in bytes.
    pub page_size: Option<u32>,
    /// NAND erase block size in bytes.
    pub block_size: Option<u32>,
    /// Total size in bytes.
    pub total_size: Option<u64>,
}

impl StorageInfo {
    /// The flash id as a [`FlashId`], if reported and well formed.
    pub fn flash_id(&self) -> Option<FlashId> {
        self.flash_id.as_deref().and_then(|h| FlashId::parse(h).ok())
    }
}

/// Who the module says it is in its download mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetInfo {
    /// The chip's serial number from the boot ROM (Sahara's serial, ...), as hex or text.
    pub serial: Option<String>,
    /// A hardware id (Sahara's MSM HW id), as hex.
    pub hw_id: Option<String>,
    /// The OEM public key hash, as hex.
    pub pk_hash: Option<String>,
    /// Free text: programmer or loader versions.
    pub notes: Vec<String>,
}

/// A module in normal mode, as the core hands it to [`Driver::enter_download`].
#[derive(Debug, Clone, Copy)]
pub struct NormalModule<'a> {
    /// Its AT port, when known.
    pub at_port: Option<&'a Path>,
    /// The module as discovery sees it (its ports and their roles, e.g. the DIAG port).
    pub module: Option<&'a Module>,
}

impl<'a> NormalModule<'a> {
    /// An AT session on its AT port (the one given, else the one discovery found), synced, for
    /// `operation` (the command that will switch it to download mode); an error naming the
    /// operation when no AT port is known.
    pub fn at_session(
        &self,
        options: &SessionOptions,
        operation: &str,
    ) -> Result<(Session<SerialTransport>, &'a Path), DriverError> {
        let found = self.module.and_then(|m| m.at_port()).map(|p| p.path.as_path());
        let Some(port) = self.at_port.or(found) else {
            return Err(DriverError::Device {
                operation: operation.into(),
                message: "the module's AT port is not known, so the command cannot be sent".into(),
            });
        };
        let mut session = Session::open(port, options).map_err(DriverError::platform)?;
        session.sync().map_err(DriverError::platform)?;
        Ok((session, port))
    }
}

/// Why a platform operation failed.
#[derive(Debug)]
pub enum DriverError {
    /// The platform's own typed error (a protocol error naming what was expected and what came).
    Platform(Box<dyn Diagnostic>),
    /// Reading or writing the port failed.
    Io {
        /// The port.
        port: String,
        /// What was being done.
        operation: String,
        /// Why.
        source: std::io::Error,
    },
    /// The device refused or answered something else than the protocol allows.
    Device {
        /// What was being done.
        operation: String,
        /// What the device said, and what was expected.
        message: String,
    },
    /// A bounded wait ended.
    Timeout {
        /// What was being done.
        operation: String,
        /// How long.
        waited: Duration,
    },
    /// The package lacks what the platform needs, or its layout cannot be used.
    Package(String),
    /// Reading a package member failed.
    Image(crate::image::ImageError),
}

impl From<crate::image::ImageError> for DriverError {
    fn from(e: crate::image::ImageError) -> DriverError {
        DriverError::Image(e)
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverError::Platform(e) => write!(f, "{e}"),
            DriverError::Io { port, operation, source } => write!(f, "{port}: {operation}: {source}"),
            DriverError::Device { operation, message } => write!(f, "{operation}: {message}"),
            DriverError::Timeout { operation, waited } => {
                write!(f, "{operation}: no answer within {} ms", waited.as_millis())
            }
            DriverError::Package(problem) => f.write_str(problem),
            DriverError::Image(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DriverError::Platform(e) => e.source(),
            DriverError::Io { source, .. } => Some(source),
            DriverError::Image(e) => e.source(),
            _ => None,
        }
    }
}

impl DriverError {
    /// A platform's typed error.
    pub fn platform(e: impl Diagnostic) -> DriverError {
        DriverError::Platform(Box::new(e))
    }
}

impl Diagnostic for DriverError {
    fn code(&self) -> &'static str {
        match self {
            DriverError::Platform(e) => e.code(),
            DriverError::Io { .. } => "fwguard::flash::driver_io",
            DriverError::Device { .. } => "fwguard::flash::device_refused",
            DriverError::Timeout { .. } => "fwguard::flash::device_timeout",
            DriverError::Package(_) => "fwguard::flash::package_layout",
            DriverError::Image(e) => e.code(),
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            DriverError::Platform(e) => return e.hint(),
            DriverError::Io { .. } => "check the cable and that no other program holds the port".into(),
            DriverError::Device { .. } | DriverError::Timeout { .. } => {
                "the device log is in the journal (`fwguard history`); power-cycle the module and run the flash again with --resume".into()
            }
            DriverError::Package(_) => "the package does not fit this platform's flashing: get it again from the vendor".into(),
            DriverError::Image(e) => e.hint().to_string(),
        })
    }
}

/// One platform's flashing support. Implementations live in `src/flash/<platform>/` and are
/// listed in [`super::registry`]; nothing else in the core names them.
pub trait Driver: Send + Sync {
    /// The platform.
    fn platform(&self) -> Platform;

    /// The USB modes the module enumerates in when it is in this platform's download mode.
    fn download_modes(&self) -> &'static [Mode];

    /// Lays the package out: partitions, ordered steps, storage claims. Reads the package (its
    /// rawprogram XML, `download.json`, PAC scheme); talks to no module.
    fn plan(&self, package: &mut dyn Package, inspection: &Inspection) -> Result<Layout, DriverError>;

    /// Takes a module in normal mode into the download mode (espflash's reset strategy). Returns
    /// once the command is sent; the core waits for the module to re-enumerate.
    fn enter_download(&self, module: NormalModule<'_>) -> Result<(), DriverError>;

    /// Opens a session with a module in download mode on `port`: handshake, programmer or
    /// loader upload from the package, storage report.
    fn connect(&self, port: &Path, package: &mut dyn Package) -> Result<Box<dyn Connection>, DriverError>;

    /// Reads what the device reports about its storage (its flash ID above all) and resets the
    /// module, writing nothing: how `fwguard check` learns the flash chip from the boot loader.
    /// Every wait inside ends within `limit`, and a driver leaves the module to reset on a
    /// failure where its protocol still allows it. The default runs [`Driver::connect`] with the
    /// driver's own waits, takes [`Connection::storage`] and resets.
    fn probe_storage(
        &self,
        port: &Path,
        package: &mut dyn Package,
        limit: Duration,
    ) -> Result<StorageInfo, DriverError> {
        let _ = limit;
        let mut conn = self.connect(port, package)?;
        let storage = conn.storage().clone();
        conn.reset()?;
        Ok(storage)
    }

    /// [`Driver::plan`], with what the layout does not show, for the plan: the package's steps
    /// left out and why, what the platform's loader can and cannot report to the gate, how a
    /// write differs from the package's bytes. The core calls this one; the default has no notes.
    fn plan_with_notes(
        &self,
        package: &mut dyn Package,
        inspection: &Inspection,
    ) -> Result<(Layout, Vec<String>), DriverError> {
        Ok((self.plan(package, inspection)?, Vec::new()))
    }
}

/// An open session with a module in its download mode, after the programmer or loader runs.
pub trait Connection {
    /// Who the device says it is.
    fn target(&self) -> &TargetInfo;

    /// What the device reports about its storage.
    fn storage(&self) -> &StorageInfo;

    /// The partitions the device itself records (a partition table read from the module, e.g. the
    /// NAND MIBIB), when the protocol can tell; the core adds the protected ones among them to
    /// the backup and to the areas no step may change without permission. Empty by default.
    fn partitions(&mut self) -> Result<Vec<Region>, DriverError> {
        Ok(Vec::new())
    }

    /// Reads `region` into `out`, calling `progress` with the bytes read so far.
    fn read(&mut self, region: &Region, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<(), DriverError>;

    /// Erases `region`.
    fn erase(&mut self, region: &Region) -> Result<(), DriverError>;

    /// Writes exactly `region.length` bytes from `data` over `region`, calling `progress` with
    /// the bytes sent so far.
    fn write(&mut self, region: &Region, data: &mut dyn Read, progress: &mut dyn FnMut(u64))
    -> Result<(), DriverError>;

    /// The SHA-256 of `region` as the device computes it, when the protocol has such a command
    /// (`Ok(None)` otherwise: the core reads the region back).
    fn digest(&mut self, region: &Region) -> Result<Option<[u8; 32]>, DriverError> {
        let _ = region;
        Ok(None)
    }

    /// Applies a patch step over `region` and checks what the device then holds there (the
    /// core cannot: the device works the value out). Platforms without patch steps keep the
    /// default, which refuses.
    fn patch(&mut self, region: &Region, patch: &PatchSpec) -> Result<(), DriverError> {
        Err(DriverError::Package(format!(
            "this platform has no patch steps, but the plan patches {region} ({})",
            patch.what
        )))
    }

    /// The SHA-256 of what the last [`Connection::write`] over `region` stored, when the platform
    /// stores other bytes than it was given: a write that keeps the module's own items (Unisoc NV
    /// merged with the module's IMEI and calibration), or seals them with a checksum the loader
    /// checks. The core then verifies the region against this instead of the plan's hash of the
    /// package's bytes (which it has checked the driver was given). `Ok(None)`, the default:
    /// the bytes given are stored.
    fn stored_sha256(&mut self, region: &Region) -> Result<Option<[u8; 32]>, DriverError> {
        let _ = region;
        Ok(None)
    }

    /// Resets the module: it boots from its storage (normal mode, when the boot loader is
    /// intact).
    fn reset(&mut self) -> Result<(), DriverError>;

    /// What the device logged since the last call, for the journal.
    fn take_log(&mut self) -> Vec<String> {
        Vec::new()
    }
}
