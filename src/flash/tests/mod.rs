//! The flashing core against the in-process test driver ([`super::testing`]): a harness that
//! writes a real EC25 package folder, a fake module, and the whole `flash` call around them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::testing::{EFS2, Failure, FakeDevice, FakeDriver, FakeFinder, KIB, MODEM, Op, SBL, SYSTEM, Shared};
use super::*;
use crate::acquire::Acquired;
use crate::db::Database;
use crate::device::{Module, Port, Role, SysPaths};
use crate::engine::DeviceFacts;
use crate::image::build::Content;
use crate::image::build::qualcomm::QualcommBuilder;
use crate::platform::{Mode, Platform};

const FROM: &str = "EC25EFAR06A17M4G_20.200.20.200";
const TO: &str = "EC25EFAR06A18M4G_20.201.20.201";
const IMEI: &str = "861234000000011";

struct Harness {
    device: Shared,
    home: tempfile::TempDir,
    package: PathBuf,
    db: Database,
    calibration: bool,
}

fn builder(revision: &str, rev_text: &str) -> QualcommBuilder {
    let mut b = QualcommBuilder::ec25(revision);
    b.extra.push(("update/fake-revision.txt".into(), Content::text(&format!("REV={rev_text}\n"))));
    b
}

impl Harness {
    fn new() -> Harness {
        Harness::with_package(builder(TO, TO))
    }

    fn with_package(b: QualcommBuilder) -> Harness {
        let home = tempfile::tempdir().unwrap();
        let package = b.write_folder(&home.path().join("pkg")).unwrap();
        Harness {
            device: Arc::new(Mutex::new(FakeDevice::new(FROM, IMEI))),
            home,
            package,
            db: Database::builtin(),
            calibration: b.calibration_write,
        }
    }

    fn module(&self, mode: Mode) -> Module {
        let role = if mode == Mode::At { Role::At } else { Role::Download };
        Module {
            usb_path: "/fake/sys/1-1".into(),
            bus_id: "1-1".into(),
            vid: if mode == Mode::At { 0x2c7c } else { 0x05c6 },
            pid: if mode == Mode::At { 0x0125 } else { 0x9008 },
            mode,
            platform: Some(Platform::Qualcomm),
            models: vec!["EC25".into()],
            ports: vec![Port { path: "/fake/port".into(), name: "ttyUSB2".into(), interface: 2, role }],
        }
    }

    fn acquired(&self) -> Acquired {
        let d = self.device.lock().unwrap();
        let in_download = d.mode != Mode::At;
        let facts = if in_download {
            DeviceFacts::default()
        } else {
            DeviceFacts {
                model: Some("EC25".into()),
                revision: d.revision(),
                imei: Some(d.imei.clone()),
                ..DeviceFacts::default()
            }
        };
        Acquired {
            facts,
            source: "test".into(),
            port: Some("/fake/port".into()),
            usb_id: None,
            report: None,
            module: Some(self.module(d.mode)),
            sys: SysPaths { sysfs: "/nonexistent/sys".into(), dev: "/nonexistent/dev".into() },
            sim: None,
        }
    }

    fn request(&self) -> Request {
        Request::new(&self.package, &self.home.path().join("fwguard"))
    }

    /// Runs the flash; returns the result, the events as JSON, and the device's operations.
    fn flash(&self, request: &Request) -> (Result<Outcome, FlashError>, Vec<serde_json::Value>, Vec<String>) {
        let acquired = self.acquired();
        self.device.lock().unwrap().ops.clear();
        let driver = FakeDriver { device: Arc::clone(&self.device), write_calibration: self.calibration };
        let registry = Registry::with(vec![Box::new(driver)]);
        let mut finder = FakeFinder { device: Arc::clone(&self.device) };
        let mut events = Vec::new();
        let mut progress = |e: &Event<'_>| events.push(serde_json::to_value(e).unwrap());
        let result = flash_with(&acquired, request, &self.db, &registry, Some(&mut finder), &mut progress);
        let ops = self.device.lock().unwrap().ops.clone();
        (result, events, ops)
    }

    fn journal(&self) -> Journal {
        Journal::open(&self.home.path().join("fwguard")).unwrap()
    }

    fn storage(&self, (offset, len): (u64, u64)) -> Vec<u8> {
        self.device.lock().unwrap().storage[offset as usize..(offset + len) as usize].to_vec()
    }

    fn member(&self, suffix: &str) -> Vec<u8> {
        let path = walk(&self.package).into_iter().find(|p| p.to_string_lossy().ends_with(suffix)).unwrap();
        std::fs::read(path).unwrap()
    }

    fn fail(&self, op: Op, nth: usize, after_bytes: u64) {
        self.device.lock().unwrap().failures.push(Failure { op, nth, after_bytes });
    }

    /// The module loses power and comes back: it boots from its storage.
    fn power_cycle(&self) {
        let mut d = self.device.lock().unwrap();
        d.failures.clear();
        d.boot();
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn padded(mut bytes: Vec<u8>, len: u64) -> Vec<u8> {
    bytes.resize(len as usize, 0xFF);
    bytes
}

fn kinds(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

fn first_change(ops: &[String]) -> usize {
    ops.iter().position(|o| o.starts_with("erase") || o.starts_with("write")).unwrap_or(ops.len())
}

mod planning;
mod resuming;
mod running;
