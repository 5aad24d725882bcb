//! Checks that compare the installed build with the image's: baseline, app stream, order,
//! flavour, known-bad builds, signatures, deltas.

use std::cmp::Ordering;

use super::Ctx;
use super::facts::{DeviceFacts, ImageFacts};
use super::resolve::{DeviceSide, ImageSide};
use crate::db::Database;
use crate::identity::{Flavour, ImageKind, Revision};
use crate::rules::model::{FamilyFile, Step, Threshold};

/// The explicit step that allows `rule` for this pair, if any.
fn step_allowing<'a>(
    db: &Database,
    family: &'a FamilyFile,
    dev: &Revision,
    img: &Revision,
    rule: &str,
) -> Option<&'a Step> {
    family.steps.iter().find(|s| {
        s.allows.iter().any(|a| a == rule)
            && db.pattern(&s.from).is_some_and(|p| p.matches(dev))
            && db.pattern(&s.to).is_some_and(|p| p.matches(img))
    })
}

/// The first threshold of `r`'s product that `r` is at or above.
fn at_or_above<'a>(db: &Database, thresholds: &'a [Threshold], r: &Revision) -> Option<&'a Threshold> {
    thresholds.iter().find(|t| {
        db.threshold(&t.since).is_some_and(|s| s.product() == r.product() && r.build_cmp(s) != Ordering::Less)
    })
}

/// The builds an installed one may step to, as Quectel support writes it: `EC25EFAR06AxxM4G_20.2xx.20.2xx`.
fn like(r: &Revision) -> String {
    let memory = r.memory().map(|m| m.to_string()).unwrap_or_default();
    let app = r.app_version().map(|v| {
        let fields: Vec<String> = v
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| if i % 2 == 1 && f.len() >= 3 { format!("{}xx", &f[..1]) } else { f.clone() })
            .collect();
        format!("_{}", fields.join("."))
    });
    format!("{}{}Axx{memory}{}", r.product(), r.baseline_label(), app.unwrap_or_default())
}

fn stream_hint(r: &Revision) -> String {
    match r.stream() {
        Some(s) => format!("use an {} image of the {s} stream, like {}", r.baseline_label(), like(r)),
        None => format!("use an {} image", r.baseline_label()),
    }
}

/// Baseline, stream, order, anti-rollback, reinstall, flavour and known-bad.
pub(crate) fn compare(ctx: &mut Ctx<'_>, dev: &DeviceSide<'_>, img: &ImageSide<'_>) {
    let Some(d) = &dev.revision else { return };
    let fam = dev.family;
    if let Some(i) = img.name.revision() {
        let db = ctx.db;
        let allowed = |rule: &str| step_allowing(db, fam, d, i, rule);
        if d.baseline() != i.baseline() {
            match allowed("cross-baseline") {
                Some(s) => ctx.note(
                    &s.id,
                    format!(
                        "baseline {} to {} is an allowed step: {}",
                        d.baseline_label(),
                        i.baseline_label(),
                        s.note.clone().unwrap_or_default()
                    ),
                    &s.source,
                ),
                None => ctx.add(
                    "cross-baseline",
                    format!(
                        "module runs baseline {} ({d}); image is baseline {} ({i})",
                        d.baseline_label(),
                        i.baseline_label()
                    ),
                    stream_hint(d),
                ),
            }
        }
        if let (Some(ds), Some(is)) = (d.stream(), i.stream())
            && ds != is
            && allowed("app-stream-change").is_none()
        {
            ctx.add(
                "app-stream-change",
                format!("module's app version stream is {ds} ({d}); image's is {is} ({i})"),
                format!("use an image of the {ds} stream, like {}", like(d)),
            );
        }
        let order = i.build_cmp(d);
        let same_app = d.app_version().zip(i.app_version()).is_none_or(|(a, b)| a == b);
        if d.product() == i.product() && d.base() == i.base() && same_app {
            ctx.add_policy("reinstall", format!("the image is the installed build {i}"));
        } else if order == Ordering::Less {
            let rollback =
                if fam.family.anti_rollback { Some(None) } else { at_or_above(db, &fam.anti_rollback, d).map(Some) };
            match rollback {
                Some(t) => {
                    let (why, source) = match t {
                        Some(t) => {
                            (format!("from {} on ({})", t.since, t.note.clone().unwrap_or_default()), t.source.clone())
                        }
                        None => ("in this family".to_string(), fam.family.source.clone()),
                    };
                    ctx.add_sourced(
                        "anti-rollback",
                        format!(
                            "the image {i} is older than the installed {d}, and the module refuses older builds {why}"
                        ),
                        source,
                        format!("use {d} or newer"),
                    );
                }
                None if d.baseline() == i.baseline() && d.stream() == i.stream() && allowed("downgrade").is_none() => {
                    ctx.add_policy("downgrade", format!("the image {i} is older than the installed {d}"))
                }
                None => {}
            }
        }
        if d.flavour() != i.flavour() && allowed("flavour-switch").is_none() {
            flavour_switch(ctx, d, i.flavour());
        }
        for kb in &img.family.known_bad {
            if kb.revisions.iter().any(|p| db.pattern(p).is_some_and(|p| p.matches(i))) {
                ctx.add_sourced(
                    "known-bad",
                    format!("{i} is a known-bad build: {} (rule {})", kb.reason, kb.id),
                    kb.source.clone(),
                    kb.hint.clone(),
                );
            }
        }
    } else if d.flavour() != img.name.flavour() {
        flavour_switch(ctx, d, img.name.flavour());
    }
}

fn flavour_switch(ctx: &mut Ctx<'_>, d: &Revision, to: Flavour) {
    ctx.add(
        "flavour-switch",
        format!("the module runs {} firmware ({d}); the image is {to} firmware", d.flavour()),
        format!("switch flavour only on purpose: applications written for {} firmware stop working", d.flavour()),
    );
}

/// `secure-boot`, `abnormal-installed-version`, `delta-source-mismatch`, `calibration-erase`.
pub(crate) fn guards(
    ctx: &mut Ctx<'_>,
    facts: &DeviceFacts,
    image: &ImageFacts,
    dev: &DeviceSide<'_>,
    img: &ImageSide<'_>,
) {
    let d = dev.revision.as_ref();
    let threshold = d.and_then(|d| at_or_above(ctx.db, &dev.family.signed, d));
    let enforced = facts.secure_boot.unwrap_or(threshold.is_some());
    let image_signed = image.signed == Some(true)
        || img.name.revision().is_some_and(|r| at_or_above(ctx.db, &img.family.signed, r).is_some());
    if enforced && !image_signed {
        let why = match (facts.secure_boot, threshold) {
            (Some(true), _) => "the module reports secure boot enabled".to_string(),
            (_, Some(t)) => format!("builds from {} on enforce signed images", t.since),
            _ => "the module enforces signed images".to_string(),
        };
        let source = threshold.map(|t| t.source.clone());
        let message = format!("{why}, and the image {} is not known to be signed", img.name.label());
        match source {
            Some(s) => {
                let hint = ctx.policy_hint("secure-boot");
                ctx.add_sourced("secure-boot", message, s, hint);
            }
            None => ctx.add_policy("secure-boot", message),
        }
    }
    if let Some(v) = d.and_then(Revision::app_version).filter(|v| v.is_abnormal()) {
        ctx.add_policy(
            "abnormal-installed-version",
            format!("the module's app version reads {v}: the AP part is missing (ModemManager's abnormal marker)"),
        );
    }
    if let ImageKind::Delta { source, .. } = &img.name.kind {
        let matches = d.is_some_and(|d| {
            d.product() == source.product()
                && d.baseline() == source.baseline()
                && d.minor() == source.minor()
                && (d.infix().is_none() || source.infix().is_none() || d.infix() == source.infix())
        });
        if !matches {
            ctx.add(
                "delta-source-mismatch",
                format!("the delta applies to {source}; the module runs {}", dev.text),
                format!("use a delta whose source is {}, or a full package", dev.text),
            );
        }
    }
    if !image.problems.is_empty() {
        ctx.add_policy("package-problem", format!("reading the package found: {}", image.problems.join("; ")));
    }
    if !image.erases.is_empty() {
        ctx.add_policy(
            "calibration-erase",
            format!("the package erases or overwrites protected data: {}", image.erases.join("; ")),
        );
    }
}
