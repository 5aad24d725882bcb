//! The verdict engine: (device, image, database) to a verdict with findings.
//!
//! Each check names both values, where its rule comes from, and what to do instead. Unknown
//! means refused: what cannot be identified blocks.

mod builds;
mod cases;
mod facts;
mod guards;
mod hardware;
mod order;
mod report;
mod resolve;
mod steps;

pub use facts::{DeviceFacts, ImageFacts};
pub use report::{DatabaseSummary, DeviceSummary, Finding, FlashIdSource, ImageSummary, Report, Verdict};

use crate::db::Database;
use crate::rules::model::Severity;

pub use crate::rules::{OVERRIDABLE_RULES, RULE_IDS};

/// Collects findings, taking severity and source from the policy.
pub(crate) struct Ctx<'a> {
    db: &'a Database,
    findings: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    /// Adds a finding of a policy rule, with the policy's severity, source and hint: the one
    /// source of "what to do" for findings whose advice does not depend on the values seen.
    fn add_policy(&mut self, rule: &str, message: String) {
        let hint = self.policy_hint(rule);
        self.add(rule, message, hint);
    }

    /// The policy's "what to do" for a rule id.
    fn policy_hint(&self, rule: &str) -> String {
        self.db.policy(rule).map(|p| p.hint.clone()).unwrap_or_else(|| format!("see `fwguard explain {rule}`"))
    }

    /// Adds a finding of a policy rule, with the policy's severity and source and a hint that
    /// names the values seen (the policy's hint says the same in general terms).
    fn add(&mut self, rule: &str, message: String, hint: String) {
        let source = self.db.policy(rule).map(|p| p.source.clone()).unwrap_or_else(|| "fwguard verdict policy".into());
        self.add_sourced(rule, message, source, hint);
    }

    /// Adds a finding of a policy rule with a source from a rule entry.
    fn add_sourced(&mut self, rule: &str, message: String, source: String, hint: String) {
        let severity = self.db.policy(rule).map(|p| p.severity).unwrap_or(Severity::Block);
        self.findings.push(Finding { rule: rule.to_string(), severity, message, source, hint });
    }

    /// Adds an info finding naming a rule entry that allowed something.
    fn note(&mut self, id: &str, message: String, source: &str) {
        self.findings.push(Finding {
            rule: id.to_string(),
            severity: Severity::Info,
            message,
            source: source.to_string(),
            hint: String::new(),
        });
    }
}

/// What the person asking allows beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JudgeOptions {
    /// `--allow-protected`: a package that writes calibration, NV or IMEI areas is warned about
    /// instead of refused (`calibration-erase`). Only for a deliberate factory re-provisioning
    /// with this module's own calibration backed up.
    pub allow_protected: bool,
}

/// Judges a module and an image against a database, with the default options.
pub fn judge(device: &DeviceFacts, image: &ImageFacts, db: &Database) -> Report {
    judge_with(device, image, db, &JudgeOptions::default())
}

/// Judges a module and an image against a database.
pub fn judge_with(device: &DeviceFacts, image: &ImageFacts, db: &Database, options: &JudgeOptions) -> Report {
    let mut ctx = Ctx { db, findings: Vec::new() };
    if let Some((message, hint)) = db.outdated_finding() {
        ctx.add("database-outdated", message, hint);
    }
    let (device_summary, dev) = resolve::device(&mut ctx, device);
    let (image_summary, img) = resolve::image(&mut ctx, image);
    hardware::identity(&mut ctx, device, image, dev.as_ref());
    if let (Some(dev), Some(img)) = (&dev, &img) {
        let same_product = hardware::product(&mut ctx, dev, img);
        hardware::memory(&mut ctx, dev, img);
        let verified = hardware::flash(&mut ctx, device, image, dev, img);
        if dev.revision.is_none() {
            let proven = verified && same_product;
            let (severity_note, hint) = if proven {
                ("the flash ID and product prove the image's target", "none needed".to_string())
            } else {
                (
                    "nothing proves the image fits",
                    "read the flash ID from the module's bootloader, give it with --model/--revision/--flash-id, and use the image for the module's product".to_string(),
                )
            };
            let message = format!(
                "the module's revision {:?} is a non-standard stock string: its product {} comes from the ATI model line and its installed build is unknown; {severity_note}",
                dev.text, dev.product.code
            );
            ctx.add("installed-version-unknown", message, hint);
            if proven && let Some(f) = ctx.findings.last_mut() {
                f.severity = Severity::Info;
            }
        }
        if dev.family.family.id == img.family.family.id {
            builds::compare(&mut ctx, dev, img);
        }
        guards::check(&mut ctx, device, image, dev, img, options);
    }
    let mut findings = ctx.findings;
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Report {
        verdict: Report::verdict_of(&findings),
        findings,
        device: device_summary,
        image: image_summary,
        database: db.summary(),
    }
}
