//! The compatibility database: the rule set compiled, versioned and indexed for the engine.
//!
//! A database comes from the rules embedded in the binary ([`Database::builtin`]) or from a
//! published SQLite file ([`Database::open`], written by [`Database::write`]). Both hold the same
//! rule set and report the same version and content SHA-256.

mod migrate;
mod replace;
mod sqlite;

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::identity::{Revision, normalise_model};
use crate::rules::model::{Chip, FamilyFile, PolicyRule, Product};
use crate::rules::{RevisionPattern, RuleSet, RulesError};

pub use migrate::{Migration, MigrationError, apply_migrations};
pub use replace::{ReplaceError, Replacement};

/// The schema version of compiled database files this build reads and writes.
pub const SCHEMA_VERSION: u32 = sqlite::MIGRATIONS.len() as u32;

/// Why a database could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The rules did not load.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output path may not be replaced, or replacing it failed.
    #[error(transparent)]
    Replace(#[from] ReplaceError),
    /// The file is not a database this build can use.
    #[error("{path}: {problem}")]
    Invalid {
        /// The database file.
        path: String,
        /// What is wrong, with both values where there are two.
        problem: String,
    },
}

impl DbError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            DbError::Rules(_) => "run `fwguard rules lint` and fix what it reports",
            DbError::Replace(e) => e.hint(),
            DbError::Sqlite { .. } | DbError::Io { .. } => {
                "check the path, or leave out --db / FWGUARD_DB to use the built-in database"
            }
            DbError::Invalid { .. } => {
                "rebuild it with `fwguard db build`, or leave out --db / FWGUARD_DB to use the built-in database"
            }
        }
    }
}

/// A compiled, indexed rule set.
#[derive(Debug, Clone)]
pub struct Database {
    rules: RuleSet,
    sha256: String,
    origin: String,
    products: HashMap<String, (usize, usize)>,
    models: HashMap<String, usize>,
    chips: HashMap<String, usize>,
    policy: HashMap<String, usize>,
    /// Every revision pattern and threshold of the rules, parsed once (by its text).
    patterns: HashMap<String, RevisionPattern>,
    thresholds: HashMap<String, Revision>,
}

impl Database {
    /// Compiles a rule set. `origin` says where it came from, for `db info`.
    pub fn from_rules(rules: RuleSet, origin: &str) -> Database {
        let sha256 = content_sha256(&rules);
        let mut products = HashMap::new();
        let mut models = HashMap::new();
        for (fi, f) in rules.families.iter().enumerate() {
            for m in &f.family.models {
                models.insert(normalise_model(m), fi);
            }
            for (pi, p) in f.products.iter().enumerate() {
                products.insert(p.code.clone(), (fi, pi));
            }
        }
        let chips = rules.chips.iter().enumerate().map(|(i, c)| (c.jedec.clone(), i)).collect();
        let policy = rules.policy.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
        let mut patterns = HashMap::new();
        let mut thresholds = HashMap::new();
        for f in &rules.families {
            let texts =
                f.steps.iter().flat_map(|s| [&s.from, &s.to]).chain(f.known_bad.iter().flat_map(|k| &k.revisions));
            for t in texts {
                if let Ok(p) = RevisionPattern::parse(t) {
                    patterns.insert(t.clone(), p);
                }
            }
            for t in f.anti_rollback.iter().chain(&f.signed) {
                if let Ok(r) = Revision::parse(&t.since) {
                    thresholds.insert(t.since.clone(), r);
                }
            }
        }
        Database { rules, sha256, origin: origin.to_string(), products, models, chips, policy, patterns, thresholds }
    }

    /// The database compiled from the rules this binary was built with.
    pub fn builtin() -> Result<Database, DbError> {
        let loaded = crate::rules::load_embedded()?;
        Ok(Database::from_rules(loaded.set, "built-in"))
    }

    /// Compiles the rules in a directory.
    pub fn from_dir(dir: &Path) -> Result<Database, DbError> {
        let loaded = crate::rules::load_dir(dir)?;
        Ok(Database::from_rules(loaded.set, &dir.display().to_string()))
    }

    /// Opens a database file written by [`Database::write`].
    pub fn open(path: &Path) -> Result<Database, DbError> {
        sqlite::read(path)
    }

    /// Writes the database to a SQLite file. The same rules always give the same bytes.
    pub fn write(&self, path: &Path) -> Result<(), DbError> {
        sqlite::write(self, path)
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The version support staff gave the rules.
    pub fn version(&self) -> u32 {
        self.rules.database.version
    }

    /// SHA-256 of the canonical content, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// `built-in`, or the path it was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// A product code and its family.
    pub fn product(&self, code: &str) -> Option<(&FamilyFile, &Product)> {
        let (fi, pi) = *self.products.get(code)?;
        let f = &self.rules.families[fi];
        Some((f, &f.products[pi]))
    }

    /// The family whose longest model is a prefix of `code` (a product code or normalised model line).
    pub fn family_for(&self, code: &str) -> Option<&FamilyFile> {
        (1..=code.len())
            .rev()
            .find_map(|l| code.get(..l).and_then(|p| self.models.get(p)))
            .map(|&fi| &self.rules.families[fi])
    }

    /// A flash chip by JEDEC hex.
    pub fn chip(&self, jedec: &str) -> Option<&Chip> {
        self.chips.get(jedec).map(|&i| &self.rules.chips[i])
    }

    /// The policy entry of a rule id.
    pub fn policy(&self, id: &str) -> Option<&PolicyRule> {
        self.policy.get(id).map(|&i| &self.rules.policy[i])
    }

    /// A revision pattern of the rules, parsed when the database was compiled. `None` for text
    /// that is no pattern of these rules (linted rules have none that fail to parse).
    pub fn pattern(&self, text: &str) -> Option<&RevisionPattern> {
        self.patterns.get(text)
    }

    /// A threshold revision (`since`) of the rules, parsed when the database was compiled.
    pub fn threshold(&self, text: &str) -> Option<&Revision> {
        self.thresholds.get(text)
    }

    /// Known product codes close to `code` (one or two edits), for "did you mean".
    pub fn suggest(&self, code: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .products
            .keys()
            .filter(|k| k.len().abs_diff(code.len()) <= 2 && edit_distance(k, code) <= 2)
            .map(String::as_str)
            .collect();
        out.sort();
        out.truncate(3);
        out
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// SHA-256 of the rule set's canonical JSON.
pub fn content_sha256(rules: &RuleSet) -> String {
    let json = serde_json::to_vec(rules).unwrap_or_default();
    Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("M520NGLAA", "RM520NGLAA"), 1);
        assert_eq!(edit_distance("EC25EFA", "EC25EFA"), 0);
    }
}
