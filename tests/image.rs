//! End to end: the real `fwguard inspect` on packages built in a temporary folder.

use std::path::Path;

use assert_cmd::Command;
use fwguard::image::build::Content;
use fwguard::image::build::qualcomm::{Md5Mode, QualcommBuilder};
use fwguard::image::build::zip::Hostile;
use serde::Deserialize;

const REV: &str = "EC25EFAR06A17M4G_20.200.20.200";

#[derive(Debug, Deserialize)]
struct FileJson {
    path: String,
    size: u64,
    sha256: String,
}

#[derive(Debug, Deserialize)]
struct ChipJson {
    #[allow(dead_code)]
    jedec: String,
    #[allow(dead_code)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PartitionJson {
    name: String,
    start: Option<u64>,
    file: Option<String>,
    erase: bool,
}

#[derive(Debug, Deserialize)]
struct InspectJson {
    path: String,
    format: String,
    platform: String,
    revision: Option<String>,
    product: Option<String>,
    files: Vec<FileJson>,
    flash_chips: Vec<ChipJson>,
    nand: Option<serde_json::Value>,
    partitions: Vec<PartitionJson>,
    erases: Vec<String>,
    name_conflict: Option<String>,
    problems: Vec<String>,
}

fn fwguard() -> Command {
    Command::cargo_bin("fwguard").expect("the fwguard binary is built")
}

fn inspect_json(path: &Path) -> InspectJson {
    let out = fwguard().args(["inspect", "--json"]).arg(path).output().expect("fwguard runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("inspect --json prints one JSON object")
}

#[test]
fn inspect_json_of_a_zip_package() {
    let dir = tempfile::tempdir().unwrap();
    let b = QualcommBuilder::ec25(REV);
    let path = dir.path().join(b.file_name(".zip"));
    b.write_zip(&path).unwrap();
    let j = inspect_json(&path);
    assert_eq!(j.path, path.display().to_string());
    assert_eq!(j.format, "qualcomm-zip");
    assert_eq!(j.platform, "qualcomm");
    assert_eq!(j.revision.as_deref(), Some(REV));
    assert_eq!(j.product.as_deref(), Some("EC25EFA"));
    assert!(j.flash_chips.is_empty());
    assert_eq!(j.nand.unwrap()["page_kib"], 4);
    assert!(j.problems.is_empty(), "{:?}", j.problems);
    assert!(j.erases.is_empty());
    assert_eq!(j.name_conflict, None);
    let expected = b.files().unwrap();
    assert_eq!(j.files.len(), expected.len());
    for ((p, c), f) in expected.iter().zip(&j.files) {
        assert_eq!((&f.path, f.size), (p, c.len()));
        assert_eq!(f.sha256, c.sha256().unwrap());
        assert_eq!(f.sha256.len(), 64);
    }
    let sbl = j.partitions.iter().find(|p| p.name == "sbl").unwrap();
    assert_eq!((sbl.start, sbl.file.as_deref(), sbl.erase), (Some(0), Some("update/sbl1.mbn"), true));
}

#[test]
fn inspect_table_of_a_folder_package_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = QualcommBuilder::ec25(REV);
    b.erase_all = true;
    b.md5 = Md5Mode::Missing;
    let path = b.write_folder(dir.path()).unwrap();
    let out = fwguard().arg("inspect").arg(&path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in
        [REV, "EC25EFA", "qualcomm-folder", "MDM9x07", "p4K_b256K", "update/sbl1.mbn", "whole device", "no md5.txt"]
    {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    // Piped: plain columns, one row a line, no box drawing.
    assert!(!text.contains(['│', '┆', '┌', '─']), "{text}");
    assert!(text.lines().any(|l| l.split_whitespace().eq(["Revision", REV])), "{text}");
}

#[test]
fn name_conflict_and_seven_z() {
    let dir = tempfile::tempdir().unwrap();
    let b = QualcommBuilder::ec25(REV);
    let path = dir.path().join("EC25EFAR08A01M4G_01.001.01.001.7z");
    b.write_7z(&path).unwrap();
    let j = inspect_json(&path);
    assert_eq!(j.format, "qualcomm-7z");
    assert_eq!(j.revision.as_deref(), Some(REV));
    let conflict = j.name_conflict.expect("the name and the content disagree");
    assert!(conflict.contains("EC25EFAR08A01M4G") && conflict.contains("EC25EFAR06A17M4G"), "{conflict}");
}

#[test]
fn damaged_and_hostile_packages_exit_2_with_hint() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = QualcommBuilder::ec25(REV);
    b.md5 = Md5Mode::Wrong("update/NON-HLOS.ubi".into());
    let bad_md5 = dir.path().join(b.file_name(".zip"));
    b.write_zip(&bad_md5).unwrap();
    let out = fwguard().args(["inspect", "--json"]).arg(&bad_md5).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // With --json the error is also a JSON object on stdout, with the same text and hint.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["error"].as_str().is_some_and(|e| e.contains("MD5 mismatch")), "{json}");
    assert!(json["hint"].as_str().is_some_and(|h| !h.is_empty()), "{json}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("MD5 mismatch") && err.contains("NON-HLOS.ubi"), "{err}");
    assert!(err.contains("\nhint: "), "{err}");

    for &h in Hostile::ALL {
        let path = dir.path().join(h.file_name());
        h.write(&path).unwrap();
        let out = fwguard().arg("inspect").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{h:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: ") && err.contains("hint: "), "{h:?}: {err}");
    }
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), Hostile::ALL.len() + 1, "something was extracted: {names:?}");

    let missing = fwguard().args(["inspect", "/nonexistent/package.zip"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.starts_with("error: /nonexistent/package.zip: "), "{err}");
    // Printed once by main's print_error: one error line, one hint, the cause not repeated.
    assert_eq!((err.matches("error:").count(), err.matches("hint:").count()), (1, 1), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    assert!(err.ends_with("\nhint: check the path and its permissions\n"), "{err}");
}

#[test]
fn inspect_table_prints_the_name_conflict_sentence_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("EC25EFAR08A01M4G_01.001.01.001.zip");
    QualcommBuilder::ec25(REV).write_zip(&path).unwrap();
    let conflict = inspect_json(&path).name_conflict.expect("the name and the content disagree");
    let out = fwguard().arg("inspect").arg(&path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("\nconflict: {conflict}\n")), "{text}");
    assert!(!text.contains("the file name says"), "{text}");
}

#[test]
fn delta_package() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("EC20EQAR02A05V03-R02A09V02.zip");
    fwguard::image::build::zip::write_zip(&path, &[("delta.bin".into(), Content::Filler { len: 10, seed: 1 })], true)
        .unwrap();
    let j = inspect_json(&path);
    assert_eq!(j.format, "dfota");
    assert_eq!(j.revision.as_deref(), Some("EC20EQAR02A09V02"));
}

#[test]
#[ignore = "writes a sample package to FWGUARD_SAMPLE_DIR for a look by hand"]
fn write_sample() {
    // FWGUARD_SAMPLE_DIR=/tmp/x [FWGUARD_SAMPLE_MB=256] cargo test --test integration write_sample -- --ignored
    let dir = std::env::var("FWGUARD_SAMPLE_DIR").unwrap();
    let mut b = QualcommBuilder::ec25(REV);
    b.calibration_write = true;
    if let Some(mb) = std::env::var("FWGUARD_SAMPLE_MB").ok().and_then(|m| m.parse::<u64>().ok()) {
        b = b.total_size(mb << 20);
        b.write_folder(Path::new(&dir)).unwrap();
    }
    b.write_zip(&Path::new(&dir).join("EC25EFAR08A01M4G_01.001.01.001.zip")).unwrap();
}
