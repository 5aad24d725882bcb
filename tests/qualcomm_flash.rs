//! `fwguard flash` end to end on a simulated Qualcomm module: the real binary, finding the module
//! through discovery (`FWGUARD_SYSFS`, `FWGUARD_DEV`) as `fwguard sim --root --state` describes it,
//! through the DIAG switch, Sahara and Firehose, and back to normal mode.

use std::path::{Path, PathBuf};
use std::time::Instant;

use fwguard::image::build::qualcomm::QualcommBuilder;
use fwguard::sim::qualcomm::firmware::calibration;
use serde_json::Value;

use crate::qualcomm_rig::*;

#[test]
fn an_allowed_package_is_flashed_verified_and_read_back_by_check() {
    let rig = Rig::start(&[]);
    let builder = QualcommBuilder::ec25(EC25_R06_NEXT);
    let pkg = rig.package(&builder);
    let efs2_before = rig.store().read(EFS2.0, EFS2.1 as usize).unwrap();
    let t = Instant::now();
    let (code, stdout, stderr) = rig.flash(&pkg, &["--json"]);
    eprintln!("flash took {:?}", t.elapsed());
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // One JSON object a line: the plan, phases, steps with bytes, verifications, the result.
    let lines = json_lines(&stdout);
    let plan = &events(&lines, "plan")[0]["plan"];
    assert_eq!(plan["module"]["imei"], IMEI);
    assert_eq!(plan["storage"]["page_size"], 4096);
    assert_eq!(plan["protected"][0]["partition"], "efs2");
    let steps = plan["steps"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> =
        steps.iter().map(|s| (s["operation"].as_str().unwrap(), s["partition"].as_str().unwrap())).collect();
    assert_eq!(kinds[0], ("erase", "sbl"), "the boot loader is erased first");
    assert_eq!(kinds.last(), Some(&("write", "sbl")), "and written last");
    let patches: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i].0 == "patch").collect();
    assert_eq!(patches.len(), 2, "the MIBIB's two patches: {kinds:?}");
    assert!(patches.iter().all(|&i| kinds[i].1 == "mibib" && i + 1 < kinds.len()), "{kinds:?}");
    let writes = kinds.iter().filter(|k| k.0 == "write").count();
    assert_eq!(events(&lines, "verify").len(), writes);
    assert!(events(&lines, "verify").iter().all(|v| v["ok"] == true && v["method"] == "digest"));
    let ends = events(&lines, "step_end").into_iter().filter(|e| e["skipped"] == false).count();
    assert_eq!(ends, steps.len());
    let result = lines.last().unwrap();
    assert_eq!((result["event"].as_str(), result["exit_code"].as_u64()), (Some("result"), Some(0)));
    assert_eq!(result["outcome"]["revision_after"], EC25_R06_NEXT);

    // flash.bin: every image at its partition's offset, padded with 0xFF to its page; efs2 as
    // it was; the MIBIB's last partition patched to the end of this 2048-block NAND.
    let store = rig.store();
    for (file, offset) in programs(&pkg, &builder) {
        if file.ends_with(builder.mibib_name()) {
            continue; // patched on the module: checked below
        }
        let bytes = std::fs::read(&file).unwrap();
        let padded = bytes.len().div_ceil(PAGE as usize) * PAGE as usize;
        let held = store.read(offset, padded).unwrap();
        assert!(held[..bytes.len()] == bytes[..], "{} at {offset:#x}", file.display());
        assert!(held[bytes.len()..].iter().all(|b| *b == 0xFF), "{} is padded with 0xFF", file.display());
    }
    assert!(store.read(EFS2.0, EFS2.1 as usize).unwrap() == efs2_before, "efs2 byte-identical");
    let table =
        fwguard::image::qualcomm::mibib::parse_mibib(&store.read(640 * PAGE, 4 * PAGE as usize).unwrap()).unwrap();
    let last = table.entries.last().unwrap();
    assert_eq!(last.offset_blocks + last.length_blocks, 2048, "{last:?}");

    // The backup: efs2 under backups/<IMEI>/<time>/, with its manifest.
    let backups = rig.home.path().join("fwguard/backups").join(IMEI);
    let dirs: Vec<PathBuf> = std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let manifest: Value = serde_json::from_slice(&std::fs::read(dirs[0].join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["imei"], IMEI);
    let area = &manifest["areas"][0];
    assert_eq!((area["partition"].as_str(), area["offset"].as_u64()), (Some("efs2"), Some(EFS2.0)));
    let saved = std::fs::read(dirs[0].join(area["file"].as_str().unwrap())).unwrap();
    assert!(saved == efs2_before && saved[..64 * 1024] == calibration(IMEI)[..]);

    // check afterwards reads the new revision from the module: the same build again.
    let (code, stdout, stderr) = rig.run(&["check", "--image", pkg.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let check: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(check["device"]["revision"], EC25_R06_NEXT);
    assert!(check["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "reinstall"), "{check}");
    let history = rig.run(&["history", "--json"]).1;
    assert!(history.contains("flashed") && history.contains(EC25_R06_NEXT), "{history}");
}

/// A flash cut in the boot ROM's Sahara stage wrote nothing: exit 2, the journal says so, and
/// the module (its boot loader intact) boots its old firmware after a power cycle, from which
/// `--resume` completes the flash.
#[test]
fn a_link_cut_in_sahara_writes_nothing_and_resume_completes() {
    // Cut in a READ_DATA request, after five pieces of the programmer went up.
    let drop_at = sent_at(|w| w.starts_with("4095 bytes"), 4) + 10;
    let mut rig = Rig::start(&[&format!("drop-at={drop_at}")]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let before = rig.store().read(0, 64 << 20).unwrap();
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 2, "nothing was written: {stdout}\n{stderr}");
    assert!(stderr.contains("Sahara") || stderr.contains("READ_DATA"), "STDERR {stderr}");
    let kinds: Vec<String> = rig.journal(1).into_iter().map(|e| format!("{} {}", e.0, e.2)).collect();
    assert_eq!(kinds, ["enter done", "connect failed"], "{kinds:?}");
    rig.power_cycle();
    assert!(rig.store().read(0, 64 << 20).unwrap() == before, "the flash is untouched");
    assert_eq!(rig.modules(), [("2c7c:0125".to_string(), "at".to_string())], "it boots its old firmware");
    let (code, stdout, stderr) = rig.flash(&pkg, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(format!("{stdout}{stderr}").contains(EC25_R06_NEXT), "OUT {stdout}\nERR {stderr}");
}

/// A flash cut in its first program (the data on the NAND, its final ACK lost) exits 3, naming
/// the journal run; the module, its boot loader erased, comes up in emergency download after a
/// power cycle; `--resume` finds it there by its Sahara serial, refuses another package naming
/// both, skips what the NAND already holds and finishes to a verified module.
#[test]
fn a_link_cut_in_the_first_program_resumes_from_emergency_download() {
    let drop_at = sent_after(|w| w.starts_with("<program"), 0) + 5;
    let mut rig = Rig::start(&[&format!("drop-at={drop_at}")]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    let run = run_id(&stderr);
    let journal = rig.journal(run);
    let steps: Vec<String> = journal
        .iter()
        .filter(|e| e.0 == "erase" || e.0 == "write")
        .map(|e| format!("{} {} {}", e.0, e.1, e.2))
        .collect();
    assert_eq!(steps, ["erase sbl done", "erase mibib done", "erase tz done", "write mibib failed"], "{journal:#?}");

    rig.power_cycle();
    assert_eq!(rig.modules(), [("05c6:9008".to_string(), "edl".to_string())], "an erased boot loader: EDL");
    let other = rig.package(&QualcommBuilder::ec25("EC25EFAR06A19M4G_20.202.20.202"));
    let (code, _, stderr) = rig.flash(&other, &["--resume"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no interrupted flash of a package with SHA-256"), "{stderr}");
    let (code, stdout, stderr) = rig.flash(&pkg, &["--resume", "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines = json_lines(&stdout);
    let connected = &events(&lines, "connected")[0]["target"];
    assert!(connected["serial"].as_str().unwrap().starts_with("0x"), "{connected}");
    let skipped: Vec<u64> = events(&lines, "step_end")
        .iter()
        .filter(|e| e["skipped"] == true)
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert!(skipped.contains(&3), "the MIBIB the cut program wrote is already right: {skipped:?}");
    let result = lines.last().unwrap();
    assert_eq!(result["outcome"]["resumed"], true);
    assert_eq!(result["outcome"]["revision_after"], EC25_R06_NEXT);
}

/// A flash cut as the boot loader is written exits 3; the module comes up in emergency
/// download. A resumed flash cut in Sahara exits 3 too (the run had written), and the next
/// `--resume` finishes.
#[test]
fn a_link_cut_in_the_boot_loader_write_resumes_twice() {
    let drop_at = sent_at(|w| w.starts_with("<program") && w.contains("start_sector=\"0\""), 0) + 5;
    let mut rig = Rig::start(&[&format!("drop-at={drop_at}")]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let (code, stdout, stderr) = rig.flash(&pkg, &["--json"]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    let lines = json_lines(&stdout);
    let result = lines.last().unwrap();
    let run = run_id(result["error"].as_str().unwrap());
    let journal = rig.journal(run);
    let last = journal.iter().rev().find(|e| e.0 == "write").unwrap();
    assert_eq!((last.1.as_str(), last.2.as_str()), ("sbl", "failed"), "{journal:#?}");
    let verified = journal.iter().filter(|e| e.0 == "verify" && e.2 == "done").count();
    assert_eq!(verified, 12, "every other write verified: {journal:#?}");

    // The module now starts in EDL, sending HELLO first: cut it in Sahara again, at the same
    // place counted from its HELLO.
    let hello = sent_at(|w| w.starts_with("48 bytes [02 00 00 00"), 0) - 48;
    let drop_at = sent_at(|w| w.starts_with("4095 bytes"), 4) + 10 - hello;
    rig.faults = vec![format!("drop-at={drop_at}")];
    rig.power_cycle_with_faults();
    let (code, _, stderr) = rig.flash(&pkg, &["--resume"]);
    assert_eq!(code, 3, "{stderr}");
    rig.power_cycle();
    assert_eq!(rig.modules(), [("05c6:9008".to_string(), "edl".to_string())]);
    let (code, stdout, stderr) = rig.flash(&pkg, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let check = rig.run(&["check", "--to", EC25_R06_NEXT]);
    assert_eq!(check.0, 0, "{check:?}");
    assert!(check.1.contains(EC25_R06_NEXT), "{check:?}");
}

/// A package the database blocks (an R08 build on an R06 module) is refused with exit 1 before
/// the module is asked anything past identification: it stays in normal mode, its download
/// side hears nothing, its flash is untouched, and no journal run is opened.
#[test]
fn a_blocked_package_sends_nothing_past_identification() {
    let mut rig = Rig::start(&[]);
    let pkg = rig.package(&QualcommBuilder::ec25("EC25EFAR08A01M4G_01.001.01.001"));
    let before = whole_flash(&rig);
    let (code, stdout, stderr) = rig.flash(&pkg, &["--json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(text.contains(EC25_R06) && text.contains("EC25EFAR08A01M4G"), "names both revisions: {text}");
    let lines = json_lines(&stdout);
    assert!(lines.iter().all(|e| e["event"] != "phase" && e["event"] != "step_begin"), "{stdout}");
    assert_eq!(lines.last().unwrap()["exit_code"], 1);
    assert!(rig.trace().is_empty(), "the download side heard {:?}", rig.trace());
    assert_eq!(rig.modules(), [("2c7c:0125".to_string(), "at".to_string())], "still in normal mode");
    assert!(whole_flash(&rig) == before, "nothing written");
    assert!(rig.journal(1).is_empty(), "no journal run");
}

/// `--dry-run` prints the plan (the protected efs2, every step) and sends nothing past
/// identification.
#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let mut rig = Rig::start(&[]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let before = whole_flash(&rig);
    let (code, stdout, stderr) = rig.flash(&pkg, &["--dry-run"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(text.contains("efs2") && text.contains("sbl") && text.contains("dry run"), "{text}");
    let (code, stdout, stderr) = rig.flash(&pkg, &["--dry-run", "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines = json_lines(&stdout);
    assert!(!events(&lines, "plan")[0]["plan"]["steps"].as_array().unwrap().is_empty());
    assert!(events(&lines, "step_begin").is_empty(), "{stdout}");
    assert_eq!(lines.last().unwrap()["outcome"]["dry_run"], true);
    assert!(rig.trace().is_empty(), "the download side heard {:?}", rig.trace());
    assert_eq!(rig.modules(), [("2c7c:0125".to_string(), "at".to_string())]);
    assert!(whole_flash(&rig) == before, "nothing written");
    assert!(!rig.home.path().join("fwguard/backups").exists(), "no backup taken");
}

/// A module whose programmer reports another NAND id (`flash-id=` fault) is stopped by the gate
/// before any erase: exit 1, both ids named, nothing erased, the journal ends at the gate.
#[test]
fn another_nand_id_stops_before_any_erase_naming_both() {
    let mut rig = Rig::start(&["flash-id=2C:AC:90:26"]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let before = whole_flash(&rig);
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(text.contains("2C AC 90 26") && text.contains("98 AC 90 26"), "names both ids: {text}");
    assert!(
        !rig.trace().iter().any(|(_, w)| w.starts_with("<erase") || w.starts_with("<program")),
        "{:?}",
        rig.trace()
    );
    rig.power_cycle();
    assert!(whole_flash(&rig) == before, "nothing erased");
    let kinds: Vec<String> = rig.journal(1).into_iter().map(|e| format!("{} {}", e.0, e.2)).collect();
    assert!(!kinds.iter().any(|k| k.starts_with("erase") || k.starts_with("write")), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("gate failed"), "{kinds:?}");
}

/// A package laid out for another NAND geometry (2 KiB pages, 128 KiB blocks, as EG25-G
/// packages are) is refused on this 4 KiB-page module before anything is erased, naming both
/// layouts: the verdict already blocks it (memory-mismatch), so the download side hears nothing.
#[test]
fn another_nand_geometry_is_refused_before_any_erase_naming_both() {
    let mut rig = Rig::start(&[]);
    let mut builder = QualcommBuilder::ec25(EC25_R06_NEXT);
    builder.geometry = fwguard::identity::NandGeometry { page_kib: 2, block_kib: 128 };
    let pkg = rig.package(&builder);
    let before = whole_flash(&rig);
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(text.contains("p4K_b256K") && text.contains("p2K_b128K"), "{text}");
    assert!(rig.trace().is_empty(), "the download side heard {:?}", rig.trace());
    rig.power_cycle();
    assert!(whole_flash(&rig) == before, "nothing erased");
}

/// A Firehose command the programmer NAKs before any data moved changed nothing: fwguard sends
/// it again, the flash completes, and the journal keeps the programmer's refusal.
#[test]
fn a_nakked_firehose_command_is_sent_again() {
    // The simulated programmer counts Firehose commands from 1: count the first <program>
    // from the trace of a clean flash.
    let trace = reference();
    let firehose: Vec<&String> = trace.iter().map(|(_, w)| w).filter(|w| w.starts_with('<')).collect();
    let first_program = firehose.iter().position(|w| w.starts_with("<program")).unwrap() + 1;
    let rig = Rig::start(&[&format!("nak-at={first_program}")]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let db = rusqlite::Connection::open(rig.home.path().join("fwguard/history.db")).unwrap();
    let mut rows = db.prepare("SELECT device_log FROM flash_steps WHERE device_log IS NOT NULL").unwrap();
    let logs: Vec<String> = rows.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let logs = logs.join("\n");
    assert!(logs.contains("<program> (simulated fault nak-at)") && logs.contains("NAKed; sending it again"), "{logs}");
}

/// With no NAK retries (a driver configured so; `fwguard flash` retries once), the programmer's
/// refusal of the first `<program>` fails the flash cleanly: exit 3 naming the journal run, the
/// journal's failed write carrying the programmer's log, nothing past it sent; `--resume` then
/// completes it.
#[test]
fn a_nak_without_retries_fails_cleanly_and_resume_completes() {
    use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
    use fwguard::flash::qualcomm::QualcommDriver;
    use fwguard::flash::{FlashError, Registry, Request, Silent};

    let trace = reference();
    let firehose: Vec<&String> = trace.iter().map(|(_, w)| w).filter(|w| w.starts_with('<')).collect();
    let first_program = firehose.iter().position(|w| w.starts_with("<program")).unwrap() + 1;
    let mut rig = Rig::start(&[&format!("nak-at={first_program}")]);
    let pkg = rig.package(&QualcommBuilder::ec25(EC25_R06_NEXT));
    rig.wait_booted();
    let db = fwguard::db::Database::builtin();
    let options = AcquireOptions { sys: rig.sys(), ..AcquireOptions::default() };
    let module = acquire(&ModuleSource::Auto, &db, &options).unwrap();
    let mut driver = QualcommDriver::new();
    driver.firehose.nak_retries = 0;
    let registry = Registry::with(vec![Box::new(driver)]);
    let request = Request::new(&pkg, &rig.home.path().join("fwguard"));
    let err = fwguard::flash::flash(&module, &request, &db, &registry, &mut Silent).unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { run, .. } = &err else { panic!("{err:?}") };
    assert!(err.to_string().contains("NAK") || err.to_string().contains("nak"), "{err}");
    let journal = rig.journal(*run);
    let failed = journal.iter().find(|e| e.2 == "failed").unwrap();
    assert_eq!((failed.0.as_str(), failed.1.as_str()), ("write", "mibib"), "{journal:#?}");
    assert!(failed.3.contains("nak-at"), "the programmer's words: {failed:?}");
    assert!(!journal.iter().any(|e| e.0 == "write" && e.2 == "done"), "{journal:#?}");
    let heard: Vec<(u64, String)> = rig.trace();
    assert!(heard.last().unwrap().1.starts_with("<program"), "nothing sent after the NAK: {heard:?}");

    rig.power_cycle();
    let (code, stdout, stderr) = rig.flash(&pkg, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(format!("{stdout}{stderr}").contains(EC25_R06_NEXT), "{stdout}\n{stderr}");
}

/// The planner's fuzz seeds (fuzz/seeds/qc_planner: a selector byte, then a rawprogram, patch
/// XML or MIBIB written by hand, hostile in places) replayed on stable as the fuzz target does:
/// each is planned or refused naming the package, never a panic.
#[test]
fn planner_fuzz_seeds_are_planned_or_refused() {
    use std::io::Read as _;

    use fwguard::flash::qualcomm::planner;
    use fwguard::image::Inspection;
    use fwguard::image::build::memory::MemoryPackage;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/qc_planner");
    let builder = QualcommBuilder::ec25(EC25_R06_NEXT);
    let mut seen = 0;
    for seed in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(seed.unwrap().path()).unwrap();
        let (which, rest) = data.split_first().unwrap();
        let replaced =
            [builder.rawprogram_name(), builder.patch_name(), builder.mibib_name()][*which as usize % 3].clone();
        let mut members = Vec::new();
        for (path, content) in builder.files().unwrap() {
            let mut bytes = Vec::new();
            if path.ends_with(&replaced) {
                bytes = rest.to_vec();
            } else {
                content.reader().read_to_end(&mut bytes).unwrap();
            }
            members.push((path, bytes));
        }
        let mut package = MemoryPackage::new("seed", members);
        let planned = planner::plan(&mut package, &Inspection::default());
        eprintln!("{replaced}: {:?}", planned.as_ref().map(|p| p.layout.steps.len()).map_err(ToString::to_string));
        if let Err(e) = planned {
            assert!(e.to_string().contains("seed") || e.to_string().contains(".xml"), "{replaced}: {e}");
        }
        seen += 1;
    }
    assert!(seen >= 3, "{seen} seeds");
}

/// A package that writes the calibration partition (efs2) is refused without
/// `--allow-protected` before anything is sent past identification; with it (and
/// `--accept-warnings`, as its calibration-erase finding is then a warning), efs2 is backed up
/// (verified) before the first write and then written as the package says.
#[test]
fn a_package_writing_efs2_needs_allow_protected_and_a_backup_first() {
    let mut rig = Rig::start(&[]);
    let mut builder = QualcommBuilder::ec25(EC25_R06_NEXT);
    builder.calibration_write = true;
    let pkg = rig.package(&builder);
    let efs2_before = rig.store().read(EFS2.0, EFS2.1 as usize).unwrap();
    let (code, stdout, stderr) = rig.flash(&pkg, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("calibration-erase") && stderr.contains("--allow-protected"), "{stderr}");
    assert!(rig.trace().is_empty(), "the download side heard {:?}", rig.trace());

    let (code, stdout, stderr) = rig.flash(&pkg, &["--allow-protected", "--accept-warnings", "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines = json_lines(&stdout);
    let order: Vec<&str> = lines.iter().filter_map(|e| e["event"].as_str()).collect();
    let backup = order.iter().position(|e| *e == "backup").expect("a backup event");
    let first_step = order.iter().position(|e| *e == "step_begin").unwrap();
    assert!(backup < first_step, "{order:?}");
    let dirs: Vec<PathBuf> = std::fs::read_dir(rig.home.path().join("fwguard/backups").join(IMEI))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let saved = std::fs::read(dirs[0].join("efs2-500000.bin")).unwrap();
    assert!(saved == efs2_before, "the backup holds efs2 as it was");
    let written = std::fs::read(pkg.join("update/efs2.mbn")).unwrap();
    assert!(rig.store().read(EFS2.0, written.len()).unwrap() == written, "efs2 now holds the package's");
}
