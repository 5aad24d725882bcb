//! The order Quectel's tools flash a NAND package in: the boot loader (every entry at sector 0,
//! the SBL) is erased first and written last, so a flash cut short leaves a module that comes up
//! in emergency download rather than one that boots half-written firmware. QFirehose
//! (`firehose_protocol.c`, rule "first erase SBL, last program SBL" from V1.2.4; confirmed by its
//! logs) sends: erases at sector 0, the other erases, the other programs, the programs at sector
//! 0, then the disk patches. It drops `<program>` entries without a file and `<erase>` entries
//! without `SECTOR_SIZE_IN_BYTES` (they would erase the whole device). The core's planner takes
//! this as data: each step with the phase it belongs to.

use crate::image::qualcomm::rawprogram::{Step, StepKind};

/// Where a step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// 1. Erase the boot loader (an erase at sector 0).
    EraseBootLoader,
    /// 2. Every other erase.
    Erase,
    /// 3. Every other program.
    Program,
    /// 4. Write the boot loader (a program at sector 0), last.
    ProgramBootLoader,
    /// 5. A patch of the target's disk (`filename="DISK"`), after everything is written.
    DiskPatch,
    /// A patch of a package file: applied to that file before it is written (or sent as a disk
    /// patch with `Patch::to_disk`), never sent as is.
    FilePatch,
    /// Left out, as QFirehose leaves it out; the reason says why.
    Dropped(&'static str),
}

impl Phase {
    /// The phase's place in the order (dropped steps last).
    pub fn rank(self) -> u8 {
        match self {
            Phase::EraseBootLoader => 0,
            Phase::Erase => 1,
            Phase::Program => 2,
            Phase::ProgramBootLoader => 3,
            Phase::DiskPatch => 4,
            Phase::FilePatch => 5,
            Phase::Dropped(_) => 6,
        }
    }
}

/// A step in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordered<'s> {
    /// Its phase.
    pub phase: Phase,
    /// The step (from `image::qualcomm::rawprogram::parse_steps`).
    pub step: &'s Step,
}

/// Whether `step` touches the boot loader: it starts at sector 0.
pub fn is_boot_loader(step: &Step) -> bool {
    step.start_sector == Some(0)
}

/// The phase of one step.
pub fn phase(step: &Step) -> Phase {
    match step.kind {
        StepKind::Erase if step.erases_whole_device() => {
            Phase::Dropped("an erase with no SECTOR_SIZE_IN_BYTES erases the whole device, calibration included")
        }
        StepKind::Erase if is_boot_loader(step) => Phase::EraseBootLoader,
        StepKind::Erase => Phase::Erase,
        StepKind::Program if step.filename.is_none() => Phase::Dropped("a program entry with no file"),
        StepKind::Program if is_boot_loader(step) => Phase::ProgramBootLoader,
        StepKind::Program => Phase::Program,
        StepKind::Patch if step.filename.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("DISK")) => Phase::DiskPatch,
        StepKind::Patch => Phase::FilePatch,
    }
}

/// The steps of one or more rawprogram and patch files (in file order) in Quectel's NAND order;
/// within a phase the file order is kept. Dropped steps come last, with their reason.
pub fn quectel_nand_order(steps: &[Step]) -> Vec<Ordered<'_>> {
    let mut out: Vec<Ordered<'_>> = steps.iter().map(|step| Ordered { phase: phase(step), step }).collect();
    out.sort_by_key(|o| o.phase.rank()); // stable: file order within a phase
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::qualcomm::rawprogram::parse_steps;

    #[test]
    fn sbl_is_erased_first_and_written_last() {
        // The shape of the EG25-G package's rawprogram (Biktorgj/quectel_eg25_recovery): programs
        // and erases interleaved, the SBL erase near the end, then a patch file.
        let a = r#"PAGES_PER_BLOCK="64" SECTOR_SIZE_IN_BYTES="2048" physical_partition_number="0""#;
        let xml = format!(
            r#"<data>
            <program {a} filename="..\sbl1.mbn" num_partition_sectors="640" start_sector="0"/>
            <program {a} filename="partition_complete_p2K_b128K.mbn" num_partition_sectors="640" start_sector="640"/>
            <erase {a} num_partition_sectors="576" start_sector="13952"/>
            <program {a} filename="..\rpm.mbn" num_partition_sectors="576" start_sector="13952"/>
            <erase {a} num_partition_sectors="640" start_sector="640"/>
            <erase {a} num_partition_sectors="640" start_sector="0"/>
            <erase num_partition_sectors="0" start_sector="0"/>
            <program {a} filename="" num_partition_sectors="1" start_sector="9"/>
            <patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="12" filename="partition_complete_p2K_b128K.mbn" size_in_bytes="4" start_sector="3" value="CRC32(0,4096)"/>
            <patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="0" filename="DISK" size_in_bytes="4" start_sector="1" value="0"/>
            </data>"#
        );
        let steps = parse_steps(&xml).unwrap();
        let order: Vec<(Phase, usize)> = quectel_nand_order(&steps).iter().map(|o| (o.phase, o.step.number)).collect();
        use Phase::*;
        assert_eq!(
            order[..8],
            [
                (EraseBootLoader, 6),
                (Erase, 3),
                (Erase, 5),
                (Program, 2),
                (Program, 4),
                (ProgramBootLoader, 1),
                (DiskPatch, 10),
                (FilePatch, 9),
            ]
        );
        assert!(matches!(order[8].0, Dropped(r) if r.contains("whole device")));
        assert!(matches!(order[9].0, Dropped(r) if r.contains("no file")));
    }
}
