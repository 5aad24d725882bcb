//! The built-in database: compiled from `rules/` when fwguard is built.
//!
//! `build.rs` runs the library's own rule loader and linter over `rules/` (rules that do not lint
//! fail the build) and embeds the result in postcard's compact form with its content SHA-256, so
//! starting fwguard parses no TOML and no JSON, lints nothing and hashes nothing.

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
    let rules: RuleSet = postcard::from_bytes(compiled::POSTCARD).map_err(|e| DbError::Invalid {
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

    #[test]
    fn empty_fields_are_written_only_for_the_compact_form() {
        let set = crate::rules::load_embedded().unwrap().set;
        let json = serde_json::to_string(&set).unwrap();
        let every = crate::rules::model::with_every_field(|| serde_json::to_string(&set).unwrap());
        assert!(every.len() > json.len() && every.contains(":null") && !json.contains(":null"));
        let compact = crate::rules::model::with_every_field(|| postcard::to_allocvec(&set)).unwrap();
        assert_eq!(postcard::from_bytes::<RuleSet>(&compact).unwrap(), set);
        assert_eq!(compact, compiled::POSTCARD, "the build wrote the same form");
        // A panic inside leaves serialisation as it was.
        let caught = std::panic::catch_unwind(|| crate::rules::model::with_every_field(|| panic!("inside")));
        assert!(caught.is_err());
        assert_eq!(serde_json::to_string(&set).unwrap(), json);
    }
}
