//! What a rule change does: two databases compared family by family.
//!
//! The comparison works on each entry's canonical JSON, not on the rule model's fields, so a field
//! the model gains later shows up in a diff without a change here. Lists of entries are matched by
//! their key (`id`, `code`, `jedec`, or `vid:pid`); an entry without one is matched by its whole
//! content, so a change to it shows as one removed and one added.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Database;
use crate::rules::CaseOutcome;

/// One changed field of an entry: its path inside the entry and both values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The field, dotted for nested objects: `severity`, `family.anti_rollback`.
    pub field: String,
    /// The old value (`null` when the field is new).
    pub old: Value,
    /// The new value (`null` when the field is gone).
    pub new: Value,
}

/// Whether an entry was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new database.
    Added,
    /// Only in the old database.
    Removed,
    /// In both, with different content.
    Changed,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        })
    }
}

/// One entry that differs: a product, a step, a known-bad build, a chip, a policy rule, ...
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryChange {
    /// What kind of entry, as the rule files name it: `product`, `step`, `known_bad`, `family`, ...
    pub kind: String,
    /// Its key: a rule id, product code, JEDEC id, `vid:pid`, or the entry's JSON when it has none.
    pub key: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// For a changed entry, the fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// The whole entry as it is now (added) or was (removed).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub entry: Value,
}

/// The changes within one module family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyChange {
    /// The family id.
    pub family: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// Its entries that differ (for a changed family).
    pub entries: Vec<EntryChange>,
}

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Where it came from.
    pub origin: String,
    /// Its version.
    pub version: u32,
    /// SHA-256 of its content.
    pub sha256: String,
}

/// Everything that differs between two databases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseDiff {
    /// The old database.
    pub old: Side,
    /// The new database.
    pub new: Side,
    /// Fields of the database header that differ (version, name, requires_fwguard, ...).
    pub database: Vec<FieldChange>,
    /// Module families, by id.
    pub families: Vec<FamilyChange>,
    /// Policy rules (severity, source, hint, ...), by rule id.
    pub policy: Vec<EntryChange>,
    /// Flash chips, by JEDEC id.
    pub flash_chips: Vec<EntryChange>,
    /// USB ids, by `vid:pid`.
    pub usb_ids: Vec<EntryChange>,
}

impl DatabaseDiff {
    /// Whether the two databases hold the same rules.
    pub fn is_empty(&self) -> bool {
        self.database.is_empty()
            && self.families.is_empty()
            && self.policy.is_empty()
            && self.flash_chips.is_empty()
            && self.usb_ids.is_empty()
    }
}

/// Compares two databases.
pub fn diff(old: &Database, new: &Database) -> DatabaseDiff {
    let side =
        |db: &Database| Side { origin: db.origin().to_string(), version: db.version(), sha256: db.sha256().into() };
    let (o, n) = (old.rules(), new.rules());
    let old_families: BTreeMap<String, Value> = o.families.iter().map(|f| (f.family.id.clone(), to_value(f))).collect();
    let new_families: BTreeMap<String, Value> = n.families.iter().map(|f| (f.family.id.clone(), to_value(f))).collect();
    let mut families = Vec::new();
    for (id, change, old_f, new_f) in pair_up(&old_families, &new_families) {
        let entries = match change {
            ChangeKind::Changed => family_entries(old_f, new_f),
            _ => Vec::new(),
        };
        if change != ChangeKind::Changed || !entries.is_empty() {
            families.push(FamilyChange { family: id, change, entries });
        }
    }
    DatabaseDiff {
        old: side(old),
        new: side(new),
        database: fields(&to_value(&o.database), &to_value(&n.database), ""),
        families,
        policy: list("policy", &to_value(&o.policy), &to_value(&n.policy)),
        flash_chips: list("chip", &to_value(&o.chips), &to_value(&n.chips)),
        usb_ids: list("usb", &to_value(&o.usb), &to_value(&n.usb)),
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Keys present in either map, in order, with what happened to each and both values.
fn pair_up<'a>(
    old: &'a BTreeMap<String, Value>,
    new: &'a BTreeMap<String, Value>,
) -> Vec<(String, ChangeKind, &'a Value, &'a Value)> {
    const NONE: &Value = &Value::Null;
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| match (old.get(k), new.get(k)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some((k.clone(), ChangeKind::Changed, a, b)),
            (Some(a), None) => Some((k.clone(), ChangeKind::Removed, a, NONE)),
            (None, Some(b)) => Some((k.clone(), ChangeKind::Added, NONE, b)),
            (None, None) => None,
        })
        .collect()
}

/// The entries of a changed family: each top-level key of its JSON is a kind of entry, either one
/// object (`family`) or a list of them (`product`, `step`, `known_bad`, ...).
fn family_entries(old: &Value, new: &Value) -> Vec<EntryChange> {
    let empty = serde_json::Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut kinds: Vec<&String> = o.keys().chain(n.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let mut out = Vec::new();
    for kind in kinds {
        let (a, b) = (o.get(kind).unwrap_or(&Value::Null), n.get(kind).unwrap_or(&Value::Null));
        if a == b {
            continue;
        }
        if a.is_array() || b.is_array() {
            out.extend(list(kind, a, b));
        } else {
            let key = b.get("id").or_else(|| a.get("id")).and_then(Value::as_str).unwrap_or(kind).to_string();
            out.push(EntryChange {
                kind: kind.clone(),
                key,
                change: ChangeKind::Changed,
                fields: fields(a, b, ""),
                entry: Value::Null,
            });
        }
    }
    out
}

/// An entry's key: the first identifying field it has, else its whole content.
fn key_of(entry: &Value) -> String {
    for field in ["id", "code", "jedec"] {
        if let Some(k) = entry.get(field).and_then(Value::as_str) {
            return k.to_string();
        }
    }
    if let (Some(vid), Some(pid)) = (entry.get("vid").and_then(Value::as_str), entry.get("pid").and_then(Value::as_str))
    {
        return format!("{vid}:{pid}");
    }
    entry.to_string()
}

/// Compares two lists of entries by key.
fn list(kind: &str, old: &Value, new: &Value) -> Vec<EntryChange> {
    let by_key = |v: &Value| -> BTreeMap<String, Value> {
        v.as_array().map(|a| a.iter().map(|e| (key_of(e), e.clone())).collect()).unwrap_or_default()
    };
    let (o, n) = (by_key(old), by_key(new));
    pair_up(&o, &n)
        .into_iter()
        .map(|(key, change, a, b)| EntryChange {
            kind: kind.to_string(),
            key,
            change,
            fields: if change == ChangeKind::Changed { fields(a, b, "") } else { Vec::new() },
            entry: match change {
                ChangeKind::Added => b.clone(),
                ChangeKind::Removed => a.clone(),
                ChangeKind::Changed => Value::Null,
            },
        })
        .collect()
}

/// The fields that differ between two objects, descending into nested objects.
fn fields(old: &Value, new: &Value, prefix: &str) -> Vec<FieldChange> {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return if old == new {
            Vec::new()
        } else {
            vec![FieldChange { field: prefix.trim_end_matches('.').to_string(), old: old.clone(), new: new.clone() }]
        };
    };
    let mut names: Vec<&String> = o.keys().chain(n.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (o.get(name).unwrap_or(&Value::Null), n.get(name).unwrap_or(&Value::Null));
        if a == b {
            continue;
        }
        let path = format!("{prefix}{name}");
        if a.is_object() && b.is_object() {
            out.extend(fields(a, b, &format!("{path}.")));
        } else {
            out.push(FieldChange { field: path, old: a.clone(), new: b.clone() });
        }
    }
    out
}

/// A field change for people: `severity: "warn" -> "block"`, or for lists of plain values the
/// items added and removed: `flash_chips: +C86016 -204117`.
pub fn describe_field(c: &FieldChange) -> String {
    if let (Some(a), Some(b)) = (c.old.as_array(), c.new.as_array())
        && a.iter().chain(b).all(|v| !v.is_object() && !v.is_array())
    {
        let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        let mut parts: Vec<String> = b.iter().filter(|v| !a.contains(v)).map(|v| format!("+{}", text(v))).collect();
        parts.extend(a.iter().filter(|v| !b.contains(v)).map(|v| format!("-{}", text(v))));
        if parts.is_empty() {
            parts.push("order changed".into());
        }
        return format!("{}: {}", c.field, parts.join(" "));
    }
    let show = |v: &Value| if v.is_null() { "(none)".to_string() } else { v.to_string() };
    format!("{}: {} -> {}", c.field, show(&c.old), show(&c.new))
}

/// A rule test case whose outcome differs between two databases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseChange {
    /// The test file.
    pub file: String,
    /// The case's line.
    pub line: usize,
    /// The case's name.
    pub name: String,
    /// The verdict with the old database.
    pub old_verdict: String,
    /// Its rule ids.
    pub old_rules: Vec<String>,
    /// The verdict with the new database.
    pub new_verdict: String,
    /// Its rule ids.
    pub new_rules: Vec<String>,
}

impl CaseChange {
    /// Whether the verdict itself changed (not only the rule ids behind it).
    pub fn verdict_changed(&self) -> bool {
        self.old_verdict != self.new_verdict
    }
}

/// The cases whose verdict or rule ids differ between a run against an old database and one
/// against a new one (the same cases, in the same order).
pub fn case_changes(old: &[CaseOutcome], new: &[CaseOutcome]) -> Vec<CaseChange> {
    old.iter()
        .zip(new)
        .filter(|(o, n)| o.verdict != n.verdict || o.rules != n.rules)
        .map(|(o, n)| CaseChange {
            file: n.file.clone(),
            line: n.line,
            name: n.name.clone(),
            old_verdict: o.verdict.clone(),
            old_rules: o.rules.clone(),
            new_verdict: n.verdict.clone(),
            new_rules: n.rules.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_match_by_key_and_report_fields() {
        let old = json!([{ "id": "a", "to": "X", "allows": ["cross-baseline"] }, { "id": "b", "to": "Y" }]);
        let new =
            json!([{ "id": "a", "to": "Z", "allows": ["cross-baseline", "downgrade"] }, { "id": "c", "to": "Y" }]);
        let changes = list("step", &old, &new);
        let kinds: Vec<(&str, ChangeKind)> = changes.iter().map(|c| (c.key.as_str(), c.change)).collect();
        assert_eq!(kinds, [("a", ChangeKind::Changed), ("b", ChangeKind::Removed), ("c", ChangeKind::Added)]);
        let a = &changes[0];
        let text: Vec<String> = a.fields.iter().map(describe_field).collect();
        assert_eq!(text, ["allows: +downgrade", "to: \"X\" -> \"Z\""]);
    }

    #[test]
    fn a_new_field_of_the_model_shows_without_code() {
        let old = json!({ "family": { "id": "f", "source": "s" }, "product": [{ "code": "P" }] });
        let new = json!({ "family": { "id": "f", "source": "s", "stream": "20.2xx" }, "product": [{ "code": "P" }] });
        let entries = family_entries(&old, &new);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].kind, "family");
        assert_eq!(describe_field(&entries[0].fields[0]), "stream: (none) -> \"20.2xx\"");
    }

    #[test]
    fn entries_without_a_key_match_by_content() {
        let changes = list("x", &json!([{ "a": 1 }]), &json!([{ "a": 2 }]));
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.change).collect();
        assert_eq!(kinds.len(), 2);
        assert!(kinds.contains(&ChangeKind::Added) && kinds.contains(&ChangeKind::Removed));
    }
}
