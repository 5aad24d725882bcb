//! `partition.bin`: the ASR partition table, format "A" (magic "BTPA"), with its zlib CRC-32.
//!
//! Layout (as found in `waybyte/logicromsdk:lib/asr160x/pack/partition_8M.bin`): u32 magic, u32 count (at most 32), 32 entry slots of 68 bytes, u32
//! CRC-32 of bytes `[0, 0x888)`; 0x88C bytes in all. Entry: name[32], type[16], start, size,
//! vstart, vsize, depth (u32 each, little-endian).

use crc::{CRC_32_ISO_HDLC, Crc};

use crate::image::ImageError;
use crate::image::fields::View;

/// Magic of format "A", the bytes "BTPA".
pub const MAGIC_A: u32 = 0x4150_5442;
/// Magic of the newer format "B", whose entry layout no public file shows.
pub const MAGIC_B: u32 = 0x4250_5442;
/// Size of a format "A" table.
pub const TABLE_SIZE: usize = 0x88C;
/// Number of entry slots.
pub const SLOTS: usize = 32;
/// Size of one entry slot.
pub const ENTRY_SIZE: usize = 68;
/// Offset of the first slot.
pub const ENTRIES_OFFSET: usize = 8;
/// Offset of the CRC-32, which covers everything before it.
pub const CRC_OFFSET: usize = 0x888;

/// The zlib CRC-32 the table carries.
pub const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// One partition of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtEntry {
    /// Partition name, e.g. `cp`, `nvm`.
    pub name: String,
    /// Type: group, flash, ubi, part, raw, lfs, ffs, rfs, zipfs, cust, area, priv.
    pub kind: String,
    /// For type `flash`, the flash index stored after the NUL ("flash\0" "0").
    pub flash_index: Option<String>,
    /// Start offset on the flash.
    pub start: u32,
    /// Size in bytes.
    pub size: u32,
    /// XIP address (0xFFFFFFFF for "all").
    pub vstart: u32,
    /// Real image size.
    pub vsize: u32,
    /// 0 = all, 1 = flash, 2 = top level, 3 = sub-partition.
    pub depth: u32,
}

impl PtEntry {
    /// End offset (exclusive), computed without overflow.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size)
    }
}

/// A parsed, CRC-checked partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    /// The used entries, in table order.
    pub entries: Vec<PtEntry>,
    /// The stored (and verified) CRC-32.
    pub crc: u32,
    /// Oddities that do not stop reading (overlaps, trailing bytes, duplicate names).
    pub problems: Vec<String>,
}

/// Whether `first_bytes` start like a partition table (format A or B).
pub fn is_partition_table(first_bytes: &[u8]) -> bool {
    matches!(first_bytes.get(..4), Some(m) if m == MAGIC_A.to_le_bytes() || m == MAGIC_B.to_le_bytes())
}

impl PartitionTable {
    /// Parses and CRC-checks a format "A" table. `path` names the package in errors.
    pub fn parse(bytes: &[u8], path: &str) -> Result<PartitionTable, ImageError> {
        let v = View::new(bytes, path, "partition.bin");
        let magic = v.u32(0)?;
        if magic == MAGIC_B {
            return Err(v.bad(format!(
                "ptable format B (magic {MAGIC_B:#010x}) is not supported: its entry layout is not documented"
            )));
        }
        if magic != MAGIC_A {
            return Err(v.bad(format!("wrong magic: expected {MAGIC_A:#010x} (\"BTPA\"), found {magic:#010x}")));
        }
        if bytes.len() < TABLE_SIZE {
            return Err(
                v.bad(format!("truncated: a format A table is {TABLE_SIZE} bytes, this one has {}", bytes.len()))
            );
        }
        let count = v.u32(4)?;
        if count as usize > SLOTS {
            return Err(v.bad(format!(
                "entry count {count} is more than the {SLOTS} slots (ptable->count > MAX_PTABLE_PARTS)"
            )));
        }
        let stored = v.u32(CRC_OFFSET)?;
        let computed = CRC32.checksum(v.bytes(0, CRC_OFFSET)?);
        if stored != computed {
            return Err(
                v.bad(format!("CRC-32 mismatch: the table stores {stored:#010x}, its bytes give {computed:#010x}"))
            );
        }
        let mut problems = Vec::new();
        if bytes.len() > TABLE_SIZE {
            problems.push(format!("partition.bin: {} bytes after the table are ignored", bytes.len() - TABLE_SIZE));
        }
        let mut entries = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            entries.push(parse_entry(&v, i)?);
        }
        check_layout(&entries, &mut problems);
        Ok(PartitionTable { entries, crc: stored, problems })
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&PtEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

fn parse_entry(v: &View<'_>, i: usize) -> Result<PtEntry, ImageError> {
    let at = ENTRIES_OFFSET + i * ENTRY_SIZE;
    let name = v.ascii(at, 32, &format!("the name of entry {i}"))?;
    if name.is_empty() {
        return Err(v.bad(format!("entry {i} has an empty name")));
    }
    let type_field = v.bytes(at + 32, 16)?;
    let kind_end = type_field.iter().position(|&b| b == 0).unwrap_or(type_field.len());
    let kind = v.ascii(at + 32, kind_end, &format!("the type of partition {name:?}"))?;
    let rest = type_field.get(kind_end..).unwrap_or(&[]);
    let index_start = rest.iter().position(|&b| b != 0);
    let flash_index = match index_start {
        Some(s) => {
            let text = crate::image::fields::ascii_z(&rest[s..])
                .ok_or_else(|| v.bad(format!("the flash index of partition {name:?} is not text")))?;
            Some(text)
        }
        None => None,
    };
    let entry = PtEntry {
        name,
        kind,
        flash_index,
        start: v.u32(at + 48)?,
        size: v.u32(at + 52)?,
        vstart: v.u32(at + 56)?,
        vsize: v.u32(at + 60)?,
        depth: v.u32(at + 64)?,
    };
    if entry.end() > 1u64 << 32 {
        return Err(v.bad(format!(
            "partition {:?} (start {:#x}, size {:#x}) ends beyond the 4 GiB a table can address",
            entry.name, entry.start, entry.size
        )));
    }
    Ok(entry)
}

/// Records duplicate names, odd depths, overlapping partitions of the same depth, and image
/// sizes larger than their partition.
fn check_layout(entries: &[PtEntry], problems: &mut Vec<String>) {
    for (i, a) in entries.iter().enumerate() {
        if entries[..i].iter().any(|b| b.name == a.name) {
            problems.push(format!("partition.bin: partition {:?} is defined twice", a.name));
        }
        if a.depth > 3 {
            problems.push(format!("partition.bin: partition {:?} has depth {}, expected 0 to 3", a.name, a.depth));
        }
        if a.depth >= 2 && a.vsize != u32::MAX && a.vsize > a.size && a.size > 0 {
            problems.push(format!(
                "partition.bin: partition {:?} holds an image of {:#x} bytes in {:#x} bytes",
                a.name, a.vsize, a.size
            ));
        }
        for b in &entries[..i] {
            let same_level = a.depth >= 2 && a.depth == b.depth && a.flash_index == b.flash_index;
            if same_level && a.size > 0 && b.size > 0 && u64::from(a.start) < b.end() && u64::from(b.start) < a.end() {
                problems.push(format!(
                    "partition.bin: partitions {:?} ({:#x}+{:#x}) and {:?} ({:#x}+{:#x}) overlap",
                    b.name, b.start, b.size, a.name, a.start, a.size
                ));
            }
        }
    }
}
