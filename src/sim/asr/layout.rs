//! Where a simulated ASR module keeps its firmware (`system`) and its NV data (`nvm`): the
//! partition table its flash holds, for the `--state` flash to be laid out by.
//!
//! The 8 MB table is the real one of waybyte/logicromsdk `lib/asr160x/pack/partition_8M.bin`
//! (22 entries, CRC 0xF5076037), transcribed entry by entry. No 4 MB or 2 MB ASR table is
//! published; for those sizes the layout is the fixture builder's
//! ([`crate::image::build::asr::layout`]), so packages built for tests fit the module, and
//! [`AsrLayout::source`] says it is synthetic.

use crate::image::asr::partition_table::PtEntry;
use crate::image::build::asr as fixture;
use crate::sim::Profile;

/// The source of the real 8 MB table.
pub const TABLE_8M_SOURCE: &str = "waybyte/logicromsdk lib/asr160x/pack/partition_8M.bin";

/// A module's partition layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsrLayout {
    /// The table, in its order.
    pub entries: Vec<PtEntry>,
    /// Where it comes from; "synthetic" when no real table of this size is published.
    pub source: &'static str,
}

impl AsrLayout {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&PtEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The firmware partition whose content names the installed revision: `system` (which
    /// holds `cp`, the modem image, in the real table), else `cp`.
    pub fn firmware(&self) -> Option<&PtEntry> {
        self.get("system").or_else(|| self.get("cp"))
    }

    /// The NV partition.
    pub fn nvm(&self) -> Option<&PtEntry> {
        self.get("nvm")
    }

    /// Where the table itself is stored (`ptable`).
    pub fn ptable(&self) -> Option<&PtEntry> {
        self.get("ptable")
    }

    /// The table as `partition.bin` bytes (format A, with its CRC), to write at
    /// [`AsrLayout::ptable`].
    pub fn partition_bin(&self) -> Vec<u8> {
        fixture::partition_bin(&self.entries)
    }
}

fn entry(name: &str, kind: &str, start: u32, size: u32, vstart: u32, vsize: u32, depth: u32) -> PtEntry {
    PtEntry {
        name: name.into(),
        kind: kind.into(),
        flash_index: (kind == "flash").then(|| "0".to_string()),
        start,
        size,
        vstart,
        vsize,
        depth,
    }
}

/// The real 8 MB table (waybyte/logicromsdk `lib/asr160x/pack/partition_8M.bin`).
pub fn table_8m() -> Vec<PtEntry> {
    let x = |start: u32| 0x8000_0000 + start;
    vec![
        entry("all", "group", 0, 0x80_0000, 0xFFFF_FFFF, 0x80_0000, 0),
        entry("external", "flash", 0, 0x80_0000, x(0), 0x80_0000, 1),
        entry("bootloader", "ubi", 0, 0x2_4000, x(0), 0x2_4000, 2),
        entry("system", "part", 0x2_4000, 0x49_6000, x(0x2_4000), 0x49_6000, 2),
        entry("ptable", "raw", 0x2_4000, 0x1000, x(0x2_4000), 0x88C, 3),
        entry("fwcerts", "raw", 0x2_5000, 0x3000, x(0x2_5000), 0x7F4, 3),
        entry("rd", "raw", 0x2_8000, 0x1_0000, x(0x2_8000), 0x1_0000, 3),
        entry("apn", "raw", 0x3_8000, 0x8000, x(0x3_8000), 0x6796, 3),
        entry("cp", "raw", 0x4_0000, 0x35_9000, x(0x4_0000), 0x35_9000, 3),
        entry("dsp", "raw", 0x39_9000, 0x11_0000, x(0x39_9000), 0x10_F054, 3),
        entry("rfbin", "raw", 0x4A_9000, 0x8000, x(0x4A_9000), 0x8000, 3),
        entry("logo", "raw", 0x4B_1000, 0x9000, x(0x4B_1000), 0x83B4, 3),
        entry("reserved", "raw", 0x4B_A000, 0x8_2000, x(0x4B_A000), 0x8_2000, 2),
        entry("user_app", "raw", 0x53_C000, 0x8_0000, x(0x53_C000), 0x1000, 2),
        entry("user_fs", "raw", 0x5B_C000, 0x10_0000, x(0x5B_C000), 0x10_0000, 2),
        entry("fota_param", "raw", 0x6B_C000, 0x4000, x(0x6B_C000), 0x4000, 2),
        entry("updater", "raw", 0x6C_0000, 0x2_0000, x(0x6C_0000), 0x1_B648, 2),
        entry("fota_pkg", "raw", 0x6E_0000, 0x8_0000, x(0x6E_0000), 0x8_0000, 2),
        entry("nvm", "raw", 0x76_0000, 0x8_0000, x(0x76_0000), 0x8_0000, 2),
        entry("factory", "part", 0x7E_0000, 0x2_0000, x(0x7E_0000), 0x2_0000, 2),
        entry("factory_a", "raw", 0x7E_0000, 0x1_0000, x(0x7E_0000), 0x1_0000, 3),
        entry("factory_b", "raw", 0x7F_0000, 0x1_0000, x(0x7F_0000), 0x1_0000, 3),
    ]
}

/// The layout of an ASR profile's flash: the real 8 MB table for 8 MB modules, the fixture
/// builder's for others. `None` for a profile that is not an ASR Crane module with NOR flash.
pub fn layout(profile: &Profile) -> Option<AsrLayout> {
    if profile.platform != crate::sim::Platform::Asr || profile.flash.kind != "nor" {
        return None;
    }
    match profile.flash.size {
        0x80_0000 => Some(AsrLayout { entries: table_8m(), source: TABLE_8M_SOURCE }),
        size if size >= 1 << 20 => Some(AsrLayout { entries: fixture::layout(size), source: "synthetic" }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::asr::partition_table::PartitionTable;

    #[test]
    fn the_8m_table_is_the_published_one() {
        // The published file's CRC-32 (waybyte/logicromsdk:lib/asr160x/pack/partition_8M.bin): the transcription is byte-exact.
        let bytes = fixture::partition_bin(&table_8m());
        let t = PartitionTable::parse(&bytes, "partition_8M.bin").unwrap();
        assert_eq!(t.crc, 0xF507_6037);
        assert_eq!(t.entries.len(), 22);
    }

    #[test]
    fn every_asr_profile_has_firmware_and_nvm_inside_its_flash() {
        for p in crate::sim::builtin().unwrap().iter().filter(|p| p.platform == crate::sim::Platform::Asr) {
            let Some(l) = layout(p) else { continue };
            let (fw, nvm) = (l.firmware().unwrap(), l.nvm().unwrap());
            assert!(nvm.end() <= p.flash.size && fw.end() <= p.flash.size, "{}", p.name);
            assert!(fw.end() <= u64::from(nvm.start) || nvm.end() <= u64::from(fw.start), "{}", p.name);
            assert!(PartitionTable::parse(&l.partition_bin(), "t").is_ok(), "{}", p.name);
        }
        let la = layout(&crate::sim::find("ec800m-cn-la").unwrap()).unwrap();
        assert_eq!((la.nvm().unwrap().start, la.source), (0x76_0000, TABLE_8M_SOURCE));
        assert_eq!(la.firmware().unwrap().name, "system");
    }
}
