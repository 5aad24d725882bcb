//! Building, describing and using compiled databases; linting broken rules.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::run;

pub fn copy_rules(to: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let dst = to.join("rules");
    copy_dir(&src, &dst);
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let target = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

#[test]
fn the_same_rules_give_the_same_file_and_info_matches_the_built_in_database() {
    let home = TempDir::new().unwrap();
    let a = home.path().join("a.db");
    let b = home.path().join("b.db");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    assert_eq!(run(home.path(), &["db", "build", "--rules", rules, "--out", a.to_str().unwrap()]).0, 0);
    assert_eq!(run(home.path(), &["db", "build", "--out", b.to_str().unwrap()]).0, 0);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "identical rules must give identical files");

    let (code, file_info, _) =
        run(home.path(), &["db", "info", "--db", a.to_str().unwrap(), "--allow-unsigned", "--json"]);
    assert_eq!(code, 0);
    let (_, builtin_info, _) = run(home.path(), &["db", "info", "--json"]);
    let f: serde_json::Value = serde_json::from_str(&file_info).unwrap();
    let b: serde_json::Value = serde_json::from_str(&builtin_info).unwrap();
    assert_eq!(f["sha256"], b["sha256"]);
    assert_eq!(f["version"], b["version"]);
    assert_eq!(f["schema_version"], 1);
    assert_eq!(b["origin"], "built-in");

    // A check against the file gives the same verdict and names the same database.
    let (code, out, _) = run(
        home.path(),
        &[
            "check",
            "--db",
            a.to_str().unwrap(),
            "--allow-unsigned",
            "--model",
            "EC25",
            "--revision",
            "EC25EFAR06A17M4G_20.200.20.200",
            "--to",
            "EC25EFAR08A01M4G_01.001.01.001",
            "--json",
        ],
    );
    assert_eq!(code, 1);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["database"]["sha256"], b["sha256"]);
}

#[test]
fn a_raised_version_changes_version_and_hash() {
    let home = TempDir::new().unwrap();
    let rules = copy_rules(home.path());
    let text = std::fs::read_to_string(rules.join("database.toml")).unwrap();
    let current: u32 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .and_then(|v| v.trim().parse().ok())
        .expect("database.toml holds `version = <n>`");
    let next = current + 1;
    let raised = text.replacen(&format!("version = {current}"), &format!("version = {next}"), 1);
    std::fs::write(rules.join("database.toml"), raised).unwrap();
    let out = home.path().join("v2.db");
    assert_eq!(
        run(home.path(), &["db", "build", "--rules", rules.to_str().unwrap(), "--out", out.to_str().unwrap()]).0,
        0
    );
    let (_, info, _) = run(home.path(), &["db", "info", "--db", out.to_str().unwrap(), "--allow-unsigned", "--json"]);
    let (_, builtin, _) = run(home.path(), &["db", "info", "--json"]);
    let (i, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&info).unwrap(), serde_json::from_str(&builtin).unwrap());
    assert_eq!(i["version"], next);
    assert_ne!(i["sha256"], b["sha256"]);
}

#[test]
fn a_tampered_or_foreign_file_is_refused() {
    let home = TempDir::new().unwrap();
    let db = home.path().join("x.db");
    assert_eq!(run(home.path(), &["db", "build", "--out", db.to_str().unwrap()]).0, 0);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'version'", []).unwrap();
    drop(conn);
    let (code, _, err) = run(home.path(), &["db", "info", "--db", db.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(code, 2);
    assert!(err.contains("altered"), "{err}");
    let junk = home.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let (code, _, err) = run(home.path(), &["db", "info", "--db", junk.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an SQLite file"), "{err}");
}

/// Writes a family file into a copy of the rules and lints it.
fn lint_with(family_toml: &str) -> (i32, String) {
    let home = TempDir::new().unwrap();
    let rules = copy_rules(home.path());
    std::fs::write(rules.join("families/zz-test.toml"), family_toml).unwrap();
    let (code, out, _) = run(home.path(), &["rules", "lint", rules.to_str().unwrap()]);
    (code, out)
}

const FAMILY_HEAD: &str = r#"[family]
id = "zz-test"
name = "ZZ99"
platform = "asr"
chipset = "ASR1603"
models = ["ZZ99"]
source = "test"

[[product]]
code = "ZZ99CNLA"
variant = "CN"
feature = "LA"
memory = "M08"
source = "test"
"#;

#[test]
fn lint_names_file_line_and_reason() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("unknown key", "\ncolour = \"red\"\n", 0, "unknown field"),
        (
            "missing source",
            "\n[[step]]\nid = \"zz-a\"\nfrom = \"ZZ99CNLAR01Axx\"\nto = \"ZZ99CNLAR02Axx\"\nallows = [\"cross-baseline\"]\n",
            16,
            "source",
        ),
        (
            "bad pattern",
            "\n[[step]]\nid = \"zz-b\"\nfrom = \"ZZ99CNLAR1A01\"\nto = \"ZZ99CNLAR02Axx\"\nallows = [\"cross-baseline\"]\nsource = \"t\"\n",
            18,
            "R<nn>A<nn>",
        ),
        (
            "duplicate id",
            "\n[[known_bad]]\nid = \"zz-c\"\nrevisions = [\"ZZ99CNLAR01A01\"]\nreason = \"r\"\nhint = \"h\"\nsource = \"s\"\n\n[[known_bad]]\nid = \"zz-c\"\nrevisions = [\"ZZ99CNLAR01A02\"]\nreason = \"r\"\nhint = \"h\"\nsource = \"s\"\n",
            24,
            "duplicate rule id",
        ),
        (
            "never matches",
            "\n[[known_bad]]\nid = \"zz-d\"\nrevisions = [\"EC25EFAR01A01\"]\nreason = \"r\"\nhint = \"h\"\nsource = \"s\"\n",
            18,
            "never match",
        ),
    ];
    for (what, extra, line, reason) in cases {
        let (code, out) = lint_with(&format!("{FAMILY_HEAD}{extra}"));
        assert_eq!(code, 1, "{what}: {out}");
        let hit =
            out.lines().find(|l| l.starts_with("families/zz-test.toml:")).unwrap_or_else(|| panic!("{what}: {out}"));
        assert!(hit.contains(reason), "{what}: {hit}");
        if *line > 0 {
            assert!(hit.starts_with(&format!("families/zz-test.toml:{line}:")), "{what}: {hit}");
        }
    }
}

#[test]
fn a_failing_rule_test_exits_1_and_says_what_differed() {
    let home = TempDir::new().unwrap();
    let rules = copy_rules(home.path());
    std::fs::write(
        rules.join("tests/zz-wrong.toml"),
        "[[case]]\nname = \"deliberately wrong\"\nmodel = \"EC25\"\nrevision = \"EC25EFAR06A17M4G_20.200.20.200\"\nto = \"EC25EFAR08A01M4G_01.001.01.001\"\nverdict = \"allow\"\nfindings = []\n",
    )
    .unwrap();
    let (code, out, _) = run(home.path(), &["rules", "test", rules.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL tests/zz-wrong.toml:2: deliberately wrong"), "{out}");
    assert!(out.contains("got      block"), "{out}");
}
