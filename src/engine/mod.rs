//! The verdict engine: (device, image, database) to a verdict with findings.
//!
//! Each check names both values, where its rule comes from, and what to do instead. Unknown
//! means refused: what cannot be identified blocks.

mod builds;
mod facts;
mod hardware;
mod report;
mod resolve;
mod rule_ids;

pub use facts::{DeviceFacts, ImageFacts};
pub use report::{DatabaseSummary, DeviceSummary, Finding, ImageSummary, Report, Verdict};
pub use rule_ids::{OVERRIDABLE_RULES, RULE_IDS};

use crate::db::Database;
use crate::rules::model::Severity;

/// Collects findings, taking severity and source from the policy.
pub(crate) struct Ctx<'a> {
    db: &'a Database,
    findings: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    /// Adds a finding of a policy rule, with the policy's severity and source.
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

/// Judges a module and an image against a database.
pub fn judge(device: &DeviceFacts, image: &ImageFacts, db: &Database) -> Report {
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
        builds::guards(&mut ctx, device, image, dev, img);
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
