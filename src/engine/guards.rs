//! Checks on what the package would do, whatever the builds: signatures, an abnormal installed
//! version, a delta's source, problems found reading the package, calibration and NV areas.

use super::facts::{DeviceFacts, ImageFacts};
use super::resolve::{DeviceSide, ImageSide};
use super::{Ctx, JudgeOptions, order};
use crate::identity::{ImageKind, Revision};
use crate::rules::model::Severity;

/// `secure-boot`, `abnormal-installed-version`, `delta-source-mismatch`, `package-problem`,
/// `calibration-erase`, and `identity-conflict` for a name that carries two builds.
pub(crate) fn check(
    ctx: &mut Ctx<'_>,
    facts: &DeviceFacts,
    image: &ImageFacts,
    dev: &DeviceSide<'_>,
    img: &ImageSide<'_>,
    options: &JudgeOptions,
) {
    secure_boot(ctx, facts, image, dev, img);
    let d = dev.revision.as_ref();
    if let Some(v) = d.and_then(Revision::app_version).filter(|v| v.is_abnormal()) {
        ctx.add_policy(
            "abnormal-installed-version",
            format!("the module's app version reads {v}: the AP part is missing (ModemManager's abnormal marker)"),
        );
    }
    if let ImageKind::Delta { source, .. } = &img.name.kind {
        delta(ctx, dev, source);
    }
    if let Some(conflict) = &img.name.conflict {
        ctx.add(
            "identity-conflict",
            format!("{conflict} ({})", img.name.raw),
            "name the package by the one build it holds; a path that names two builds mixes two packages".into(),
        );
    }
    if !image.problems.is_empty() {
        ctx.add_policy("package-problem", format!("reading the package found: {}", image.problems.join("; ")));
    }
    let mut erases = image.erases.clone();
    if let Some(f) = &img.name.factory {
        erases.push(format!("{f} is a factory layout or erase-all recipe, which writes the calibration and NV areas"));
    }
    if !erases.is_empty() {
        calibration(ctx, &erases, options);
    }
}

fn calibration(ctx: &mut Ctx<'_>, erases: &[String], options: &JudgeOptions) {
    let allowed = if options.allow_protected {
        "; allowed by --allow-protected: keep a backup of this module's own calibration first"
    } else {
        ""
    };
    ctx.add(
        "calibration-erase",
        format!("the package erases or overwrites protected data: {}{allowed}", erases.join("; ")),
        "use the package's update layout, not the factory one or an erase-all; if the protected areas must be written, back up this module's calibration (QCN/NV) first and give --allow-protected".into(),
    );
    if options.allow_protected
        && let Some(f) = ctx.findings.last_mut()
        && f.severity == Severity::Block
    {
        f.severity = Severity::Warn;
    }
}

fn secure_boot(ctx: &mut Ctx<'_>, facts: &DeviceFacts, image: &ImageFacts, dev: &DeviceSide<'_>, img: &ImageSide<'_>) {
    let db = ctx.db;
    let parse = |s: &str| db.threshold(dev.family, s).cloned();
    let d = dev.revision.as_ref();
    let threshold = d.and_then(|d| order::threshold_reached(dev.family, &dev.family.signed, d, parse));
    let threshold = threshold.filter(|(_, r)| *r == order::Reach::Yes).map(|(t, _)| t);
    let enforced = facts.secure_boot.unwrap_or(threshold.is_some());
    let image_signed = image.signed == Some(true)
        || img.name.revision().is_some_and(|r| {
            order::threshold_reached(img.family, &img.family.signed, r, parse)
                .is_some_and(|(_, r)| r == order::Reach::Yes)
        });
    if enforced && !image_signed {
        let why = match (facts.secure_boot, threshold) {
            (Some(true), _) => "the module reports secure boot enabled".to_string(),
            (_, Some(t)) => format!("builds from {} on enforce signed images", t.since),
            _ => "the module enforces signed images".to_string(),
        };
        let source = threshold.map(|t| t.source.clone());
        let message = format!("{why}, and the image {} is not known to be signed", img.name.label());
        let hint = "use an official signed build for this module from Quectel".to_string();
        match source {
            Some(s) => ctx.add_sourced("secure-boot", message, s, hint),
            None => ctx.add("secure-boot", message, hint),
        }
    }
}

/// A delta applies only to the exact build it was made from: every field both the delta's
/// source and the installed build carry must agree, and a field the delta names that the
/// module's revision lacks cannot be confirmed.
fn delta(ctx: &mut Ctx<'_>, dev: &DeviceSide<'_>, source: &Revision) {
    let Some(d) = dev.revision.as_ref() else {
        ctx.add(
            "delta-source-mismatch",
            format!("the delta applies to {source}; the module's installed build is unknown ({})", dev.text),
            format!("read the full version with AT+QGMR; only a module at {source} takes this delta"),
        );
        return;
    };
    let mut differences = Vec::new();
    if d.product() != source.product() {
        differences.push(format!("product {} vs {}", source.product(), d.product()));
    }
    if (d.baseline(), d.minor()) != (source.baseline(), source.minor()) {
        differences.push(format!(
            "release R{:02}A{:02} vs R{:02}A{:02}",
            source.baseline(),
            source.minor(),
            d.baseline(),
            d.minor()
        ));
    }
    match (source.infix(), d.infix()) {
        (Some(a), Some(b)) if a != b => differences.push(format!("infix V{a:02} vs V{b:02}")),
        (Some(a), None) => differences.push(format!("infix V{a:02} vs none (the module's revision {d} names none)")),
        (None, Some(b)) => differences.push(format!("no infix vs V{b:02} (the delta's source names none)")),
        _ => {}
    }
    if let (Some(a), Some(b)) = (source.memory(), d.memory())
        && a != b
    {
        differences.push(format!("memory code {a} vs {b}"));
    }
    match (source.app_version(), d.app_version()) {
        (Some(a), Some(b)) if !a.same_as(b) => differences.push(format!("app version {a} vs {b}")),
        (Some(a), None) => differences.push(format!(
            "app version {a} vs none read (the module's revision {d} names no app version, so the source cannot be confirmed)"
        )),
        _ => {}
    }
    if !differences.is_empty() {
        ctx.add(
            "delta-source-mismatch",
            format!("the delta applies to {source}; the module runs {}: {}", dev.text, differences.join(", ")),
            format!("use a delta whose source is {}, or a full package", dev.text),
        );
    }
}
