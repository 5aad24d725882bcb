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
    origin: String,
    trust: String,
    signer: Option<String>,
    allow_unsigned: bool,
    #[serde(default)]
    untrusted_because: Option<String>,
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
    assert_eq!((r.database.origin.as_str(), r.database.trust.as_str()), ("built-in", "built-in"));
    assert_eq!((r.database.signer.as_deref(), r.database.allow_unsigned), (None, false));
    assert_eq!(r.database.untrusted_because, None);
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

#[test]
fn with_json_an_error_is_also_a_json_object_on_stdout() {
    let home = TempDir::new().unwrap();
    let bad_id =
        ["check", "--json", "--model", "EC25", "--revision", "EC25EFAR06A17M4G", "--flash-id", "zz", "--to", "X"];
    let (code, out, err) = run(home.path(), &bad_id);
    assert_eq!(code, 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert!(v["error"].as_str().unwrap().contains("\"zz\""), "{v}");
    assert!(v["hint"].as_str().unwrap().contains("--flash-id"), "{v}");
    assert!(err.starts_with("error: "), "the error is still on stderr: {err}");
    // A usage error caught by the argument parser is JSON too.
    let (code, out, _) = run(home.path(), &["check", "--json", "--no-such-option"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert!(v["error"].as_str().unwrap().contains("--no-such-option"), "{v}");
    // Without --json, stdout stays empty.
    let (code, out, _) =
        run(home.path(), &bad_id[..bad_id.len()].iter().copied().filter(|a| *a != "--json").collect::<Vec<_>>());
    assert_eq!((code, out.as_str()), (2, ""));
}

#[test]
fn inspect_json_always_has_the_same_keys_and_a_format_version() {
    use fwguard::image::build::pac::PacBuilder;
    use fwguard::image::build::qualcomm::QualcommBuilder;
    let dir = TempDir::new().unwrap();
    let zip = dir.path().join("EC25EFAR06A17M4G_20.200.20.200.zip");
    QualcommBuilder::ec25("EC25EFAR06A17M4G_20.200.20.200").write_zip(&zip).unwrap();
    let pac = dir.path().join("8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac");
    std::fs::write(&pac, PacBuilder::ec200u_eu().to_bytes()).unwrap();
    let mut key_sets = Vec::new();
    for path in [&zip, &pac] {
        let (code, out, err) = run(dir.path(), &["inspect", "--json", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["format_version"], 1);
        let keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        key_sets.push(keys);
    }
    assert_eq!(key_sets[0], key_sets[1]);
    for key in ["nand", "source_revision", "programmer", "chip", "signed", "name_conflict", "revision", "product"] {
        assert!(key_sets[0].iter().any(|k| k == key), "{key} missing from {:?}", key_sets[0]);
    }
}

#[test]
fn rules_test_exits_2_when_the_rules_do_not_load() {
    let home = TempDir::new().unwrap();
    let dir = home.path().join("rules");
    std::fs::create_dir_all(dir.join("families")).unwrap();
    std::fs::write(dir.join("database.toml"), "[database]\nversion = \"not a number\"\n").unwrap();
    let (code, out, err) = run(home.path(), &["rules", "test", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("do not load"), "{err}");
}

#[test]
fn completions_man_page_version_and_help() {
    let home = TempDir::new().unwrap();
    let (code, bash, _) = run(home.path(), &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(bash.contains("_fwguard") && bash.contains("--write-package") && bash.contains("--color"), "{bash}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, text, _) = run(home.path(), &["completions", shell]);
        assert!(code == 0 && text.contains("fwguard"), "{shell}");
    }
    let (code, man, _) = run(home.path(), &["man"]);
    assert_eq!(code, 0);
    assert!(man.starts_with(".ie") || man.contains(".TH fwguard"), "{man}");
    let pages = home.path().join("man");
    let (code, _, err) = run(home.path(), &["man", "--dir", pages.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in ["fwguard.1", "fwguard-check.1", "fwguard-sim.1", "fwguard-db-build.1"] {
        assert!(pages.join(page).is_file(), "{page}");
    }

    let (_, version, _) = run(home.path(), &["--version"]);
    let (_, info, _) = run(home.path(), &["db", "info", "--json"]);
    let db: serde_json::Value = serde_json::from_str(&info).unwrap();
    let want = format!("fwguard {} (built-in database v{}", env!("CARGO_PKG_VERSION"), db["version"]);
    assert!(version.starts_with(&want), "{version:?} should start with {want:?}");

    let (_, help, _) = run(home.path(), &["--help"]);
    for want in
        ["Examples:", "FWGUARD_HOME", "FWGUARD_DB", "FWGUARD_SYSFS", "FWGUARD_DEV", "NO_COLOR", "--color <WHEN>"]
    {
        assert!(help.contains(want), "{want} missing from --help:\n{help}");
    }
    let (_, help, _) = run(home.path(), &["check", "--help"]);
    assert!(help.contains("Time bounds:") && help.contains("at most 10 s") && help.contains("--fault"), "{help}");
}

#[test]
fn check_sim_takes_faults_like_sim() {
    let home = TempDir::new().unwrap();
    let (code, r) = check_json(&["--sim", "ec25-e", "--fault", "slow=50", "--to", "EC25EFAR08A01M4G_01.001.01.001"]);
    assert_eq!((code, r.verdict.as_str()), (1, "block"));
    let (code, _, err) = run(home.path(), &["check", "--sim", "ec25-e", "--fault", "nonsense", "--to", "X"]);
    assert_eq!(code, 2);
    assert!(err.contains("nonsense") && err.contains("hint:"), "{err}");
    let (code, _, err) = run(home.path(), &["check", "--sim", "ec25-e", "--fault", "silent", "--to", "X"]);
    assert_eq!(code, 2);
    assert!(err.contains("hint:"), "{err}");
    let (code, _, _) =
        run(home.path(), &["check", "--model", "EC25", "--revision", "X", "--fault", "silent", "--to", "X"]);
    assert_eq!(code, 2, "--fault needs --sim");
}

/// Every README example that reads a package (`--image`, `inspect`) or writes the demo package
/// it reads runs as written, in order, in one folder: none of them fails to run (exit 2).
#[test]
fn readme_examples_with_packages_run_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let text = line.split(" # ").next().unwrap_or(line).trim_end();
        if let Some(head) = text.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        let full = format!("{pending}{text}");
        pending.clear();
        let full = full.trim().to_string();
        if full.starts_with("fwguard ")
            && (full.contains("--image") || full.contains("--write-package") || full.starts_with("fwguard inspect"))
        {
            commands.push(full);
        }
    }
    assert!(commands.iter().any(|c| c.contains("--image")), "{commands:?}");
    assert!(commands.iter().any(|c| c.contains("--write-package")), "{commands:?}");
    let dir = TempDir::new().unwrap();
    let bin_dir = assert_cmd::cargo::cargo_bin("fwguard").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for c in &commands {
        let out = std::process::Command::new("sh")
            .args(["-c", c])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("FWGUARD_HOME", dir.path().join("home"))
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || (code == 1 && c.contains("check")),
            "README: `{c}` exited {code}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
