//! `check` with no module option finds ASR and Unisoc modules by the interface layouts of
//! `rules/usb.toml`, as it does Qualcomm ones: a simulated EC200U (Unisoc, 2c7c:0901, AT on
//! interface 2) and EC800M (ASR, 2c7c:6001, AT on interface 3) under a `--root` tree.

use serde_json::Value;
use tempfile::TempDir;

use crate::sim::Sim;
use crate::util::fwguard;

/// Runs `check --json` against the one module under `root`.
fn check_attached(root: &TempDir, to: &str) -> (i32, Value, String) {
    let home = TempDir::new().unwrap();
    let out = fwguard(home.path())
        .env("FWGUARD_SYSFS", root.path().join("sys"))
        .env("FWGUARD_DEV", root.path().join("dev"))
        .args(["check", "--to", to, "--json"])
        .output()
        .expect("fwguard runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn check_finds_a_simulated_ec200u_by_its_usb_layout() {
    let root = TempDir::new().unwrap();
    let sim = Sim::start(&["ec200u-cn", "--root", root.path().to_str().unwrap()]);
    // The AT port is the tty of interface 2, as Quectel's QDloader and quectel-CM open it.
    let (code, r, err) = check_attached(&root, "EC200UCNAAR03A13M08");
    assert_eq!(code, 0, "{r} {err}");
    assert_eq!(r["device"]["revision"], "EC200UCNAAR03A03M08", "{r}");
    assert_eq!(r["device"]["model"], "EC200U", "{r}");
    assert_eq!(r["verdict"], "allow", "{r}");
    // The same module refuses the EU build: the discovery reached the real module.
    let (code, r, _) = check_attached(&root, "EC200UEUABR01A03M08");
    assert_eq!(code, 1, "{r}");
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "product-mismatch"), "{r}");
    sim.finish();
}

#[test]
fn check_finds_a_simulated_ec800m_by_its_usb_layout() {
    let root = TempDir::new().unwrap();
    let sim = Sim::start(&["ec800m-cn-le", "--root", root.path().to_str().unwrap()]);
    // ASR: interface 2 is the diagnostic port, the AT port is interface 3.
    let (code, r, err) = check_attached(&root, "EC800MCNLER06A06M08");
    assert_eq!(r["device"]["revision"], "EC800MCNLER06A05M08", "{r} {err}");
    assert_eq!(r["device"]["model"], "EC800M", "{r}");
    assert_ne!(code, 2, "{r} {err}");
    let (code, r, _) = check_attached(&root, "EC800MCNLER01A01M08");
    assert_eq!(code, 1, "a cross-baseline step still refuses: {r}");
    sim.finish();
}
