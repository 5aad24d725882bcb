//! The built-in database, compiled at build time: `rules/` read, parsed and linted by the
//! library's own loader (`src/rules/load.rs`), `requires_fwguard` checked against this crate's
//! version, and the rule set written as its canonical JSON with its content SHA-256, which
//! `src/db/builtin.rs` embeds. Included by `build.rs`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::rules::load::load;
use crate::rules::source::RuleSource;

/// Loads and lints the rule files, and writes `builtin_database.json` and `builtin_database.rs`.
/// Rules that do not lint, or that this crate's version does not meet, fail the build.
pub fn compile_builtin(rules: &Path, files: &[PathBuf], out_dir: &Path) {
    let sources: Vec<RuleSource> = files
        .iter()
        .map(|f| RuleSource {
            name: f.strip_prefix(rules).expect("below rules/").to_string_lossy().replace('\\', "/"),
            text: std::fs::read_to_string(f).unwrap_or_else(|e| fail(&format!("{}: {e}", f.display()))),
        })
        .collect();
    let loaded = load(&sources).unwrap_or_else(|issues| {
        let lines: Vec<String> = issues.iter().map(|i| format!("  rules/{i}")).collect();
        fail(&format!("the rules do not lint ({} problem(s)):\n{}", issues.len(), lines.join("\n")))
    });
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    if let Some(req) = &loaded.set.database.requires_fwguard {
        let have = semver::Version::parse(&version).expect("the crate version is semver");
        let ok = semver::VersionReq::parse(req).is_ok_and(|r| r.matches(&have));
        if !ok {
            fail(&format!("rules/database.toml: requires_fwguard {req:?} is not met by this fwguard ({version})"));
        }
    }
    // The same serialisation the library hashes (`db::content_sha256`), so both agree.
    let json = serde_json::to_string(&loaded.set).expect("the rule set serialises");
    let sha: String = Sha256::digest(json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(out_dir.join("builtin_database.json"), &json).expect("write builtin_database.json");
    let code = format!(
        "/// The built-in rule set's canonical JSON.\npub const JSON: &str = include_str!(concat!(env!(\"OUT_DIR\"), \"/builtin_database.json\"));\n/// Its content SHA-256.\npub const SHA256: &str = {sha:?};\n/// Its version.\npub const VERSION: u32 = {};\n",
        loaded.set.database.version
    );
    std::fs::write(out_dir.join("builtin_database.rs"), code).expect("write builtin_database.rs");
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
