//! Parses rule files into a [`RuleSet`], reporting every problem with its file and line.

use serde::{Deserialize, Serialize};

use super::model::Chip;
use super::model::{
    ChipsFile, DatabaseFile, DatabaseHeader, FamilyFile, PolicyFile, PolicyRule, TestFile, UsbFile, UsbId,
};
use super::source::RuleSource;
use super::{LintIssue, lint};

/// The whole rule set, as compiled into a database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The database header (`rules/database.toml`).
    pub database: DatabaseHeader,
    /// The verdict policy (`rules/policy.toml`).
    pub policy: Vec<PolicyRule>,
    /// Flash chips (`rules/flash-chips.toml`).
    pub chips: Vec<Chip>,
    /// USB ids (`rules/usb.toml`).
    pub usb: Vec<UsbId>,
    /// Module families (`rules/families/*.toml`), sorted by id.
    pub families: Vec<FamilyFile>,
}

/// Rule files parsed and linted, with their test cases.
#[derive(Debug, Clone)]
pub struct LoadedRules {
    /// The rule set.
    pub set: RuleSet,
    /// The test files (`rules/tests/*.toml`) with their sources.
    pub tests: Vec<(RuleSource, TestFile)>,
}

fn parse<T: serde::de::DeserializeOwned>(src: &RuleSource, issues: &mut Vec<LintIssue>) -> Option<T> {
    match toml::from_str::<T>(&src.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| src.line_at(s.start)).unwrap_or(1);
            issues.push(LintIssue::new(src, line, e.message().trim().to_string()));
            None
        }
    }
}

/// Parses and lints rule files. Returns every problem found, not just the first.
pub fn load(sources: &[RuleSource]) -> Result<LoadedRules, Vec<LintIssue>> {
    let mut issues = Vec::new();
    let mut database = None;
    let mut policy = Vec::new();
    let mut chips = Vec::new();
    let mut usb = Vec::new();
    let mut families: Vec<(RuleSource, FamilyFile)> = Vec::new();
    let mut tests = Vec::new();
    for src in sources {
        match src.name.as_str() {
            "database.toml" => {
                database = parse::<DatabaseFile>(src, &mut issues).map(|d| d.database);
                if let Some(req) = database.as_ref().and_then(|d| d.requires_fwguard.as_deref())
                    && let Err(e) = semver::VersionReq::parse(req)
                {
                    let line = src.line_of("requires_fwguard", 0);
                    issues.push(LintIssue::new(src, line, format!("requires_fwguard {req:?} is not a semver requirement: {e}")));
                }
            }
            "policy.toml" => policy.extend(parse::<PolicyFile>(src, &mut issues).map(|p| p.rules).unwrap_or_default()),
            "flash-chips.toml" => chips.extend(parse::<ChipsFile>(src, &mut issues).map(|c| c.chips).unwrap_or_default()),
            "usb.toml" => usb.extend(parse::<UsbFile>(src, &mut issues).map(|u| u.ids).unwrap_or_default()),
            n if n.starts_with("families/") => {
                if let Some(f) = parse::<FamilyFile>(src, &mut issues) {
                    families.push((src.clone(), f));
                }
            }
            n if n.starts_with("tests/") => {
                if let Some(t) = parse::<TestFile>(src, &mut issues) {
                    tests.push((src.clone(), t));
                }
            }
            _ => issues.push(LintIssue::new(
                src,
                1,
                "not a known rule file: use database.toml, policy.toml, flash-chips.toml, usb.toml, families/*.toml or tests/*.toml".into(),
            )),
        }
    }
    let Some(database) = database else {
        issues.push(LintIssue {
            file: "database.toml".into(),
            line: 1,
            reason: "missing: it holds the database version".into(),
        });
        return Err(issues);
    };
    if !issues.is_empty() {
        return Err(issues);
    }
    issues.extend(lint::check(sources, &policy, &chips, &usb, &families));
    issues.extend(lint::check_tests(&tests));
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut families: Vec<FamilyFile> = families.into_iter().map(|(_, f)| f).collect();
    families.sort_by(|a, b| a.family.id.cmp(&b.family.id));
    Ok(LoadedRules { set: RuleSet { database, policy, chips, usb, families }, tests })
}
