//! Rules: the TOML model support staff write in `rules/`, its loader, lint and test runner.
//!
//! This module depends on `identity` only: the rule ids are here ([`RULE_IDS`]), and the test
//! runner takes any [`CaseJudge`] (the engine implements it for the compiled database), so the
//! dependency runs one way, `engine` -> `db` -> `rules`.

pub mod citation;
mod describe;
mod files;
mod ids;
mod lint;
mod load;
pub mod model;
mod pattern;
mod source;
mod testing;

pub use describe::EntryDescription;
pub use files::{embedded_sources, read_dir_sources};
pub use ids::{OVERRIDABLE_RULES, RULE_IDS};
pub use lint::LintIssue;
pub use load::{LoadedRules, RuleSet, load};
pub use pattern::{PatternError, RevisionPattern};
pub use source::RuleSource;
pub use testing::{CaseJudge, CaseOutcome, run_tests};

/// Why rules could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory holds no rule files.
    #[error("{dir}: no .toml rule files")]
    Empty {
        /// The directory.
        dir: String,
    },
    /// The rules have problems; each names its file and line.
    #[error("{} problem(s) in the rules:\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<LintIssue>),
}

/// Reads, parses and lints the rules in a directory.
pub fn load_dir(dir: &std::path::Path) -> Result<LoadedRules, RulesError> {
    load(&read_dir_sources(dir)?).map_err(RulesError::Invalid)
}

/// Parses and lints the rules this binary was built with.
pub fn load_embedded() -> Result<LoadedRules, RulesError> {
    load(&embedded_sources()).map_err(RulesError::Invalid)
}
