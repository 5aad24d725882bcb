//! A rule entry of `rules/families/` described for a person (`fwguard explain <id>`): what kind
//! of entry it is, what it says, and its source.

use super::RuleSet;

/// One entry of a family file, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDescription {
    /// The entry's id.
    pub id: String,
    /// The display name of its family.
    pub family: String,
    /// What it says, in one or more lines.
    pub text: String,
    /// Its source.
    pub source: String,
}

fn note(n: &Option<String>) -> String {
    n.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
}

impl RuleSet {
    /// The family entry (shared image, step, known-bad build, anti-rollback or signed threshold,
    /// stream line) with this id, described.
    pub fn describe(&self, id: &str) -> Option<EntryDescription> {
        for f in &self.families {
            let family = f.family.name.clone();
            let found = |text: String, source: &str| EntryDescription {
                id: id.to_string(),
                family: family.clone(),
                text,
                source: source.to_string(),
            };
            if let Some(s) = f.shared_images.iter().find(|s| s.id == id) {
                return Some(found(format!("shared image: {} serves {}", s.image, s.serves.join(", ")), &s.source));
            }
            if let Some(s) = f.steps.iter().find(|s| s.id == id) {
                let mut text =
                    format!("allowed step: {} -> {} allows {}{}", s.from, s.to, s.allows.join(", "), note(&s.note));
                if let Some(floor) = &s.floor {
                    text.push_str(&format!("\nonly from {floor} or newer"));
                }
                if let Some(h) = &s.hazard {
                    text.push_str(&format!("\nhazard (the step warns instead of passing silently): {h}"));
                }
                return Some(found(text, &s.source));
            }
            if let Some(k) = f.known_bad.iter().find(|k| k.id == id) {
                let text = format!("known-bad: {}: {}\nWhat to do: {}", k.revisions.join(", "), k.reason, k.hint);
                return Some(found(text, &k.source));
            }
            if let Some(t) = f.anti_rollback.iter().find(|t| t.id == id) {
                let mut text = format!(
                    "anti-rollback from {}{}",
                    t.since,
                    t.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
                );
                if let Some(floor) = &t.floor {
                    text.push_str(&format!(
                        "\nbuilds back to {floor} are still accepted (a downgrade warns); older ones are refused"
                    ));
                }
                return Some(found(text, &t.source));
            }
            if let Some(t) = f.signed.iter().find(|t| t.id == id) {
                let text = format!(
                    "signed images from {}{}",
                    t.since,
                    t.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
                );
                return Some(found(text, &t.source));
            }
            if let Some(l) = f.streams.iter().find(|l| l.id == id) {
                let text = format!(
                    "stream line for {}: {} (oldest first; moving along it is an upgrade, back a downgrade){}",
                    l.products.join(", "),
                    l.order.join(" -> "),
                    note(&l.note)
                );
                return Some(found(text, &l.source));
            }
        }
        None
    }
}
