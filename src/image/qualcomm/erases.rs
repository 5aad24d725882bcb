//! What a package would erase or overwrite that a module cannot get back: calibration, NV and
//! IMEI areas (RF calibration is unique to each module and lost with an erase-all:
//! <https://forums.quectel.com/t/56770>; on MDM9x07 it lives in `efs2`,
//! `defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`). Each finding is a sentence
//! naming the file and the step.

use super::rawprogram::{Step, StepKind};
use crate::image::protected;

/// Findings for one rawprogram or patch file. `file` is its path in the package; `partition`
/// names the partition a step touches, when known.
pub fn findings(file: &str, steps: &[Step], partition: &dyn Fn(&Step) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    let file_name = file.rsplit('/').next().unwrap_or(file);
    if file_name.to_ascii_lowercase().contains("factory") {
        out.push(format!(
            "{file}: a factory layout; factory layouts write or erase the calibration and NV areas (efs2) that update layouts leave alone"
        ));
    }
    for step in steps {
        if step.erases_whole_device() {
            out.push(format!(
                "{file} step {} {}: an erase with no SECTOR_SIZE_IN_BYTES erases the whole device, calibration (efs2) and IMEI included",
                step.number,
                step.describe()
            ));
            continue;
        }
        let name = partition(step);
        let file_base = step.filename.as_deref().map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f));
        let touched = [name.as_deref(), step.label.as_deref(), file_base]
            .into_iter()
            .flatten()
            .find_map(|n| protected::area(n).map(|area| (n, area)));
        if let Some((what, area)) = touched {
            let verb = match step.kind {
                StepKind::Erase => "erases",
                StepKind::Program => "overwrites",
                StepKind::Patch => "patches",
            };
            out.push(format!(
                "{file} step {} {}: {verb} {what} ({}), a calibration, NV or IMEI area that is unique to each module",
                step.number,
                step.describe(),
                area.label()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::qualcomm::rawprogram::parse_steps;

    #[test]
    fn names() {
        for yes in ["efs2", "EFS2", "fsg", "modemst1", "cal.qcn", "nv", "0:EFS2", "efs2.mbn"] {
            assert!(protected::is_protected(yes), "{yes}");
        }
        for no in ["modem", "system", "sbl", "NON-HLOS.ubi", "recoveryfs", "invalid", "efsx"] {
            assert!(!protected::is_protected(no), "{no}");
        }
    }

    #[test]
    fn finds_erase_all_and_calibration() {
        let steps = parse_steps(
            r#"<data><erase start_sector="0" num_partition_sectors="0"/>
            <program SECTOR_SIZE_IN_BYTES="4096" filename="efs2.mbn" start_sector="1280" num_partition_sectors="5632"/>
            <program SECTOR_SIZE_IN_BYTES="4096" filename="..\tz.mbn" start_sector="8960" num_partition_sectors="320"/></data>"#,
        )
        .unwrap();
        let f = findings("P/update/firehose/rawprogram_nand_p4K_b256K_factory.xml", &steps, &|_| None);
        assert_eq!(f.len(), 3, "{f:#?}");
        assert!(f[0].contains("factory layout"));
        assert!(f[1].contains("step 1") && f[1].contains("whole device"));
        assert!(f[2].contains("step 2") && f[2].contains("overwrites efs2.mbn"));
    }
}
