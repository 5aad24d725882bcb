//! The engine's result: a verdict, its findings, and what was judged. Its JSON form is the
//! `check --json` contract.

use serde::Serialize;

use crate::rules::model::Severity;

/// allow, warn or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing stands in the way.
    Allow,
    /// Allowed, with warnings a person should read.
    Warn,
    /// Refused.
    Block,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Allow => "allow",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        })
    }
}

/// One finding: which rule, how severe, what it saw, where the rule comes from, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id (`cross-baseline`) or a rule entry's id from `rules/`.
    pub rule: String,
    /// block, warn or info.
    pub severity: Severity,
    /// What was seen, naming both values.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
    /// What to do instead.
    pub hint: String,
}

/// The module as judged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceSummary {
    /// The ATI model line.
    pub model: Option<String>,
    /// The revision read or given (taken out of raw AT text).
    pub revision: Option<String>,
    /// The product code the engine resolved.
    pub product: Option<String>,
    /// The flash ID, hex.
    pub flash_id: Option<String>,
    /// Where the flash ID came from: read from the module's boot loader, or given as an
    /// argument (`null` when it is unknown).
    pub flash_id_source: Option<FlashIdSource>,
}

/// Where a module's flash ID came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashIdSource {
    /// Read from the module's boot loader (its download mode's flash probe).
    Bootloader,
    /// Given by hand (`--flash-id`).
    Argument,
}

/// The image as judged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    /// The revision the image installs, or its name when it has none (QuecPython).
    pub revision: Option<String>,
    /// The product code it is built for.
    pub product: Option<String>,
    /// The package path, when a package was read.
    pub path: Option<String>,
}

/// The database the verdict was made with, and why it was trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseSummary {
    /// Its version.
    pub version: u32,
    /// SHA-256 of its content.
    pub sha256: String,
    /// `built-in`, or the file it was read from.
    pub origin: String,
    /// `built-in`, `signed` or `unsigned`.
    pub trust: crate::db::Trust,
    /// The key id that signed it.
    pub signer: Option<String>,
    /// Whether `--allow-unsigned` was given.
    pub allow_unsigned: bool,
    /// Why it is not trusted, when an unsigned database was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untrusted_because: Option<String>,
}

/// A verdict with everything behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// allow, warn or block.
    pub verdict: Verdict,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// The module.
    pub device: DeviceSummary,
    /// The image.
    pub image: ImageSummary,
    /// The database.
    pub database: DatabaseSummary,
}

impl Report {
    /// Records how the module's flash ID was obtained: its source, or (when it is unknown) why
    /// it was not read, which the `flash-id-unverified` finding then says.
    pub fn note_flash_id(&mut self, source: Option<FlashIdSource>, unread: Option<&str>) {
        if self.device.flash_id.is_some() {
            self.device.flash_id_source = source.or(self.device.flash_id_source);
            return;
        }
        self.device.flash_id_source = None;
        if let Some(why) = unread
            && let Some(f) = self.findings.iter_mut().find(|f| f.rule == "flash-id-unverified")
        {
            f.message = format!("{} ({why})", f.message);
        }
    }

    /// The verdict that follows from findings: block if any blocks, else warn if any warns.
    pub fn verdict_of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Block) => Verdict::Block,
            Some(Severity::Warn) => Verdict::Warn,
            _ => Verdict::Allow,
        }
    }
}
