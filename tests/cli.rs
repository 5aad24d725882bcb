//! The offline `check`, `explain` and rule workflow, through the real binary.

use serde::Deserialize;
use tempfile::TempDir;

use crate::util::{fwguard, run};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckJson {
    verdict: String,
    findings: Vec<FindingJson>,
    device: DeviceJson,
    image: ImageJson,
    database: DatabaseJson,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingJson {
    rule: String,
    severity: String,
    message: String,
    source: String,
    hint: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceJson {
    model: Option<String>,
    revision: Option<String>,
    product: Option<String>,
    flash_id: Option<String>,
    flash_id_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageJson {
    revision: Option<String>,
    product: Option<String>,
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseJson {
    version: u32,
    sha256: String,
}

fn check_json(args: &[&str]) -> (i32, CheckJson) {
    let home = TempDir::new().unwrap();
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, out, err) = run(home.path(), &all);
    let parsed: CheckJson = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: stdout {out:?} stderr {err:?}"));
    (code, parsed)
}

fn rules(report: &CheckJson) -> Vec<&str> {
    let mut r: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    r.sort();
    r
}

#[test]
fn ec25_cross_baseline_is_blocked_with_both_values_source_and_hint() {
    let (code, r) = check_json(&[
        "--model",
        "EC25",
        "--revision",
        "EC25EFAR06A17M4G_20.200.20.200",
        "--to",
        "EC25EFAR08A01M4G_01.001.01.001",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r.verdict, "block");
    let f = r.findings.iter().find(|f| f.rule == "cross-baseline").expect("cross-baseline finding");
    assert_eq!(f.severity, "block");
    assert!(f.message.contains("R06") && f.message.contains("R08"), "{}", f.message);
    assert!(
        f.message.contains("EC25EFAR06A17M4G_20.200.20.200") && f.message.contains("EC25EFAR08A01M4G_01.001.01.001")
    );
    assert!(f.source.starts_with("https://"), "{}", f.source);
    assert!(f.hint.contains("R06"), "{}", f.hint);
    assert_eq!(r.device.model.as_deref(), Some("EC25"));
    assert_eq!(r.device.revision.as_deref(), Some("EC25EFAR06A17M4G_20.200.20.200"));
    assert_eq!(r.device.product.as_deref(), Some("EC25EFA"));
    assert_eq!((r.device.flash_id.as_deref(), r.device.flash_id_source.as_deref()), (None, None));
    assert_eq!(r.image.product.as_deref(), Some("EC25EFA"));
    assert_eq!(r.image.path, None);
    assert_eq!(r.image.revision.as_deref(), Some("EC25EFAR08A01M4G_01.001.01.001"));
    assert_eq!(r.database.sha256.len(), 64);
    assert!(r.database.version >= 1);
}

#[test]
fn ec200u_eu_variant_swap_is_a_product_mismatch() {
    let (code, r) = check_json(&[
        "--model",
        "EC200U",
        "--revision",
        "EC200UEUABR01A03M08",
        "--to",
        "8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac",
    ]);
    assert_eq!((code, r.verdict.as_str()), (1, "block"));
    assert!(rules(&r).contains(&"product-mismatch"), "{:?}", rules(&r));
    assert_eq!(r.image.product.as_deref(), Some("EC200UEUAA"));
}

#[test]
fn ec800m_la_with_the_lf_quecpython_image_is_blocked() {
    let (code, r) = check_json(&[
        "--model",
        "EC800MCN_LA",
        "--revision",
        "LTE01R06A04_VOLTE_C_SDK_A",
        "--flash-id",
        "20 41 17",
        "--to",
        "QPY_OCPU_V0004_EC800M_CNLF_FW.bin",
    ]);
    assert_eq!((code, r.verdict.as_str()), (1, "block"));
    // The LF's memory and flash chips are not public, so the refusal rests on the product.
    let got = rules(&r);
    assert!(got.contains(&"product-mismatch"), "{got:?}");
    assert_eq!(r.device.product.as_deref(), Some("EC800MCNLA"));
    assert_eq!(r.device.flash_id.as_deref(), Some("204117"));
    assert_eq!(r.device.flash_id_source.as_deref(), Some("argument"));
}

#[test]
fn ec800m_la_with_the_cnle_image_is_refused_without_a_public_source_for_sharing() {
    let (code, r) = check_json(&[
        "--model",
        "EC800MCN_LA",
        "--revision",
        "LTE01R06A04_VOLTE_C_SDK_A",
        "--flash-id",
        "0x20 0x4117",
        "--to",
        "QPY_OCPU_V0004_EC800M_CNLE_FW.bin",
    ]);
    assert_eq!((code, r.verdict.as_str()), (1, "block"), "{:?}", r.findings);
    assert!(rules(&r).contains(&"product-mismatch"), "{:?}", rules(&r));
}

#[test]
fn same_stream_upgrade_is_allowed() {
    let (code, r) = check_json(&[
        "--model",
        "EC25",
        "--revision",
        "AT+QGMR\r\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n",
        "--to",
        "EC25EFAR06A18M4G_20.201.20.201.zip",
    ]);
    assert_eq!((code, r.verdict.as_str()), (0, "allow"), "{:?}", r.findings);
    assert!(r.findings.is_empty());
}

#[test]
fn garbage_never_panics_and_blocks_or_exits_2() {
    for (revision, to) in [
        ("garbage", "EC25EFAR08A01M4G"),
        ("EC25EFAR06A17M4G", "\u{1}\u{7f}junk"),
        ("", ""),
        ("ERROR", "x"),
        ("EC25EFAR06A17M4G_20.2", "EC25EFAR06A17M4G"),
    ] {
        let home = TempDir::new().unwrap();
        let (code, out, err) =
            run(home.path(), &["check", "--model", "EC25", "--revision", revision, "--to", to, "--json"]);
        assert!(!err.contains("panicked"), "{err}");
        match code {
            1 => {
                let r: CheckJson = serde_json::from_str(&out).unwrap();
                assert!(rules(&r).contains(&"malformed-revision"), "{revision:?} {to:?}: {:?}", rules(&r));
            }
            2 => assert!(err.contains("error:"), "{err}"),
            other => panic!("{revision:?} -> {to:?}: exit {other}: {out} {err}"),
        }
    }
}

#[test]
fn bad_arguments_exit_2_with_a_hint() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(
        home.path(),
        &["check", "--model", "EC25", "--revision", "EC25EFAR06A17M4G", "--flash-id", "zz", "--to", "EC25EFAR06A18M4G"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("error:") && err.contains("\"zz\"") && err.contains("hint:"), "{err}");
    // No module option: auto-detection, here through an empty sysfs tree rather than the host's.
    let root = TempDir::new().unwrap();
    std::fs::create_dir_all(root.path().join("sys/class/tty")).unwrap();
    std::fs::create_dir_all(root.path().join("dev")).unwrap();
    let out = fwguard(home.path())
        .env("FWGUARD_SYSFS", root.path().join("sys"))
        .env("FWGUARD_DEV", root.path().join("dev"))
        .args(["check", "--to", "EC25EFAR06A18M4G"])
        .output()
        .expect("fwguard runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no Quectel module found") && err.contains("hint:"), "{err}");
}

#[test]
fn human_output_names_the_verdict_and_has_no_colour_with_no_color() {
    let home = TempDir::new().unwrap();
    let (code, out, _) = run(
        home.path(),
        &[
            "check",
            "--model",
            "EC25",
            "--revision",
            "EC25EFAR06A17M4G_20.200.20.200",
            "--to",
            "EC25EFAR08A01M4G_01.001.01.001",
        ],
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("BLOCK"), "{out}");
    assert!(out.contains("cross-baseline") && out.contains("hint:") && out.contains("source:"));
    assert!(!out.contains('\x1b'));
}

#[test]
fn explain_gives_meaning_source_and_advice() {
    let home = TempDir::new().unwrap();
    let (code, out, _) = run(home.path(), &["explain", "cross-baseline"]);
    assert_eq!(code, 0);
    assert!(out.contains("Source: https://") && out.contains("What to do:"), "{out}");
    let (code, _, err) = run(home.path(), &["explain", "no-such-rule"]);
    assert_eq!(code, 2);
    assert!(err.contains("cross-baseline"), "the hint lists rule ids: {err}");
}

#[test]
fn built_in_rules_lint_and_their_tests_pass() {
    let home = TempDir::new().unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let (code, out, err) = run(home.path(), &["rules", "lint", dir]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(home.path(), &["rules", "test", dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn an_unreadable_image_is_one_error_naming_the_path_and_the_cause_once() {
    let home = TempDir::new().unwrap();
    let missing = home.path().join("EC25EFAR06A18M4G_20.201.20.201.zip");
    let (code, out, err) = run(
        home.path(),
        &["check", "--model", "EC25", "--revision", "EC25EFAR06A17M4G", "--image", missing.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no verdict is printed: {out}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains(missing.to_str().unwrap()) && err.contains("hint:"), "{err}");
}
