//! The compatibility database: the rule set compiled, versioned and indexed for the engine.
//!
//! A database comes from the rules compiled into the binary ([`Database::builtin`]) or from a
//! published SQLite file ([`Database::open`], written by [`Database::write`]). Both hold the same
//! rule set and report the same version and content SHA-256.
//!
//! Which one is in effect, and whether it is trusted, is decided in one place,
//! [`load_in_effect`]: a file needs a valid minisign signature by a trusted key ([`signature`],
//! [`trusted_keys`]), must not roll back what the station accepted ([`accepted`]), and must suit
//! this fwguard ([`requirement`]). [`update`] fetches and installs a published database;
//! [`diff`] shows what a rule change does.

pub mod accepted;
mod builtin;
pub mod diff;
mod effective;
mod error;
pub mod fetch;
pub mod installed;
mod migrate;
mod provenance;
mod replace;
pub mod requirement;
pub mod signature;
mod sqlite;
pub mod trusted_keys;
pub mod update;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::identity::{Revision, normalise_model};
use crate::rules::model::{Chip, FamilyFile, PolicyRule, Product, UsbId};
use crate::rules::{RevisionPattern, RuleSet};

pub use effective::{LoadOptions, Record, home, load_in_effect, open_trusted, verify_file};
pub use error::DbError;
pub use migrate::{Migration, MigrationError, apply_migrations};
pub use provenance::{Provenance, Trust};
pub use replace::{ReplaceError, Replacement};

/// The schema version of compiled database files this build reads and writes.
pub const SCHEMA_VERSION: u32 = sqlite::MIGRATIONS.len() as u32;

/// A compiled, indexed rule set.
#[derive(Debug, Clone)]
pub struct Database {
    parts: Parts,
    sha256: String,
    origin: String,
    index: Indexes,
    /// Each family's revision patterns and thresholds, parsed the first time the family is judged
    /// (a check judges one family: parsing them all would cost a fifth of its start-up).
    parsed: Vec<OnceLock<ParsedFamily>>,
    /// Why it is in effect and trusted.
    provenance: Provenance,
}

/// The rule set: decoded whole (a database file, rules from a directory), or the built-in one's
/// sections, each decoded when first read.
#[derive(Debug, Clone)]
enum Parts {
    Whole(RuleSet),
    Builtin(Box<builtin::Sections>),
}

impl Parts {
    fn header(&self) -> &crate::rules::model::DatabaseHeader {
        match self {
            Parts::Whole(r) => &r.database,
            Parts::Builtin(s) => s.header(),
        }
    }

    fn family(&self, i: usize) -> &FamilyFile {
        match self {
            Parts::Whole(r) => &r.families[i],
            Parts::Builtin(s) => s.family(i),
        }
    }

    fn family_count(&self) -> usize {
        match self {
            Parts::Whole(r) => r.families.len(),
            Parts::Builtin(s) => s.family_count(),
        }
    }

    fn chips(&self) -> &[Chip] {
        match self {
            Parts::Whole(r) => &r.chips,
            Parts::Builtin(s) => s.chips(),
        }
    }

    fn policy(&self) -> &[PolicyRule] {
        match self {
            Parts::Whole(r) => &r.policy,
            Parts::Builtin(s) => s.policy(),
        }
    }

    fn usb(&self) -> &[UsbId] {
        match self {
            Parts::Whole(r) => &r.usb,
            Parts::Builtin(s) => s.usb(),
        }
    }

    fn whole(&self) -> &RuleSet {
        match self {
            Parts::Whole(r) => r,
            Parts::Builtin(s) => s.whole(),
        }
    }
}

/// The keys the engine looks things up by, to indexes into the rule set's lists.
#[derive(Debug, Clone, Default)]
struct Indexes {
    /// Family id to its index in the families.
    families: HashMap<Cow<'static, str>, usize>,
    /// Product code to (family, product).
    products: HashMap<Cow<'static, str>, (usize, usize)>,
    /// Normalised model to family.
    models: HashMap<Cow<'static, str>, usize>,
    chips: HashMap<Cow<'static, str>, usize>,
    policy: HashMap<Cow<'static, str>, usize>,
}

impl Indexes {
    fn of(rules: &RuleSet) -> Indexes {
        let mut index = Indexes::default();
        for (fi, f) in rules.families.iter().enumerate() {
            index.families.insert(Cow::Owned(f.family.id.clone()), fi);
            for m in &f.family.models {
                index.models.insert(Cow::Owned(normalise_model(m)), fi);
            }
            for (pi, p) in f.products.iter().enumerate() {
                index.products.insert(Cow::Owned(p.code.clone()), (fi, pi));
            }
        }
        index.chips = rules.chips.iter().enumerate().map(|(i, c)| (Cow::Owned(c.jedec.clone()), i)).collect();
        index.policy = rules.policy.iter().enumerate().map(|(i, p)| (Cow::Owned(p.id.clone()), i)).collect();
        index
    }
}

impl Database {
    /// Compiles a rule set. `origin` says where it came from, for `db info`.
    pub fn from_rules(mut rules: RuleSet, origin: &str) -> Database {
        // Families in canonical order (by id), as the loader and a database file give them, so
        // the same rules always have the same content SHA-256.
        if !rules.families.is_sorted_by(|a, b| a.family.id <= b.family.id) {
            rules.families.sort_by(|a, b| a.family.id.cmp(&b.family.id));
        }
        let sha256 = content_sha256(&rules);
        Database::assemble(rules, sha256, origin, Provenance::unchecked(&format!("compiled from {origin}")))
    }

    /// Indexes a rule set whose content SHA-256 is known.
    fn assemble(rules: RuleSet, sha256: String, origin: &str, provenance: Provenance) -> Database {
        let index = Indexes::of(&rules);
        Database::with_parts(Parts::Whole(rules), index, sha256, origin, provenance)
    }

    fn with_parts(parts: Parts, index: Indexes, sha256: String, origin: &str, provenance: Provenance) -> Database {
        let parsed = (0..parts.family_count()).map(|_| OnceLock::new()).collect();
        Database { parts, sha256, origin: origin.to_string(), index, parsed, provenance }
    }

    /// The database compiled from the rules this binary was built with (at build time: no TOML
    /// is parsed here).
    pub fn builtin() -> Database {
        builtin::load()
    }

    /// Compiles the rules in a directory.
    pub fn from_dir(dir: &Path) -> Result<Database, DbError> {
        let loaded = crate::rules::load_dir(dir)?;
        Ok(Database::from_rules(loaded.set, &dir.display().to_string()))
    }

    /// Opens a database file written by [`Database::write`], without any trust decision (see
    /// [`load_in_effect`] for that).
    pub fn open(path: &Path) -> Result<Database, DbError> {
        let bytes = signature::read_small(path, fetch::MAX_DATABASE_BYTES)?;
        sqlite::read(&bytes, &path.display().to_string())
    }

    /// Reads a database from a file's bytes; `label` names it in messages.
    pub fn from_bytes(bytes: &[u8], label: &str) -> Result<Database, DbError> {
        sqlite::read(bytes, label)
    }

    /// Reads only the header (name, version, requires_fwguard) of a database file's bytes,
    /// whatever fwguard it is made for.
    pub fn header_of(bytes: &[u8], label: &str) -> Result<crate::rules::model::DatabaseHeader, DbError> {
        sqlite::read_header(bytes, label)
    }

    /// Writes the database to a SQLite file. The same rules always give the same bytes.
    pub fn write(&self, path: &Path) -> Result<(), DbError> {
        sqlite::write(self, path)
    }

    /// The rule set (the built-in database decodes all of it the first time).
    pub fn rules(&self) -> &RuleSet {
        self.parts.whole()
    }

    /// The USB ids that find modules' ports.
    pub fn usb(&self) -> &[UsbId] {
        self.parts.usb()
    }

    /// The version support staff gave the rules.
    pub fn version(&self) -> u32 {
        self.parts.header().version
    }

    /// SHA-256 of the canonical content, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// `built-in`, or the path it was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Why it is in effect and why it is trusted.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The `database` object of a verdict.
    pub fn summary(&self) -> crate::engine::DatabaseSummary {
        let p = &self.provenance;
        crate::engine::DatabaseSummary {
            version: self.version(),
            sha256: self.sha256.clone(),
            origin: self.origin.clone(),
            trust: p.trust,
            signer: p.signer.clone(),
            allow_unsigned: p.allow_unsigned,
            untrusted_because: p.untrusted_because.clone(),
        }
    }

    /// The `database-outdated` finding's message and hint, when this is the built-in database
    /// and the station accepted a newer one before.
    pub fn outdated_finding(&self) -> Option<(String, String)> {
        let a = self.provenance.outdated_by.as_ref()?;
        Some((
            format!(
                "the built-in database is version {}, but this station accepted version {} from key {} at {} ({})",
                self.version(),
                a.version,
                a.key_id,
                a.accepted_at,
                a.origin
            ),
            "run `fwguard db update --from` where support publishes the database, or pass --db the newer signed file"
                .to_string(),
        ))
    }

    /// A product code and its family.
    pub fn product(&self, code: &str) -> Option<(&FamilyFile, &Product)> {
        let (fi, pi) = *self.index.products.get(code)?;
        let f = self.parts.family(fi);
        Some((f, &f.products[pi]))
    }

    /// The family whose longest model is a prefix of `code` (a product code or normalised model line).
    pub fn family_for(&self, code: &str) -> Option<&FamilyFile> {
        (1..=code.len())
            .rev()
            .find_map(|l| code.get(..l).and_then(|p| self.index.models.get(p)))
            .map(|&fi| self.parts.family(fi))
    }

    /// A flash chip by JEDEC hex.
    pub fn chip(&self, jedec: &str) -> Option<&Chip> {
        self.index.chips.get(jedec).map(|&i| &self.parts.chips()[i])
    }

    /// The policy entry of a rule id.
    pub fn policy(&self, id: &str) -> Option<&PolicyRule> {
        self.index.policy.get(id).map(|&i| &self.parts.policy()[i])
    }

    /// A revision pattern of `family` (a step's `from` or `to`, a known-bad build), parsed once.
    /// `None` for text that is no pattern of that family (linted rules have none that fail to
    /// parse).
    pub fn pattern(&self, family: &FamilyFile, text: &str) -> Option<&RevisionPattern> {
        self.parsed_family(family)?.patterns.get(text)
    }

    /// A threshold revision (`since`) of `family`'s anti-rollback or signed entries, parsed once.
    pub fn threshold(&self, family: &FamilyFile, text: &str) -> Option<&Revision> {
        self.parsed_family(family)?.thresholds.get(text)
    }

    fn parsed_family(&self, family: &FamilyFile) -> Option<&ParsedFamily> {
        let i = *self.index.families.get(family.family.id.as_str())?;
        Some(self.parsed[i].get_or_init(|| ParsedFamily::of(self.parts.family(i))))
    }

    /// Known product codes close to `code` (one or two edits), for "did you mean".
    pub fn suggest(&self, code: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .index
            .products
            .keys()
            .filter(|k| k.len().abs_diff(code.len()) <= 2 && edit_distance(k, code) <= 2)
            .map(|k| k.as_ref())
            .collect();
        out.sort();
        out.truncate(3);
        out
    }
}

/// A family's revision patterns and thresholds, by their text.
#[derive(Debug, Clone, Default)]
struct ParsedFamily {
    patterns: HashMap<String, RevisionPattern>,
    thresholds: HashMap<String, Revision>,
}

impl ParsedFamily {
    fn of(f: &FamilyFile) -> ParsedFamily {
        let mut parsed = ParsedFamily::default();
        let texts = f.steps.iter().flat_map(|s| [&s.from, &s.to]).chain(f.known_bad.iter().flat_map(|k| &k.revisions));
        for t in texts {
            if let Ok(p) = RevisionPattern::parse(t) {
                parsed.patterns.insert(t.clone(), p);
            }
        }
        for t in f.anti_rollback.iter().chain(&f.signed) {
            if let Ok(r) = Revision::parse(&t.since) {
                parsed.thresholds.insert(t.since.clone(), r);
            }
        }
        parsed
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
