//! Runs the rule test cases in `rules/tests/` against a judge.
//!
//! The runner knows nothing of the engine or the compiled database: whatever judges a case
//! implements [`CaseJudge`] (the engine does it for [`crate::db::Database`]), so `rules` depends
//! on neither.

use std::collections::BTreeSet;

use super::LoadedRules;
use super::model::TestCase;

/// Judges one rule test case: a verdict (`allow`, `warn`, `block`) and the rule ids found.
pub trait CaseJudge {
    /// The verdict and the set of rule ids, or why the case itself cannot be judged (a bad
    /// flash ID, say).
    fn judge_case(&self, case: &TestCase) -> Result<(String, BTreeSet<String>), String>;
}

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
pub fn run_tests<J: CaseJudge + ?Sized>(loaded: &LoadedRules, judge: &J) -> Vec<CaseOutcome> {
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
            match judge.judge_case(case) {
                Ok((verdict, got)) => {
                    outcome.passed = verdict == case.verdict && got == expected_rules;
                    outcome.verdict = verdict;
                    outcome.rules = got.into_iter().collect();
                }
                Err(e) => outcome.error = Some(e),
            }
            out.push(outcome);
        }
    }
    out
}
