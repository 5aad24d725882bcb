//! `fwguard check` against a live (simulated) module: by port, by profile, by auto-detection.

use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;
use crate::util::fwguard;

const EC25_R06: &str = "EC25EFAR06A17M4G_20.200.20.200";
const EC25_R08: &str = "EC25EFAR08A01M4G_01.001.01.001";

fn check(home: &TempDir, envs: &[(&str, &std::path::Path)], args: &[&str]) -> (i32, Value, String) {
    let mut cmd = fwguard(home.path());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.arg("check").args(args).arg("--json").output().expect("fwguard runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn assert_cross_baseline(code: i32, r: &Value, err: &str) {
    assert_eq!(code, 1, "{r} {err}");
    assert_eq!(r["verdict"], "block");
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "cross-baseline"), "{r}");
    assert_eq!(r["device"]["revision"], EC25_R06);
    assert_eq!(r["device"]["model"], "EC25");
}

#[test]
fn check_by_port_reads_the_module_and_blocks_cross_baseline() {
    let sim = Sim::start(&["ec25-e"]);
    let home = TempDir::new().unwrap();
    let (code, r, err) = check(&home, &[], &["--port", sim.port.to_str().unwrap(), "--to", EC25_R08]);
    assert_cross_baseline(code, &r, &err);

    // The same identity described by hand gives the same verdict and findings.
    let (code2, hand, _) = check(&home, &[], &["--model", "EC25", "--revision", EC25_R06, "--to", EC25_R08]);
    assert_eq!(code2, code);
    assert_eq!(hand["findings"], r["findings"]);

    // The check is in the history, with the port and the IMEI read from the module.
    let out = fwguard(home.path()).args(["history", "--json"]).output().unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rec = h["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["device_source"] == "port"))
        .unwrap_or_else(|| panic!("{h}"));
    assert_eq!(rec["revision"], EC25_R06);
    assert_eq!(rec["verdict"], "block");
    assert_eq!(rec["port"], sim.port.to_str().unwrap());
    assert!(rec["imei"].as_str().is_some_and(|i| i.len() == 15), "{rec}");
    assert_eq!(rec["db_sha256"], r["database"]["sha256"]);
    assert!(rec["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "cross-baseline"));
    sim.finish();
}

#[test]
fn check_by_sim_profile() {
    let home = TempDir::new().unwrap();
    let (code, r, err) = check(&home, &[], &["--sim", "ec25-e", "--to", EC25_R08]);
    assert_cross_baseline(code, &r, &err);
    let (code, r, _) = check(&home, &[], &["--sim", "ec25-e", "--to", "EC25EFAR06A18M4G_20.201.20.201"]);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("allow")), "{r}");
    let (code, _, err) = check(&home, &[], &["--sim", "no-such-module", "--to", EC25_R08]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-module") && err.contains("hint:"), "{err}");
}

#[test]
fn check_finds_the_one_attached_module() {
    let root = TempDir::new().unwrap();
    let sim = Sim::start(&["ec25-e", "--root", root.path().to_str().unwrap()]);
    let home = TempDir::new().unwrap();
    let sys = root.path().join("sys");
    let dev = root.path().join("dev");
    let (code, r, err) = check(&home, &[("FWGUARD_SYSFS", &sys), ("FWGUARD_DEV", &dev)], &["--to", EC25_R08]);
    assert_cross_baseline(code, &r, &err);
    let out = fwguard(home.path()).args(["history", "--json"]).output().unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["checks"][0]["usb_id"], "2c7c:0125", "{h}");
    assert_eq!(h["checks"][0]["device_source"], "auto");
    sim.finish();
}

#[test]
fn check_with_no_module_attached_says_so() {
    let root = TempDir::new().unwrap();
    std::fs::create_dir_all(root.path().join("sys/class/tty")).unwrap();
    let home = TempDir::new().unwrap();
    let (code, _, err) = check(
        &home,
        &[("FWGUARD_SYSFS", &root.path().join("sys")), ("FWGUARD_DEV", &root.path().join("dev"))],
        &["--to", EC25_R08],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no Quectel module found") && err.contains("--port"), "{err}");
}

#[test]
fn a_module_that_answers_nothing_or_garbage_is_a_clear_error_in_bounded_time() {
    for fault in ["silent", "garbage"] {
        let sim = Sim::start(&["ec25-e", "--fault", fault]);
        let home = TempDir::new().unwrap();
        let started = Instant::now();
        let (code, _, err) = check(&home, &[], &["--port", sim.port.to_str().unwrap(), "--to", EC25_R08]);
        assert_eq!(code, 2, "{fault}: {err}");
        assert!(started.elapsed() < Duration::from_secs(40), "{fault}: took {:?}", started.elapsed());
        assert!(err.contains(sim.port.to_str().unwrap()), "{fault}: the error names the port: {err}");
        assert!(err.contains("hint:"), "{fault}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn check_refuses_to_guess_between_several_modules_and_lists_them() {
    let root = TempDir::new().unwrap();
    let r = root.path().to_str().unwrap();
    let first = Sim::start(&["ec25-e", "--root", r]);
    let second = Sim::start(&["ec200u-eu", "--root", r, "--usb-port", "2"]);
    assert_ne!(first.port, second.port);
    let home = TempDir::new().unwrap();
    let sys = root.path().join("sys");
    let dev = root.path().join("dev");
    let (code, _, err) = check(&home, &[("FWGUARD_SYSFS", &sys), ("FWGUARD_DEV", &dev)], &["--to", EC25_R08]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2 Quectel modules found"), "{err}");
    assert!(err.contains("2c7c:0125") && err.contains("2c7c:0901"), "both are listed: {err}");
    assert!(err.contains(first.port.to_str().unwrap()), "{err}");
    assert!(err.contains("--port"), "{err}");
    // Nothing was judged, so nothing was recorded.
    let out = fwguard(home.path()).args(["history", "--json"]).output().unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["checks"].as_array().map(Vec::len), Some(0), "{h}");
    second.finish();
    first.finish();
}

#[test]
fn discovery_uses_the_usb_ids_of_the_database_in_effect() {
    let root = TempDir::new().unwrap();
    let sim = Sim::start(&["ec25-e", "--root", root.path().to_str().unwrap()]);
    let home = TempDir::new().unwrap();
    let sys = root.path().join("sys");
    let dev = root.path().join("dev");

    // A published database that does not know 2c7c:0125.
    let rules = crate::database::copy_rules(home.path());
    let usb = std::fs::read_to_string(rules.join("usb.toml")).unwrap();
    let without = usb.replace("pid = \"0125\"", "pid = \"0f25\"");
    assert_ne!(usb, without);
    std::fs::write(rules.join("usb.toml"), without).unwrap();
    let db = home.path().join("no-ec25.db");
    let out = fwguard(home.path())
        .args(["db", "build", "--rules", rules.to_str().unwrap(), "--out", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let ports = |db: Option<&std::path::Path>| -> Value {
        let mut cmd = fwguard(home.path());
        cmd.env("FWGUARD_SYSFS", &sys).env("FWGUARD_DEV", &dev).args(["ports", "--json", "--allow-unsigned"]);
        if let Some(db) = db {
            cmd.env("FWGUARD_DB", db);
        }
        serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap()
    };
    assert_eq!(ports(None)["modules"].as_array().map(Vec::len), Some(1));
    assert_eq!(ports(Some(&db))["modules"].as_array().map(Vec::len), Some(0));

    let (code, _, err) = check(
        &home,
        &[("FWGUARD_SYSFS", &sys), ("FWGUARD_DEV", &dev), ("FWGUARD_DB", &db)],
        &["--to", EC25_R08, "--allow-unsigned"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no Quectel module found"), "{err}");
    sim.finish();
}
