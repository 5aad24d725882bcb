//! Helpers for database tests: a publisher with a signing key that builds and signs databases
//! from edited copies of `rules/`, and a station that trusts it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::database::copy_rules;
use crate::util::run;

/// A support team: a key pair made with `fwguard db keygen --no-password`, and a place to build.
pub struct Publisher {
    /// Where it builds (inside the test's temp dir).
    pub dir: PathBuf,
    /// `NAME.key`.
    pub key: PathBuf,
    /// `NAME.pub`.
    pub public: PathBuf,
}

impl Publisher {
    /// Makes a key pair named `name` under `home`.
    pub fn new(home: &Path, name: &str) -> Publisher {
        let dir = home.join(format!("publisher-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join(name);
        let (code, out, err) = run(home, &["db", "keygen", "--out", base.to_str().unwrap(), "--no-password"]);
        assert_eq!(code, 0, "{out}{err}");
        Publisher { dir, key: base.with_extension("key"), public: base.with_extension("pub") }
    }

    /// Builds database `version` from a copy of the rules that `edit` may change (it gets the
    /// copy's directory), without signing it.
    pub fn build(&self, home: &Path, version: u32, edit: impl FnOnce(&Path)) -> PathBuf {
        let work = tempfile::tempdir_in(&self.dir).unwrap();
        let rules = copy_rules(work.path());
        set_version(&rules, version);
        edit(&rules);
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        let n = BUILT.fetch_add(1, Ordering::Relaxed);
        let out = self.dir.join(format!("fwguard-rules-v{version}-{n}.db"));
        let (code, o, e) =
            run(home, &["db", "build", "--rules", rules.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{o}{e}");
        out
    }

    /// Signs a database file (writes FILE.minisig).
    pub fn sign(&self, home: &Path, db: &Path) {
        let (code, out, err) = run(home, &["db", "sign", "--key", self.key.to_str().unwrap(), db.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(Path::new(&format!("{}.minisig", db.display())).is_file());
    }

    /// Builds and signs database `version` of the unchanged rules.
    pub fn publish(&self, home: &Path, version: u32) -> PathBuf {
        let db = self.build(home, version, |_| {});
        self.sign(home, &db);
        db
    }

    /// The key id, as `db keygen` printed it into the .pub comment.
    pub fn key_id(&self) -> String {
        let text = std::fs::read_to_string(&self.public).unwrap();
        text.lines().next().unwrap().rsplit(' ').next().unwrap().trim().to_string()
    }
}

/// Sets `version` in a rules copy's database.toml.
pub fn set_version(rules: &Path, version: u32) {
    let path = rules.join("database.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line =
        text.lines().find(|l| l.starts_with("version = ")).expect("database.toml has a version line").to_string();
    std::fs::write(&path, text.replacen(&line, &format!("version = {version}"), 1)).unwrap();
}

/// Makes the station under `home` trust a publisher's key.
pub fn trust(home: &Path, publisher: &Publisher) {
    let dir = home.join("fwguard").join("trusted-keys");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&publisher.public, dir.join(publisher.public.file_name().unwrap())).unwrap();
}

/// The arguments of a check by hand that the built-in rules allow.
pub const ALLOWED: &[&str] =
    &["--model", "EC25", "--revision", "EC25EFAR06A17M4G_20.200.20.200", "--to", "EC25EFAR06A18M4G_20.201.20.201"];

/// `fwguard check ALLOWED --json` with `extra` arguments: (exit code, JSON or Null, stderr).
pub fn check_json(home: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["check"];
    args.extend_from_slice(ALLOWED);
    args.extend_from_slice(extra);
    args.push("--json");
    let (code, out, err) = run(home, &args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// `fwguard db info --json`.
pub fn info_json(home: &Path) -> Value {
    let (code, out, err) = run(home, &["db", "info", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}
