//! The built-in database, compiled at build time: `rules/` read, parsed and linted by the
//! library's own loader (`src/rules/load.rs`), `requires_fwguard` checked against this crate's
//! version, and the rule set written in sections of postcard's compact form with the content
//! SHA-256 of its canonical JSON and the keys of its indexes, which `src/db/builtin.rs` embeds.
//! Included by `build.rs`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::identity::normalise_model;
use crate::rules::load::{RuleSet, load};
use crate::rules::model::with_every_field;
use crate::rules::source::RuleSource;

/// Loads and lints the rule files, and writes their postcard sections and `builtin_database.rs`.
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
    let code = compact_sections(&loaded.set, &sha, out_dir);
    std::fs::write(out_dir.join("builtin_database.rs"), code).expect("write builtin_database.rs");
}

/// Writes the rule set as postcard sections (header, policy, chips, USB ids, one per family) and
/// returns the Rust source that embeds them with the keys of the database's indexes, so a check
/// decodes only the parts it reads: the policy, the chips and the one family it judges. postcard
/// decodes several times faster than JSON (no field names to match, no text to scan); it names no
/// fields, so every field is written, the empty ones too.
fn compact_sections(set: &RuleSet, sha: &str, out_dir: &Path) -> String {
    let write = |name: &str, bytes: Result<Vec<u8>, postcard::Error>| {
        let bytes = bytes.unwrap_or_else(|e| fail(&format!("{name}: {e}")));
        std::fs::write(out_dir.join(name), bytes).unwrap_or_else(|e| fail(&format!("{name}: {e}")));
        format!("include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\"))")
    };
    let mut code = String::new();
    let mut line = |text: String| {
        code.push_str(&text);
        code.push('\n');
    };
    line(format!("/// The content SHA-256 (of the canonical JSON).\npub const SHA256: &str = {sha:?};"));
    line(format!("/// The version.\npub const VERSION: u32 = {};", set.database.version));
    with_every_field(|| {
        let sections = [
            ("The header.", "HEADER", postcard::to_allocvec(&set.database)),
            ("The policy.", "POLICY", postcard::to_allocvec(&set.policy)),
            ("The chips.", "CHIPS", postcard::to_allocvec(&set.chips)),
            ("The USB ids.", "USB", postcard::to_allocvec(&set.usb)),
        ];
        for (doc, name, bytes) in sections {
            let file = format!("{}.postcard", name.to_lowercase());
            line(format!("/// {doc}\npub static {name}: &[u8] = {};", write(&file, bytes)));
        }
        let families: Vec<String> = (set.families.iter().enumerate())
            .map(|(i, f)| write(&format!("family_{i}.postcard"), postcard::to_allocvec(f)))
            .collect();
        line(format!("/// The families, in order.\npub static FAMILIES: &[&[u8]] = &[{}];", families.join(", ")));
    });
    let list = |items: Vec<String>| items.join(", ");
    let ids = set.families.iter().map(|f| format!("{:?}", f.family.id)).collect();
    line(format!("/// Each family's id.\npub static FAMILY_IDS: &[&str] = &[{}];", list(ids)));
    let mut products = Vec::new();
    let mut models = Vec::new();
    for (fi, f) in set.families.iter().enumerate() {
        products.extend(f.products.iter().enumerate().map(|(pi, p)| format!("({:?}, {fi}, {pi})", p.code)));
        models.extend(f.family.models.iter().map(|m| format!("({:?}, {fi})", normalise_model(m))));
    }
    line(format!(
        "/// (product code, family, product).\npub static PRODUCTS: &[(&str, usize, usize)] = &[{}];",
        list(products)
    ));
    line(format!("/// (normalised model, family).\npub static MODELS: &[(&str, usize)] = &[{}];", list(models)));
    let chips = set.chips.iter().map(|c| format!("{:?}", c.jedec)).collect();
    line(format!("/// Each chip's JEDEC id.\npub static CHIP_IDS: &[&str] = &[{}];", list(chips)));
    let policy = set.policy.iter().map(|p| format!("{:?}", p.id)).collect();
    line(format!("/// Each policy entry's rule id.\npub static POLICY_IDS: &[&str] = &[{}];", list(policy)));
    code
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
