//! The chips the simulated boot ROM plays: what Sahara says about itself and which programmers
//! it loads.

use std::ops::Range;

use crate::flash::qualcomm::wire::mbn::EM_ARM;

/// A chip as its boot ROM presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    /// The chipset name, as profiles give it.
    pub name: &'static str,
    /// The MSM id in the HW id (`MSM_ID << 32 | OEM_ID << 16 | MODEL_ID`).
    pub msm_id: u32,
    /// Sahara version in HELLO.
    pub sahara_version: u32,
    /// Oldest Sahara version it speaks.
    pub sahara_compatible: u32,
    /// Whether it asks for the image with READ_DATA_64 (newer parts do).
    pub read64: bool,
    /// Whether its programmers are ELF64.
    pub elf64: bool,
    /// Their `e_machine`.
    pub machine: u16,
    /// Where the boot ROM may load a programmer's segments.
    pub load_region: Range<u64>,
    /// The programmer's `TargetName` in its configure answer.
    pub target_name: &'static str,
}

/// MDM9607 (EC25, EG25-G, EG91, EG95). MSM id 0x000480E1 as an EC25-E reports it in command mode
/// (defencore/tech_documentation `002-quectel-ec25-firmware-flashing.md`); Sahara version 2,
/// compatible 1 and READ_DATA as real 9x07 logs show; programmers are ELF32 ARM loading into the
/// on-chip memory at 0x08000000 (the EG25-G package's programmer loads at 0x08005800 with its hash
/// segment at 0x08040000; the region's end is the simulator's choice); `TargetName` 9x07 as the
/// programmer answers in Biktorgj/quectel_eg25_recovery issue 29.
pub const MDM9607: Chip = Chip {
    name: "MDM9607",
    msm_id: 0x0004_80E1,
    sahara_version: 2,
    sahara_compatible: 1,
    read64: false,
    elf64: false,
    machine: EM_ARM,
    load_region: 0x0800_0000..0x0810_0000,
    target_name: "9x07",
};

/// The chip of a profile's chipset; chipsets not modelled yet play an MDM9607 (the simulator's
/// choice), so any Qualcomm profile can be flashed.
pub fn for_chipset(chipset: &str) -> Chip {
    match chipset.to_ascii_uppercase().as_str() {
        "MDM9607" => MDM9607,
        _ => Chip { name: "generic 9x07-like", ..MDM9607 },
    }
}
