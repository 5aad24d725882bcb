//! Whether a partition, file or step name means data unique to each module that a flash must
//! not erase or overwrite: calibration, NV, IMEI (calibration is unique to each module:
//! <https://forums.quectel.com/t/56770>; the names come from real layouts:
//! `defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`,
//! `waybyte/logicromsdk:lib/asr160x/pack/partition_8M.bin`, and the PAC schemes
//! `ilyakurdyukov/spreadtrum_flash:unpac/unpac.c` lists). One classifier for every platform, with the union of
//! the words each needs:
//!
//! - `imei` anywhere in a word: the IMEI area;
//! - `cali` anywhere in a word (`calib`, `calibration`, `cali`), and `qcn` (a Qualcomm
//!   calibration backup): calibration;
//! - `phasecheck`: Unisoc PhaseCheck (serial number and factory test results);
//! - a word starting or ending with `nv`, trailing digits aside (`nv`, `nvm`, `nv_cust`,
//!   `FixNV1`, `RunNV`), but not one ending with `env`: NV data;
//! - a word starting with `factory`: factory (calibration) data;
//! - `efs`, `efs2`: the Qualcomm EFS, which holds the RF calibration on MDM9x07;
//! - `fsg`, `fsc`, `modemst1`, `modemst2`: the NV backups of Qualcomm layouts;
//! - `rd`, or `reliable` in a word: ASR ReliableData, which may hold IMEI and calibration.
//!
//! Words are the ASCII letters and digits between other characters, compared without regard
//! to case. Platform-specific addresses (Unisoc's logical NV addresses) are the platform
//! reader's to check; this module judges names.

/// What a protected area holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The IMEI.
    Imei,
    /// RF calibration data.
    Calibration,
    /// Unisoc PhaseCheck.
    PhaseCheck,
    /// NV data.
    Nv,
    /// Factory data.
    Factory,
    /// The Qualcomm EFS.
    Efs,
    /// A Qualcomm NV backup (`fsg`, `fsc`, `modemst1/2`).
    NvBackup,
    /// ASR ReliableData.
    ReliableData,
}

impl Area {
    /// What the area holds, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Area::Imei => "IMEI",
            Area::Calibration => "calibration",
            Area::PhaseCheck => "PhaseCheck (serial number and factory test results)",
            Area::Nv => "NV",
            Area::Factory => "factory calibration data",
            Area::Efs => "EFS: RF calibration and NV",
            Area::NvBackup => "NV backup",
            Area::ReliableData => "ReliableData (may hold IMEI and calibration)",
        }
    }
}

/// The protected area a partition, file or step name names, if any. When a name has words of
/// several areas, the first in the order of [`Area`] is given.
pub fn area(name: &str) -> Option<Area> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let any = |test: fn(&str) -> bool| words.iter().any(|w| test(w));
    if any(|w| w.contains("imei")) {
        Some(Area::Imei)
    } else if any(|w| w.contains("cali") || w == "qcn") {
        Some(Area::Calibration)
    } else if any(|w| w.contains("phasecheck")) {
        Some(Area::PhaseCheck)
    } else if any(is_nv) {
        Some(Area::Nv)
    } else if any(|w| w.starts_with("factory")) {
        Some(Area::Factory)
    } else if any(|w| matches!(w, "efs" | "efs2")) {
        Some(Area::Efs)
    } else if any(|w| matches!(w, "fsg" | "fsc" | "modemst1" | "modemst2")) {
        Some(Area::NvBackup)
    } else if any(|w| w == "rd" || w.contains("reliable")) {
        Some(Area::ReliableData)
    } else {
        None
    }
}

/// Whether a partition, file or step name names a protected area.
pub fn is_protected(name: &str) -> bool {
    area(name).is_some()
}

fn is_nv(word: &str) -> bool {
    let stem = word.trim_end_matches(|c: char| c.is_ascii_digit());
    stem.starts_with("nv") || (stem.ends_with("nv") && !stem.ends_with("env"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualcomm_names() {
        for yes in
            ["efs2", "EFS2", "efs", "fsg", "fsc", "modemst1", "modemst2", "cal.qcn", "nv", "nvm", "0:EFS2", "efs2.mbn"]
        {
            assert!(is_protected(yes), "{yes}");
        }
        assert_eq!(area("0:EFS2"), Some(Area::Efs));
        assert_eq!(area("modemst1"), Some(Area::NvBackup));
        for no in ["modem", "system", "sbl", "NON-HLOS.ubi", "recoveryfs", "invalid", "efsx", "sbl1.mbn", "tz.mbn"] {
            assert_eq!(area(no), None, "{no}");
        }
    }

    #[test]
    fn asr_names() {
        for (name, want) in [
            ("nvm", Area::Nv),
            ("nv", Area::Nv),
            ("nv_cust", Area::Nv),
            ("imei", Area::Imei),
            ("calib_data", Area::Calibration),
            ("factory", Area::Factory),
            ("factory_data", Area::Factory),
            ("rd", Area::ReliableData),
            ("reliable_data", Area::ReliableData),
        ] {
            assert_eq!(area(name), Some(want), "{name}");
        }
        for no in ["cp", "user_app", "user_fs", "bootloader", "ptable", "external", "all", "system", "apn"] {
            assert_eq!(area(no), None, "{no}");
        }
    }

    #[test]
    fn unisoc_names() {
        for (name, want) in [
            ("ERASE_NV EraseFlash", Area::Nv),
            ("NV  NV", Area::Nv),
            ("FixNV1", Area::Nv),
            ("RunNV", Area::Nv),
            ("ProdNV", Area::Nv),
            ("PhaseCheck", Area::PhaseCheck),
            ("Calibration", Area::Calibration),
            ("CALI_DATA", Area::Calibration),
            ("IMEI_BACKUP", Area::Imei),
        ] {
            assert_eq!(area(name), Some(want), "{name}");
        }
        for no in ["UBOOT_ENV", "ENV", "BOOT  CODE", "HOST_FDL", "FDL2", "AP", "EraseFlash", "FMT_FSSYS", "PS"] {
            assert_eq!(area(no), None, "{no}");
        }
    }
}
