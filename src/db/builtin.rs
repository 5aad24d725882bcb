//! The built-in database: compiled from `rules/` when fwguard is built.
//!
//! `build.rs` runs the library's own rule loader and linter over `rules/` (rules that do not lint
//! fail the build) and embeds the result as postcard sections (header, policy, chips, USB ids, one
//! per family) with its content SHA-256 and the keys of its indexes. Starting fwguard parses no
//! TOML and no JSON, lints nothing and hashes nothing, and a section is decoded the first time it
//! is read: a check decodes the policy, the chips and the one family it judges.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use super::provenance::Provenance;
use super::{Database, Indexes, Parts};
use crate::rules::RuleSet;
use crate::rules::model::{Chip, DatabaseHeader, FamilyFile, PolicyRule, UsbId};

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/builtin_database.rs"));
}

/// The built-in database's version, without decoding it.
pub fn version() -> u32 {
    compiled::VERSION
}

/// The built-in rule set's sections, each decoded on first use.
#[derive(Debug, Clone)]
pub(super) struct Sections {
    header: DatabaseHeader,
    policy: OnceLock<Vec<PolicyRule>>,
    chips: OnceLock<Vec<Chip>>,
    usb: OnceLock<Vec<UsbId>>,
    families: Vec<OnceLock<FamilyFile>>,
    whole: OnceLock<RuleSet>,
}

/// Decodes a section the build wrote with the same types. It cannot fail but for a build bug,
/// which `every_section_decodes` below would catch.
fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> T {
    postcard::from_bytes(bytes).unwrap_or_else(|e| panic!("the built-in database's {what} do not decode: {e}"))
}

impl Sections {
    pub(super) fn header(&self) -> &DatabaseHeader {
        &self.header
    }

    pub(super) fn policy(&self) -> &[PolicyRule] {
        self.policy.get_or_init(|| decode(compiled::POLICY, "policy entries"))
    }

    pub(super) fn chips(&self) -> &[Chip] {
        self.chips.get_or_init(|| decode(compiled::CHIPS, "chips"))
    }

    pub(super) fn usb(&self) -> &[UsbId] {
        self.usb.get_or_init(|| decode(compiled::USB, "USB ids"))
    }

    pub(super) fn family(&self, i: usize) -> &FamilyFile {
        self.families[i].get_or_init(|| decode(compiled::FAMILIES[i], "families"))
    }

    pub(super) fn family_count(&self) -> usize {
        self.families.len()
    }

    /// The whole rule set (for `db build`, `db diff`, `explain`), decoded once, apart from the
    /// sections above.
    pub(super) fn whole(&self) -> &RuleSet {
        self.whole.get_or_init(|| RuleSet {
            database: self.header.clone(),
            policy: decode(compiled::POLICY, "policy entries"),
            chips: decode(compiled::CHIPS, "chips"),
            usb: decode(compiled::USB, "USB ids"),
            families: compiled::FAMILIES.iter().map(|f| decode(f, "families")).collect(),
        })
    }
}

/// The built-in database: its header decoded, its indexes from the keys the build wrote.
pub fn load() -> Database {
    let sections = Sections {
        header: decode(compiled::HEADER, "header"),
        policy: OnceLock::new(),
        chips: OnceLock::new(),
        usb: OnceLock::new(),
        families: compiled::FAMILIES.iter().map(|_| OnceLock::new()).collect(),
        whole: OnceLock::new(),
    };
    let borrowed = |s: &&'static str| Cow::Borrowed(*s);
    let indexes = Indexes {
        families: compiled::FAMILY_IDS.iter().enumerate().map(|(i, id)| (Cow::Borrowed(*id), i)).collect(),
        products: compiled::PRODUCTS.iter().map(|(code, fi, pi)| (Cow::Borrowed(*code), (*fi, *pi))).collect(),
        models: compiled::MODELS.iter().map(|(m, fi)| (Cow::Borrowed(*m), *fi)).collect(),
        chips: compiled::CHIP_IDS.iter().map(borrowed).zip(0..).collect(),
        policy: compiled::POLICY_IDS.iter().map(borrowed).zip(0..).collect(),
    };
    Database::with_parts(
        Parts::Builtin(Box::new(sections)),
        indexes,
        compiled::SHA256.to_string(),
        "built-in",
        Provenance::built_in("the database built into this fwguard"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_form_is_the_rules_loaded_at_run_time() {
        let compiled = load();
        let loaded = crate::rules::load_embedded().unwrap();
        assert_eq!(compiled.rules(), &loaded.set);
        assert_eq!(compiled.sha256(), super::super::content_sha256(&loaded.set));
        assert_eq!(version(), loaded.set.database.version);
    }

    #[test]
    fn every_section_decodes_and_the_indexes_agree_with_the_rules() {
        let lazy = load();
        let whole = Database::from_rules(crate::rules::load_embedded().unwrap().set, "rules");
        let set = whole.rules();
        for f in &set.families {
            for p in &f.products {
                let (lf, lp) = lazy.product(&p.code).unwrap();
                assert_eq!((lf, lp), whole.product(&p.code).unwrap());
            }
            for m in &f.family.models {
                let code = crate::identity::normalise_model(m);
                assert_eq!(lazy.family_for(&code), whole.family_for(&code), "{m}");
            }
        }
        for c in &set.chips {
            assert_eq!(lazy.chip(&c.jedec), Some(c));
        }
        for p in &set.policy {
            assert_eq!(lazy.policy(&p.id), Some(p));
        }
        assert_eq!(lazy.usb(), &set.usb[..]);
        assert_eq!(lazy.suggest("EC25EF"), whole.suggest("EC25EF"));
        assert!(lazy.product("NOPE").is_none() && lazy.chip("000000").is_none());
    }

    #[test]
    fn empty_fields_are_written_only_for_the_compact_form() {
        let set = crate::rules::load_embedded().unwrap().set;
        let json = serde_json::to_string(&set).unwrap();
        let every = crate::rules::model::with_every_field(|| serde_json::to_string(&set).unwrap());
        assert!(every.len() > json.len() && every.contains(":null") && !json.contains(":null"));
        let compact = crate::rules::model::with_every_field(|| postcard::to_allocvec(&set.policy)).unwrap();
        assert_eq!(compact, compiled::POLICY, "the build wrote the same form");
        // A panic inside leaves serialisation as it was.
        let caught = std::panic::catch_unwind(|| crate::rules::model::with_every_field(|| panic!("inside")));
        assert!(caught.is_err());
        assert_eq!(serde_json::to_string(&set).unwrap(), json);
    }
}
