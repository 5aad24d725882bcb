//! The built-in database, compiled at build time: `rules/` read, parsed and linted by the
//! library's own loader (`src/rules/load.rs`), `requires_fwguard` checked against this crate's
//! version, and the rule set written in postcard's compact form with the content SHA-256 of its
//! canonical JSON, which `src/db/builtin.rs` embeds. Included by `build.rs`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::rules::load::load;
use crate::rules::model::with_every_field;
use crate::rules::source::RuleSource;

/// Loads and lints the rule files, and writes `builtin_database.postcard` and `builtin_database.rs`.
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
    // The content SHA-256 is of the canonical JSON, the serialisation the library hashes
    // (`db::content_sha256`), so both agree.
    let json = serde_json::to_string(&loaded.set).expect("the rule set serialises");
    let sha: String = Sha256::digest(json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    // The binary carries postcard, which decodes several times faster than JSON: no field names
    // to match, no text to scan. It names no fields, so every field is written, the empty ones too.
    let compact = with_every_field(|| postcard::to_allocvec(&loaded.set)).expect("the rule set serialises");
    std::fs::write(out_dir.join("builtin_database.postcard"), &compact).expect("write builtin_database.postcard");
    let code = format!(
        "/// The built-in rule set, postcard-encoded with every field.\npub static POSTCARD: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/builtin_database.postcard\"));\n/// Its content SHA-256 (of its canonical JSON).\npub const SHA256: &str = {sha:?};\n/// Its version.\npub const VERSION: u32 = {};\n",
        loaded.set.database.version
    );
    std::fs::write(out_dir.join("builtin_database.rs"), code).expect("write builtin_database.rs");
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
