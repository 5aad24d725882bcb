//! A package's `download.json` as fwguard runs it: the steps the recipe gives, in its order,
//! split at the flash probe.
//!
//! The recipe is the real structure of waybyte/logicromsdk `lib/asr160x/pack/download.json` (a
//! top-level array of flat step objects, read by [`crate::image::asr::download_json`]):
//! `require`, `progress`, `call preboot.img`, `call flasher.img`, `partition flashinfo.bin`,
//! `partition partition.bin`, then `flash X → p` and `erase p`. fwguard runs it in two parts:
//!
//! - the **prelude**, when it connects: every step up to and including `partition` of the flash
//!   table (`flashinfo.bin`), after which the flasher has probed its chip and the core's gate
//!   compares it with the package's table and the family's chips;
//! - the **actions**, as the plan's steps: `partition partition.bin` is sent before the first
//!   erase or write (so after the gate and after the backup of the NV areas), then each `flash`
//!   and `erase` in the recipe's order.
//!
//! `productionOnly` steps are left out, as ASR's adownload does in upgrade mode (`-g`; asr.md
//! §5.1). A recipe that would write before the chip is probed, or never probes it, is refused:
//! fwguard must know the chip before it writes anything.

use super::super::driver::{DriverError, Layout, Region, Source, StepSpec, StorageClaim};
use crate::image::asr::download_json::StepKind;
use crate::image::asr::flashinfo::{self, FlashInfo};
use crate::image::asr::partition_table::{self, PartitionTable, PtEntry};
use crate::image::asr::{self, AsrPackage, TABLE_LIMIT};
use crate::image::{Member, Package};

/// A step of the prelude, run when fwguard connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prelude {
    /// `require key=value`: `getvar:key` must answer `value`.
    Require {
        /// The variable.
        key: String,
        /// The accepted value(s), `|`-separated.
        value: String,
    },
    /// `progress`: the total weight (the bytes the recipe flashes, as waybyte's release script
    /// sets it).
    Progress(u64),
    /// `call <member>`: download, verify and run a stage.
    Call {
        /// The package member.
        member: String,
    },
    /// `partition <member>` of the flash table: the flasher probes its chip.
    Probe {
        /// The package member.
        member: String,
    },
}

/// A step after the probe: one step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `flash <member> → <partition>`.
    Flash {
        /// The package member.
        member: String,
        /// The partition.
        partition: String,
        /// The member's size in bytes.
        size: u64,
    },
    /// `erase <partition>`.
    Erase {
        /// The partition.
        partition: String,
    },
}

/// A package's recipe, ready to run.
#[derive(Debug, Clone)]
pub struct FlashRecipe {
    /// The steps up to and including the probe.
    pub prelude: Vec<Prelude>,
    /// The member `partition partition.bin` loads.
    pub table_member: String,
    /// The package's partition table.
    pub table: PartitionTable,
    /// The package's flash table.
    pub flashinfo: FlashInfo,
    /// The flash and erase steps, in the recipe's order.
    pub actions: Vec<Action>,
    /// Steps left out (production-only), described.
    pub skipped: Vec<String>,
}

fn refuse(problem: impl Into<String>) -> DriverError {
    DriverError::Package(problem.into())
}

impl FlashRecipe {
    /// Reads the package's recipe, tables and members, and checks that the chip is probed
    /// before anything is written.
    pub fn read(package: &mut dyn Package) -> Result<FlashRecipe, DriverError> {
        let path = package.path().to_string();
        let members: Vec<Member> = package.members().to_vec();
        if !asr::is_asr_package(&members) {
            let inner = members.iter().find(|m| {
                let lower = m.path.to_ascii_lowercase();
                lower.ends_with(".bin") || lower.ends_with(".zip")
            });
            return Err(refuse(match inner {
                Some(m) if members.iter().any(|m| m.path.ends_with("platform_config.json")) => format!(
                    "{path} is QuecPython's wrapper around {}, which is not an aboot package fwguard can read",
                    m.path
                ),
                _ => format!("{path} is not an ASR aboot package (no download.json, partition.bin or flashinfo.bin)"),
            }));
        }
        let read = asr::read_asr(package)?;
        let recipe = read.recipe.clone().ok_or_else(|| {
            refuse(format!("{path} has no download.json: the order of its download steps is unknown"))
        })?;
        let table = read.partitions.clone().ok_or_else(|| refuse(format!("{path} has no partition table")))?;
        let flashinfo = read.flashinfo.clone().ok_or_else(|| {
            refuse(format!("{path} has no flashinfo.bin: the module's flash chip could not be checked before writing"))
        })?;
        let mut out = FlashRecipe {
            prelude: Vec::new(),
            table_member: String::new(),
            table,
            flashinfo,
            actions: Vec::new(),
            skipped: Vec::new(),
        };
        let mut probed = false;
        for (n, step) in recipe.steps.iter().enumerate() {
            let n = n + 1;
            if step.production_only {
                out.skipped.push(format!("step {n} ({}) is for production only", describe(&step.kind)));
                continue;
            }
            let member = |name: &str| resolve(&read, &members, name, step.version_bootrom.as_deref(), &path);
            match &step.kind {
                StepKind::Require { key, value } if !probed => {
                    out.prelude.push(Prelude::Require { key: key.clone(), value: value.clone() })
                }
                StepKind::Progress if !probed => out.prelude.push(Prelude::Progress(0)),
                StepKind::Progress => {}
                StepKind::Call { image } if !probed => out.prelude.push(Prelude::Call { member: member(image)? }),
                StepKind::Partition { image } => {
                    let member = member(image)?;
                    let head = package.read(&member, TABLE_LIMIT)?;
                    if flashinfo::is_flashinfo(&head) {
                        if probed {
                            return Err(refuse(format!(
                                "download.json step {n} loads a second flash table ({member})"
                            )));
                        }
                        probed = true;
                        out.prelude.push(Prelude::Probe { member });
                    } else if partition_table::is_partition_table(&head) {
                        if !probed {
                            return Err(refuse(format!(
                                "download.json step {n} loads the partition table ({member}) before the flash table: fwguard probes the flash chip before anything else is loaded"
                            )));
                        }
                        if !out.table_member.is_empty() {
                            return Err(refuse(format!(
                                "download.json step {n} loads a second partition table ({member})"
                            )));
                        }
                        out.table_member = member;
                    } else {
                        return Err(refuse(format!(
                            "download.json step {n} loads {member}, which is neither a flash table nor a partition table"
                        )));
                    }
                }
                StepKind::Flash { image, partition } => {
                    out.need_table(n, &describe(&step.kind))?;
                    let member = member(image)?;
                    let size = members.iter().find(|m| m.path == member).map_or(0, |m| m.size);
                    out.actions.push(Action::Flash { member, partition: partition.clone(), size });
                }
                StepKind::Erase { partition } => {
                    out.need_table(n, &describe(&step.kind))?;
                    out.actions.push(Action::Erase { partition: partition.clone() });
                }
                other => {
                    return Err(refuse(format!(
                        "download.json step {n} ({}) comes after the flash probe; fwguard runs the boot ROM's and the stages' steps before it",
                        describe(other)
                    )));
                }
            }
        }
        if !probed {
            return Err(refuse(format!(
                "download.json never loads {path}'s flash table: the module's flash chip would not be checked before writing"
            )));
        }
        if out.actions.is_empty() {
            return Err(refuse("download.json flashes and erases nothing".to_string()));
        }
        let weight: u64 = out.actions.iter().map(|a| if let Action::Flash { size, .. } = a { *size } else { 0 }).sum();
        for p in &mut out.prelude {
            if let Prelude::Progress(w) = p {
                *w = weight;
            }
        }
        Ok(out)
    }

    fn need_table(&self, n: usize, what: &str) -> Result<(), DriverError> {
        if self.table_member.is_empty() {
            return Err(refuse(format!(
                "download.json step {n} ({what}) comes before the partition table is loaded after the flash probe"
            )));
        }
        Ok(())
    }

    /// The partition `name` of the package's table.
    pub fn partition(&self, name: &str) -> Option<&PtEntry> {
        self.table.get(name)
    }

    /// The layout the core plans with: the package's partitions, one step per action (a write
    /// covers its image's bytes from the partition's start; an erase the whole partition, which
    /// is what `erase:<name>` erases), and the chips and size of the flash table.
    pub fn layout(&self) -> Result<Layout, DriverError> {
        let partitions = self
            .table
            .entries
            .iter()
            .filter(|e| e.size > 0)
            .map(|e| Region::new(&e.name, u64::from(e.start), u64::from(e.size)))
            .collect();
        let mut steps = Vec::with_capacity(self.actions.len());
        for action in &self.actions {
            let name = match action {
                Action::Flash { partition, .. } | Action::Erase { partition } => partition,
            };
            let entry = self.partition(name).filter(|e| e.size > 0).ok_or_else(|| {
                refuse(format!(
                    "download.json uses partition {name:?}, which the package's partition table does not define"
                ))
            })?;
            match action {
                Action::Flash { member, size, .. } => {
                    if *size == 0 || *size > u64::from(entry.size) {
                        return Err(refuse(format!(
                            "{member} has {size} bytes; partition {name:?} holds {} (a write has 1 to that many)",
                            entry.size
                        )));
                    }
                    let region = Region::new(name, u64::from(entry.start), *size);
                    let source = Source { member: member.clone(), offset: 0, length: *size, pad: 0xFF };
                    steps.push(StepSpec::Write(region, source));
                }
                Action::Erase { .. } => {
                    steps.push(StepSpec::Erase(Region::new(name, u64::from(entry.start), u64::from(entry.size))));
                }
            }
        }
        let storage = StorageClaim {
            page_size: None,
            block_size: None,
            flash_ids: self.flashinfo.chips().iter().map(|c| c.jedec()).collect(),
            min_size: (self.flashinfo.flash_size > 0).then_some(self.flashinfo.flash_size),
        };
        Ok(Layout { partitions, steps, storage })
    }

    /// The partition table as the flasher must get it: its bytes with the CRC-32 recomputed
    /// when the stored one is stale (waybyte's release script always recomputes it, and the
    /// flasher's `ptable_init` refuses a bad one). Returns the bytes and, when fixed, a note.
    pub fn table_bytes(&self, package: &mut dyn Package) -> Result<(Vec<u8>, Option<String>), DriverError> {
        let mut bytes = package.read(&self.table_member, TABLE_LIMIT)?;
        if bytes.len() < partition_table::TABLE_SIZE {
            return Err(refuse(format!("{} is shorter than a partition table", self.table_member)));
        }
        bytes.truncate(partition_table::TABLE_SIZE);
        let at = partition_table::CRC_OFFSET;
        let stored = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let computed = partition_table::CRC32.checksum(&bytes[..at]);
        if stored == computed {
            return Ok((bytes, None));
        }
        bytes[at..at + 4].copy_from_slice(&computed.to_le_bytes());
        let note = format!(
            "{}: stale CRC-32 {stored:#010x} replaced by {computed:#010x} before sending, as the vendor's pack tools do",
            self.table_member
        );
        Ok((bytes, Some(note)))
    }
}

/// A recipe image's member, or a refusal naming it.
fn resolve(
    read: &AsrPackage,
    members: &[Member],
    name: &str,
    version: Option<&str>,
    path: &str,
) -> Result<String, DriverError> {
    asr::member_for(read, members, name, version)
        .ok_or_else(|| refuse(format!("download.json loads {name:?}, which {path} does not contain")))
}

fn describe(kind: &StepKind) -> String {
    match kind {
        StepKind::Require { key, value } => format!("require {key}={value}"),
        StepKind::Progress => "progress".into(),
        StepKind::Call { image } => format!("call {image}"),
        StepKind::Partition { image } => format!("partition {image}"),
        StepKind::Flash { image, partition } => format!("flash {image} → {partition}"),
        StepKind::Erase { partition } => format!("erase {partition}"),
    }
}
