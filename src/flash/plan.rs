//! The plan: everything a flash will do, decided before the first byte moves (as probe-rs
//! builds and announces its flash layout before it erases: <https://github.com/probe-rs/probe-rs>,
//! `probe-rs/src/flashing/flash_algorithm.rs`, `loader.rs`).
//!
//! A plan holds the verdict, the module and package identities, the storage the package
//! expects, every erase and write with its partition, offset, length and expected SHA-256, and
//! the protected areas (calibration, NV, IMEI: [`crate::image::protected`]) with the backup to
//! take of them.

use serde::Serialize;

use super::driver::{Layout, PatchSpec, Region, Source, StepSpec};
use super::error::FlashError;
use super::hashing;
use super::permissions::Permissions;
use crate::db::Database;
use crate::engine::{DatabaseSummary, Finding, Report, Verdict};
use crate::identity::{FlashId, FlashKind, MemoryCode, Revision};
use crate::image::{Inspection, Package, protected};
use crate::platform::Platform;

/// Who the module is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ModuleIdentity {
    /// The IMEI (AT+GSN), when read.
    pub imei: Option<String>,
    /// The boot ROM's serial number, once the download mode was reached.
    pub serial: Option<String>,
    /// The ATI model line.
    pub model: Option<String>,
    /// The product code the engine resolved (`EC25EFA`).
    pub product: Option<String>,
    /// The revision before the flash.
    pub revision: Option<String>,
}

impl ModuleIdentity {
    /// The identity used for folders and messages: the IMEI, else `serial-<serial>`.
    pub fn key(&self) -> Option<String> {
        self.imei.clone().or_else(|| self.serial.as_ref().map(|s| format!("serial-{s}")))
    }

    /// How the module is named in messages: `IMEI 8612...`, `serial 0x...`.
    pub fn describe(&self) -> String {
        match (&self.imei, &self.serial) {
            (Some(i), Some(s)) => format!("IMEI {i} (serial {s})"),
            (Some(i), None) => format!("IMEI {i}"),
            (None, Some(s)) => format!("serial {s}"),
            (None, None) => "a module with no IMEI or serial read".into(),
        }
    }
}

/// The package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PackageRef {
    /// The path as given.
    pub path: String,
    /// Its SHA-256 ([`super::package_sha256`]).
    pub sha256: String,
    /// The format (`qualcomm-zip`, ...).
    pub format: String,
    /// The revision it installs.
    pub revision: Option<String>,
    /// The product it is built for.
    pub product: Option<String>,
}

/// A flash chip the plan accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChipChoice {
    /// The id, hex (`98AC9026`).
    pub id: String,
    /// Vendor and part, when the database knows the chip.
    pub name: Option<String>,
    /// Size in MiB, when the database knows the chip.
    pub size_mib: Option<u32>,
}

/// The storage the plan expects, from the package and the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedStorage {
    /// NAND page size in bytes.
    pub page_size: Option<u32>,
    /// NAND erase block size in bytes.
    pub block_size: Option<u32>,
    /// The chips the package accepts (or, when it lists none, the chips the database gives the
    /// module's product or family).
    pub flash_ids: Vec<ChipChoice>,
    /// Where the chip list comes from: `package`, `database` or `none`.
    pub flash_ids_from: String,
    /// The smallest storage the layout fits in, in bytes.
    pub min_size: Option<u64>,
    /// The NOR flash size the package's memory code names (`M08`: 8 MiB), else the one the
    /// database gives the module's product; the gate compares it with the size the device
    /// reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Where `size` comes from, as a phrase (`the package's memory code M08`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub size_from: String,
    /// What the database's family rule says about the module's flash chips, for the gate to
    /// name beside the package's list (the package's list decides when it has one).
    pub family: Option<FamilyChips>,
}

/// The flash chips the database's rules give the module's product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FamilyChips {
    /// The family's name (`EC800M`).
    pub family: String,
    /// The module's product code (`EC800MCNLA`).
    pub product: String,
    /// The chips listed for the product (empty: the rules give it none).
    pub ids: Vec<String>,
    /// Where the list comes from: the product's source in the rules.
    pub source: String,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Erase the region.
    Erase,
    /// Write the region.
    Write,
    /// Have the device change the region in place (a Qualcomm `<patch>`).
    Patch,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operation::Erase => "erase",
            Operation::Write => "write",
            Operation::Patch => "patch",
        })
    }
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Step {
    /// Its place in the plan, from 0.
    pub index: usize,
    /// Erase or write.
    pub operation: Operation,
    /// Where.
    #[serde(flatten)]
    pub region: Region,
    /// For a write: the SHA-256 of the bytes the region will hold.
    pub sha256: Option<String>,
    /// For a write: where its bytes come from.
    pub source: Option<Source>,
    /// For a patch: what the device is asked to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchSpec>,
    /// The protected area the step changes, if any.
    pub protected: Option<String>,
}

impl Step {
    /// `write modem [0x5dc0000, +0xf80000)`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.operation, self.region)
    }
}

/// A protected area of the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedArea {
    /// Where.
    #[serde(flatten)]
    pub region: Region,
    /// What it holds (`EFS: RF calibration and NV`).
    pub holds: String,
    /// The steps that would change it.
    pub changed_by: Vec<usize>,
}

/// Everything a flash will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The platform.
    pub platform: Platform,
    /// The module.
    pub module: ModuleIdentity,
    /// The package.
    pub package: PackageRef,
    /// The verdict of the module and the package.
    pub verdict: Verdict,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// The database the verdict was made with.
    pub database: DatabaseSummary,
    /// The storage the package expects.
    pub storage: ExpectedStorage,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The protected areas; each is read into the backup before the first write.
    pub protected: Vec<ProtectedArea>,
    /// What the user allowed.
    pub permissions: Permissions,
    /// What the platform says about the plan that its steps do not show
    /// ([`super::Driver::plan_with_notes`]): steps of the package left out and why, what its
    /// loader cannot report to the gate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a plan is made from, besides the driver's layout.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// The module.
    pub module: ModuleIdentity,
    /// The verdict.
    pub report: &'a Report,
    /// The package as read.
    pub inspection: &'a Inspection,
    /// The package's SHA-256.
    pub package_sha256: &'a str,
    /// The platform.
    pub platform: Platform,
    /// The database.
    pub db: &'a Database,
    /// What the user allowed.
    pub permissions: Permissions,
}

impl Plan {
    /// Makes the plan from the platform's layout of the package: checks every step, hashes
    /// every write's bytes (one pass over the package), and marks the protected areas.
    pub fn new(input: PlanInput<'_>, layout: Layout, package: &mut dyn Package) -> Result<Plan, FlashError> {
        check_layout(&layout, package)?;
        let sources: Vec<(Source, u64)> = layout
            .steps
            .iter()
            .filter_map(|s| match s {
                StepSpec::Write(region, source) => Some((source.clone(), region.length)),
                StepSpec::Erase(_) | StepSpec::Patch(..) => None,
            })
            .collect();
        let mut hashes = hashing::hash_sources(package, &sources)?.into_iter();
        let protected_regions = protected_regions(&layout);
        let mut steps = Vec::with_capacity(layout.steps.len());
        for (index, spec) in layout.steps.iter().enumerate() {
            let region = spec.region().clone();
            let protected = protected_regions.iter().find(|(r, _)| r.overlaps(&region)).map(|(_, a)| a.clone());
            let (operation, sha256, source, patch) = match spec {
                StepSpec::Erase(_) => (Operation::Erase, None, None, None),
                StepSpec::Write(_, source) => (Operation::Write, hashes.next(), Some(source.clone()), None),
                StepSpec::Patch(_, patch) => (Operation::Patch, None, None, Some(patch.clone())),
            };
            steps.push(Step { index, operation, region, sha256, source, patch, protected });
        }
        let protected = protected_regions
            .into_iter()
            .map(|(region, holds)| {
                let changed_by = steps.iter().filter(|s| s.region.overlaps(&region)).map(|s| s.index).collect();
                ProtectedArea { region, holds, changed_by }
            })
            .collect();
        let ins = input.inspection;
        Ok(Plan {
            platform: input.platform,
            package: PackageRef {
                path: ins.path.clone(),
                sha256: input.package_sha256.to_string(),
                format: ins.format.clone(),
                revision: ins.revision.clone(),
                product: ins.product.clone(),
            },
            verdict: input.report.verdict,
            findings: input.report.findings.clone(),
            database: input.report.database.clone(),
            storage: expected_storage(&layout, ins, input.db, input.module.product.as_deref())?,
            module: input.module,
            steps,
            protected,
            permissions: input.permissions,
            notes: Vec::new(),
        })
    }

    /// Why the plan may not run as the user asked: a blocking verdict, unaccepted warnings, or
    /// protected areas changed without `--allow-protected`.
    pub fn refusal(&self) -> Option<FlashError> {
        let module = self.module.revision.clone().unwrap_or_else(|| "the module".into());
        let package = self.package.revision.clone().unwrap_or_else(|| self.package.path.clone());
        let of = |sev| self.findings.iter().filter(|f| f.severity == sev).cloned().collect::<Vec<_>>();
        match self.verdict {
            Verdict::Block => {
                return Some(FlashError::Blocked {
                    module,
                    package,
                    findings: of(crate::rules::model::Severity::Block),
                });
            }
            Verdict::Warn if !self.permissions.accept_warnings => {
                return Some(FlashError::Warnings {
                    module,
                    package,
                    findings: of(crate::rules::model::Severity::Warn),
                });
            }
            _ => {}
        }
        let touching: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| s.protected.as_ref().map(|a| format!("step {} {} ({a})", s.index, s.describe())))
            .collect();
        if !touching.is_empty() && !self.permissions.allow_protected {
            return Some(FlashError::Protected { steps: touching });
        }
        None
    }

    /// Adds the protected areas among the partitions the device reports that the plan does not
    /// cover yet; returns how many it added. The plan's steps are marked again.
    pub fn add_device_partitions(&mut self, partitions: &[Region]) -> usize {
        let layout = Layout { partitions: partitions.to_vec(), ..Layout::default() };
        let mut added = 0;
        for (region, holds) in protected_regions(&layout) {
            let covered =
                self.protected.iter().any(|a| a.region.offset <= region.offset && region.end() <= a.region.end());
            if covered {
                continue;
            }
            let changed_by: Vec<usize> =
                self.steps.iter().filter(|s| s.region.overlaps(&region)).map(|s| s.index).collect();
            for &i in &changed_by {
                self.steps[i].protected.get_or_insert_with(|| holds.clone());
            }
            self.protected.push(ProtectedArea { region, holds, changed_by });
            added += 1;
        }
        added
    }

    /// The number of bytes the writes send.
    pub fn write_bytes(&self) -> u64 {
        self.steps.iter().filter(|s| s.operation == Operation::Write).map(|s| s.region.length).sum()
    }

    /// The plan's steps as the journal keeps them, to check that a resumed flash runs the same
    /// plan.
    pub fn steps_json(&self) -> String {
        serde_json::to_string(&self.steps).unwrap_or_default()
    }
}

/// Refuses a layout whose steps cannot be right: empty regions, writes whose source is longer
/// than their region or runs past its member.
fn check_layout(layout: &Layout, package: &dyn Package) -> Result<(), FlashError> {
    for (i, step) in layout.steps.iter().enumerate() {
        let region = step.region();
        if region.length == 0 || region.offset.checked_add(region.length).is_none() {
            return Err(FlashError::Plan(format!("step {i} has an empty or overflowing region: {region}")));
        }
        if let StepSpec::Write(region, source) = step {
            if source.length > region.length {
                return Err(FlashError::Plan(format!(
                    "step {i} writes {} bytes of {} into {region}, which holds only {}",
                    source.length, source.member, region.length
                )));
            }
            let Some(member) = package.members().iter().find(|m| m.path == source.member) else {
                return Err(FlashError::Plan(format!(
                    "step {i} writes {}, which the package does not have",
                    source.member
                )));
            };
            if source.offset.saturating_add(source.length) > member.size {
                return Err(FlashError::Plan(format!(
                    "step {i} takes bytes {}..{} of {}, which has {} bytes",
                    source.offset,
                    source.offset.saturating_add(source.length),
                    source.member,
                    member.size
                )));
            }
        }
    }
    Ok(())
}

/// The protected areas: partitions whose names mean calibration, NV or IMEI data, and step
/// regions named so.
fn protected_regions(layout: &Layout) -> Vec<(Region, String)> {
    let mut out: Vec<(Region, String)> = Vec::new();
    let named = layout.partitions.iter().chain(layout.steps.iter().map(StepSpec::region));
    for region in named {
        let covered = |r: &Region| r.offset <= region.offset && region.end() <= r.end();
        if let Some(area) = protected::area(&region.partition)
            && !out.iter().any(|(r, _)| covered(r))
        {
            out.push((region.clone(), area.label().to_string()));
        }
    }
    out
}

/// The storage the plan expects: the layout's and the package's geometry, the package's chips
/// (else the database's for the product, else its family's), and the size the layout needs.
fn expected_storage(
    layout: &Layout,
    ins: &Inspection,
    db: &Database,
    product: Option<&str>,
) -> Result<ExpectedStorage, FlashError> {
    let claim = &layout.storage;
    let from_name = ins.nand.map(|g| (g.page_kib * 1024, g.block_kib * 1024));
    let page_size = agree("page size", claim.page_size, from_name.map(|g| g.0))?;
    let block_size = agree("block size", claim.block_size, from_name.map(|g| g.1))?;
    let mut package_ids: Vec<String> = ins.flash_chips.iter().map(|c| c.jedec.to_ascii_uppercase()).collect();
    for id in &claim.flash_ids {
        if !package_ids.contains(&id.to_ascii_uppercase()) {
            package_ids.push(id.to_ascii_uppercase());
        }
    }
    let (ids, from) = if !package_ids.is_empty() {
        (package_ids, "package")
    } else {
        let product_ids = product.and_then(|p| db.product(p)).map(|(_, p)| p.flash_chips.clone()).unwrap_or_default();
        if !product_ids.is_empty() {
            (product_ids, "database")
        } else {
            let family: Vec<String> = product
                .and_then(|p| db.product(p))
                .map(|(f, _)| f.products.iter().flat_map(|p| p.flash_chips.clone()).collect())
                .unwrap_or_default();
            let mut unique: Vec<String> = Vec::new();
            for id in family {
                if !unique.contains(&id) {
                    unique.push(id);
                }
            }
            let from = if unique.is_empty() { "none" } else { "database" };
            (unique, from)
        }
    };
    let flash_ids = ids
        .iter()
        .map(|id| {
            let hex = FlashId::parse(id).map(|f| f.hex()).unwrap_or_else(|_| id.clone());
            let chip = db.chip(&hex);
            ChipChoice { id: hex, name: chip.map(|c| c.name.clone()), size_mib: chip.map(|c| c.size_mib) }
        })
        .collect();
    // Logical areas (Region::logical) are not bytes of the storage.
    let min_size = layout
        .steps
        .iter()
        .map(StepSpec::region)
        .chain(&layout.partitions)
        .filter(|r| !r.is_logical())
        .map(Region::end)
        .max();
    let min_size = match (min_size, claim.min_size) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let family = product.and_then(|p| db.product(p)).map(|(f, p)| FamilyChips {
        family: f.family.name.clone(),
        product: p.code.clone(),
        ids: p
            .flash_chips
            .iter()
            .map(|id| FlashId::parse(id).map(|f| f.hex()).unwrap_or_else(|_| id.clone()))
            .collect(),
        source: p.source.clone(),
    });
    let (size, size_from) = nor_size(ins, db, product).unzip();
    Ok(ExpectedStorage {
        page_size,
        block_size,
        flash_ids,
        flash_ids_from: from.into(),
        min_size,
        size,
        size_from: size_from.unwrap_or_default(),
        family,
    })
}

/// The NOR flash size a memory code names (`M08`: 8 MiB): the package revision's, else the
/// module product's in the database. NAND codes are left out: they name the chip, not the main
/// area a programmer reports.
fn nor_size(ins: &Inspection, db: &Database, product: Option<&str>) -> Option<(u64, String)> {
    let nor = |code: &str| MemoryCode::parse(code).filter(|m| m.kind() == FlashKind::Nor);
    let from_package = ins.revision.as_deref().and_then(|r| Revision::parse(r).ok()).and_then(|r| {
        let code = nor(r.memory()?.as_str())?;
        Some((code.clone(), format!("the package's memory code {code}")))
    });
    let from_db = || {
        let (_, p) = product.and_then(|p| db.product(p))?;
        let code = nor(p.memory.as_deref()?)?;
        Some((code.clone(), format!("the database's memory code {code} for {}", p.code)))
    };
    let (code, from) = from_package.or_else(from_db)?;
    Some((u64::from(code.size_mib()) << 20, from))
}

/// One value from two claims that must agree.
fn agree(what: &str, layout: Option<u32>, package: Option<u32>) -> Result<Option<u32>, FlashError> {
    match (layout, package) {
        (Some(a), Some(b)) if a != b => {
            Err(FlashError::Plan(format!("the package's layout gives a {what} of {a} bytes, its file names {b} bytes")))
        }
        (a, b) => Ok(a.or(b)),
    }
}
