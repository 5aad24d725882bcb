//! A PAC's download scheme as ordered steps: what a download does, decided before the first
//! byte moves. Pure: it reads a parsed PAC ([`crate::image::pac::PacFile`]) and returns a
//! [`DownloadPlan`]; running the plan is a loop over [`super::Fdl2Session`] operations.
//!
//! The rules follow amitv87/unisoc_dloader `main.c` `test_bsl`, which is how Quectel's Linux
//! download tool runs a PAC:
//!
//! - UIS8910: `HOST_FDL` goes through the ROM's PDL, `FDL2` through FDL1. Then the scheme's
//!   `<File>`s in order: files with data are written at their `<Base>` (NV sealed with its
//!   checksum); `ERASE_BOOT`, `ERASE_PY_FS_U`, `ERASE_PY_FS_B`, `FLASH` (EraseFlash) and
//!   `EraseFlash2` steps erase; `PhaseCheck` with no data, `FMT_FSSYS`, `FMT_FSEXT` and other
//!   operations unisoc_dloader does not send on the 8910 are skipped, each with its reason.
//! - UIS8850: `FDL` through the ROM's BSL, `FDL2` through FDL1; `ERASE_SPL` first and `SPL`
//!   last (so an interrupted download leaves no half-written boot loader); `BOOT`,
//!   `PhaseCheck`, `FMT_FSEXT`, `FMT_FSSYS` skipped; `FMT_FSMOD` and `FLASH` erase. An operation
//!   unisoc_dloader does not know on the 8850 is refused as not supported.
//!
//! In both, NV and PhaseCheck are read first ([`Action::Backup`]) and every step that touches
//! NV, PhaseCheck, calibration or IMEI carries [`Step::protected`], so the flashing core can
//! keep it out unless protected writes are allowed and the backup verified.

use super::error::UnisocError;
use super::fdl::Chip;
use super::wire::payload::{
    FDL1_MAX_8910, FDL2_MAX_8910, LOGICAL_ERASE_NV, LOGICAL_NV, LOGICAL_PHASECHECK, PHASECHECK_SIZE,
};
use crate::image::pac::PacFile;
use crate::image::pac::describe::chip_of_header;
use crate::image::pac::entry::{FLAG_XML, PacEntry};
use crate::image::pac::scheme::SchemeFile;
use crate::image::protected::{self, Area};

/// The NV item unisoc_dloader always keeps when it rewrites NV (`nv.c` `GSM_IMEI_ITEM_ID`).
pub const NV_ITEM_IMEI: u16 = 0x5;
/// The largest NV image taken whole (it is sealed in memory before it is sent).
pub const MAX_NV: u64 = 4 << 20;

/// A loader in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderRef {
    /// Its index in the PAC's file entries.
    pub entry: usize,
    /// Its load address.
    pub address: u32,
    /// Its size.
    pub len: u32,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read `size` bytes at `address` and keep them before anything is written.
    Backup {
        /// Where (a logical address on the 8910: NV, PhaseCheck).
        address: u32,
        /// How much.
        size: u32,
    },
    /// Erase `size` bytes at `address` (or the logical operation the address names).
    Erase {
        /// Where.
        address: u32,
        /// How much (0: the whole area a logical address names).
        size: u32,
    },
    /// Write entry `entry` (`size` bytes) at `address`.
    Write {
        /// The PAC file entry.
        entry: usize,
        /// Where.
        address: u32,
        /// How much.
        size: u32,
    },
    /// Write the NV image of entry `entry` at its logical `address`, keeping the module's
    /// items `keep` (the scheme's NV backup items and the IMEI) when it is merged.
    WriteNv {
        /// The PAC file entry.
        entry: usize,
        /// Where.
        address: u32,
        /// How much.
        size: u32,
        /// NV item ids to carry over from the module.
        keep: Vec<u16>,
    },
    /// Nothing is sent, for this reason.
    Skip {
        /// Why.
        reason: String,
    },
    /// NORMAL_RESET: the module boots from flash.
    Reset,
}

/// One step, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The scheme's file id (`BOOTLOADER`, `AP`, `NV`, ...) or what fwguard calls the step.
    pub id: String,
    /// What it does.
    pub action: Action,
    /// The protected area it reads or changes, if any.
    pub protected: Option<Area>,
}

/// Everything a download of one PAC does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadPlan {
    /// The chip the PAC is for.
    pub chip: Chip,
    /// The first loader.
    pub fdl1: LoaderRef,
    /// The second loader.
    pub fdl2: LoaderRef,
    /// The steps after FDL2 runs, ending with the reset.
    pub steps: Vec<Step>,
}

/// The chip a PAC's header names (the substrings unisoc_dloader looks for).
pub fn chip_of(pac: &PacFile, package: &str) -> Result<Chip, UnisocError> {
    let h = &pac.header;
    match chip_of_header(&h.product_name, &h.product_version) {
        Some("8910") => Ok(Chip::Uis8910),
        Some("8850") => Ok(Chip::Uis8850),
        Some(other) => Err(UnisocError::NotSupported {
            what: format!(
                "{package}: a UIS{other} package ({:?}); fwguard knows the download flows of the UIS8910 and UIS8850 \
                 only (the UIS8310 and UDX710 flows, with their partition-name downloads and repartitioning, are \
                 not recorded in enough detail)",
                h.product_name
            ),
        }),
        None => Err(UnisocError::NotSupported {
            what: format!(
                "{package}: the PAC header ({:?}, {:?}) names no Unisoc chip fwguard knows (8910, 8850)",
                h.product_name, h.product_version
            ),
        }),
    }
}

/// Plans the download of `pac` (`package` names it in messages).
pub fn plan(pac: &PacFile, package: &str) -> Result<DownloadPlan, UnisocError> {
    let chip = chip_of(pac, package)?;
    let scheme = pac.scheme.as_ref().ok_or_else(|| scheme_error(package, "the PAC has no XML download scheme"))?;
    let p = Planner { pac, package, chip };
    let fdl1_ids: &[&str] = match chip {
        Chip::Uis8910 => &["HOST_FDL"],
        Chip::Uis8850 => &["FDL", "FDL1"],
    };
    let fdl1 = p.loader(&scheme.files, fdl1_ids, FDL1_MAX_8910)?;
    let fdl2 = p.loader(&scheme.files, &["FDL2"], FDL2_MAX_8910)?;
    let mut steps = p.backups(&scheme.files)?;
    let mut boot_last = None;
    for f in &scheme.files {
        let upper = f.id.to_ascii_uppercase();
        if fdl1_ids.contains(&upper.as_str()) || upper == "FDL2" || upper == "HOST_FDL" {
            continue;
        }
        let step = match chip {
            Chip::Uis8910 => p.step_8910(f)?,
            Chip::Uis8850 => p.step_8850(f)?,
        };
        if chip == Chip::Uis8850 && upper == "ERASE_SPL" {
            let at = steps.iter().position(|s| !matches!(s.action, Action::Backup { .. })).unwrap_or(steps.len());
            steps.insert(at, step);
        } else if chip == Chip::Uis8850 && upper == "SPL" {
            boot_last = Some(step);
        } else {
            steps.push(step);
        }
    }
    steps.extend(boot_last);
    steps.push(Step { id: "RESET".into(), action: Action::Reset, protected: None });
    Ok(DownloadPlan { chip, fdl1, fdl2, steps })
}

fn scheme_error(package: &str, problem: impl Into<String>) -> UnisocError {
    UnisocError::Scheme { package: package.into(), problem: problem.into() }
}

struct Planner<'a> {
    pac: &'a PacFile,
    package: &'a str,
    chip: Chip,
}

impl Planner<'_> {
    fn entry(&self, id: &str) -> Option<&PacEntry> {
        self.pac
            .entries
            .iter()
            .find(|e| !id.is_empty() && e.flag != FLAG_XML && e.file_id.eq_ignore_ascii_case(id) && e.size > 0)
    }

    fn address(&self, f: &SchemeFile) -> Result<u32, UnisocError> {
        let base = f.base.or_else(|| self.entry(&f.id).and_then(|e| e.addresses.first().map(|&a| u64::from(a))));
        let base = base.ok_or_else(|| scheme_error(self.package, format!("step {} has no <Base> address", f.id)))?;
        u32::try_from(base)
            .map_err(|_| scheme_error(self.package, format!("step {}: address {base:#x} does not fit 32 bits", f.id)))
    }

    fn size(&self, f: &SchemeFile, what: u64) -> Result<u32, UnisocError> {
        u32::try_from(what)
            .map_err(|_| scheme_error(self.package, format!("step {}: size {what:#x} does not fit 32 bits", f.id)))
    }

    fn loader(&self, files: &[SchemeFile], ids: &[&str], max: u32) -> Result<LoaderRef, UnisocError> {
        let f = files.iter().find(|f| ids.iter().any(|id| f.id.eq_ignore_ascii_case(id))).ok_or_else(|| {
            scheme_error(
                self.package,
                format!("no {} step: the UIS{} download needs it", ids.join(" or "), self.chip.number()),
            )
        })?;
        let e =
            self.entry(&f.id).ok_or_else(|| scheme_error(self.package, format!("{} has no data in the PAC", f.id)))?;
        let len = self.size(f, e.size)?;
        if self.chip == Chip::Uis8910 && len > max {
            return Err(scheme_error(
                self.package,
                format!("{} is {len:#x} bytes; the UIS8910 takes at most {max:#x} there", f.id),
            ));
        }
        Ok(LoaderRef { entry: e.index, address: self.address(f)?, len })
    }

    /// NV (when the scheme writes or erases it, at the size it declares) and PhaseCheck (8910,
    /// always: its logical address and size are fixed), read before anything is written.
    fn backups(&self, files: &[SchemeFile]) -> Result<Vec<Step>, UnisocError> {
        let mut out = Vec::new();
        if let Some(nv) = files.iter().find(|f| f.id.eq_ignore_ascii_case("NV")) {
            let size = match (nv.size.filter(|&s| s > 0), self.entry(&nv.id)) {
                (Some(s), _) => Some(s),
                (None, Some(e)) => Some(e.size),
                (None, None) => None,
            };
            if let Some(size) = size {
                let address = self.address(nv)?;
                let size = self.size(nv, size)?;
                out.push(Step { id: "NV".into(), action: Action::Backup { address, size }, protected: Some(Area::Nv) });
            }
        }
        if self.chip == Chip::Uis8910 {
            out.push(Step {
                id: "PhaseCheck".into(),
                action: Action::Backup { address: LOGICAL_PHASECHECK, size: PHASECHECK_SIZE },
                protected: Some(Area::PhaseCheck),
            });
        }
        Ok(out)
    }

    fn protected_area(&self, f: &SchemeFile, address: Option<u32>) -> Option<Area> {
        match address {
            Some(LOGICAL_ERASE_NV | LOGICAL_NV) => Some(Area::Nv),
            Some(LOGICAL_PHASECHECK) => Some(Area::PhaseCheck),
            _ => protected::area(&format!("{} {}", f.id, f.id_alias.as_deref().unwrap_or(""))),
        }
    }

    fn write(&self, f: &SchemeFile, e: &PacEntry) -> Result<Step, UnisocError> {
        let address = self.address(f)?;
        let size = self.size(f, e.size)?;
        if let Some(block) = f.size.filter(|&s| s > 0 && e.size > s) {
            return Err(scheme_error(
                self.package,
                format!("{} is {} bytes, more than its block of {block:#x} at {address:#x}", f.id, e.size),
            ));
        }
        let protected = self.protected_area(f, Some(address));
        if f.id.eq_ignore_ascii_case("NV") || address == LOGICAL_NV {
            if e.size > MAX_NV {
                return Err(scheme_error(self.package, format!("NV is {} bytes; at most {MAX_NV} are taken", e.size)));
            }
            let mut keep: Vec<u16> = vec![NV_ITEM_IMEI];
            if let Some(s) = self.pac.scheme.as_ref().filter(|s| s.nv_backup) {
                for item in s.nv_items.iter().filter(|i| i.backup) {
                    let id = item.id.as_deref().and_then(crate::image::pac::scheme::parse_number);
                    if let Some(id) =
                        id.and_then(|v| u16::try_from(v).ok()).filter(|&v| v < 0xFFFE && !keep.contains(&v))
                    {
                        keep.push(id);
                    }
                }
            }
            let action = Action::WriteNv { entry: e.index, address, size, keep };
            return Ok(Step { id: f.id.clone(), action, protected: Some(Area::Nv) });
        }
        Ok(Step { id: f.id.clone(), action: Action::Write { entry: e.index, address, size }, protected })
    }

    fn erase(&self, f: &SchemeFile) -> Result<Step, UnisocError> {
        let address = self.address(f)?;
        let size = self.size(f, f.size.unwrap_or(0))?;
        let protected = self.protected_area(f, Some(address));
        Ok(Step { id: f.id.clone(), action: Action::Erase { address, size }, protected })
    }

    fn skip(&self, f: &SchemeFile, reason: String) -> Step {
        let protected = self.protected_area(f, f.base.and_then(|b| u32::try_from(b).ok()));
        Step { id: f.id.clone(), action: Action::Skip { reason }, protected }
    }

    fn step_8910(&self, f: &SchemeFile) -> Result<Step, UnisocError> {
        if let Some(e) = self.entry(&f.id) {
            return self.write(f, e);
        }
        let upper = f.id.to_ascii_uppercase();
        if f.base.and_then(|b| u32::try_from(b).ok()) == Some(LOGICAL_ERASE_NV) {
            // pacgen's "Erase NV" step (ID `FLASH` at the logical NV-erase address): never sent.
            // The NV write merges the module's own items into the package's, so what the module
            // must keep (IMEI, calibration) survives; erasing first would lose it if the link
            // were cut before the write.
            let reason = format!("{}: the NV erase is not sent; the NV write keeps the module's items", f.id);
            return Ok(self.skip(f, reason));
        }
        let erase_by_id = matches!(upper.as_str(), "ERASE_BOOT" | "ERASE_PY_FS_U" | "ERASE_PY_FS_B")
            || (upper == "FLASH" && f.kind.eq_ignore_ascii_case("EraseFlash"))
            || f.kind.eq_ignore_ascii_case("EraseFlash2");
        if erase_by_id {
            return self.erase(f);
        }
        let reason = match upper.as_str() {
            "PHASECHECK" => "PhaseCheck has no data in the package: the module's is kept".to_string(),
            "FMT_FSSYS" | "FMT_FSEXT" => {
                format!("{}: file-system format steps are not sent on the UIS8910 (as unisoc_dloader)", f.id)
            }
            _ => format!(
                "{} ({}) has no data and is no erase unisoc_dloader sends on the UIS8910",
                f.id,
                if f.kind.is_empty() { "no type" } else { f.kind.as_str() }
            ),
        };
        Ok(self.skip(f, reason))
    }

    fn step_8850(&self, f: &SchemeFile) -> Result<Step, UnisocError> {
        let upper = f.id.to_ascii_uppercase();
        match upper.as_str() {
            "BOOT" | "PHASECHECK" | "FMT_FSEXT" | "FMT_FSSYS" => {
                return Ok(self.skip(f, format!("{}: not sent on the UIS8850 (as unisoc_dloader)", f.id)));
            }
            "ERASE_SPL" | "FMT_FSMOD" | "FLASH" => return self.erase(f),
            _ => {}
        }
        if let Some(e) = self.entry(&f.id) {
            return self.write(f, e);
        }
        if f.kind.eq_ignore_ascii_case("EraseFlash2") {
            return self.erase(f);
        }
        Err(UnisocError::NotSupported {
            what: format!(
                "{}: UIS8850 step {} ({}) has no data and is none of the operations the published 8850 flow \
                 (amitv87/unisoc_dloader) sends; what the loader does with it is not recorded",
                self.package,
                f.id,
                if f.kind.is_empty() { "no type" } else { f.kind.as_str() }
            ),
        })
    }
}
