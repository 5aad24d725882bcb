//! The test rig of `tests/qualcomm_flash.rs`: a simulated EC25-E on a `--root` tree with a
//! `--state` flash, `$FWGUARD_HOME`, the real `fwguard` binary finding it through discovery, and
//! the simulator's trace of what it heard (where a `drop-at` fault cuts).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fwguard::image::build::qualcomm::QualcommBuilder;
use fwguard::sim::FlashStore;
use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;
use crate::util::run_in_tree;

pub const EC25_R06: &str = "EC25EFAR06A17M4G_20.200.20.200";
pub const EC25_R06_NEXT: &str = "EC25EFAR06A18M4G_20.201.20.201";
pub const IMEI: &str = "861234000000011";
pub const PAGE: u64 = 4096;
pub const SIZE: u64 = 512 << 20;
/// The EC25-E layout's efs2: sectors 1280 + 5632 of 4 KiB.
pub const EFS2: (u64, u64) = (1280 * PAGE, 5632 * PAGE);

/// A simulated EC25-E with a `--root` tree and a `--state` flash, and `$FWGUARD_HOME`.
pub struct Rig {
    pub home: TempDir,
    root: TempDir,
    state: TempDir,
    sim: Option<Sim>,
    pub faults: Vec<String>,
    started: Instant,
}

impl Rig {
    /// Starts the module (with `--fault` specs); the simulator traces its download mode.
    pub fn start(faults: &[&str]) -> Rig {
        let mut rig = Rig {
            home: tempfile::tempdir().unwrap(),
            root: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
            sim: None,
            faults: faults.iter().map(|f| f.to_string()).collect(),
            started: Instant::now(),
        };
        rig.power_on();
        rig
    }

    fn power_on(&mut self) {
        let (root, state) = (self.root.path().display().to_string(), self.state.path().display().to_string());
        let mut args = vec!["ec25-e", "--root", &root, "--state", &state];
        for f in &self.faults {
            args.extend(["--fault", f.as_str()]);
        }
        self.sim = Some(Sim::start_with_env(&args, &[("FWGUARD_LOG", "fwguard::sim=debug")]));
        self.started = Instant::now();
    }

    /// The module is unplugged and plugged in again, without faults: it boots from its flash.
    pub fn power_cycle(&mut self) {
        self.faults.clear();
        self.power_cycle_with_faults();
    }

    /// The same, with the faults now in `self.faults`.
    pub fn power_cycle_with_faults(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.kill();
        }
        self.power_on();
    }

    /// What the simulator traced: (bytes it had sent, what it heard) for each input in its
    /// download mode.
    pub fn trace(&mut self) -> Vec<(u64, String)> {
        let text = self.sim.as_mut().map(|s| s.stderr()).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let (_, rest) = l.split_once(" heard ")?;
                let (what, sent) = rest.rsplit_once(" after sending ")?;
                Some((sent.trim_end_matches(" bytes").trim().parse().ok()?, what.to_string()))
            })
            .collect()
    }

    /// `fwguard ARGS` with discovery on the rig's tree; (exit code, stdout, stderr). Waits until
    /// the module has booted (its boot URCs sent), so what it sends is the same on every run.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.wait_booted();
        run_in_tree(self.home.path(), self.root.path(), args)
    }

    /// Waits until the module has booted (its boot URCs sent), so that what it sends is the
    /// same on every run.
    pub fn wait_booted(&self) {
        let booted = self.started + Duration::from_millis(1300);
        std::thread::sleep(booted.saturating_duration_since(Instant::now()));
    }

    /// Discovery on the rig's tree.
    pub fn sys(&self) -> fwguard::device::SysPaths {
        fwguard::device::SysPaths { sysfs: self.root.path().join("sys"), dev: self.root.path().join("dev") }
    }

    pub fn flash(&self, package: &Path, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["flash", "--image", package.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn package(&self, builder: &QualcommBuilder) -> PathBuf {
        builder.write_folder(&self.home.path().join("packages")).unwrap()
    }

    pub fn store(&self) -> FlashStore {
        FlashStore::open_state(self.state.path(), SIZE).unwrap()
    }

    /// The modules discovery sees: (USB id, mode).
    pub fn modules(&self) -> Vec<(String, String)> {
        let found = fwguard::device::discover_in(&self.sys(), fwguard::device::UsbTable::builtin().unwrap()).unwrap();
        found.iter().map(|m| (m.usb_id().to_string(), m.mode.to_string())).collect()
    }

    /// Journal entries of run `id`: (kind, partition, outcome, detail).
    pub fn journal(&self, id: i64) -> Vec<(String, String, String, String)> {
        let journal = fwguard::flash::Journal::open(&self.home.path().join("fwguard")).unwrap();
        let or = |v: Option<String>| v.unwrap_or_default();
        journal
            .entries(id)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, or(e.partition), or(e.outcome), or(e.detail)))
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.kill();
        }
    }
}

pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object a line: {e}: {l}")))
        .collect()
}

/// (member, byte offset) of every program in the package's rawprogram.
pub fn programs(pkg: &Path, builder: &QualcommBuilder) -> Vec<(PathBuf, u64)> {
    let xml = std::fs::read_to_string(pkg.join("update/firehose").join(builder.rawprogram_name())).unwrap();
    fwguard::image::qualcomm::rawprogram::parse_steps(&xml)
        .unwrap()
        .into_iter()
        .filter_map(|s| {
            let file = fwguard::image::qualcomm::rawprogram::resolve("update/firehose", s.filename.as_deref()?, "")?;
            Some((pkg.join(file), s.start_byte()?))
        })
        .collect()
}

pub fn events<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|e| e["event"] == kind).collect()
}

/// What the simulated module heard in a clean flash of the EC25 package, with the bytes it had
/// sent by then: where a `drop-at` cuts. One flash, shared by the tests that need it (the
/// module's output is the same on every run of the same flash).
pub fn reference() -> &'static [(u64, String)] {
    static TRACE: std::sync::OnceLock<Vec<(u64, String)>> = std::sync::OnceLock::new();
    TRACE.get_or_init(|| {
        let mut rig = Rig::start(&[]);
        let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
        let (code, stdout, stderr) = rig.flash(&pkg, &[]);
        assert_eq!(code, 0, "the reference flash: {stdout}\n{stderr}");
        rig.trace()
    })
}

/// The bytes the module had sent when it heard the `n`-th input matching `what`.
pub fn sent_at(what: impl Fn(&str) -> bool, n: usize) -> u64 {
    let trace = reference();
    let hits: Vec<u64> = trace.iter().filter(|(_, w)| what(w)).map(|(s, _)| *s).collect();
    *hits.get(n).unwrap_or_else(|| panic!("no input {n} of that kind in {trace:#?}"))
}

/// The bytes the module had sent when the input after the `n`-th matching `what` arrived.
pub fn sent_after(what: impl Fn(&str) -> bool, n: usize) -> u64 {
    let trace = reference();
    let at = trace.iter().enumerate().filter(|(_, (_, w))| what(w)).map(|(i, _)| i).nth(n).expect("a match");
    trace[at + 1].0
}

pub fn run_id(stderr_or_json: &str) -> i64 {
    let at = stderr_or_json.find("journal run ").expect("the message names the journal run") + "journal run ".len();
    stderr_or_json[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// The whole simulated flash (what `drop-at` faults could have changed), to compare.
pub fn whole_flash(rig: &Rig) -> Vec<u8> {
    rig.store().read(0, 64 << 20).unwrap()
}
