//! Build script: embeds the rule files in `rules/`, and compiles the built-in database from them
//! with the library's own rule loader and linter (rules that do not lint fail the build), so the
//! binary carries the rules it was built with in a form that needs no TOML parsing at startup.

use std::fmt::Write;
use std::path::{Path, PathBuf};

// The library's rule model, loader and linter and the identity grammar they use, compiled from
// the same source files as the library (see `build/database.rs`).
#[allow(dead_code, unused_imports)]
#[path = "src/identity/mod.rs"]
mod identity;
#[allow(dead_code)]
#[path = "src/engine/rule_ids.rs"]
mod rule_ids;
mod engine {
    pub use crate::rule_ids::{OVERRIDABLE_RULES, RULE_IDS};
}
// Paths inside this block are relative to `rules/`, the rules directory.
#[allow(dead_code, unused_imports)]
mod rules {
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
}
