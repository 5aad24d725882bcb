//! The built-in database: compiled from `rules/` when fwguard is built.
//!
//! `build.rs` runs the library's own rule loader and linter over `rules/` (rules that do not lint
//! fail the build) and embeds the result as the rule set's canonical JSON with its content
//! SHA-256, so starting fwguard parses no TOML, lints nothing and hashes nothing.

use super::provenance::Provenance;
use super::{Database, DbError};
use crate::rules::RuleSet;

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/builtin_database.rs"));
}

/// The built-in database's version, without decoding it.
pub fn version() -> u32 {
    compiled::VERSION
}

/// Decodes the built-in database.
pub fn load() -> Result<Database, DbError> {
    let rules: RuleSet = serde_json::from_str(compiled::JSON).map_err(|e| DbError::Invalid {
        path: "built-in".into(),
        problem: format!("the compiled rules do not decode: {e}"),
    })?;
    Ok(Database::assemble(
        rules,
        compiled::SHA256.to_string(),
        "built-in",
        Provenance::built_in("the database built into this fwguard"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_form_is_the_rules_loaded_at_run_time() {
        let compiled = load().unwrap();
        let loaded = crate::rules::load_embedded().unwrap();
        assert_eq!(compiled.rules(), &loaded.set);
        assert_eq!(compiled.sha256(), super::super::content_sha256(&loaded.set));
        assert_eq!(version(), loaded.set.database.version);
    }
}
