//! `fwguard flash` of Unisoc PACs end to end: the real `fwguard sim` binary (an EC200U on a
//! `--root` tree with a `--state` flash), found through discovery, `AT+QDOWNLOAD=1`, the 8910
//! ROM and FDLs over the pseudo-terminal of its download port, the guards, and `check` after.

use std::path::PathBuf;

use fwguard::image::build::pac::PacBuilder;
use fwguard::sim::unisoc::layout::{Layout8910, module_nv, module_phasecheck};
use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;

/// The next EC200U-CN build after the simulator's EC200UCNAAR03A03M08.
const CN_NEXT: &str = "EC200UCNAAR03A04M08";

/// A simulated module of `profile` on a `--root` tree with a `--state` flash.
struct Bench {
    home: TempDir,
    root: TempDir,
    state: TempDir,
    profile: &'static str,
    sim: Option<Sim>,
}

impl Bench {
    fn start(profile: &'static str, faults: &[&str]) -> Bench {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let mut bench = Bench { home, root, state, profile, sim: None };
        bench.restart(faults);
        bench
    }

    /// Starts the simulator again on the same tree and flash (a module power-cycled), with
    /// `faults`.
    fn restart(&mut self, faults: &[&str]) {
        if let Some(sim) = self.sim.take() {
            drop(sim);
        }
        let mut args = vec![
            self.profile,
            "--root",
            self.root.path().to_str().unwrap(),
            "--state",
            self.state.path().to_str().unwrap(),
        ];
        for f in faults {
            args.extend_from_slice(&["--fault", f]);
        }
        self.sim = Some(Sim::start(&args));
    }

    /// Writes `builder`'s PAC under its Quectel-style name; returns its path.
    fn package(&self, builder: &PacBuilder, revision: &str) -> PathBuf {
        let dir = self.home.path().join("packages");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("8915DM_cat1_open_{revision}_merge.pac"));
        std::fs::write(&path, builder.to_bytes()).unwrap();
        path
    }

    /// `fwguard ARGS` finding the module by discovery; (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        crate::util::run_in_tree(self.home.path(), self.root.path(), args)
    }

    fn flash_bin(&self) -> Vec<u8> {
        std::fs::read(self.state.path().join("flash.bin")).unwrap()
    }

    /// The module's modes as discovery sees them now.
    fn modes(&self) -> Vec<fwguard::device::Mode> {
        let paths =
            fwguard::device::SysPaths { sysfs: self.root.path().join("sys"), dev: self.root.path().join("dev") };
        let modules = fwguard::device::discover_in(&paths, fwguard::device::UsbTable::builtin().unwrap()).unwrap();
        modules.iter().map(|m| m.mode).collect()
    }

    /// Backup files the flash left under `$FWGUARD_HOME`, by file name.
    fn backups(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut dirs = vec![self.home.path().join("fwguard")];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.components().any(|c| c.as_os_str() == "backups") {
                    out.push((e.file_name().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()));
                }
            }
        }
        out
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            sim.finish();
        }
    }
}

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The module's NV and PhaseCheck as its flash holds them (the simulator's map of the 8 MiB
/// flash), each its image's length.
fn protected_bytes(flash: &[u8], imei: &str) -> (Vec<u8>, Vec<u8>) {
    let map = Layout8910::new(flash.len() as u64);
    let (nv, pc) = (module_nv(imei), module_phasecheck(imei));
    let at = |offset: u64, len: usize| flash[offset as usize..offset as usize + len].to_vec();
    (at(map.nv.offset, nv.len()), at(map.phasecheck.offset, pc.len()))
}

#[test]
fn an_allowed_pac_flashes_onto_an_ec200u_found_through_discovery() {
    let bench = Bench::start("ec200u-cn", &[]);
    let imei = fwguard::sim::find("ec200u-cn").unwrap().imei;
    let builder = PacBuilder::uis8910(CN_NEXT);
    let package = bench.package(&builder, CN_NEXT);
    let (nv_before, pc_before) = protected_bytes(&bench.flash_bin(), &imei);
    assert_eq!(nv_before, module_nv(&imei), "the simulator's flash holds the module's NV");

    let (code, stdout, stderr) = bench.run(&["flash", "--image", package.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let events = events(&stdout);
    let last = events.last().unwrap();
    assert_eq!((last["event"].as_str(), last["exit_code"].as_u64()), (Some("result"), Some(0)), "{last}");

    // Every file of the scheme at its address minus 0x60000000; NV and PhaseCheck as they were.
    let flash = bench.flash_bin();
    assert_files_at_their_addresses(&builder, &flash);
    assert_eq!(protected_bytes(&flash, &imei), (nv_before.clone(), pc_before.clone()), "NV or PhaseCheck changed");

    // Backed up before the first write: PhaseCheck and the module's NV, byte for byte.
    let backups = bench.backups();
    let names: Vec<&str> = backups.iter().map(|(n, _)| n.as_str()).collect();
    assert!(backups.iter().any(|(_, b)| *b == pc_before), "no PhaseCheck backup among {names:?}");
    assert!(backups.iter().any(|(_, b)| *b == nv_before), "no NV backup among {names:?}");

    // The module boots what was written, in normal mode, and check reads the new revision.
    assert_eq!(bench.modes(), [fwguard::device::Mode::At]);
    let (code, stdout, stderr) = bench.run(&["check", "--to", CN_NEXT, "--json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(report["device"]["revision"], CN_NEXT, "{stdout}\n{stderr} (exit {code})");
}

fn assert_files_at_their_addresses(builder: &PacBuilder, flash: &[u8]) {
    for f in builder.files.iter().filter(|f| !f.data.is_empty() && (0x6000_0000..0xFE00_0000).contains(&f.address)) {
        let at = (f.address - 0x6000_0000) as usize;
        assert_eq!(&flash[at..at + f.data.len()], f.data.as_slice(), "{} at {:#x}", f.id, f.address);
    }
}

/// NV item `id` of an NV image.
fn nv_item(image: &[u8], id: u16) -> Vec<u8> {
    let layout = fwguard::flash::unisoc::nv::parse(image, "NV").unwrap();
    let i = layout.lists[0].iter().find(|i| i.id == id).unwrap_or_else(|| panic!("no NV item {id:#x}"));
    image[i.data..i.data + i.len].to_vec()
}

#[test]
fn a_pac_that_writes_nv_needs_allow_protected_and_keeps_the_module_items() {
    let bench = Bench::start("ec200u-cn", &[]);
    let imei = fwguard::sim::find("ec200u-cn").unwrap().imei;
    let builder = PacBuilder::uis8910(CN_NEXT).with_nv_steps();
    let package = bench.package(&builder, CN_NEXT);
    let before = bench.flash_bin();
    let (nv_before, pc_before) = protected_bytes(&before, &imei);

    let (code, _, stderr) = bench.run(&["flash", "--image", package.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("calibration-erase") && stderr.contains("--allow-protected"), "{stderr}");
    assert_eq!(bench.modes(), [fwguard::device::Mode::At], "refused before the download mode");
    assert!(bench.flash_bin() == before, "a refused flash changed the module");

    let (code, stdout, stderr) =
        bench.run(&["flash", "--image", package.to_str().unwrap(), "--allow-protected", "--accept-warnings"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let flash = bench.flash_bin();
    assert_files_at_their_addresses(&builder, &flash);
    let map = Layout8910::new(flash.len() as u64);
    let nv_after = flash[map.nv.offset as usize..(map.nv.offset + map.nv.len) as usize].to_vec();
    let package_nv = fwguard::image::build::pac::nv_items();
    for id in [5, fwguard::image::build::pac::NV_CALIBRATION] {
        assert_eq!(nv_item(&nv_after, id), nv_item(&nv_before, id), "the module's NV item {id:#x} was not kept");
    }
    assert_eq!(nv_item(&nv_after, 0x200), nv_item(&package_nv, 0x200), "the rest of NV is the package's");
    assert_eq!(protected_bytes(&flash, &imei).1, pc_before, "PhaseCheck changed");
    let backups = bench.backups();
    let sizes: Vec<(&str, usize)> = backups.iter().map(|(n, b)| (n.as_str(), b.len())).collect();
    // The scheme's NV size (0x400), which holds the module's whole NV image.
    let nv = backups.iter().find(|(n, _)| n.starts_with("NV-")).map(|(_, b)| b);
    assert!(nv.is_some_and(|b| b.len() == 0x400 && b.starts_with(&nv_before)), "NV not backed up: {sizes:?}");
}

#[test]
fn an_eu_aa_pac_is_refused_on_cn_and_eu_ab_modules_before_the_download_mode() {
    for (profile, rule) in [("ec200u-cn", "EC200UCNAA"), ("ec200u-eu", "EC200UEUAB")] {
        let bench = Bench::start(profile, &[]);
        let builder = PacBuilder::ec200u_eu();
        let package = bench.package(&builder, "EC200UEUAAR02A02M08_OCPU");
        let before = bench.flash_bin();
        for extra in [&[][..], &["--allow-protected", "--accept-warnings"][..]] {
            let mut args = vec!["flash", "--image", package.to_str().unwrap(), "--json"];
            args.extend_from_slice(extra);
            let (code, stdout, stderr) = bench.run(&args);
            assert_eq!(code, 1, "{profile} {extra:?}: {stdout}\n{stderr}");
            let events = events(&stdout);
            let last = events.last().unwrap();
            assert_eq!(last["code"], "fwguard::flash::blocked", "{profile}: {last}");
            let error = last["error"].as_str().unwrap();
            assert!(error.contains("EC200UEUAA") && error.contains(rule), "{profile}: {error}");
            // Nothing past identification: no download mode, no connection, no step.
            for e in &events {
                let kind = e["event"].as_str().unwrap_or_default();
                assert!(!["connected", "gate", "backup", "step_begin"].contains(&kind), "{profile}: {e}");
            }
            assert_eq!(bench.modes(), [fwguard::device::Mode::At], "{profile}: sent to its download mode");
            assert!(bench.flash_bin() == before, "{profile}: a refused flash changed the module");
        }
    }
}

#[test]
fn a_cut_link_exits_3_and_resume_completes() {
    // The AP image is large enough that the link is cut after writing began, wherever in the
    // write or its read-back the cut falls: the module sends under 200 KiB before the first write
    // (identification, the boot stages, the survey and the backups of NV, PhaseCheck and the
    // 128 KiB factory file system), and reads back 1.5 MiB to verify.
    let mut bench = Bench::start("ec200u-cn", &["drop-at=1048576"]);
    let imei = fwguard::sim::find("ec200u-cn").unwrap().imei;
    let mut builder = PacBuilder::uis8910(CN_NEXT);
    builder.files[3].data = fwguard::image::build::asr::firmware_image(CN_NEXT, 0x18_0003);
    let package = bench.package(&builder, CN_NEXT);
    let protected_before = protected_bytes(&bench.flash_bin(), &imei);

    let (code, stdout, stderr) = bench.run(&["flash", "--image", package.to_str().unwrap()]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");

    // The module is power-cycled (the simulator restarted on the same flash) and found again.
    bench.restart(&[]);
    let (code, stdout, stderr) = bench.run(&["flash", "--image", package.to_str().unwrap(), "--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let flash = bench.flash_bin();
    assert_files_at_their_addresses(&builder, &flash);
    assert_eq!(protected_bytes(&flash, &imei), protected_before, "NV or PhaseCheck changed");
    let (_, stdout, _) = bench.run(&["check", "--to", CN_NEXT, "--json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["device"]["revision"], CN_NEXT);
}

/// A UIS8850 (EC800G) PAC: the published 8850 scheme (`FDL` through the ROM, `ERASE_SPL` first).
fn uis8850(revision: &str) -> PacBuilder {
    use fwguard::image::build::pac::PacFileSpec;
    let mut builder = PacBuilder::uis8910(revision);
    builder.product_name = "UIS8850_MODEM".into();
    builder.product_version = "8850 MODULE".into();
    let ap = builder.files[3].clone();
    builder.files = vec![
        PacFileSpec::file("FDL", "fdl1.img", "FDL", 0x0080_0000, 0x1_0000, vec![1; 0x400]),
        PacFileSpec::file("FDL2", "fdl2.img", "FDL2", 0x0081_0000, 0x1_0000, vec![2; 0x400]),
        PacFileSpec::operation("ERASE_SPL", "EraseFlash", "ERASE_SPL", 0x6000_0000, 0),
        PacFileSpec::file("SPL", "spl.img", "CODE", 0x6000_0000, 0x1_0000, vec![3; 0x400]),
        ap,
    ];
    builder
}

#[test]
fn a_uis8850_pac_is_refused_saying_what_is_not_known() {
    use fwguard::flash::Driver;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("EC800GCNGAR01A01M04.pac");
    std::fs::write(&path, uis8850("EC800GCNGAR01A01M04").to_bytes()).unwrap();
    let inspection = fwguard::image::inspect(&path).unwrap();
    let mut package = fwguard::image::archive::open_package(&path).unwrap();
    let driver = fwguard::flash::unisoc::UnisocDriver::default();
    let err = driver.plan(package.as_mut(), &inspection).unwrap_err().to_string();
    assert!(
        err.contains("UIS8850") && err.contains("NOR flash is mapped") && err.contains("NV and PhaseCheck"),
        "{err}"
    );

    // Through the command, with a module it would otherwise flash: exit 2, nothing sent.
    let bench = Bench::start("ec200u-cn", &[]);
    let package = bench.package(&uis8850(CN_NEXT), CN_NEXT);
    let before = bench.flash_bin();
    let (code, stdout, stderr) = bench.run(&["flash", "--image", package.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("UIS8850") && stderr.contains("not where its NOR flash is mapped"), "{stderr}");
    assert_eq!(bench.modes(), [fwguard::device::Mode::At]);
    assert!(bench.flash_bin() == before);
}
