//! Checks that compare the installed build with the image's: baseline, app stream, build tags,
//! order (reinstall, downgrade, anti-rollback), flavour and test builds, known-bad builds.

use std::cmp::Ordering;

use super::Ctx;
use super::order::{Order, Reach, line_for, order, threshold_reached};
use super::resolve::{DeviceSide, ImageSide};
use super::steps;
use crate::identity::{Flavour, Revision};
use crate::rules::model::{FamilyFile, Step};

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

/// What the comparison found that later checks depend on.
struct Blocked {
    baseline: bool,
    stream: bool,
}

/// Baseline, stream, tags, order, flavour, test builds and known-bad.
pub(crate) fn compare(ctx: &mut Ctx<'_>, dev: &DeviceSide<'_>, img: &ImageSide<'_>) {
    let Some(d) = &dev.revision else { return };
    let fam = dev.family;
    let Some(i) = img.name.revision() else {
        // A QuecPython image names no revision: only its flavour and release kind compare.
        if d.flavour() != img.name.flavour() {
            flavour_switch(ctx, d, img.name.flavour());
        }
        test_switch(ctx, d, img.name.is_test_build(), &img.name.label());
        return;
    };
    let db = ctx.db;
    let matching = steps::matching(db, fam, d, i);
    let mut reported = Vec::new();
    let blocked = Blocked {
        baseline: baseline(ctx, d, i, &matching, &mut reported),
        stream: stream(ctx, fam, d, i, &matching, &mut reported),
    };
    tags(ctx, d, i, &matching, &mut reported);
    let o = order(fam, i, d, ("the image", "the module"));
    judge_order(ctx, fam, d, i, &o, &blocked, &matching, &mut reported);
    if d.flavour() != i.flavour() {
        match steps::allowing(&matching, "flavour-switch") {
            Some(s) => steps::report(ctx, s, format!("{} to {} firmware", d.flavour(), i.flavour()), &mut reported),
            None => flavour_switch(ctx, d, i.flavour()),
        }
    }
    test_switch(ctx, d, i.is_beta(), &i.to_string());
    for kb in &img.family.known_bad {
        if kb.revisions.iter().any(|p| db.pattern(img.family, p).is_some_and(|p| p.matches(i))) {
            ctx.add_sourced(
                "known-bad",
                format!("{i} is a known-bad build: {} (rule {})", kb.reason, kb.id),
                kb.source.clone(),
                kb.hint.clone(),
            );
        }
    }
}

/// `cross-baseline`; returns whether it blocked.
fn baseline(ctx: &mut Ctx<'_>, d: &Revision, i: &Revision, steps: &[&Step], reported: &mut Vec<String>) -> bool {
    if d.baseline() == i.baseline() {
        return false;
    }
    let what = format!("baseline {} ({d}) to {} ({i})", d.baseline_label(), i.baseline_label());
    match steps::allowing(steps, "cross-baseline") {
        Some(s) => {
            steps::report(ctx, s, what, reported);
            false
        }
        None => {
            ctx.add(
                "cross-baseline",
                format!(
                    "module runs baseline {} ({d}); image is baseline {} ({i})",
                    d.baseline_label(),
                    i.baseline_label()
                ),
                stream_hint(d),
            );
            true
        }
    }
}

/// `app-stream-change`; returns whether it blocked. A declared stream line or a step makes a
/// change of stream a documented one; a side with no app version is said, not assumed.
fn stream(
    ctx: &mut Ctx<'_>,
    fam: &FamilyFile,
    d: &Revision,
    i: &Revision,
    steps: &[&Step],
    reported: &mut Vec<String>,
) -> bool {
    match (d.stream(), i.stream()) {
        (Some(ds), Some(is)) if ds != is => {
            if line_for(fam, i.product(), &ds, &is).is_some() {
                return false;
            }
            match steps::allowing(steps, "app-stream-change") {
                Some(s) => {
                    steps::report(ctx, s, format!("app stream {ds} ({d}) to {is} ({i})"), reported);
                    false
                }
                None => {
                    ctx.add(
                        "app-stream-change",
                        format!("module's app version stream is {ds} ({d}); image's is {is} ({i})"),
                        format!("use an image of the {ds} stream, like {}", like(d)),
                    );
                    true
                }
            }
        }
        (Some(ds), None) if d.baseline() == i.baseline() => {
            info(
                ctx,
                "app-stream-change",
                format!(
                    "the image {i} names no app version, so its stream could not be compared with the module's {ds} ({d})"
                ),
                format!("check that the package is of the {ds} stream before flashing"),
            );
            false
        }
        (None, Some(is)) if d.baseline() == i.baseline() => {
            info(
                ctx,
                "app-stream-change",
                format!(
                    "the module's revision {d} names no app version, so its stream could not be compared with the image's {is} ({i})"
                ),
                "read the full version with AT+QGMR to compare streams".into(),
            );
            false
        }
        _ => false,
    }
}

/// `build-tag-change`: customer, carrier and OEM codes are part of a build's identity.
fn tags(ctx: &mut Ctx<'_>, d: &Revision, i: &Revision, steps: &[&Step], reported: &mut Vec<String>) {
    let (mut dt, mut it) = (d.identity_tags(), i.identity_tags());
    dt.sort_unstable();
    it.sort_unstable();
    if dt == it {
        return;
    }
    let name = |t: &[&str]| if t.is_empty() { "untagged".to_string() } else { format!("tagged {}", t.join("_")) };
    let what = format!("the {} build {d} to the {} build {i}", name(&dt), name(&it));
    match steps::allowing(steps, "build-tag-change") {
        Some(s) => steps::report(ctx, s, what, reported),
        None => ctx.add(
            "build-tag-change",
            format!(
                "the module runs a {} build ({d}); the image is a {} build ({i}): customer, carrier and OEM builds are different firmware",
                name(&dt),
                name(&it)
            ),
            format!("use a build with the module's own tags ({}), or the path the vendor documents for this change", name(&dt)),
        ),
    }
}

/// Reinstall, downgrade, anti-rollback and open order, from the comparison `o` of image and module.
#[allow(clippy::too_many_arguments)]
fn judge_order(
    ctx: &mut Ctx<'_>,
    fam: &FamilyFile,
    d: &Revision,
    i: &Revision,
    o: &Order,
    blocked: &Blocked,
    steps: &[&Step],
    reported: &mut Vec<String>,
) {
    let same_tags = d.identity_tags() == i.identity_tags();
    if o.ord == Some(Ordering::Equal) {
        if d.base() == i.base() && same_tags && d.flavour() == i.flavour() && d.is_beta() == i.is_beta() {
            ctx.add_policy("reinstall", format!("the image is the installed build {i}"));
        }
        return;
    }
    if o.ord == Some(Ordering::Greater) {
        return;
    }
    // Older, or maybe older: does the module refuse it?
    if let Some((why, floor, source)) = rollback(ctx, fam, d) {
        let below_floor = floor.as_ref().map(|f| order(fam, i, f, ("the image", "the floor")).ord);
        match below_floor {
            Some(Some(Ordering::Greater | Ordering::Equal)) if o.ord.is_some() => {
                let floor = floor.map(|f| f.to_string()).unwrap_or_default();
                downgrade(
                    ctx,
                    d,
                    i,
                    o,
                    blocked,
                    steps,
                    reported,
                    &format!("; the module still accepts builds back to {floor}"),
                );
            }
            _ => {
                let older = if o.ord.is_some() { "older than" } else { "possibly older than (it cannot be told)" };
                let floor_note = floor.map(|f| format!(" below {f}")).unwrap_or_default();
                ctx.add_sourced(
                    "anti-rollback",
                    format!("the image {i} is {older} the installed {d}{}, and the module refuses older builds{floor_note} {why}", o.caveat()),
                    source,
                    format!("use {d} or newer"),
                );
            }
        }
        return;
    }
    match o.ord {
        Some(_) => downgrade(ctx, d, i, o, blocked, steps, reported, ""),
        None => ctx.add(
            "build-order-unknown",
            format!(
                "the image {i} and the installed {d} agree on every field both carry, and {}: whether the image is older cannot be told",
                o.one_sided.join("; ")
            ),
            "name the image by its full version (with the app version, as AT+QGMR prints it) to compare the two".into(),
        ),
    }
}

/// `downgrade` (warn), unless a refusal already covers it or a step documents it.
#[allow(clippy::too_many_arguments)]
fn downgrade(
    ctx: &mut Ctx<'_>,
    d: &Revision,
    i: &Revision,
    o: &Order,
    blocked: &Blocked,
    steps: &[&Step],
    reported: &mut Vec<String>,
    extra: &str,
) {
    if blocked.baseline || blocked.stream {
        return; // refused already, and the refusal names both builds
    }
    let by = o.by.as_deref().map(|b| format!(" (by its {b})")).unwrap_or_default();
    match steps::allowing(steps, "downgrade") {
        Some(s) => steps::report(ctx, s, format!("the downgrade from {d} to {i}"), reported),
        None => ctx
            .add_policy("downgrade", format!("the image {i} is older than the installed {d}{by}{}{extra}", o.caveat())),
    }
}

/// Whether the module refuses older builds: the family flag, or a threshold the installed build
/// reaches. Returns why, the floor (the oldest build still accepted) and the source.
fn rollback(ctx: &Ctx<'_>, fam: &FamilyFile, d: &Revision) -> Option<(String, Option<Revision>, String)> {
    if fam.family.anti_rollback {
        return Some(("in this family".into(), None, fam.family.source.clone()));
    }
    let db = ctx.db;
    let (t, reach) = threshold_reached(fam, &fam.anti_rollback, d, |s| db.threshold(fam, s).cloned())?;
    let how = match reach {
        Reach::Yes => "from",
        _ => "possibly (the installed build cannot be placed against it) from",
    };
    let why = format!("{how} {} on ({})", t.since, t.note.clone().unwrap_or_default());
    let floor = t.floor.as_deref().and_then(|f| Revision::parse(f).ok());
    Some((why, floor, t.source.clone()))
}

fn info(ctx: &mut Ctx<'_>, rule: &str, message: String, hint: String) {
    ctx.add(rule, message, hint);
    if let Some(f) = ctx.findings.last_mut() {
        f.severity = crate::rules::model::Severity::Info;
    }
}

fn flavour_switch(ctx: &mut Ctx<'_>, d: &Revision, to: Flavour) {
    ctx.add(
        "flavour-switch",
        format!("the module runs {} firmware ({d}); the image is {to} firmware", d.flavour()),
        format!("switch flavour only on purpose: applications written for {} firmware stop working", d.flavour()),
    );
}

/// `flavour-switch` between a release and a test build (`BETA`, `TP`).
fn test_switch(ctx: &mut Ctx<'_>, d: &Revision, image_is_test: bool, label: &str) {
    if d.is_beta() == image_is_test {
        return;
    }
    let (from, to) = if image_is_test { ("a release", "a test build") } else { ("a test build", "a release") };
    ctx.add(
        "flavour-switch",
        format!("the module runs {from} ({d}); the image {label} is {to}"),
        "move between test and release builds only on purpose, with the vendor's release notes for both".into(),
    );
}
