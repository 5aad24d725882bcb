//! `fwguard check` and `fwguard flash` on simulated ASR modules found through discovery
//! (`fwguard sim --root`, `FWGUARD_SYSFS`/`FWGUARD_DEV`), with packages from
//! `fwguard::image::build`: the flash ID read from the boot loader, a full package flashed with
//! its NV data kept and backed up, the LF QuecPython image refused by check and flash naming the
//! chip, a cut link and `--resume`.

use std::path::PathBuf;
use std::time::Duration;

use fwguard::device::{self, Mode, SessionOptions, SysPaths, UsbTable};
use fwguard::image::build::asr::AsrBuilder;
use fwguard::image::build::quecpython::{QpyInner, QuecPythonBuilder};
use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;
use crate::util::fwguard;

/// A simulated ASR module on a `--root` tree with a `--state` flash, and a home for fwguard.
struct Module {
    profile: String,
    home: TempDir,
    root: TempDir,
    state: TempDir,
    sim: Option<Sim>,
}

impl Module {
    fn start(profile: &str, faults: &[&str]) -> Module {
        let m = Module {
            profile: profile.into(),
            home: tempfile::tempdir().unwrap(),
            root: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
            sim: None,
        };
        m.with_sim(faults)
    }

    fn with_sim(mut self, faults: &[&str]) -> Module {
        let (root, state) = (self.root.path().to_str().unwrap(), self.state.path().to_str().unwrap());
        let mut args = vec![self.profile.as_str(), "--root", root, "--state", state];
        for f in faults {
            args.extend(["--fault", f]);
        }
        self.sim = Some(Sim::start(&args));
        self
    }

    /// A power cycle: the same module (its flash) on the same tree, without faults.
    fn power_cycle(mut self) -> Module {
        if let Some(sim) = self.sim.take() {
            sim.finish();
        }
        self.with_sim(&[])
    }

    fn port(&self) -> PathBuf {
        self.sim.as_ref().unwrap().port.clone()
    }

    fn paths(&self) -> SysPaths {
        SysPaths { sysfs: self.root.path().join("sys"), dev: self.root.path().join("dev") }
    }

    /// `fwguard ARGS`, finding the module by discovery; (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        crate::util::run_in_tree(self.home.path(), self.root.path(), args)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let dir = self.home.path().join("packages");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn package(&self, b: &AsrBuilder) -> PathBuf {
        self.write(&b.file_name, &b.zip().unwrap())
    }

    fn flash_bin(&self) -> Vec<u8> {
        std::fs::read(self.state.path().join("flash.bin")).unwrap()
    }

    /// The flash as the module reads it (`flash.bin` keeps erased ranges as holes, which a plain
    /// read gives as zeros).
    fn flash_read(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        let size = fwguard::sim::find(&self.profile).unwrap().flash.size;
        let store = fwguard::sim::FlashStore::open_state(self.state.path(), size).unwrap();
        store.read(range.start as u64, range.len()).unwrap()
    }

    /// The module is in normal mode on the tree and answers AT on the port it was started on.
    fn answers_at(&self) -> String {
        let modules = device::discover_in(&self.paths(), UsbTable::builtin().unwrap()).unwrap();
        assert_eq!(modules.len(), 1, "{modules:?}");
        assert_eq!(modules[0].mode, Mode::At, "the module was left in {}", modules[0].mode);
        let opts = SessionOptions { boot_timeout: Duration::from_secs(5), ..SessionOptions::default() };
        device::identify(&self.port(), &opts).unwrap().revision
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.finish();
        }
    }
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn rules(check: &Value) -> Vec<String> {
    check["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

fn finding<'a>(check: &'a Value, rule: &str) -> &'a Value {
    check["findings"].as_array().unwrap().iter().find(|f| f["rule"] == rule).unwrap_or_else(|| panic!("{check}"))
}

/// The LF QuecPython firmware file, `QPY_OCPU_V0004_EC800M_CNLF_FW.bin` (an aboot zip whose
/// 4 MB flash table lacks 20 41 17).
fn qpy_lf(m: &Module) -> PathBuf {
    let qpy = QuecPythonBuilder::ec800m_cn_lf();
    let QpyInner::Asr(asr) = &qpy.inner else { panic!("an ASR image") };
    m.write(&qpy.inner_name, &asr.zip().unwrap())
}

fn region(b: &AsrBuilder, name: &str) -> std::ops::Range<usize> {
    let e = b.partitions.iter().find(|e| e.name == name).unwrap();
    e.start as usize..e.end() as usize
}

/// An EC800MCNLAR01A02M08 package with the real 8 MB table, a modem image of a megabyte.
fn la_package() -> AsrBuilder {
    let mut b = AsrBuilder::ec800m_cn_la().revised("EC800MCNLAR01A02M08");
    b.images[0].2 = fwguard::image::build::asr::firmware_image("EC800MCNLAR01A02M08", 0x10_0000);
    b
}

#[test]
fn check_reads_the_chip_from_the_boot_loader_and_refuses_the_lf_image() {
    let m = Module::start("ec800m-cn-la", &[]);
    let lf = qpy_lf(&m);
    let before = m.flash_bin();
    let (code, out, err) = m.run(&["check", "--image", lf.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let check: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(check["device"]["flash_id"], "204117");
    assert_eq!(check["device"]["flash_id_source"], "bootloader");
    let chip = finding(&check, "flash-chip-mismatch");
    assert!(chip["message"].as_str().unwrap().contains("20 41 17"), "{chip}");
    assert!(!rules(&check).contains(&"flash-id-unverified".to_string()), "{check}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(m.answers_at(), "LTE01R06A04_VOLTE_C_SDK_A");
    assert!(m.flash_bin() == before, "the check wrote to the module");

    // `flash` refuses it before any write, naming the chip: the firmware file, and QuecPython's
    // zip around it.
    let qpy = QuecPythonBuilder::ec800m_cn_lf();
    let wrapper = m.write(&qpy.file_name, &qpy.zip().unwrap());
    for package in [&lf, &wrapper] {
        let (code, out, err) = m.run(&["flash", "--image", package.to_str().unwrap()]);
        assert_eq!(code, 1, "{}: {out}\n{err}", package.display());
        assert!(err.contains("flash-chip-mismatch") && err.contains("20 41 17"), "{err}");
        assert!(m.flash_bin() == before, "the flash wrote to the module");
    }
    assert_eq!(m.answers_at(), "LTE01R06A04_VOLTE_C_SDK_A");
}

#[test]
fn without_the_boot_loader_or_a_package_the_chip_stays_unverified_and_says_why() {
    let m = Module::start("ec800m-cn-la", &[]);
    let la = m.package(&la_package());
    let (code, out, _) = m.run(&["check", "--image", la.to_str().unwrap(), "--no-bootloader", "--json"]);
    let check: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        (check["device"]["flash_id"].clone(), check["device"]["flash_id_source"].clone()),
        (Value::Null, Value::Null)
    );
    let f = finding(&check, "flash-id-unverified");
    assert!(f["message"].as_str().unwrap().contains("not read: --no-bootloader was given"), "{f}");

    let (_, out, _) = m.run(&["check", "--to", "QPY_OCPU_V0004_EC800M_CNLF_FW.bin", "--json"]);
    let check: Value = serde_json::from_str(&out).unwrap();
    let f = finding(&check, "flash-id-unverified");
    assert!(f["message"].as_str().unwrap().contains("no package file was given"), "{f}");
    assert_eq!(m.answers_at(), "LTE01R06A04_VOLTE_C_SDK_A");
}

/// `check --sim` with a `--to` name that is a package file: the file lends its boot-loader
/// stages, the chip is read, the check blocks on it and on the product; the same through
/// discovery, after which the module answers AT.
#[test]
fn check_to_a_package_name_reads_the_chip_and_blocks() {
    let m = Module::start("ec800m-cn-la", &[]);
    let lf = qpy_lf(&m);
    let home = tempfile::tempdir().unwrap();
    // As a user types it, in the folder that holds the file.
    let out = fwguard(home.path())
        .current_dir(lf.parent().unwrap())
        .args(["check", "--sim", "ec800m-cn-la", "--to", "QPY_OCPU_V0004_EC800M_CNLF_FW.bin", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let check: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (check["device"]["flash_id"].as_str(), check["device"]["flash_id_source"].as_str()),
        (Some("204117"), Some("bootloader"))
    );
    let got = rules(&check);
    assert!(got.contains(&"flash-chip-mismatch".into()) && got.contains(&"product-mismatch".into()), "{got:?}");
    assert!(stderr.is_empty(), "{stderr}");

    let (code, stdout, _) = m.run(&["check", "--to", lf.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let check: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(check["device"]["flash_id_source"], "bootloader");
    assert!(finding(&check, "flash-chip-mismatch")["message"].as_str().unwrap().contains("XM25QU64C"), "{check}");
    assert_eq!(m.answers_at(), "LTE01R06A04_VOLTE_C_SDK_A");
}

#[test]
fn an_la_package_flashes_keeping_nv_with_a_backup_and_check_reads_the_new_revision() {
    let m = Module::start("ec800m-cn-la", &[]);
    let b = la_package();
    let pkg = m.package(&b);
    let before = m.flash_bin();
    // A dry run reads the chip as check does (the verdict needs it), plans, and writes nothing.
    let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap(), "--dry-run", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let events = json_lines(&out);
    assert_eq!(events[0]["phase"], "read_flash_id", "{out}");
    let plan = events.iter().find_map(|e| e.get("plan")).expect("a plan");
    assert_eq!(plan["verdict"], "allow", "{plan}");
    assert!(events.last().unwrap()["outcome"]["dry_run"] == true, "{out}");
    assert!(m.flash_bin() == before, "the dry run wrote to the module");
    assert_eq!(m.answers_at(), "LTE01R06A04_VOLTE_C_SDK_A");

    let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let events = json_lines(&out);
    let result = events.last().unwrap();
    assert_eq!(result["outcome"]["revision_after"], "EC800MCNLAR01A02M08", "{result}");
    let backup = PathBuf::from(result["outcome"]["backup_dir"].as_str().expect("a backup"));
    assert!(backup.join("manifest.json").is_file() || backup.read_dir().unwrap().count() > 1, "{}", backup.display());

    let after = m.flash_bin();
    for (file, part, data) in &b.images {
        let r = region(&b, part);
        assert!(after[r.start..r.start + data.len()] == data[..], "{file} is not at {part}");
    }
    let nvm = region(&b, "nvm");
    assert!(after[nvm.clone()] == before[nvm.clone()], "nvm changed");
    assert!(before[nvm].iter().any(|b| *b != 0xFF), "the module's nvm holds data");

    let (code, out, err) = m.run(&["check", "--image", pkg.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let check: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(check["device"]["revision"], "EC800MCNLAR01A02M08");
    assert_eq!(check["device"]["flash_id_source"], "bootloader");
}

#[test]
fn ec800k_and_ec800m_lf_flash_their_own_images() {
    for (profile, builder, revision) in [
        ("ec800k-cn", AsrBuilder::ec800k_cn(), "EC800KCNCCR07A02M02"),
        ("ec800m-cn-lf", AsrBuilder::ec800m_cn_lf(), "EC800MCNLFR01A02M04"),
    ] {
        let m = Module::start(profile, &[]);
        let b = builder.revised(revision);
        let pkg = m.package(&b);
        let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap()]);
        assert_eq!(code, 0, "{profile}: {out}\n{err}");
        let after = m.flash_bin();
        for (file, part, data) in &b.images {
            let r = region(&b, part);
            assert!(after[r.start..r.start + data.len()] == data[..], "{profile}: {file} is not at {part}");
        }
        assert_eq!(m.answers_at(), revision, "{profile}");
    }
}

#[test]
fn a_cut_link_exits_3_and_resume_completes() {
    let b = la_package();
    // Past identification, the flash-ID read, the backup of the NV areas (about 700 KiB, read
    // and read again to verify it) and into the read-back of the megabyte modem image.
    let m = Module::start("ec800m-cn-la", &["drop-at=2000000"]);
    let pkg = m.package(&b);
    let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(err.contains("--resume"), "{err}");
    let m = m.power_cycle();
    let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap(), "--resume"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let after = m.flash_bin();
    for (file, part, data) in &b.images {
        let r = region(&b, part);
        assert!(after[r.start..r.start + data.len()] == data[..], "{file} is not at {part}");
    }
    assert_eq!(m.answers_at(), "EC800MCNLAR01A02M08");
}

/// A package that erases the NV partition is refused before anything is written; with
/// `--allow-protected` the NV data is backed up first.
#[test]
fn a_package_erasing_nv_needs_allow_protected_and_backs_it_up_first() {
    let m = Module::start("ec800m-cn-la", &[]);
    let mut b = la_package();
    b.damage = vec![fwguard::image::build::asr::AsrDamage::EraseNv];
    let pkg = m.package(&b);
    let before = m.flash_bin();
    let (code, out, err) = m.run(&["flash", "--image", pkg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("nvm") && err.contains("calibration-erase"), "{err}");
    assert!(m.flash_bin() == before, "the module was written");

    let (code, out, err) =
        m.run(&["flash", "--image", pkg.to_str().unwrap(), "--allow-protected", "--accept-warnings", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let events = json_lines(&out);
    let dir = PathBuf::from(events.last().unwrap()["outcome"]["backup_dir"].as_str().unwrap());
    let nvm = region(&b, "nvm");
    let saved = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("nvm"))
        .expect("nvm in the backup");
    assert!(std::fs::read(saved).unwrap() == before[nvm.clone()], "the backup is not the module's NV data");
    assert!(m.flash_read(nvm).iter().all(|b| *b == 0xFF), "nvm was not erased");
}
