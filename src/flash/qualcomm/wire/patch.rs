//! Firehose `<patch>`: change a few bytes of one sector in place, with values a programmer works
//! out on the target.
//!
//! Attributes: `SECTOR_SIZE_IN_BYTES byte_offset filename physical_partition_number size_in_bytes
//! start_sector value [what]`. Only `filename="DISK"` patches are meant for the target; others
//! patch a file of the package before it is written (QFirehose drops them, Qualcomm's device
//! programmer skips them). `start_sector` and `value` may be expressions the programmer evaluates
//! (Qualcomm's device programmer `devprg_firehose.c` `get_sector_value` and `handle_patch`):
//! - a number, decimal or `0x` hexadecimal;
//! - `NUM_DISK_SECTORS-<n>.`: the disk's sector count minus n (the trailing dot is optional);
//! - `NUM_DISK_BLOCKS-<n>.`: the same in erase blocks, as Quectel's NAND packages use it for the
//!   MIBIB (`patch_p2K_b128K.xml` of the EG25-G package in Biktorgj/quectel_eg25_recovery:
//!   `value="NUM_DISK_BLOCKS-1458."`);
//! - `CRC32(<sector>,<bytes>)`: the CRC-32 of `bytes` bytes from that sector (`CRC32(0,4096)` in
//!   the same file).
//!
//! The value is written little-endian, `size_in_bytes` (at most 8) bytes at `byte_offset`.

use super::firehose::{Element, number};
use crate::image::qualcomm::xml;

/// The longest value a patch writes, in bytes (the device programmer refuses more).
pub const MAX_PATCH_BYTES: u32 = 8;

/// A sector number, maybe counted from the end of the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectorExpr {
    /// This sector.
    At(u64),
    /// `NUM_DISK_SECTORS-<n>.`
    SectorsFromEnd(u64),
    /// `NUM_DISK_BLOCKS-<n>.` (in erase blocks).
    BlocksFromEnd(u64),
}

/// What a patch writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchValue {
    /// A number, or a position counted from the end of the disk.
    Number(SectorExpr),
    /// `CRC32(<sector>,<bytes>)`.
    Crc32 {
        /// Where the checksummed bytes start.
        start: SectorExpr,
        /// How many bytes.
        bytes: u64,
    },
}

/// The disk a patch is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disk {
    /// Sectors (NAND pages) on the disk.
    pub total_sectors: u64,
    /// Sectors per erase block.
    pub sectors_per_block: u64,
}

impl SectorExpr {
    /// Parses `640`, `0x280`, `NUM_DISK_SECTORS-1.` or `NUM_DISK_BLOCKS-1458.`.
    pub fn parse(text: &str) -> Option<SectorExpr> {
        let t = text.trim();
        let tail = |rest: &str| number(rest.strip_suffix('.').unwrap_or(rest));
        if let Some(rest) = t.strip_prefix("NUM_DISK_SECTORS-") {
            return tail(rest).map(SectorExpr::SectorsFromEnd);
        }
        if let Some(rest) = t.strip_prefix("NUM_DISK_BLOCKS-") {
            return tail(rest).map(SectorExpr::BlocksFromEnd);
        }
        number(t).map(SectorExpr::At)
    }

    /// The number on `disk`; an error when it would fall before the start of the disk.
    pub fn resolve(self, disk: &Disk) -> Result<u64, String> {
        let blocks = disk.total_sectors / disk.sectors_per_block.max(1);
        match self {
            SectorExpr::At(n) => Ok(n),
            SectorExpr::SectorsFromEnd(n) => disk.total_sectors.checked_sub(n).ok_or_else(|| {
                format!("NUM_DISK_SECTORS-{n} is before the start of a {}-sector disk", disk.total_sectors)
            }),
            SectorExpr::BlocksFromEnd(n) => blocks
                .checked_sub(n)
                .ok_or_else(|| format!("NUM_DISK_BLOCKS-{n} is before the start of a {blocks}-block disk")),
        }
    }

    fn shifted(self, by: u64) -> SectorExpr {
        match self {
            SectorExpr::At(n) => SectorExpr::At(n.saturating_add(by)),
            other => other,
        }
    }

    fn text(self) -> String {
        match self {
            SectorExpr::At(n) => n.to_string(),
            SectorExpr::SectorsFromEnd(n) => format!("NUM_DISK_SECTORS-{n}."),
            SectorExpr::BlocksFromEnd(n) => format!("NUM_DISK_BLOCKS-{n}."),
        }
    }
}

impl PatchValue {
    /// Parses a `value` attribute.
    pub fn parse(text: &str) -> Option<PatchValue> {
        let t = text.trim();
        if let Some(inner) = t.strip_prefix("CRC32(") {
            let inner = inner.strip_suffix(')')?;
            let (start, bytes) = inner.split_once(',')?;
            return Some(PatchValue::Crc32 { start: SectorExpr::parse(start)?, bytes: number(bytes)? });
        }
        SectorExpr::parse(t).map(PatchValue::Number)
    }

    fn text(self) -> String {
        match self {
            PatchValue::Number(e) => e.text(),
            PatchValue::Crc32 { start, bytes } => format!("CRC32({},{bytes})", start.text()),
        }
    }
}

/// One `<patch>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// `SECTOR_SIZE_IN_BYTES`.
    pub sector_size: u32,
    /// `byte_offset` in the sector.
    pub byte_offset: u32,
    /// `filename`: `DISK`, or the package file it patches.
    pub filename: String,
    /// `physical_partition_number`.
    pub physical_partition: u32,
    /// `size_in_bytes` (1 to 8).
    pub size_in_bytes: u32,
    /// `start_sector`.
    pub start_sector: SectorExpr,
    /// `value`.
    pub value: PatchValue,
    /// `what`, the package's note about it.
    pub what: Option<String>,
}

impl Patch {
    /// Reads a `<patch>` element. The error names the attribute that is missing or malformed.
    pub fn from_element(e: &Element) -> Result<Patch, String> {
        let text = |k: &str| e.attr(k).ok_or_else(|| format!("<patch> has no {k}"));
        let num = |k: &str| -> Result<u32, String> {
            let t = text(k)?;
            number(t).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("<patch> {k}=\"{t}\" is not a number"))
        };
        let size_in_bytes = num("size_in_bytes")?;
        if !(1..=MAX_PATCH_BYTES).contains(&size_in_bytes) {
            return Err(format!(
                "<patch> size_in_bytes=\"{size_in_bytes}\": a patch writes 1 to {MAX_PATCH_BYTES} bytes"
            ));
        }
        let start = text("start_sector")?;
        let value = text("value")?;
        Ok(Patch {
            sector_size: num("SECTOR_SIZE_IN_BYTES")?,
            byte_offset: num("byte_offset")?,
            filename: text("filename")?.trim().to_string(),
            physical_partition: e.attr("physical_partition_number").and_then(number).map_or(0, |n| n as u32),
            size_in_bytes,
            start_sector: SectorExpr::parse(start)
                .ok_or_else(|| format!("<patch> start_sector=\"{start}\" is not a sector or NUM_DISK_SECTORS-n."))?,
            value: PatchValue::parse(value).ok_or_else(|| format!("<patch> value=\"{value}\" is not understood"))?,
            what: e.attr("what").map(str::to_string),
        })
    }

    /// Whether the patch is for the target's disk (`filename="DISK"`).
    pub fn is_disk(&self) -> bool {
        self.filename.eq_ignore_ascii_case("DISK")
    }

    /// This file patch as a disk patch, for a file written at `file_start_sector`: sector numbers
    /// (the patched sector and a CRC's start) move by that much; positions counted from the end
    /// of the disk stay.
    pub fn to_disk(&self, file_start_sector: u64) -> Patch {
        let value = match self.value {
            PatchValue::Crc32 { start, bytes } => PatchValue::Crc32 { start: start.shifted(file_start_sector), bytes },
            other => other,
        };
        Patch {
            filename: "DISK".into(),
            start_sector: self.start_sector.shifted(file_start_sector),
            value,
            ..self.clone()
        }
    }

    /// The attributes of the `<patch>` command that sends it.
    pub fn attrs(&self) -> Vec<(&'static str, String)> {
        let mut a = vec![
            ("SECTOR_SIZE_IN_BYTES", self.sector_size.to_string()),
            ("byte_offset", self.byte_offset.to_string()),
            ("filename", self.filename.clone()),
            ("physical_partition_number", self.physical_partition.to_string()),
            ("size_in_bytes", self.size_in_bytes.to_string()),
            ("start_sector", self.start_sector.text()),
            ("value", self.value.text()),
        ];
        if let Some(w) = &self.what {
            a.push(("what", w.clone()));
        }
        a
    }
}

/// The most bytes a `CRC32(...)` value may cover (16 MiB): a programmer reads them whole.
pub const MAX_CRC_BYTES: u64 = 16 << 20;

/// The CRC-32 a `CRC32(...)` value gives: the common CRC-32 (reflected, polynomial 0x04C11DB7,
/// as for GPT headers).
pub fn crc32(bytes: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(bytes)
}

impl Patch {
    /// What the patch does on `disk`: the sector it changes and the value it writes there, as a
    /// programmer works them out. `read(first, count)` reads whole sectors (for `CRC32`).
    pub fn evaluate(
        &self,
        disk: &Disk,
        read: &mut dyn FnMut(u64, u64) -> Result<Vec<u8>, String>,
    ) -> Result<(u64, u64), String> {
        let sector = self.start_sector.resolve(disk)?;
        let value = match self.value {
            PatchValue::Number(n) => n.resolve(disk)?,
            PatchValue::Crc32 { start, bytes } => {
                if bytes > MAX_CRC_BYTES {
                    return Err(format!("CRC32 over {bytes} bytes is too large (at most {MAX_CRC_BYTES})"));
                }
                let sectors = bytes.div_ceil(u64::from(self.sector_size.max(1))).max(1);
                let data = read(start.resolve(disk)?, sectors)?;
                let covered = data.get(..bytes as usize).ok_or("the sectors read are shorter than the CRC's range")?;
                u64::from(crc32(covered))
            }
        };
        Ok((sector, value))
    }

    /// The bytes the value puts in the sector: little-endian, `size_in_bytes` long.
    pub fn value_bytes(&self, value: u64) -> Vec<u8> {
        value.to_le_bytes()[..(self.size_in_bytes as usize).min(8)].to_vec()
    }
}

/// Reads every `<patch>` of a patch XML file (a Quectel NAND package may ship one with none).
pub fn parse_patches(text: &str) -> Result<Vec<Patch>, String> {
    let mut out = Vec::new();
    for el in xml::elements(text)? {
        if el.name.eq_ignore_ascii_case("patch") {
            let e = Element { tag: el.name.clone(), attrs: el.attrs.clone() };
            out.push(Patch::from_element(&e).map_err(|m| format!("patch {}: {m}", out.len() + 1))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `patch_p2K_b128K.xml` of the EG25-G package (Biktorgj/quectel_eg25_recovery).
    const EG25: &str = r#"<?xml version="1.0" ?>
<patches>
  <patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="484" filename="partition_complete_p2K_b128K.mbn" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="NUM_DISK_BLOCKS-1458." what="Update MIBIB partition last sector size limit"/>
  <patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="12" filename="partition_complete_p2K_b128K.mbn" physical_partition_number="0" size_in_bytes="4" start_sector="3" value="CRC32(0,4096)" what="Update MIBIB partition with CRC of MIBIB header sector and Syster partition sector."/>
</patches>"#;

    #[test]
    fn real_patches_parse_and_move_to_the_disk() {
        let p = parse_patches(EG25).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].value, PatchValue::Number(SectorExpr::BlocksFromEnd(1458)));
        assert_eq!(p[1].value, PatchValue::Crc32 { start: SectorExpr::At(0), bytes: 4096 });
        assert!(!p[0].is_disk());
        let disk = p[1].to_disk(640);
        assert!(disk.is_disk());
        assert_eq!(disk.start_sector, SectorExpr::At(643));
        assert_eq!(disk.value, PatchValue::Crc32 { start: SectorExpr::At(640), bytes: 4096 });
        assert_eq!(p[0].to_disk(640).value, p[0].value);
        // 256 MiB of 128 KiB blocks: 2048 blocks, 131072 sectors of 2 KiB.
        let eg25 = Disk { total_sectors: 131_072, sectors_per_block: 64 };
        assert_eq!(SectorExpr::BlocksFromEnd(1458).resolve(&eg25), Ok(590));
        assert_eq!(SectorExpr::SectorsFromEnd(1).resolve(&eg25), Ok(131_071));
        assert!(SectorExpr::BlocksFromEnd(4096).resolve(&eg25).unwrap_err().contains("2048-block"));
        // The command carries the same expressions back.
        let attrs = disk.attrs();
        assert!(attrs.contains(&("value", "CRC32(640,4096)".to_string())));
        assert!(p[0].attrs().contains(&("value", "NUM_DISK_BLOCKS-1458.".to_string())));
    }

    #[test]
    fn expressions() {
        assert_eq!(SectorExpr::parse("NUM_DISK_SECTORS-33."), Some(SectorExpr::SectorsFromEnd(33)));
        assert_eq!(SectorExpr::parse("NUM_DISK_SECTORS-1"), Some(SectorExpr::SectorsFromEnd(1)));
        assert_eq!(SectorExpr::parse("0x10"), Some(SectorExpr::At(16)));
        assert_eq!(
            PatchValue::parse("CRC32(NUM_DISK_SECTORS-33.,4096)").map(|v| v.text()).as_deref(),
            Some("CRC32(NUM_DISK_SECTORS-33.,4096)")
        );
        for bad in ["NUM_DISK_SECTORS", "NUM_DISK_SECTORS-x.", "CRC32(1)", "CRC32(1,2", "-1", ""] {
            assert_eq!(PatchValue::parse(bad), None, "{bad}");
        }
        let too_big = r#"<patch SECTOR_SIZE_IN_BYTES="512" byte_offset="0" filename="DISK" size_in_bytes="9" start_sector="1" value="0"/>"#;
        assert!(parse_patches(too_big).unwrap_err().contains("1 to 8"));
    }
}
