//! An in-process test driver, like probe-rs's fake probe and qdl's simulated device: a module
//! with storage (NAND-like: a write needs erased bytes), a flash id and a serial, that can be
//! told to fail any operation, cut a write short or corrupt what it stores. The fake finder
//! "boots" it from its storage: into its download mode when the boot loader region is erased,
//! else into normal mode with the revision written after `REV=` in its storage.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::driver::{
    Connection, Driver, DriverError, Layout, NormalModule, Region, Source, StepSpec, StorageClaim, StorageInfo,
    StorageKind, TargetInfo,
};
use super::error::FlashError;
use super::finder::{Finder, Reidentified};
use crate::image::{Inspection, Package};
use crate::platform::{Mode, Platform};

/// An operation of the fake device, for failure injection and the operation log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Enter,
    Connect,
    Read,
    Erase,
    Write,
    Reset,
}

/// A failure to inject: the `nth` (from 1) operation `op` fails, after `after_bytes` for a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub op: Op,
    pub nth: usize,
    pub after_bytes: u64,
}

pub const KIB: u64 = 1024;
/// The fake storage map (bytes): sbl, efs2 (calibration), modem, system.
pub const SBL: (u64, u64) = (0, 256 * KIB);
pub const EFS2: (u64, u64) = (256 * KIB, 512 * KIB);
pub const MODEM: (u64, u64) = (768 * KIB, 512 * KIB);
pub const SYSTEM: (u64, u64) = (1280 * KIB, 768 * KIB);
pub const STORAGE: usize = 4 << 20;

/// Called before each erase and write with its description.
pub type Probe = Box<dyn FnMut(&str) + Send>;

/// The fake module.
pub struct FakeDevice {
    pub storage: Vec<u8>,
    pub mode: Mode,
    pub imei: String,
    pub serial: String,
    pub info: StorageInfo,
    pub digest: bool,
    pub failures: Vec<Failure>,
    /// The `nth` write (from 1) stores one byte flipped.
    pub corrupt_write: Option<usize>,
    pub ops: Vec<String>,
    /// The partition table the device reports after connect.
    pub partitions: Vec<Region>,
    counts: Vec<(Op, usize)>,
    /// Called before each erase and write with its description.
    pub probe: Option<Probe>,
}

impl FakeDevice {
    /// A module in normal mode with `revision` installed and calibration derived from `imei`.
    pub fn new(revision: &str, imei: &str) -> FakeDevice {
        let mut storage = vec![0xFF; STORAGE];
        fill(&mut storage, SBL, 0x51);
        let cal: Vec<u8> = imei.bytes().cycle().take(EFS2.1 as usize).collect();
        storage[EFS2.0 as usize..(EFS2.0 + EFS2.1) as usize].copy_from_slice(&cal);
        fill(&mut storage, MODEM, 0x3C);
        let text = format!("REV={revision}\n");
        storage[MODEM.0 as usize..MODEM.0 as usize + text.len()].copy_from_slice(text.as_bytes());
        fill(&mut storage, SYSTEM, 0x77);
        FakeDevice {
            storage,
            mode: Mode::At,
            imei: imei.into(),
            serial: "0x0c1e5e2d".into(),
            info: StorageInfo {
                kind: Some(StorageKind::Nand),
                flash_id: Some("98AC9026".into()),
                page_size: Some(4096),
                block_size: Some(256 * 1024),
                total_size: Some(512 << 20),
            },
            digest: false,
            failures: Vec::new(),
            corrupt_write: None,
            ops: Vec::new(),
            partitions: Vec::new(),
            counts: Vec::new(),
            probe: None,
        }
    }

    fn hit(&mut self, op: Op) -> Option<Failure> {
        let n = match self.counts.iter_mut().find(|(o, _)| *o == op) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((op, 1));
                1
            }
        };
        self.failures.iter().find(|f| f.op == op && f.nth == n).copied()
    }

    fn range(&self, r: &Region) -> Result<std::ops::Range<usize>, DriverError> {
        let end = r.offset + r.length;
        if end > self.storage.len() as u64 {
            return Err(DriverError::Device { operation: format!("{r}"), message: "past the end of storage".into() });
        }
        Ok(r.offset as usize..end as usize)
    }

    /// Boots from storage: the revision after `REV=`, or download mode when the boot loader is
    /// erased.
    pub fn boot(&mut self) -> Mode {
        let sbl = &self.storage[SBL.0 as usize..(SBL.0 + SBL.1) as usize];
        self.mode = if sbl.iter().all(|b| *b == 0xFF) { Mode::Edl } else { Mode::At };
        self.mode
    }

    /// The revision the firmware in storage reports.
    pub fn revision(&self) -> String {
        let hay = &self.storage;
        let at = hay.windows(4).position(|w| w == b"REV=");
        at.map(|i| {
            let rest = &hay[i + 4..];
            let end = rest.iter().position(|b| *b == b'\n' || *b == 0 || *b == 0xFF).unwrap_or(0);
            String::from_utf8_lossy(&rest[..end]).into_owned()
        })
        .unwrap_or_else(|| "unknown".into())
    }
}

fn fill(storage: &mut [u8], (offset, len): (u64, u64), byte: u8) {
    storage[offset as usize..(offset + len) as usize].fill(byte);
}

fn lost(op: &str) -> DriverError {
    DriverError::Io {
        port: "/fake/edl".into(),
        operation: op.into(),
        source: std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the link went away"),
    }
}

pub type Shared = Arc<Mutex<FakeDevice>>;

/// The fake platform's driver: a fixed layout over members of an EC25-style package.
pub struct FakeDriver {
    pub device: Shared,
    /// Also write `update/efs2.mbn` over the calibration area.
    pub write_calibration: bool,
}

/// The package members the fake layout writes.
pub const SBL_FILE: &str = "update/sbl1.mbn";
pub const MODEM_FILE: &str = "update/NON-HLOS.ubi";
pub const REV_FILE: &str = "update/fake-revision.txt";
pub const SYSTEM_FILE: &str = "update/mdm9607-perf-sysfs.ubi";

fn member(package: &dyn Package, suffix: &str) -> Result<(String, u64), DriverError> {
    package
        .members()
        .iter()
        .find(|m| m.path.ends_with(suffix))
        .map(|m| (m.path.clone(), m.size))
        .ok_or_else(|| DriverError::Package(format!("no {suffix} in the package")))
}

impl Driver for FakeDriver {
    fn platform(&self) -> Platform {
        Platform::Qualcomm
    }

    fn download_modes(&self) -> &'static [Mode] {
        &[Mode::Edl]
    }

    fn plan(&self, package: &mut dyn Package, _: &Inspection) -> Result<Layout, DriverError> {
        let region = |name: &str, (o, l): (u64, u64)| Region::new(name, o, l);
        let write = |name: &str, at: u64, len: u64, suffix: &str| -> Result<StepSpec, DriverError> {
            let (path, size) = member(package, suffix)?;
            Ok(StepSpec::Write(Region::new(name, at, len), Source { member: path, offset: 0, length: size, pad: 0xFF }))
        };
        let mut steps = vec![
            StepSpec::Erase(region("sbl", SBL)),
            StepSpec::Erase(region("modem", MODEM)),
            write("modem", MODEM.0, 64 * KIB, MODEM_FILE)?,
            write("modem", MODEM.0 + 256 * KIB, 4 * KIB, REV_FILE)?,
            StepSpec::Erase(region("system", SYSTEM)),
            write("system", SYSTEM.0, 64 * KIB, SYSTEM_FILE)?,
        ];
        if self.write_calibration {
            steps.push(StepSpec::Erase(region("efs2", EFS2)));
            steps.push(write("efs2", EFS2.0, 4 * KIB, "update/efs2.mbn")?);
        }
        steps.push(write("sbl", SBL.0, 64 * KIB, SBL_FILE)?);
        Ok(Layout {
            partitions: vec![
                region("sbl", SBL),
                region("efs2", EFS2),
                region("modem", MODEM),
                region("system", SYSTEM),
            ],
            steps,
            storage: StorageClaim::default(),
        })
    }

    fn enter_download(&self, _: NormalModule<'_>) -> Result<(), DriverError> {
        let mut d = self.device.lock().unwrap();
        d.ops.push("enter".into());
        if d.hit(Op::Enter).is_some() {
            return Err(lost("enter"));
        }
        d.mode = Mode::Edl;
        Ok(())
    }

    fn connect(&self, port: &Path, _: &mut dyn Package) -> Result<Box<dyn Connection>, DriverError> {
        let mut d = self.device.lock().unwrap();
        d.ops.push(format!("connect {}", port.display()));
        if d.hit(Op::Connect).is_some() {
            return Err(lost("connect"));
        }
        let target = TargetInfo { serial: Some(d.serial.clone()), ..TargetInfo::default() };
        let info = d.info.clone();
        Ok(Box::new(FakeConnection { device: Arc::clone(&self.device), target, info }))
    }
}

/// A session with the fake device in its download mode.
pub struct FakeConnection {
    device: Shared,
    target: TargetInfo,
    info: StorageInfo,
}

impl Connection for FakeConnection {
    fn target(&self) -> &TargetInfo {
        &self.target
    }

    fn storage(&self) -> &StorageInfo {
        &self.info
    }

    fn partitions(&mut self) -> Result<Vec<Region>, DriverError> {
        Ok(self.device.lock().unwrap().partitions.clone())
    }

    fn read(&mut self, region: &Region, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<(), DriverError> {
        let mut d = self.device.lock().unwrap();
        d.ops.push(format!("read {region}"));
        if d.hit(Op::Read).is_some() {
            return Err(lost("read"));
        }
        let range = d.range(region)?;
        for (i, chunk) in d.storage[range].chunks(16 * 1024).enumerate() {
            out.write_all(chunk).map_err(|e| DriverError::Io {
                port: "out".into(),
                operation: "read".into(),
                source: e,
            })?;
            progress(((i * 16 * 1024) + chunk.len()) as u64);
        }
        Ok(())
    }

    fn erase(&mut self, region: &Region) -> Result<(), DriverError> {
        let mut d = self.device.lock().unwrap();
        let what = format!("erase {region}");
        if let Some(p) = d.probe.as_mut() {
            p(&what);
        }
        d.ops.push(what);
        if d.hit(Op::Erase).is_some() {
            return Err(lost("erase"));
        }
        let range = d.range(region)?;
        d.storage[range].fill(0xFF);
        Ok(())
    }

    fn write(
        &mut self,
        region: &Region,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DriverError> {
        let mut d = self.device.lock().unwrap();
        let what = format!("write {region}");
        if let Some(p) = d.probe.as_mut() {
            p(&what);
        }
        d.ops.push(what.clone());
        let failure = d.hit(Op::Write);
        let nth = d.counts.iter().find(|(o, _)| *o == Op::Write).map(|(_, n)| *n).unwrap_or(0);
        let range = d.range(region)?;
        let mut buf = Vec::new();
        data.take(region.length + 1).read_to_end(&mut buf).map_err(|e| DriverError::Io {
            port: "in".into(),
            operation: "write".into(),
            source: e,
        })?;
        if buf.len() as u64 != region.length {
            return Err(DriverError::Device {
                operation: what,
                message: format!("{} bytes sent for a {}-byte region", buf.len(), region.length),
            });
        }
        let stop = failure.map_or(buf.len(), |f| (f.after_bytes as usize).min(buf.len()));
        for (i, b) in buf[..stop].iter().enumerate() {
            let at = range.start + i;
            if d.storage[at] != 0xFF && *b != 0xFF {
                return Err(DriverError::Device {
                    operation: what,
                    message: format!("programming byte {at:#x}, which is not erased"),
                });
            }
            d.storage[at] = *b;
        }
        progress(stop as u64);
        if failure.is_some() {
            return Err(lost("write"));
        }
        if d.corrupt_write == Some(nth) {
            d.storage[range.start + 7] ^= 0x01;
        }
        Ok(())
    }

    fn digest(&mut self, region: &Region) -> Result<Option<[u8; 32]>, DriverError> {
        let d = self.device.lock().unwrap();
        if !d.digest {
            return Ok(None);
        }
        let range = d.range(region)?;
        Ok(Some(<sha2::Sha256 as sha2::Digest>::digest(&d.storage[range]).into()))
    }

    fn reset(&mut self) -> Result<(), DriverError> {
        let mut d = self.device.lock().unwrap();
        d.ops.push("reset".into());
        if d.hit(Op::Reset).is_some() {
            return Err(lost("reset"));
        }
        d.boot();
        Ok(())
    }

    fn take_log(&mut self) -> Vec<String> {
        vec!["INFO: fake programmer".into()]
    }
}

/// Finds the fake module: its download port while it is in its download mode, and its revision
/// once it boots back.
pub struct FakeFinder {
    pub device: Shared,
}

impl Finder for FakeFinder {
    fn download_port(&mut self, modes: &[Mode], _: Duration) -> Result<PathBuf, FlashError> {
        let d = self.device.lock().unwrap();
        if modes.contains(&d.mode) {
            Ok(PathBuf::from("/fake/edl"))
        } else {
            Err(FlashError::Lost(format!("the module did not appear in its download mode; it is in {} mode", d.mode)))
        }
    }

    fn reidentify(&mut self, _: Duration) -> Result<Reidentified, FlashError> {
        let mut d = self.device.lock().unwrap();
        if d.boot() != Mode::At {
            return Err(FlashError::Lost("the module came back in its edl download mode".into()));
        }
        Ok(Reidentified { revision: d.revision(), imei: Some(d.imei.clone()), port: "/fake/at".into() })
    }
}
