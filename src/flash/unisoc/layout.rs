//! A PAC's download scheme ([`DownloadPlan`]) as the flashing core's [`Layout`]: NOR regions in
//! bytes from the flash base (0x60000000 on the UIS8910, so a region's offset is its place in
//! `flash.bin`), NV and PhaseCheck as [`Region::logical`] areas at the 8910 FDL's logical
//! addresses (0xFE000003, 0xFE000002), and notes for what the layout does not show.
//!
//! The protected areas are PhaseCheck (always: its address and size are fixed), NV (at the
//! scheme's size when the PAC has an NV step; the connection also reports the module's own NV
//! image), and the factory file system in the last 0x20000 bytes of the flash, where the 8910
//! SDK keeps calibration (waybyte/logicromsdk `lib/rda8910/hal_config.h`
//! `CONFIG_FS_FACTORY_FLASH_*`), when the flash size is known. The core backs them all up and
//! refuses every step that changes one unless `--allow-protected`.
//!
//! Left out, with a reason in the notes: the NV erase (pacgen's `FLASH` at 0xFE000001, which the
//! NV write makes unnecessary: it merges the module's items), and whatever the scheme does not
//! send on the 8910. Refused: writes to logical addresses that cannot be read back to verify
//! them (a cpio pre-pack at 0xFE000004), logical erases other than NV's, and erases of size 0.

use super::error::UnisocError;
use super::fdl::Chip;
use super::scheme::{Action, DownloadPlan};
use super::wire::payload::{LOGICAL_NV, LOGICAL_PHASECHECK, NOR_BASE_8910, PHASECHECK_SIZE};
use crate::flash::{Layout, Region, Source, StepSpec, StorageClaim};
use crate::image::pac::PacFile;

/// The size of the 8910's factory file system, at the end of the flash.
pub const FACTORY_LEN: u64 = 0x20000;
/// The most bytes a logical area takes (a [`Region::logical`] has room for 16 MiB).
pub const LOGICAL_MAX: u64 = 16 << 20;

/// Where a region lies, as the FDL addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On the NOR flash, at this bus address.
    Flash(u32),
    /// In a logical area: its address and the offset into it.
    Logical {
        /// The logical address (0xFE000003 for NV).
        address: u32,
        /// Bytes into the area.
        offset: u32,
    },
}

/// Where `region` lies for the FDL: refuses what no 32-bit address reaches.
pub fn place(region: &Region) -> Result<Place, UnisocError> {
    let bad = |detail: String| UnisocError::Invalid { what: region.to_string(), detail };
    if let Some((address, offset)) = region.logical_address() {
        if offset.saturating_add(region.length) > LOGICAL_MAX {
            return Err(bad(format!("runs past the {LOGICAL_MAX:#x} bytes of a logical area")));
        }
        return Ok(Place::Logical { address, offset: offset as u32 });
    }
    let end = u64::from(NOR_BASE_8910).checked_add(region.end()).filter(|&e| e <= 0xFE00_0000);
    match (end, u32::try_from(u64::from(NOR_BASE_8910) + region.offset)) {
        (Some(_), Ok(address)) => Ok(Place::Flash(address)),
        _ => Err(bad("lies past what the 8910's 32-bit flash addresses reach".into())),
    }
}

/// The region of `size` bytes at flash bus address `address`.
fn flash_region(id: &str, address: u32, size: u64) -> Result<Region, String> {
    let offset = address
        .checked_sub(NOR_BASE_8910)
        .ok_or_else(|| format!("step {id}: address {address:#x} is below the flash ({NOR_BASE_8910:#x})"))?;
    if address >= 0xFE00_0000 {
        return Err(format!("step {id}: {address:#x} is a logical address, not the flash"));
    }
    Ok(Region::new(id, u64::from(offset), size))
}

/// The protected areas every 8910 layout has: PhaseCheck, and the factory file system when the
/// flash size is known.
fn protected_areas(flash_size: Option<u64>, notes: &mut Vec<String>) -> Vec<Region> {
    let mut out = vec![Region::logical("PhaseCheck", LOGICAL_PHASECHECK, u64::from(PHASECHECK_SIZE))];
    match flash_size {
        Some(size) if size > FACTORY_LEN => out.push(Region::new("factory FS", size - FACTORY_LEN, FACTORY_LEN)),
        _ => notes.push(
            "the flash size is not known from the package or the database, so the factory file system (the last \
             0x20000 bytes of the flash, where the 8910 keeps calibration) is not located and not backed up raw"
                .into(),
        ),
    }
    out
}

/// What the driver makes of a PAC: the core's layout, the notes for the plan, and the NV items
/// an NV write keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The layout.
    pub layout: Layout,
    /// What the layout does not show.
    pub notes: Vec<String>,
    /// NV item ids an NV write carries over from the module (the IMEI and the scheme's backup
    /// items); empty when the PAC writes no NV.
    pub keep: Vec<u16>,
}

/// Lays out `plan` (of `pac`, the package member `member`) for a flash of `flash_size` bytes
/// (when known: the memory code of the package or the module's product).
pub fn lay_out(
    plan: &DownloadPlan,
    pac: &PacFile,
    member: &str,
    flash_size: Option<u64>,
) -> Result<Planned, UnisocError> {
    if plan.chip != Chip::Uis8910 {
        return Err(UnisocError::NotSupported {
            what: format!(
                "{member}: flashing a UIS{} package. Its download sequence is recorded (amitv87/unisoc_dloader), but \
                 not where its NOR flash is mapped, where NV and PhaseCheck live and how to read them back for the \
                 backup, nor whether its loader refuses reads past the end of the flash; fwguard cannot back up, \
                 gate or verify such a flash",
                plan.chip.number()
            ),
        });
    }
    let refuse = |problem: String| UnisocError::Scheme { package: member.to_string(), problem };
    let mut notes = vec![
        "the UIS8910 loader has no flash-id query: the gate compares the flash size its reads reveal (where \
         READ_FLASH at 0x60000000 stops being answered) with the size the memory code names; which chip is fitted \
         is not verified"
            .to_string(),
    ];
    let mut partitions = protected_areas(flash_size, &mut notes);
    let mut steps = Vec::new();
    let mut keep = Vec::new();
    let entry = |index: usize| pac.entries.get(index).ok_or_else(|| refuse(format!("no file entry {index}")));
    for step in &plan.steps {
        match &step.action {
            Action::Backup { address, size } if *address == LOGICAL_NV => {
                partitions.push(Region::logical("NV", LOGICAL_NV, u64::from(*size)));
            }
            Action::Backup { .. } | Action::Reset => {}
            Action::Skip { reason } => notes.push(format!("not sent: {reason}")),
            Action::Erase { address, size } => {
                if *size == 0 || *address >= 0xFE00_0000 {
                    return Err(UnisocError::NotSupported {
                        what: format!(
                            "{member}: step {} erases {} at {address:#x}; what the 8910 loader erases there is not \
                             recorded, so fwguard cannot tell which areas it changes",
                            step.id,
                            if *size == 0 { "size 0".to_string() } else { format!("{size:#x} bytes") }
                        ),
                    });
                }
                steps.push(StepSpec::Erase(flash_region(&step.id, *address, u64::from(*size)).map_err(refuse)?));
            }
            Action::Write { entry: index, address, size } => {
                let e = entry(*index)?;
                let source =
                    Source { member: member.to_string(), offset: e.offset, length: u64::from(*size), pad: 0xFF };
                let region = match *address {
                    LOGICAL_PHASECHECK => Region::logical(&step.id, LOGICAL_PHASECHECK, u64::from(*size)),
                    a if a >= 0xFE00_0000 => {
                        return Err(UnisocError::NotSupported {
                            what: format!(
                                "{member}: step {} writes {} to logical address {a:#x}, which the 8910 loader cannot \
                                 read back, so the write could not be verified",
                                step.id,
                                e.label()
                            ),
                        });
                    }
                    a => flash_region(&step.id, a, u64::from(*size)).map_err(refuse)?,
                };
                steps.push(StepSpec::Write(region, source));
            }
            Action::WriteNv { entry: index, size, keep: items, .. } => {
                let e = entry(*index)?;
                let source =
                    Source { member: member.to_string(), offset: e.offset, length: u64::from(*size), pad: 0xFF };
                steps.push(StepSpec::Write(Region::logical("NV", LOGICAL_NV, u64::from(*size)), source));
                let ids: Vec<String> = items.iter().map(|i| format!("{i:#x}")).collect();
                notes.push(format!(
                    "NV is written merged: the package's {} with the module's items {} kept (the IMEI and the \
                     scheme's NV backup items), sealed with its checksum; it is verified against what was stored",
                    e.label(),
                    ids.join(", ")
                ));
                keep.clone_from(items);
            }
        }
    }
    notes.push(
        "NV and PhaseCheck are read from the module (READ_FLASH at 0xFE000003 and 0xFE000002) and backed up before \
         the first write"
            .into(),
    );
    let layout = Layout { partitions, steps, storage: StorageClaim::default() };
    Ok(Planned { layout, notes, keep })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::pac::{PacBuilder, PacFileSpec};
    use crate::image::pac::read_pac;

    fn planned(builder: &PacBuilder) -> Result<Planned, UnisocError> {
        let bytes = builder.to_bytes();
        let pac = read_pac(&mut std::io::Cursor::new(&bytes), "p.pac").unwrap();
        let plan = super::super::scheme::plan(&pac, "p.pac")?;
        lay_out(&plan, &pac, "p.pac", Some(8 << 20))
    }

    #[test]
    fn regions_are_flash_offsets_and_logical_areas() {
        let builder = PacBuilder::uis8910("EC200UCNAAR03A04M08").with_nv_steps();
        let p = planned(&builder).unwrap();
        let regions: Vec<String> = p.layout.steps.iter().map(|s| s.region().to_string()).collect();
        assert_eq!(regions, ["BOOT [0x0, +0x800)", "AP [0x10000, +0x2803)", "NV [logical 0xfe000003, +0x400)"]);
        let parts: Vec<String> = p.layout.partitions.iter().map(Region::to_string).collect();
        assert_eq!(
            parts,
            [
                "PhaseCheck [logical 0xfe000002, +0x100)",
                "factory FS [0x7e0000, +0x20000)",
                "NV [logical 0xfe000003, +0x400)"
            ]
        );
        assert_eq!(p.keep, [5, 0x100, 0x101]);
        assert!(p.notes.iter().any(|n| n.contains("not sent: FLASH")), "{:?}", p.notes);
        assert!(p.notes.iter().any(|n| n.contains("NV is written merged")), "{:?}", p.notes);
        assert_eq!(place(&p.layout.steps[1].region().clone()).unwrap(), Place::Flash(0x6001_0000));
        assert_eq!(place(p.layout.steps[2].region()).unwrap(), Place::Logical { address: LOGICAL_NV, offset: 0 });
        assert!(!p.layout.steps[2].region().overlaps(&p.layout.partitions[0]));
    }

    #[test]
    fn what_cannot_be_bounded_or_verified_is_refused() {
        let mut b = PacBuilder::uis8910("EC200UCNAAR03A04M08");
        b.files.push(PacFileSpec::operation("ERASE_BOOT", "EraseFlash", "ERASE_BOOT", 0x6000_0000, 0));
        let err = planned(&b).unwrap_err();
        assert!(matches!(err, UnisocError::NotSupported { .. }) && err.to_string().contains("size 0"), "{err}");
        let mut b = PacBuilder::uis8910("EC200UCNAAR03A04M08");
        b.files.push(PacFileSpec::file("PREPACK", "prepack.cpio", "CODE", 0xFE00_0004, 0x1000, vec![1; 16]));
        let err = planned(&b).unwrap_err();
        assert!(err.to_string().contains("cannot read back"), "{err}");
        let mut b = PacBuilder::uis8910("EC200UCNAAR03A04M08");
        b.files.push(PacFileSpec::file("LOW", "low.bin", "CODE", 0x1000_0000, 0x1000, vec![1; 16]));
        assert!(planned(&b).unwrap_err().to_string().contains("below the flash"));
        let mut b = PacBuilder::uis8910("EC200UCNAAR03A04M08");
        b.files.push(PacFileSpec::operation("ERASE_BOOT", "EraseFlash", "ERASE_BOOT", 0x6000_0000, 0x10000));
        let p = planned(&b).unwrap();
        assert_eq!(p.layout.steps.last(), Some(&StepSpec::Erase(Region::new("ERASE_BOOT", 0, 0x10000))));
    }
}
