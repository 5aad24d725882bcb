//! `fwguard flash` end to end against a simulated module found through discovery: what it refuses
//! and what it leaves untouched. (The core's runs are tested in process against a test driver,
//! `src/flash/tests.rs`; writing a Qualcomm module end to end in `tests/qualcomm_flash.rs`.)

use std::path::{Path, PathBuf};

use fwguard::image::build::qualcomm::QualcommBuilder;
use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;
use crate::util::{fwguard, run_in_tree};

const EC25_R06: &str = "EC25EFAR06A17M4G_20.200.20.200";
const EC25_R06_NEXT: &str = "EC25EFAR06A18M4G_20.201.20.201";
const EC25_R08: &str = "EC25EFAR08A01M4G_01.001.01.001";

/// A simulated EC25-E on a `--root` tree with a `--state` flash, and a package.
struct Bench {
    home: TempDir,
    root: TempDir,
    state: TempDir,
    sim: Option<Sim>,
}

impl Bench {
    fn start() -> Bench {
        Bench::start_profile("ec25-e")
    }

    fn start_profile(profile: &str) -> Bench {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let sim =
            Sim::start(&[profile, "--root", root.path().to_str().unwrap(), "--state", state.path().to_str().unwrap()]);
        Bench { home, root, state, sim: Some(sim) }
    }

    fn package(&self, revision: &str) -> PathBuf {
        QualcommBuilder::ec25(revision).write_folder(&self.home.path().join("packages")).unwrap()
    }

    /// `fwguard flash ARGS` finding the module by discovery; (exit code, stdout, stderr).
    fn flash(&self, args: &[&str]) -> (i32, String, String) {
        let args: Vec<&str> = std::iter::once("flash").chain(args.iter().copied()).collect();
        run_in_tree(self.home.path(), self.root.path(), &args)
    }

    fn flash_bin(&self) -> Vec<u8> {
        std::fs::read(self.state.path().join("flash.bin")).unwrap_or_default()
    }

    /// The module is still in normal mode: its AT port is on the tree and no download port is.
    fn assert_still_in_normal_mode(&self) {
        let dev: Vec<String> = std::fs::read_dir(self.root.path().join("dev"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(dev.contains(&"ttyUSB2".to_string()), "{dev:?}");
        let modules = fwguard::device::discover_in(
            &fwguard::device::SysPaths { sysfs: self.root.path().join("sys"), dev: self.root.path().join("dev") },
            fwguard::device::UsbTable::builtin().unwrap(),
        )
        .unwrap();
        assert_eq!(modules.len(), 1);
        assert_eq!(modules[0].mode, fwguard::device::Mode::At, "the module was sent to a download mode");
    }

    /// Unfinished journal runs and the outcomes of recorded flashes in `$FWGUARD_HOME`.
    fn journal(&self) -> (usize, Vec<String>) {
        let home = self.home.path().join("fwguard");
        if !home.join("history.db").exists() {
            return (0, Vec::new());
        }
        let runs = fwguard::flash::Journal::open(&home).unwrap().unfinished().unwrap().len();
        let history = fwguard::history::History::open(&home.join("history.db")).unwrap();
        (runs, history.list_flashes(100).unwrap().into_iter().map(|f| f.outcome).collect())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.finish();
        }
    }
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn a_blocked_package_exits_1_and_sends_nothing_past_identification() {
    let bench = Bench::start();
    let before = bench.flash_bin();
    let package = bench.package(EC25_R08);
    let (code, stdout, stderr) = bench.flash(&["--image", package.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("cross-baseline") && stderr.contains(EC25_R06) && stderr.contains(EC25_R08), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    bench.assert_still_in_normal_mode();
    assert_eq!(bench.flash_bin(), before, "the module's flash changed");
    assert_eq!(bench.journal(), (0, vec!["refused".to_string()]));

    // The same with --json: one result object, exit code 1, the rule named.
    let (code, stdout, _) = bench.flash(&["--image", package.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let events = json_lines(&stdout);
    let last = events.last().unwrap();
    assert_eq!((last["event"].as_str(), last["exit_code"].as_u64()), (Some("result"), Some(1)));
    assert_eq!(last["code"], "fwguard::flash::blocked");
    assert!(last["error"].as_str().unwrap().contains("cross-baseline"), "{last}");
    bench.assert_still_in_normal_mode();
}

#[test]
fn a_platform_without_a_driver_is_refused_with_exit_2_naming_what_is_missing() {
    // An Eigencomm module (fwguard flashes no Eigencomm part yet) and an update for it.
    let bench = Bench::start_profile("eg916q-gl");
    let before = bench.flash_bin();
    let package = bench.home.path().join("EG916QGLLGR01A04M04_01.001.01.001.binpkg");
    std::fs::write(&package, fwguard::image::build::binpkg::BinpkgBuilder::ec600e_cn_lc().to_bytes()).unwrap();
    let port = bench.root.path().join("dev/ttyUSB0");
    let dev = || std::fs::read_dir(bench.root.path().join("dev")).unwrap().count();
    let ports = dev();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["--port", port.to_str().unwrap(), "--image", package.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = bench.flash(&args);
        assert_eq!(code, 2, "{extra:?}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("cannot flash eigencomm modules yet") && stderr.contains("no eigencomm driver"),
            "{stderr}"
        );
        assert!(stderr.contains("hint:"), "{stderr}");
        assert_eq!(dev(), ports, "the module re-enumerated");
        assert_eq!(bench.flash_bin(), before);
    }
    assert_eq!(bench.journal(), (0, vec!["failed".to_string(), "failed".to_string()]));
    let (code, stdout, _) =
        bench.flash(&["--port", port.to_str().unwrap(), "--image", package.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    let last = json_lines(&stdout).pop().unwrap();
    assert_eq!(last["code"], "fwguard::flash::no_driver");
    assert!(last["hint"].is_string());
}

#[test]
fn flash_refuses_bad_input_before_touching_a_module() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("sys/class/tty")).unwrap();
    // No module attached: exit 2, named.
    let package = QualcommBuilder::ec25(EC25_R06_NEXT).write_folder(&home.path().join("p")).unwrap();
    let out = fwguard(home.path())
        .env("FWGUARD_SYSFS", empty.path().join("sys"))
        .env("FWGUARD_DEV", empty.path().join("dev"))
        .args(["flash", "--image", package.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Quectel module found"), "{stderr}");
    // A package that is not one: exit 2, naming it.
    let out = fwguard(home.path())
        .args(["flash", "--sim", "ec25-e", "--image", Path::new("/nonexistent/pkg.zip").to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/pkg.zip"), "{stderr}");
    // --port and --sim together: a usage error.
    let out = fwguard(home.path())
        .args(["flash", "--sim", "ec25-e", "--port", "/dev/null", "--image", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A driver written outside the library against its public API: it plans, and panics if the
/// core ever asks it to touch the module.
struct PlanOnly;

impl fwguard::flash::Driver for PlanOnly {
    fn platform(&self) -> fwguard::platform::Platform {
        fwguard::platform::Platform::Qualcomm
    }

    fn download_modes(&self) -> &'static [fwguard::platform::Mode] {
        &[fwguard::platform::Mode::Edl]
    }

    fn plan(
        &self,
        package: &mut dyn fwguard::image::Package,
        _: &fwguard::image::Inspection,
    ) -> Result<fwguard::flash::Layout, fwguard::flash::DriverError> {
        use fwguard::flash::{Layout, Region, Source, StepSpec};
        let modem = package.members().iter().find(|m| m.path.ends_with("update/NON-HLOS.ubi")).unwrap().clone();
        let region = Region::new("modem", 24000 * 4096, 15872 * 4096);
        Ok(Layout {
            partitions: vec![Region::new("efs2", 1280 * 4096, 5632 * 4096), region.clone()],
            steps: vec![
                StepSpec::Erase(region.clone()),
                StepSpec::Write(region, Source { member: modem.path, offset: 0, length: modem.size, pad: 0 }),
            ],
            storage: Default::default(),
        })
    }

    fn enter_download(&self, _: fwguard::flash::NormalModule<'_>) -> Result<(), fwguard::flash::DriverError> {
        panic!("a dry run sent the module to its download mode")
    }

    fn connect(
        &self,
        _: &Path,
        _: &mut dyn fwguard::image::Package,
    ) -> Result<Box<dyn fwguard::flash::Connection>, fwguard::flash::DriverError> {
        panic!("a dry run connected")
    }
}

#[test]
fn a_dry_run_with_a_driver_prints_the_plan_and_leaves_the_simulated_module_alone() {
    use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
    use fwguard::flash::{Event, Registry, Request, flash};
    let bench = Bench::start();
    let before = bench.flash_bin();
    let package = bench.package(EC25_R06_NEXT);
    let db = fwguard::db::Database::builtin();
    let sys = fwguard::device::SysPaths { sysfs: bench.root.path().join("sys"), dev: bench.root.path().join("dev") };
    let module =
        acquire(&ModuleSource::Auto, &db, &AcquireOptions { sys, keep_sim: true, ..AcquireOptions::default() })
            .expect("the simulated module is found and identified");
    let mut request = Request::new(&package, &bench.home.path().join("fwguard"));
    request.dry_run = true;
    let mut events = Vec::new();
    let mut progress = |e: &Event<'_>| events.push(serde_json::to_value(e).unwrap());
    let outcome = flash(&module, &request, &db, &Registry::with(vec![Box::new(PlanOnly)]), &mut progress).unwrap();
    assert!(outcome.dry_run);
    let plan = &events[0]["plan"];
    assert_eq!(plan["module"]["revision"], EC25_R06);
    assert_eq!(plan["module"]["imei"], fwguard::sim::find("ec25-e").unwrap().imei);
    assert_eq!(plan["package"]["revision"], EC25_R06_NEXT);
    assert_eq!(plan["steps"].as_array().unwrap().len(), 2);
    assert_eq!(plan["steps"][1]["offset"], 24000 * 4096);
    assert_eq!(plan["protected"][0]["partition"], "efs2");
    assert_eq!(plan["storage"]["flash_ids"][0]["id"], "98AC9026");
    assert_eq!(events.last().unwrap()["exit_code"], 0);
    bench.assert_still_in_normal_mode();
    assert_eq!(bench.flash_bin(), before);
    assert_eq!(bench.journal(), (0, vec!["dry-run".to_string()]));
}
