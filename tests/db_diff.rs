//! `fwguard db diff OLD NEW` shows a rule change family by family, and `fwguard rules test
//! --against OLD` shows which rule test cases it changes.

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::db_support::Publisher;
use crate::util::run;

/// Replaces the first `from` after `anchor` in a rules file.
fn edit(rules: &Path, file: &str, anchor: &str, from: &str, to: &str) {
    let p = rules.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    let at = text.find(anchor).unwrap_or_else(|| panic!("{file}: {anchor}"));
    let rel = text[at..].find(from).unwrap_or_else(|| panic!("{file}: {from} after {anchor}"));
    let mut out = text.clone();
    out.replace_range(at + rel..at + rel + from.len(), to);
    std::fs::write(p, out).unwrap();
}

/// The rule change under review: a step goes to R04 instead of R03, a product loses a flash chip,
/// and a policy rule becomes stricter.
fn change(rules: &Path) {
    edit(
        rules,
        "families/rm520n.toml",
        "id = \"rm520n-gl-r01-to-r03\"",
        "to = \"RM520NGLAAR03Axx\"",
        "to = \"RM520NGLAAR04Axx\"",
    );
    edit(rules, "families/ec800m.toml", "code = \"EC800MCNLA\"", "\"204117\", ", "");
    edit(rules, "policy.toml", "id = \"flavour-switch\"", "severity = \"warn\"", "severity = \"block\"");
}

#[test]
fn diff_shows_a_changed_step_a_changed_chip_list_and_a_stricter_policy() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    let old = support.build(home.path(), 1, |_| {});
    let new = support.build(home.path(), 2, change);

    let (code, out, err) = run(home.path(), &["db", "diff", old.to_str().unwrap(), new.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["old"]["version"], 1);
    assert_eq!(d["new"]["version"], 2);
    assert_eq!(d["database"], serde_json::json!([{ "field": "version", "old": 1, "new": 2 }]));
    let families = d["families"].as_array().unwrap();
    let names: Vec<&str> = families.iter().map(|f| f["family"].as_str().unwrap()).collect();
    assert_eq!(names, ["ec800m", "rm520n"], "only the families that changed");
    assert_eq!(
        families[1]["entries"],
        serde_json::json!([{
            "kind": "step", "key": "rm520n-gl-r01-to-r03", "change": "changed",
            "fields": [{ "field": "to", "old": "RM520NGLAAR03Axx", "new": "RM520NGLAAR04Axx" }]
        }])
    );
    let chips = &families[0]["entries"][0];
    assert_eq!((chips["kind"].as_str(), chips["key"].as_str()), (Some("product"), Some("EC800MCNLA")));
    assert_eq!(chips["fields"][0]["field"], "flash_chips");
    assert!(chips["fields"][0]["old"].as_array().unwrap().contains(&Value::from("204117")));
    assert!(!chips["fields"][0]["new"].as_array().unwrap().contains(&Value::from("204117")));
    assert_eq!(d["policy"][0]["key"], "flavour-switch");
    assert_eq!(d["policy"][0]["fields"], serde_json::json!([{ "field": "severity", "old": "warn", "new": "block" }]));
    assert_eq!(d["flash_chips"], serde_json::json!([]));

    let (code, text, _) = run(home.path(), &["db", "diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(code, 0);
    for line in [
        "database: version: 1 -> 2",
        "family rm520n: changed",
        "  step rm520n-gl-r01-to-r03: changed",
        "    to: \"RM520NGLAAR03Axx\" -> \"RM520NGLAAR04Axx\"",
        "family ec800m: changed",
        "  product EC800MCNLA: changed",
        "    flash_chips: -204117",
        "  policy flavour-switch: changed",
        "    severity: \"warn\" -> \"block\"",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }

    // The same rules: no differences. A rules directory works as a side too.
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let builtin = home.path().join("builtin.db");
    assert_eq!(run(home.path(), &["db", "build", "--out", builtin.to_str().unwrap()]).0, 0);
    let (code, text, _) = run(home.path(), &["db", "diff", rules, builtin.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains("no differences"), "{text}");
}

#[test]
fn rules_test_against_an_older_database_lists_the_cases_that_change() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    let old = support.build(home.path(), 1, |_| {});
    let rules = crate::database::copy_rules(home.path());
    change(&rules);
    let (code, out, _) =
        run(home.path(), &["rules", "test", rules.to_str().unwrap(), "--against", old.to_str().unwrap()]);
    assert_eq!(code, 1, "the changed rules fail their own cases: {out}");
    assert!(out.contains(&format!("against {} (v1): ", old.display())), "{out}");
    let changed: Vec<&str> = out.lines().filter(|l| l.starts_with("changed verdict ")).collect();
    assert!(changed.iter().any(|l| l.contains("tests/paths.toml:")), "the RM520N step case: {out}");
    let first = out.lines().position(|l| l.starts_with("changed verdict ")).unwrap();
    let old_line = out.lines().nth(first + 1).unwrap();
    let new_line = out.lines().nth(first + 2).unwrap();
    assert!(old_line.trim_start().starts_with("old  "), "{out}");
    assert!(new_line.trim_start().starts_with("new  block"), "{out}");

    // Against itself nothing changes.
    let (code, out, _) = run(home.path(), &["rules", "test", "--against", old.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 case(s) change verdict, 0 more change rule ids only"), "{out}");
}
