//! The TOML rule format: what support staff write in `rules/`, and what a compiled database holds.
//!
//! Every type rejects unknown keys, and every entry that states a fact carries a `source`.

use std::cell::Cell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

thread_local! {
    /// Set while [`with_every_field`] runs.
    static EVERY_FIELD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every field serialised, the empty ones too. The rule files and the canonical
/// JSON leave empty fields out; the compact form the built-in database is compiled to (postcard,
/// see `build/database.rs`) names no fields, so a reader can only find them all in order.
pub fn with_every_field<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            EVERY_FIELD.set(false);
        }
    }
    EVERY_FIELD.set(true);
    let _reset = Reset;
    f()
}

fn omit_none<T>(v: &Option<T>) -> bool {
    v.is_none() && !EVERY_FIELD.get()
}

fn omit_empty<T>(v: &[T]) -> bool {
    v.is_empty() && !EVERY_FIELD.get()
}

fn omit_empty_map<K, V>(v: &BTreeMap<K, V>) -> bool {
    v.is_empty() && !EVERY_FIELD.get()
}

/// `rules/database.toml`: the database's own identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// The database header.
    pub database: DatabaseHeader,
}

/// The database version support staff raise with each published change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseHeader {
    /// An integer, raised by hand with every published change.
    pub version: u32,
    /// A human name for the rule set.
    pub name: String,
    /// The fwguard versions that can use this database, a semver requirement (`>=0.2.0`); a
    /// fwguard outside it refuses the database rather than misread rules it does not know.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub requires_fwguard: Option<String>,
}

/// The severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record only.
    Info,
    /// Allowed, but a person should look.
    Warn,
    /// Refused.
    Block,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Block => "block",
        })
    }
}

/// `rules/policy.toml`: one entry per rule id of the verdict policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The rule ids.
    #[serde(rename = "rule")]
    pub rules: Vec<PolicyRule>,
}

/// What a rule id means, where it comes from and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// The rule id, e.g. `cross-baseline`.
    pub id: String,
    /// Its default severity.
    pub severity: Severity,
    /// One line: when it fires.
    pub summary: String,
    /// Where the rule comes from.
    pub source: String,
    /// What to do instead, in general terms (findings give a specific hint).
    pub hint: String,
    /// The longer explanation `fwguard explain` prints.
    pub explain: String,
}

/// `rules/flash-chips.toml`: flash chips by JEDEC ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipsFile {
    /// The chips.
    #[serde(rename = "chip")]
    pub chips: Vec<Chip>,
}

/// One flash chip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chip {
    /// JEDEC ID as upper-case hex without separators: `204117`, `98AC9026`.
    pub jedec: String,
    /// Vendor and part, e.g. `XMC XM25QU64C`.
    pub name: String,
    /// `nor` or `nand`.
    pub kind: String,
    /// Size in MiB.
    pub size_mib: u32,
    /// NAND geometry, `p4K_b256K`, where known.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub nand: Option<String>,
    /// Where the ID comes from.
    pub source: String,
}

/// `rules/usb.toml`: USB ids of Quectel modules in normal and download modes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbFile {
    /// The ids.
    #[serde(rename = "usb", default)]
    pub ids: Vec<UsbId>,
}

/// One USB id and what its interfaces carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbId {
    /// Vendor id, 4 hex digits.
    pub vid: String,
    /// Product id, 4 hex digits.
    pub pid: String,
    /// `at` (normal mode) or a download mode: `edl`, `arom`, `unisoc`, `wtptp`, `fastboot`, `dump`.
    pub mode: String,
    /// `qualcomm`, `asr`, `unisoc`, `eigencomm`, `mediatek`.
    pub platform: String,
    /// The modules seen with this id.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Interface roles in normal mode: interface number to `at`, `diag`, `nmea`, `modem`, `net`.
    #[serde(default, skip_serializing_if = "omit_empty_map")]
    pub interfaces: BTreeMap<String, String>,
    /// Where the id comes from.
    pub source: String,
}

/// `rules/families/<family>.toml`: one module family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyFile {
    /// The family itself.
    pub family: Family,
    /// Its product codes.
    #[serde(rename = "product", default)]
    pub products: Vec<Product>,
    /// Images built for one product code that serve others.
    #[serde(rename = "shared_image", default, skip_serializing_if = "omit_empty")]
    pub shared_images: Vec<SharedImage>,
    /// Steps the defaults refuse but a documented path allows.
    #[serde(rename = "step", default, skip_serializing_if = "omit_empty")]
    pub steps: Vec<Step>,
    /// Builds that are known to harm modules.
    #[serde(rename = "known_bad", default, skip_serializing_if = "omit_empty")]
    pub known_bad: Vec<KnownBad>,
    /// Builds from which the module refuses older builds.
    #[serde(rename = "anti_rollback", default, skip_serializing_if = "omit_empty")]
    pub anti_rollback: Vec<Threshold>,
    /// Builds from which images are signed and the module enforces signatures.
    #[serde(rename = "signed", default, skip_serializing_if = "omit_empty")]
    pub signed: Vec<Threshold>,
    /// App-version streams that form one upgrade line, so moving between them is an upgrade or a
    /// downgrade rather than an `app-stream-change`.
    #[serde(rename = "stream", default, skip_serializing_if = "omit_empty")]
    pub streams: Vec<StreamLine>,
}

/// A module family: one model (or a few that share firmware) on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// Lower-case id, e.g. `ec25`.
    pub id: String,
    /// Display name, e.g. `EC25`.
    pub name: String,
    /// `qualcomm`, `asr`, `unisoc` or `eigencomm`.
    pub platform: String,
    /// The chipset, e.g. `MDM9607`, `ASR1603`, `UIS8910DM`.
    pub chipset: String,
    /// The model names this family answers to: the model prefix of its product codes and the
    /// ATI model lines (`EC25`, `BG95-M3`, `EC800MCN_LA`), matched longest first.
    pub models: Vec<String>,
    /// Whether every product refuses builds older than the installed one.
    #[serde(default)]
    pub anti_rollback: bool,
    /// Whether some variants differ only in their flash chip, so only the flash ID tells them apart.
    #[serde(default)]
    pub flash_id_distinguishes: bool,
    /// Where the family's facts come from.
    pub source: String,
}

/// One product code: model, region variant and feature code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The product code as it starts a revision: `EC25EFA`.
    pub code: String,
    /// The region variant: `E`, `EU`, `CN`, ...
    pub variant: String,
    /// The feature code: `FA`, `GA`, `LA`, ...
    pub feature: String,
    /// The memory code its builds carry (`M4G`, `M08`); absent for BG95-style strings.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub memory: Option<String>,
    /// NAND geometry, `p4K_b256K`, where known.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub nand: Option<String>,
    /// JEDEC IDs (upper-case hex) of the flash chips its images accept, where known.
    #[serde(default, skip_serializing_if = "omit_empty")]
    pub flash_chips: Vec<String>,
    /// Where `flash_chips` comes from: `vendor` (the vendor's own flash table for this product),
    /// `third-party` (a table in someone else's SDK or tool) or `teardown` (chips seen on a few
    /// modules). Required with `flash_chips`; a list that is not `vendor` may be incomplete.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub chip_list: Option<String>,
    /// Where the product's facts come from.
    pub source: String,
}

/// An image named for one product code that is the right image for others too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedImage {
    /// Rule id.
    pub id: String,
    /// The product code the image names (`EC800MCNLE` for `QPY_OCPU_..._EC800M_CNLE_FW`).
    pub image: String,
    /// The product codes it serves.
    pub serves: Vec<String>,
    /// Restrict to a flavour: `standard`, `opencpu` or `quecpython`.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub flavour: Option<String>,
    /// Where the rule comes from.
    pub source: String,
}

/// A step the default policy refuses but a documented path allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Rule id.
    pub id: String,
    /// Revision pattern of the installed build, e.g. `EC200TCNHAR02Axx`.
    pub from: String,
    /// Revision pattern of the image, e.g. `EC200TCNHAR03Axx`.
    pub to: String,
    /// The default rule ids this step overrides: `cross-baseline`, `app-stream-change`,
    /// `downgrade`, `flavour-switch`, `memory-mismatch`.
    pub allows: Vec<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub note: Option<String>,
    /// The oldest installed build (a full revision of the `from` product) the path starts from;
    /// older builds must first move up to it.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub floor: Option<String>,
    /// What can still go wrong on this documented path. A step with a hazard allows what it
    /// allows but warns, naming the hazard, instead of passing silently.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub hazard: Option<String>,
    /// Where the rule comes from.
    pub source: String,
}

/// App-version streams of some products that form one upgrade line, oldest first.
///
/// The default policy treats a change of stream (`10.0xx` to `20.0xx`) as `app-stream-change`;
/// where a vendor publishes the streams as successive releases (LVFS's EM120R-GL `10.010`,
/// `16.016`, `20.020`, `25.025`), the line says so and orders them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamLine {
    /// Rule id.
    pub id: String,
    /// The product codes whose builds follow the line.
    pub products: Vec<String>,
    /// The streams (`10.0xx`, first field and hundreds digit of the app version), oldest first.
    pub order: Vec<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub note: Option<String>,
    /// Where the rule comes from.
    pub source: String,
}

/// A build that rules list as harmful.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownBad {
    /// Rule id.
    pub id: String,
    /// Revision patterns of the harmful builds.
    pub revisions: Vec<String>,
    /// What goes wrong.
    pub reason: String,
    /// What to do instead.
    pub hint: String,
    /// Where the rule comes from.
    pub source: String,
}

/// A build from which a property holds for the same product: anti-rollback or signed images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Rule id.
    pub id: String,
    /// The first build (a full revision) from which it holds.
    pub since: String,
    /// For anti-rollback: the oldest build a module at or above `since` still accepts. Without
    /// it, every older build is refused.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub floor: Option<String>,
    /// What happens.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub note: Option<String>,
    /// Where the rule comes from.
    pub source: String,
}

/// `rules/tests/*.toml`: test cases for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The cases.
    #[serde(rename = "case")]
    pub cases: Vec<TestCase>,
}

/// One rule test case: a module, a candidate, and what fwguard must say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// The ATI model line, if known.
    #[serde(default)]
    pub model: Option<String>,
    /// What AT+QGMR answered.
    pub revision: String,
    /// The flash ID, if known.
    #[serde(default)]
    pub flash_id: Option<String>,
    /// Whether the module enforces signed images, if known.
    #[serde(default)]
    pub secure_boot: Option<bool>,
    /// The candidate: a revision or package file name.
    pub to: String,
    /// `allow`, `warn` or `block`.
    pub verdict: String,
    /// The exact set of rule ids the findings must carry.
    pub findings: Vec<String>,
    /// The public report, release note or vendor page the case comes from.
    #[serde(default, skip_serializing_if = "omit_none")]
    pub source: Option<String>,
}
