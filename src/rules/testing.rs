//! Runs the rule test cases in `rules/tests/` against a database.

use std::collections::BTreeSet;

use super::LoadedRules;
use crate::db::Database;
use crate::engine::{DeviceFacts, ImageFacts, judge};
use crate::identity::FlashId;

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseOutcome {
    /// The test file.
    pub file: String,
    /// The line of the case's name.
    pub line: usize,
    /// The case's name.
    pub name: String,
    /// Whether verdict and rule ids came out as expected.
    pub passed: bool,
    /// The expected verdict.
    pub expected_verdict: String,
    /// The verdict the engine gave.
    pub verdict: String,
    /// The expected rule ids, sorted.
    pub expected_rules: Vec<String>,
    /// The rule ids the engine gave, sorted.
    pub rules: Vec<String>,
    /// A problem with the case itself (e.g. a bad flash ID).
    pub error: Option<String>,
}

/// Runs every case of every test file.
pub fn run_tests(loaded: &LoadedRules, db: &Database) -> Vec<CaseOutcome> {
    let mut out = Vec::new();
    for (src, file) in &loaded.tests {
        let mut seen = std::collections::HashMap::new();
        for case in &file.cases {
            let needle = format!("{:?}", case.name);
            let n = seen.entry(needle.clone()).or_insert(0usize);
            let line = src.line_of(&needle, *n);
            *n += 1;
            let expected_rules: BTreeSet<String> = case.findings.iter().cloned().collect();
            let mut outcome = CaseOutcome {
                file: src.name.clone(),
                line,
                name: case.name.clone(),
                passed: false,
                expected_verdict: case.verdict.clone(),
                verdict: String::new(),
                expected_rules: expected_rules.iter().cloned().collect(),
                rules: Vec::new(),
                error: None,
            };
            let flash_id = match case.flash_id.as_deref().map(FlashId::parse).transpose() {
                Ok(f) => f,
                Err(e) => {
                    outcome.error = Some(e.to_string());
                    out.push(outcome);
                    continue;
                }
            };
            let device = DeviceFacts {
                model: case.model.clone(),
                revision: case.revision.clone(),
                flash_id,
                secure_boot: case.secure_boot,
                imei: None,
            };
            let image = ImageFacts { name: case.to.clone(), ..ImageFacts::default() };
            let report = judge(&device, &image, db);
            let got: BTreeSet<String> = report.findings.iter().map(|f| f.rule.clone()).collect();
            outcome.verdict = report.verdict.to_string();
            outcome.rules = got.iter().cloned().collect();
            outcome.passed = outcome.verdict == case.verdict && got == expected_rules;
            out.push(outcome);
        }
    }
    out
}
