//! Build script: embeds the rule files in `rules/`, compiles the built-in database from them
//! with the library's own rule loader and linter (rules that do not lint fail the build), so the
//! binary carries the rules it was built with in a form that needs no TOML parsing at startup,
//! and records what `fwguard --version` names: the built-in database version and the source
//! commit.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

// The library's rule model, loader and linter and the identity grammar they use, compiled from
// the same source files as the library (see `build/database.rs`).
#[allow(dead_code, unused_imports)]
#[path = "src/identity/mod.rs"]
mod identity;
#[allow(dead_code, unused_imports)]
#[path = "src/platform.rs"]
mod platform;
// Paths inside this block are relative to `rules/`, the rules directory.
#[allow(dead_code, unused_imports)]
mod rules {
    #[path = "../src/rules/citation.rs"]
    pub mod citation;
    #[path = "../src/rules/ids.rs"]
    mod ids;
    #[path = "../src/rules/lint.rs"]
    mod lint;
    #[path = "../src/rules/load.rs"]
    pub mod load;
    #[path = "../src/rules/model.rs"]
    pub mod model;
    #[path = "../src/rules/pattern.rs"]
    mod pattern;
    #[path = "../src/rules/source.rs"]
    pub mod source;
    pub use lint::LintIssue;
}
#[path = "build/database.rs"]
mod database;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// `rules/` and its `.toml` files, sorted.
fn rule_files() -> (PathBuf, Vec<PathBuf>) {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules = root.join("rules");
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    (rules, files)
}

/// Writes `embedded_rules.rs`: the rule files' text, for `fwguard rules lint|test` without a DIR.
fn embed_rule_files(rules: &Path, files: &[PathBuf], out_dir: &Path) {
    let mut code = String::from(
        "/// Rule files embedded at build time: (path below `rules/`, text).\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for f in files {
        let rel = f.strip_prefix(rules).expect("below rules/").to_string_lossy().replace('\\', "/");
        writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string()).expect("write to string");
        println!("cargo:rerun-if-changed={}", f.display());
    }
    code.push_str("];\n");
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=rules/families");
    println!("cargo:rerun-if-changed=rules/tests");
    std::fs::write(out_dir.join("embedded_rules.rs"), code).expect("write embedded_rules.rs");
}

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let (rules, files) = rule_files();
    embed_rule_files(&rules, &files, &out_dir);
    database::compile_builtin(&rules, &files, &out_dir);
    version_info(rules.parent().expect("rules/ is in the crate"));
}

/// Sets `FWGUARD_BUILD_INFO` for `--version`: `built-in database v1, commit 0123456789ab`. The
/// version is read from `rules/database.toml` (`version = N` under `[database]`); the commit
/// from git when the source is a git checkout with git installed, and left out otherwise (a
/// source tarball, `cargo install` from a registry): never a build failure.
fn version_info(root: &Path) {
    let database = root.join("rules/database.toml");
    println!("cargo:rerun-if-changed={}", database.display());
    let text = std::fs::read_to_string(&database).unwrap_or_default();
    let mut in_database = false;
    let mut version = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_database = line == "[database]";
        } else if in_database && let Some(v) = line.strip_prefix("version") {
            version = v.trim_start().strip_prefix('=').and_then(|v| v.trim().parse::<u32>().ok());
        }
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // Rebuild when HEAD moves: HEAD itself, and the branch file it names.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
    ]
    .into_iter()
    .flatten()
    {
        let path = if Path::new(&path).is_absolute() { PathBuf::from(path) } else { root.join(path) };
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let mut info = match version {
        Some(v) => format!("built-in database v{v}"),
        None => "built-in database version unknown".to_string(),
    };
    if let Some(c) = commit {
        info.push_str(&format!(", commit {c}"));
    }
    println!("cargo:rustc-env=FWGUARD_BUILD_INFO={info}");
}
