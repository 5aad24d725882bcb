//! A UIS8910 module in its download mode as the flashing core drives it ([`Connection`]): the
//! boot stages run on connect (PDL to FDL1, FDL1 to FDL2), then FDL2's READ_FLASH, ERASE_FLASH,
//! START/MIDST/END_DATA and NORMAL_RESET over the regions of [`super::layout`].
//!
//! What the module shows on connect, for the gate and the journal:
//! - the flash's extent (where reads at 0x60000000 stop being answered): the total size; the
//!   8910 FDL has no flash-id query, so no flash id;
//! - PhaseCheck (0xFE000002): its serial number `SN1` is the module's serial, which ties a
//!   resumed flash to the module also when it can only be reached in its download mode;
//! - NV (0xFE000003): the length of the module's own NV image, reported as a partition so the
//!   core backs it all up.
//!
//! NV is written merged: the package's image with the module's items kept (read fresh from the
//! module just before), sealed as the FDL checks; [`Connection::stored_sha256`] says what was
//! stored so the core verifies that.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::flash::progress::CountingWriter;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::UnisocError;
use super::fdl::{Fdl2Session, FlashExtent};
use super::layout::{LOGICAL_MAX, Place, place};
use super::scheme::{DownloadPlan, MAX_NV};
use super::wire::check::seal_nv;
use super::wire::payload::{LOGICAL_NV, LOGICAL_PHASECHECK, NOR_BASE_8910, PHASECHECK_SIZE, READ_CHUNK};
use super::{Loader, Timeouts, nv};
use crate::device::{SerialTransport, Transport};
use crate::flash::{Connection, DriverError, Region, StorageInfo, StorageKind, TargetInfo};
use crate::image::Package;
use crate::image::pac::PacFile;

/// An open FDL2 session on a UIS8910 module.
pub struct UnisocConnection {
    fdl2: Option<Fdl2Session<'static>>,
    port: String,
    target: TargetInfo,
    storage: StorageInfo,
    keep: Vec<u16>,
    nv_len: Option<u64>,
    stored: HashMap<Region, [u8; 32]>,
    log_seen: usize,
}

impl std::fmt::Debug for UnisocConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnisocConnection")
            .field("port", &self.port)
            .field("target", &self.target)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

fn platform(e: UnisocError) -> DriverError {
    DriverError::platform(e)
}

/// What the connection needs from the package besides the loaders.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The PAC as read.
    pub pac: &'a PacFile,
    /// Its member in the package.
    pub member: &'a str,
    /// The scheme's plan (loaders and chip).
    pub download: &'a DownloadPlan,
    /// The NV items an NV write keeps.
    pub keep: &'a [u16],
}

impl UnisocConnection {
    /// Opens `port` and runs the boot stages with the package's loaders.
    pub fn open(
        port: &Path,
        package: &mut dyn Package,
        plan: &Plan<'_>,
        timeouts: Timeouts,
    ) -> Result<UnisocConnection, DriverError> {
        let io = SerialTransport::open(port, 115_200).map_err(DriverError::platform)?;
        UnisocConnection::over(Box::new(io), &port.display().to_string(), package, plan, timeouts)
    }

    /// Runs the boot stages over any transport (a test's in-process module), then reads what
    /// the module shows about itself. A failure after FDL2 runs sends NORMAL_RESET while the link
    /// works, so the module boots its old firmware.
    pub fn over(
        io: Box<dyn Transport>,
        port: &str,
        package: &mut dyn Package,
        plan: &Plan<'_>,
        timeouts: Timeouts,
    ) -> Result<UnisocConnection, DriverError> {
        let pac = plan.pac;
        let entry = |i: usize| {
            pac.entries.get(i).ok_or_else(|| DriverError::Package(format!("{}: no file entry {i}", plan.member)))
        };
        let (fdl1, fdl2) = (entry(plan.download.fdl1.entry)?, entry(plan.download.fdl2.entry)?);
        let mut fdl1_bytes = Vec::with_capacity(usize::try_from(fdl1.size).unwrap_or(0));
        package.stream_member(plan.member, fdl1.offset, &mut |_, r| {
            r.take(fdl1.size).read_to_end(&mut fdl1_bytes).map(drop).map_err(|e| read_failure(plan.member, e))
        })?;
        let d = plan.download;
        let mut io = Some(io);
        let mut booted = None;
        // FDL2 is streamed from the package as it is sent.
        package.stream_member(plan.member, fdl2.offset, &mut |_, r| {
            let Some(io) = io.take() else { return Ok(()) };
            let mut fdl2_data = r.take(fdl2.size);
            booted = Some(super::connect(
                Owned(io),
                d.chip,
                timeouts.clone(),
                Loader { address: d.fdl1.address, len: d.fdl1.len, data: &mut fdl1_bytes.as_slice() },
                Loader { address: d.fdl2.address, len: d.fdl2.len, data: &mut fdl2_data },
                &mut |_, _| {},
            ));
            Ok(())
        })?;
        let fdl2 = booted
            .ok_or_else(|| DriverError::Package(format!("{}: FDL2 could not be read", plan.member)))?
            .map_err(platform)?;
        let mut conn = UnisocConnection {
            fdl2: Some(fdl2),
            port: port.to_string(),
            target: TargetInfo::default(),
            storage: StorageInfo { kind: Some(StorageKind::Nor), ..StorageInfo::default() },
            keep: plan.keep.to_vec(),
            nv_len: None,
            stored: HashMap::new(),
            log_seen: 0,
        };
        match conn.survey() {
            Ok(()) => Ok(conn),
            Err(e) => {
                if !e.is_link_failure()
                    && let Some(fdl2) = conn.fdl2.take()
                {
                    let _ = fdl2.normal_reset();
                }
                Err(platform(e))
            }
        }
    }

    fn session(&mut self) -> Result<&mut Fdl2Session<'static>, DriverError> {
        let port = self.port.clone();
        self.fdl2.as_mut().ok_or_else(|| DriverError::Device {
            operation: format!("{port}: FDL2"),
            message: "the module was reset: the session is over".into(),
        })
    }

    /// What the module shows about itself: the flash's extent, the PhaseCheck serial, the
    /// length of its NV image.
    fn survey(&mut self) -> Result<(), UnisocError> {
        let fdl2 = self
            .fdl2
            .as_mut()
            .ok_or_else(|| UnisocError::Invalid { what: "FDL2".into(), detail: "the session is over".into() })?;
        let report = fdl2.storage(NOR_BASE_8910)?;
        let mut notes = vec!["UIS8910: ROM (PDL) loaded FDL1, FDL1 loaded FDL2 (BSL)".to_string()];
        match report.extent {
            FlashExtent::Ends(size) => {
                self.storage.total_size = Some(size);
                notes.push(format!(
                    "flash: reads at {NOR_BASE_8910:#x} end after {size:#x} bytes; the loader has no flash-id query, so \
                     the chip is not identified"
                ));
            }
            FlashExtent::Unknown(why) => {
                notes.push(format!("flash: its size is not shown ({why}); the loader has no flash-id query"));
            }
        }
        let mut pc = Vec::with_capacity(PHASECHECK_SIZE as usize);
        fdl2.read(LOGICAL_PHASECHECK, 0, PHASECHECK_SIZE, &mut pc, &mut |_, _| {})?;
        match phasecheck_serial(&pc) {
            Some(sn) => {
                notes.push(format!("PhaseCheck serial number {sn} (SN1), the module's serial here"));
                self.target.serial = Some(sn);
            }
            None => notes.push("PhaseCheck holds no serial number (SN1): the module has no serial here".into()),
        }
        let nv_len = module_nv_len(fdl2)?;
        notes.push(format!("NV: the module's image is {nv_len} bytes"));
        self.nv_len = Some(nv_len);
        self.target.notes = notes;
        Ok(())
    }
}

/// A boxed transport as an owned one, so the sessions it is handed to live as long as the
/// connection.
struct Owned(Box<dyn Transport>);

impl Transport for Owned {
    fn read_within(&mut self, buf: &mut [u8], timeout: std::time::Duration) -> std::io::Result<usize> {
        self.0.read_within(buf, timeout)
    }
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.send(bytes)
    }
    fn write_within(&mut self, bytes: &[u8], timeout: std::time::Duration) -> std::io::Result<usize> {
        self.0.write_within(bytes, timeout)
    }
}

fn read_failure(member: &str, e: std::io::Error) -> crate::image::ImageError {
    crate::image::ImageError::Io { path: member.to_string(), source: e }
}

/// The serial number PhaseCheck holds: `SN1`, the 24 bytes after the 4-byte magic (`SP09`,
/// `SP05`, ...: amitv87/unisoc_dloader's `SP09_PHASE_CHECK_T`), up to its NUL, when it is
/// printable text.
pub fn phasecheck_serial(pc: &[u8]) -> Option<String> {
    if pc.len() < 28 || &pc[..2] != b"SP" || !pc[2..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let field = &pc[4..28];
    let text = &field[..field.iter().position(|b| *b == 0).unwrap_or(field.len())];
    let ok = !text.is_empty() && text.iter().all(|b| b.is_ascii_graphic());
    ok.then(|| String::from_utf8_lossy(text).into_owned())
}

/// The length of the module's NV image: read in READ_FLASH chunks until the image's end shows
/// (its end marker, or a multi-core index), at most [`MAX_NV`] bytes.
fn module_nv_len(fdl2: &mut Fdl2Session<'_>) -> Result<u64, UnisocError> {
    let mut image = Vec::new();
    while (image.len() as u64) < MAX_NV {
        let at = image.len() as u32;
        let n = (MAX_NV - image.len() as u64).min(READ_CHUNK as u64) as u32;
        fdl2.read(LOGICAL_NV, at, n, &mut image, &mut |_, _| {})?;
        if let Some(len) = nv::image_len(&image) {
            return Ok(len as u64);
        }
    }
    Err(UnisocError::Garbled {
        during: "reading the module's NV (0xFE000003)".into(),
        detail: format!("no NV item image ends within the first {MAX_NV} bytes"),
    })
}

impl UnisocConnection {
    /// The 32-bit length of `region`, or why not.
    fn length(region: &Region) -> Result<u32, DriverError> {
        u32::try_from(region.length).map_err(|_| {
            platform(UnisocError::Invalid { what: region.to_string(), detail: "longer than a 32-bit length".into() })
        })
    }

    /// Writes NV: the package's image (`data`, the region's length) merged with the module's
    /// items, sealed; remembers what was stored.
    fn write_nv(
        &mut self,
        region: &Region,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DriverError> {
        let mut image = Vec::with_capacity(usize::try_from(region.length).unwrap_or(0));
        data.take(region.length)
            .read_to_end(&mut image)
            .map_err(|e| platform(UnisocError::Source { what: format!("NV for {region}"), detail: e.to_string() }))?;
        if image.len() as u64 != region.length || region.length > MAX_NV.min(LOGICAL_MAX) {
            return Err(platform(UnisocError::Invalid {
                what: format!("NV for {region}"),
                detail: format!("{} bytes given; {} expected, at most {MAX_NV}", image.len(), region.length),
            }));
        }
        let module_len = self.nv_len.unwrap_or(region.length).max(1) as u32;
        let keep = self.keep.clone();
        let fdl2 = self.session()?;
        // The module's NV as it is now (also on a resumed flash), never a copy from earlier.
        let mut module = Vec::with_capacity(module_len as usize);
        fdl2.read(LOGICAL_NV, 0, module_len, &mut module, &mut |_, _| {}).map_err(platform)?;
        let kept = nv::merge(&module, &mut image, &keep).map_err(|e| {
            platform(UnisocError::Invalid {
                what: format!("keeping the module's NV items {keep:x?} in the package's NV"),
                detail: e.to_string(),
            })
        })?;
        let mut sealed = image.clone();
        seal_nv(&mut sealed);
        let total = region.length;
        fdl2.write_nv(LOGICAL_NV, image, &mut |done, _| progress(done.min(total))).map_err(platform)?;
        fdl2.bsl().note(format!("FDL2: NV written, the module's items {kept:x?} kept"));
        self.stored.insert(region.clone(), Sha256::digest(&sealed).into());
        Ok(())
    }
}

impl Connection for UnisocConnection {
    fn target(&self) -> &TargetInfo {
        &self.target
    }

    fn storage(&self) -> &StorageInfo {
        &self.storage
    }

    /// PhaseCheck and the module's own NV image, at their lengths on this module.
    fn partitions(&mut self) -> Result<Vec<Region>, DriverError> {
        let mut out = vec![Region::logical("PhaseCheck", LOGICAL_PHASECHECK, u64::from(PHASECHECK_SIZE))];
        if let Some(len) = self.nv_len {
            out.push(Region::logical("NV", LOGICAL_NV, len));
        }
        Ok(out)
    }

    fn read(&mut self, region: &Region, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<(), DriverError> {
        let len = Self::length(region)?;
        let (address, offset) = match place(region).map_err(platform)? {
            Place::Flash(address) => (address, 0),
            Place::Logical { address, offset } => (address, offset),
        };
        let mut counted = CountingWriter::new(out, progress);
        self.session()?.read(address, offset, len, &mut counted, &mut |_, _| {}).map_err(platform)
    }

    fn erase(&mut self, region: &Region) -> Result<(), DriverError> {
        let len = Self::length(region)?;
        match place(region).map_err(platform)? {
            Place::Flash(address) => self.session()?.erase(address, len).map_err(platform),
            Place::Logical { address, .. } => Err(platform(UnisocError::NotSupported {
                what: format!("erasing logical address {address:#x} ({region})"),
            })),
        }
    }

    fn write(
        &mut self,
        region: &Region,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DriverError> {
        let len = Self::length(region)?;
        self.stored.remove(region);
        match place(region).map_err(platform)? {
            Place::Logical { address: LOGICAL_NV, offset: 0 } => self.write_nv(region, data, progress),
            Place::Logical { address: LOGICAL_PHASECHECK, offset: 0 } | Place::Flash(_) => {
                let address = match place(region).map_err(platform)? {
                    Place::Flash(a) => a,
                    _ => LOGICAL_PHASECHECK,
                };
                let what = region.partition.clone();
                let fdl2 = self.session()?;
                fdl2.write(address, data, len, &what, &mut |done, _| progress(done)).map_err(platform)
            }
            Place::Logical { address, offset } => Err(platform(UnisocError::NotSupported {
                what: format!("writing logical address {address:#x}+{offset:#x} ({region})"),
            })),
        }
    }

    fn stored_sha256(&mut self, region: &Region) -> Result<Option<[u8; 32]>, DriverError> {
        Ok(self.stored.get(region).copied())
    }

    fn reset(&mut self) -> Result<(), DriverError> {
        let fdl2 = self.fdl2.take().ok_or_else(|| DriverError::Device {
            operation: format!("{}: NORMAL_RESET", self.port),
            message: "the module was reset already".into(),
        })?;
        fdl2.normal_reset().map(drop).map_err(platform)
    }

    fn take_log(&mut self) -> Vec<String> {
        let Some(fdl2) = self.fdl2.as_ref() else {
            return Vec::new();
        };
        let log = fdl2.log();
        let new = log.get(self.log_seen..).unwrap_or_default().to_vec();
        self.log_seen = log.len();
        new
    }
}
