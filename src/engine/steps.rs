//! Documented paths (`[[step]]`): which apply to a pair of builds, and what the engine says when
//! one is used: a note for the record, or a warning naming the path's hazard.

use std::cmp::Ordering;

use super::Ctx;
use super::order::order;
use crate::db::Database;
use crate::identity::Revision;
use crate::rules::model::{FamilyFile, Severity, Step};

/// The steps of `family` that cover installed `d` and image `i`: both patterns match and the
/// installed build is at or above the step's floor (an installed build whose place against the
/// floor cannot be told does not qualify: unknown means refused).
pub(crate) fn matching<'a>(db: &Database, family: &'a FamilyFile, d: &Revision, i: &Revision) -> Vec<&'a Step> {
    family
        .steps
        .iter()
        .filter(|s| {
            db.pattern(family, &s.from).is_some_and(|p| p.matches(d))
                && db.pattern(family, &s.to).is_some_and(|p| p.matches(i))
                && s.floor.as_deref().is_none_or(|f| {
                    Revision::parse(f).is_ok_and(|floor| {
                        floor.product() == d.product()
                            && matches!(
                                order(family, d, &floor, ("", "")).ord,
                                Some(Ordering::Greater | Ordering::Equal)
                            )
                    })
                })
        })
        .collect()
}

/// The first of `steps` that allows `rule`.
pub(crate) fn allowing<'a>(steps: &[&'a Step], rule: &str) -> Option<&'a Step> {
    steps.iter().copied().find(|s| s.allows.iter().any(|a| a == rule))
}

/// Reports a step that allowed something: info for the record, or a warning when the path
/// carries a hazard. Each step is reported once.
pub(crate) fn report(ctx: &mut Ctx<'_>, step: &Step, what: String, reported: &mut Vec<String>) {
    if reported.contains(&step.id) {
        return;
    }
    reported.push(step.id.clone());
    let note = step.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
    match &step.hazard {
        Some(h) => {
            let message = format!("{what} is a documented path (rule {}){note}; hazard: {h}", step.id);
            ctx.findings.push(super::Finding {
                rule: step.id.clone(),
                severity: Severity::Warn,
                message,
                source: step.source.clone(),
                hint: format!("go ahead only if the hazard does not apply here: {h}"),
            });
        }
        None => ctx.note(&step.id, format!("{what} is an allowed step{note}"), &step.source),
    }
}
