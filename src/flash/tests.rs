//! The flashing core against the in-process test driver ([`super::testing`]).

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
            db: Database::builtin().unwrap(),
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

#[test]
fn the_plan_lists_every_step_with_partition_offset_length_and_hash() {
    let h = Harness::new();
    let (result, events, ops) = h.flash(&Request { dry_run: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(outcome.dry_run && outcome.run.is_none());
    let plan = &events[0]["plan"];
    assert_eq!(events[0]["event"], "plan");
    assert_eq!(plan["platform"], "qualcomm");
    assert_eq!(plan["module"]["imei"], IMEI);
    assert_eq!(plan["verdict"], "allow", "{plan}");
    let steps = plan["steps"].as_array().unwrap();
    let described: Vec<(String, String, u64, u64)> = steps
        .iter()
        .map(|s| {
            (
                s["operation"].as_str().unwrap().into(),
                s["partition"].as_str().unwrap().into(),
                s["offset"].as_u64().unwrap(),
                s["length"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        described,
        vec![
            ("erase".into(), "sbl".into(), SBL.0, SBL.1),
            ("erase".into(), "modem".into(), MODEM.0, MODEM.1),
            ("write".into(), "modem".into(), MODEM.0, 64 * KIB),
            ("write".into(), "modem".into(), MODEM.0 + 256 * KIB, 4 * KIB),
            ("erase".into(), "system".into(), SYSTEM.0, SYSTEM.1),
            ("write".into(), "system".into(), SYSTEM.0, 64 * KIB),
            ("write".into(), "sbl".into(), SBL.0, 64 * KIB),
        ]
    );
    // Each write's hash is the hash of the member's bytes padded to the region.
    let modem = padded(h.member("update/NON-HLOS.ubi"), 64 * KIB);
    let sha = crate::image::archive::hex(&<sha2::Sha256 as sha2::Digest>::digest(&modem));
    assert_eq!(steps[2]["sha256"], sha);
    assert!(steps.iter().all(|s| (s["operation"] == "write") == s["sha256"].is_string()));
    // The protected area (calibration) is listed, changed by no step.
    let protected = plan["protected"].as_array().unwrap();
    assert_eq!(protected.len(), 1);
    assert_eq!((protected[0]["partition"].as_str(), protected[0]["offset"].as_u64()), (Some("efs2"), Some(EFS2.0)));
    assert_eq!(protected[0]["changed_by"], serde_json::json!([]));
    // The storage comes from the package's geometry and the database's chips for EC25EFA.
    assert_eq!(
        (plan["storage"]["page_size"].as_u64(), plan["storage"]["block_size"].as_u64()),
        (Some(4096), Some(262_144))
    );
    assert_eq!(plan["storage"]["flash_ids"][0]["id"], "98AC9026");
    assert_eq!(plan["storage"]["flash_ids_from"], "database");
    assert_eq!(plan["package"]["revision"], TO);
    assert_eq!(plan["package"]["sha256"].as_str().unwrap().len(), 64);
    // A dry run sends nothing past identification and writes no journal.
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(kinds(&events), ["plan", "result"]);
    assert!(h.journal().unfinished().unwrap().is_empty());
    assert_eq!(h.storage((0, 4 << 20)), FakeDevice::new(FROM, IMEI).storage);
}

#[test]
fn a_full_flash_gates_backs_up_writes_verifies_and_reidentifies() {
    let h = Harness::new();
    let efs_before = h.storage(EFS2);
    let (result, events, ops) = h.flash(&h.request());
    let outcome = result.unwrap();
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    assert_eq!(outcome.revision_before.as_deref(), Some(FROM));
    assert_eq!((outcome.steps_done, outcome.steps_skipped), (7, 0));
    // Every image at its offset, calibration untouched.
    assert_eq!(h.storage((MODEM.0, 64 * KIB)), padded(h.member("update/NON-HLOS.ubi"), 64 * KIB));
    assert_eq!(h.storage((SBL.0, 64 * KIB)), padded(h.member("update/sbl1.mbn"), 64 * KIB));
    assert_eq!(h.storage(EFS2), efs_before);
    // The protected area was read into the backup before the first erase.
    let read_efs = ops.iter().position(|o| o.starts_with("read efs2")).unwrap();
    assert!(read_efs < first_change(&ops), "{ops:?}");
    let dir = PathBuf::from(outcome.backup_dir.unwrap());
    assert!(dir.starts_with(h.home.path().join("fwguard/backups").join(IMEI)), "{}", dir.display());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let file = manifest["areas"][0]["file"].as_str().unwrap();
    assert_eq!(std::fs::read(dir.join(file)).unwrap(), efs_before);
    assert_eq!(
        manifest["areas"][0]["sha256"],
        crate::image::archive::hex(&<sha2::Sha256 as sha2::Digest>::digest(&efs_before))
    );
    // The journal: every operation has a row, each ended done.
    let j = h.journal();
    let run = outcome.run.unwrap();
    let entries = j.entries(run).unwrap();
    let kinds_done: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds_done,
        [
            "enter",
            "connect",
            "gate",
            "backup",
            "erase",
            "erase",
            "write",
            "verify",
            "write",
            "verify",
            "erase",
            "write",
            "verify",
            "write",
            "verify",
            "reset",
            "reidentify"
        ]
    );
    assert!(entries.iter().all(|e| e.outcome.as_deref() == Some("done") && e.finished.is_some()), "{entries:?}");
    assert_eq!(j.run(run).unwrap().unwrap().status, "done");
    assert_eq!(j.run(run).unwrap().unwrap().serial.as_deref(), Some("0x0c1e5e2d"));
    // The history holds the outcome.
    let hist = crate::history::History::open(&h.home.path().join("fwguard/history.db")).unwrap();
    let f = &hist.list_flashes(1).unwrap()[0];
    assert_eq!((f.outcome.as_str(), f.exit_code, f.run), ("flashed", 0, Some(run)));
    assert_eq!((f.revision_before.as_deref(), f.revision_after.as_deref()), (Some(FROM), Some(TO)));
    assert_eq!(f.backup_dir.as_deref(), Some(dir.to_str().unwrap()));
    assert_eq!(f.db_version, Some(i64::from(h.db.version())));
    // One typed event stream.
    let k = kinds(&events);
    assert_eq!(k.first().map(String::as_str), Some("plan"));
    assert_eq!(k.last().map(String::as_str), Some("result"));
    assert_eq!(k.iter().filter(|e| *e == "verify").count(), 4);
    let end = events.iter().find(|e| e["event"] == "step_end" && e["index"] == 2).unwrap();
    assert_eq!(end["bytes"], 64 * KIB);
    assert_eq!(events.last().unwrap()["exit_code"], 0);
}

#[test]
fn each_journal_row_is_committed_before_its_erase_or_write() {
    let h = Harness::new();
    let db = h.home.path().join("fwguard/history.db");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    h.device.lock().unwrap().probe = Some(Box::new(move |what: &str| {
        // Another connection, as after a crash: the row must already be on disk.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (kind, outcome, partition): (String, Option<String>, String) = conn
            .query_row("SELECT kind, outcome, partition FROM flash_steps ORDER BY id DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        log.lock().unwrap().push((what.to_string(), kind, outcome, partition));
    }));
    h.flash(&h.request()).0.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 7);
    for (what, kind, outcome, partition) in seen.iter() {
        assert!(what.starts_with(kind.as_str()), "{what}: the last row is a {kind}");
        assert!(what.contains(partition.as_str()), "{what} {partition}");
        assert_eq!(outcome, &None, "{what}: the row is open while the operation runs");
    }
}

#[test]
fn the_gate_refuses_another_chip_or_geometry_naming_both_and_erases_nothing() {
    for (id, page, want) in [
        ("2CDA9095", 4096, vec!["2C DA 90 95", "98 AC 90 26"]),
        ("98AC9026", 2048, vec!["page size of 2048 bytes", "4096 bytes"]),
    ] {
        let h = Harness::new();
        {
            let mut d = h.device.lock().unwrap();
            d.info.flash_id = Some(id.into());
            d.info.page_size = Some(page);
        }
        let before = h.storage((0, 4 << 20));
        let (result, events, ops) = h.flash(&h.request());
        let err = result.unwrap_err();
        assert!(matches!(err, FlashError::Gate(_)), "{err}");
        assert_eq!(err.exit_code(), 1);
        for w in &want {
            assert!(err.to_string().contains(w), "{err}");
        }
        assert_eq!(first_change(&ops), ops.len(), "nothing erased or written: {ops:?}");
        assert!(ops.last().is_some_and(|o| o == "reset"), "the module is sent back to its firmware: {ops:?}");
        assert_eq!(h.storage((0, 4 << 20)), before);
        let j = h.journal();
        let run = j.unfinished().unwrap()[0].id;
        let gate = j.entries(run).unwrap().into_iter().find(|e| e.kind == "gate").unwrap();
        assert_eq!(gate.outcome.as_deref(), Some("failed"));
        assert_eq!(events.last().unwrap()["code"], "fwguard::flash::gate");
    }
}

#[test]
fn protected_areas_need_permission_and_a_verified_backup() {
    let mut b = builder(TO, TO);
    b.calibration_write = true;
    let h = Harness::with_package(b);
    let before = h.storage((0, 4 << 20));
    // Without --allow-protected: refused before the module is touched (the verdict warns too).
    let request = Request { permissions: Permissions::new().accept_warnings(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Protected { .. }), "{err}");
    assert!(err.to_string().contains("efs2") && err.exit_code() == 1, "{err}");
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(h.storage((0, 4 << 20)), before);

    // With it: the backup is read and verified before the calibration area is erased.
    let request = Request { permissions: Permissions::new().accept_warnings().allow_protected(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let outcome = result.unwrap();
    let erase_efs = ops.iter().position(|o| o.starts_with("erase efs2")).unwrap();
    let before_changes = &ops[..first_change(&ops)];
    let reads = before_changes.iter().filter(|o| o.starts_with("read efs2 [0x40000, +0x80000)")).count();
    assert_eq!(reads, 2, "the area is read, then read again to verify the backup: {ops:?}");
    assert!(erase_efs > first_change(&ops));
    let dir = PathBuf::from(outcome.backup_dir.unwrap());
    assert!(std::fs::read_dir(&dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("efs2-")));
}

#[test]
fn the_guard_refuses_a_protected_change_where_it_would_happen() {
    let device: Shared = Arc::new(Mutex::new(FakeDevice::new(FROM, IMEI)));
    let driver = FakeDriver { device: Arc::clone(&device), write_calibration: false };
    let mut pkg = crate::image::build::memory::MemoryPackage::new("p", vec![]);
    let mut conn = driver.connect(std::path::Path::new("/fake/edl"), &mut pkg).unwrap();
    let area = (Region::new("efs2", EFS2.0, EFS2.1), "EFS".to_string());
    let step = Step {
        index: 0,
        operation: Operation::Erase,
        region: Region::new("modem", EFS2.0 + EFS2.1 - 4096, 8192),
        sha256: None,
        source: None,
        protected: None,
    };
    for (permissions, backup, why) in [
        (Permissions::new(), true, "--allow-protected was not given"),
        (Permissions::new().allow_protected(), false, "no verified backup"),
    ] {
        let mut guard = Guard::new(conn.as_mut(), vec![area.clone()], permissions);
        if backup {
            guard.backup_verified();
        }
        let err = guard.erase(&step).unwrap_err();
        assert!(matches!(err, FlashError::ProtectedTouched { .. }) && err.to_string().contains(why), "{err}");
    }
    assert!(!device.lock().unwrap().ops.iter().any(|o| o.starts_with("erase")));
    let mut guard = Guard::new(conn.as_mut(), vec![area], Permissions::new().allow_protected());
    guard.backup_verified();
    guard.erase(&step).unwrap();
}

#[test]
fn a_write_that_does_not_verify_is_exit_3() {
    let h = Harness::new();
    h.device.lock().unwrap().corrupt_write = Some(2);
    let (result, events, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { run, source } = &err else { panic!("{err}") };
    assert!(matches!(**source, FlashError::Verify { .. }), "{source}");
    assert!(err.to_string().contains("expected SHA-256"), "{err}");
    let verify = events.iter().find(|e| e["event"] == "verify" && e["ok"] == false).unwrap();
    assert_eq!(verify["method"], "read-back");
    let j = h.journal();
    assert_eq!(j.run(*run).unwrap().unwrap().status, "failed");
    let failed = j.entries(*run).unwrap().into_iter().find(|e| e.outcome.as_deref() == Some("failed")).unwrap();
    assert_eq!((failed.kind.as_str(), failed.step), ("verify", Some(3)));
    assert_eq!(events.last().unwrap()["exit_code"], 3);
}

#[test]
fn a_cut_write_resumes_skipping_the_ranges_that_verify() {
    let h = Harness::new();
    // The link goes away 1000 bytes into the third write (system).
    h.fail(Op::Write, 3, 1000);
    let (result, _, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { run, .. } = err else { panic!() };
    let j = h.journal();
    let entries = j.entries(run).unwrap();
    let write = entries.iter().find(|e| e.kind == "write" && e.step == Some(5)).unwrap();
    assert_eq!(write.outcome.as_deref(), Some("failed"), "the journal says which write broke: {entries:?}");
    assert!(write.detail.as_deref().unwrap_or_default().contains("went away"), "{write:?}");

    h.power_cycle();
    h.device.lock().unwrap().digest = true;
    let (result, events, ops) = h.flash(&Request { resume: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(outcome.resumed && outcome.run == Some(run));
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    // The modem writes verified already and were skipped; the system partition was erased and
    // written again, and the boot loader last.
    assert!(!ops.iter().any(|o| o.starts_with("write modem") || o.starts_with("erase modem")), "{ops:?}");
    let system: Vec<&String> = ops.iter().filter(|o| o.contains("system")).collect();
    assert_eq!(system.len(), 2, "{ops:?}");
    assert!(system[0].starts_with("erase") && system[1].starts_with("write"));
    assert_eq!(ops.iter().rfind(|o| o.starts_with("write")).map(|o| o.starts_with("write sbl")), Some(true));
    let skipped: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "step_end" && e["skipped"] == true)
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(skipped, [1, 2, 3]);
    // The backup of the first attempt is the one this run relies on.
    assert_eq!(j.run(run).unwrap().unwrap().status, "done");
    assert!(!ops.iter().any(|o| o.starts_with("read efs2")), "the verified backup of the run is reused: {ops:?}");
    assert_eq!(h.storage((SYSTEM.0, 64 * KIB)), padded(h.member("update/mdm9607-perf-sysfs.ubi"), 64 * KIB));
}

#[test]
fn resume_continues_only_the_same_module_and_package_naming_both() {
    let h = Harness::new();
    h.fail(Op::Write, 1, 10);
    let (result, _, _) = h.flash(&h.request());
    assert_eq!(result.unwrap_err().exit_code(), 3);
    // The boot loader is erased: the module comes back in its download mode.
    h.power_cycle();
    assert_eq!(h.device.lock().unwrap().mode, Mode::Edl);

    // Another package: refused, both SHA-256s named.
    let other = Harness::with_package(builder("EC25EFAR06A19M4G_20.202.20.202", "EC25EFAR06A19M4G_20.202.20.202"));
    let pkg_sha = |p: &std::path::Path| {
        let mut pkg = crate::image::archive::open_package(p).unwrap();
        package_sha256(p, pkg.as_mut()).unwrap()
    };
    let request = Request { resume: true, package: other.package.clone(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(
        err.to_string().contains(&pkg_sha(&other.package)) && err.to_string().contains(&pkg_sha(&h.package)),
        "{err}"
    );
    assert!(ops.is_empty(), "{ops:?}");

    // Another module (another boot ROM serial) in download mode: refused, both serials named.
    h.device.lock().unwrap().serial = "0x99999999".into();
    let (result, _, ops) = h.flash(&Request { resume: true, ..h.request() });
    let err = result.unwrap_err();
    assert!(err.to_string().contains("0x0c1e5e2d") && err.to_string().contains("0x99999999"), "{err}");
    assert!(first_change(&ops) == ops.len(), "{ops:?}");

    // Another module in normal mode (another IMEI): refused, both named.
    let stranger = Harness::new();
    stranger.device.lock().unwrap().imei = "861234000000999".into();
    let request = Request { resume: true, home: h.request().home, ..stranger.request() };
    let (result, _, ops) = stranger.flash(&request);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("861234000000999") && err.to_string().contains(IMEI), "{err}");
    assert!(ops.is_empty(), "{ops:?}");

    // Without --resume a module in download mode is not flashed at all.
    h.device.lock().unwrap().serial = "0x0c1e5e2d".into();
    let (result, _, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::InDownloadMode { .. }) && err.exit_code() == 2, "{err}");
    assert!(ops.is_empty());

    // The same module and package: the flash completes from its download mode.
    let (result, _, ops) = h.flash(&Request { resume: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(!ops.iter().any(|o| o == "enter"), "it was already in its download mode: {ops:?}");
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    assert_eq!(h.device.lock().unwrap().mode, Mode::At);
}

#[test]
fn a_module_that_comes_back_with_another_revision_is_exit_3() {
    // The package's firmware reports another revision than the package names.
    let h = Harness::with_package(builder(TO, "EC25EFAR06A17M4G_20.200.20.200"));
    let (result, _, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(
        err.to_string().contains(TO) && err.to_string().contains("reports EC25EFAR06A17M4G_20.200.20.200"),
        "{err}"
    );
}

#[test]
fn blocked_packages_and_missing_drivers_stop_before_the_module() {
    let h = Harness::with_package(builder("EC25EFAR08A01M4G_01.001.01.001", "x"));
    let (result, events, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Blocked { .. }) && err.exit_code() == 1, "{err}");
    assert!(err.to_string().contains("cross-baseline"), "{err}");
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(kinds(&events), ["result"]);
    let hist = crate::history::History::open(&h.home.path().join("fwguard/history.db")).unwrap();
    assert_eq!(hist.list_flashes(1).unwrap()[0].outcome, "refused");

    let h = Harness::new();
    let acquired = h.acquired();
    let mut finder = FakeFinder { device: Arc::clone(&h.device) };
    let err =
        flash_with(&acquired, &h.request(), &h.db, &Registry::builtin(), Some(&mut finder), &mut Silent).unwrap_err();
    assert!(matches!(err, FlashError::NoDriver { platform: Platform::Qualcomm, .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("qualcomm") && err.to_string().contains("none yet"), "{err}");
}

#[test]
fn same_build_accepts_a_package_without_app_version() {
    assert!(same_build(TO, TO));
    assert!(same_build("EC25EFAR06A18M4G_20.201.20.201", "EC25EFAR06A18M4G"));
    assert!(!same_build("EC25EFAR06A17M4G_20.200.20.200", "EC25EFAR06A18M4G"));
    assert!(!same_build("EC25EFAR06A18M4G_20.201.20.201", "EC25EFAR06A18M4G_20.202.20.202"));
}

#[test]
fn a_new_flash_supersedes_the_interrupted_ones_of_the_module() {
    let h = Harness::new();
    h.fail(Op::Erase, 2, 0);
    let first = match h.flash(&h.request()).0.unwrap_err() {
        FlashError::AfterWrite { run, .. } => run,
        e => panic!("{e}"),
    };
    h.power_cycle();
    assert_eq!(h.device.lock().unwrap().mode, Mode::Edl, "the boot loader was erased");
    // Back to normal mode by hand (a recovery tool), then a fresh flash: the old run is done with.
    h.device.lock().unwrap().storage[..16].fill(0x51);
    h.power_cycle();
    let second = h.flash(&h.request()).0.unwrap().run.unwrap();
    let j = h.journal();
    assert_eq!(j.run(first).unwrap().unwrap().status, "superseded");
    assert_eq!(j.run(second).unwrap().unwrap().status, "done");
    let err = h.flash(&Request { resume: true, ..h.request() }).0.unwrap_err();
    assert!(matches!(err, FlashError::Resume(_)), "{err}");
}

#[test]
fn a_package_that_changes_under_the_flash_is_caught_before_it_is_trusted() {
    let h = Harness::new();
    let modem = walk(&h.package).into_iter().find(|p| p.to_string_lossy().ends_with("NON-HLOS.ubi")).unwrap();
    let mut once = Some(modem);
    h.device.lock().unwrap().probe = Some(Box::new(move |_: &str| {
        if let Some(path) = once.take() {
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[0] ^= 0xFF;
            std::fs::write(&path, bytes).unwrap();
        }
    }));
    let err = h.flash(&h.request()).0.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { source, .. } = &err else { panic!("{err}") };
    assert!(matches!(**source, FlashError::PackageChanged { .. }), "{source}");
    assert!(err.to_string().contains("NON-HLOS.ubi"), "{err}");
}

#[test]
fn protected_partitions_the_device_reports_are_backed_up_and_guarded() {
    // An NV backup partition only the module's own table shows: backed up, not written.
    let h = Harness::new();
    h.device.lock().unwrap().partitions = vec![Region::new("fsg", 3 << 20, 256 * KIB)];
    let (result, events, ops) = h.flash(&h.request());
    let outcome = result.unwrap();
    assert!(ops[..first_change(&ops)].iter().any(|o| o.starts_with("read fsg")), "{ops:?}");
    let backup = events.iter().find(|e| e["event"] == "backup").unwrap();
    assert_eq!(backup["areas"], 2);
    assert!(
        std::fs::read_dir(outcome.backup_dir.unwrap())
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with("fsg-") })
    );

    // One that a step would overwrite: refused before any erase, the module sent back.
    let h = Harness::new();
    h.device.lock().unwrap().partitions = vec![Region::new("nv", SYSTEM.0, 4096)];
    let (result, _, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Protected { .. }) && err.exit_code() == 1, "{err}");
    assert!(err.to_string().contains("system") && err.to_string().contains("NV"), "{err}");
    assert_eq!(first_change(&ops), ops.len(), "{ops:?}");
    assert_eq!(ops.last().map(String::as_str), Some("reset"));
}
