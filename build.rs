//! Embeds the rule files in `rules/` so the binary carries the rules it was built with, and
//! records what `fwguard --version` names: the built-in database version and the source commit.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

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

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules = root.join("rules");
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Rule files embedded at build time: (path below `rules/`, text).\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&rules).expect("below rules/").to_string_lossy().replace('\\', "/");
        writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string()).expect("write to string");
        println!("cargo:rerun-if-changed={}", f.display());
    }
    code.push_str("];\n");
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=rules/families");
    println!("cargo:rerun-if-changed=rules/tests");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_rules.rs");
    std::fs::write(out, code).expect("write embedded_rules.rs");
    version_info(&root);
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
