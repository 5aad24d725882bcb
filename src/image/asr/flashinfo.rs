//! `flashinfo.bin`: the flash chips an ASR package accepts (as found in
//! `waybyte/logicromsdk:lib/asr160x/pack/flashinfo_8M.bin` and `flashinfo_16M.bin`; the flasher
//! refuses a chip not listed, <https://github.com/FoxExe/ZX908/issues/8>).
//!
//! Header (0x90 bytes, little-endian): magic "FNIF", the default chip's u16 vendor and u16
//! device id, name[64], type[32], six u32 geometry fields, u64 flash size, four u8 fields, u32
//! count of compatible chips; then `{u16 vendor, u16 device, u32 reserved, name[64]}` per chip.

use crate::identity::FlashId;
use crate::image::fields::View;
use crate::image::{ChipEntry, ImageError};

/// Magic, the bytes "FNIF".
pub const MAGIC: u32 = 0x4649_4E46;
/// Size of the header, where the compatible list starts.
pub const HEADER_SIZE: usize = 0x90;
/// Size of one compatible-chip record.
pub const CHIP_SIZE: usize = 72;
/// Most compatible chips fwguard reads; more is refused as absurd.
pub const MAX_CHIPS: u32 = 1024;
/// Device types ASR's flash table names.
pub const DEVICE_TYPES: &[&str] = &["QSPI_NOR", "SPI_NOR", "QSPI_NAND", "EMMC", "MEM", "DUMMY", "QSPI2_NOR"];

/// One flash chip: JEDEC manufacturer and device id as the ASR flasher prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashChip {
    /// Manufacturer id, e.g. 0x20.
    pub vendor: u16,
    /// Device id = (memory type << 8) | capacity, e.g. 0x4117.
    pub device: u16,
    /// Chip name, e.g. `XM25QU64C`.
    pub name: String,
}

impl FlashChip {
    /// The JEDEC bytes as a module reports them: `20 41 17`.
    pub fn jedec_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(4);
        if self.vendor > 0xFF {
            b.extend_from_slice(&self.vendor.to_be_bytes());
        } else {
            b.push(self.vendor as u8);
        }
        b.extend_from_slice(&self.device.to_be_bytes());
        b
    }

    /// Upper-case hex without separators, `204117`, the form of `ChipEntry::jedec`.
    pub fn jedec(&self) -> String {
        FlashId::from_bytes(&self.jedec_bytes()).hex()
    }

    /// The size the capacity byte names (log2 of bytes), for NOR ids.
    pub fn capacity_bytes(&self) -> Option<u64> {
        let cap = self.device & 0xFF;
        (0x10..=0x22).contains(&cap).then(|| 1u64 << cap)
    }

    /// Whether a probed flash id is this chip.
    pub fn matches(&self, id: &FlashId) -> bool {
        id.bytes() == self.jedec_bytes().as_slice()
    }
}

/// A parsed `flashinfo.bin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashInfo {
    /// The default / specified chip of the header.
    pub default_chip: FlashChip,
    /// `QSPI_NOR`, `SPI_NOR`, `QSPI_NAND`, ...
    pub device_type: String,
    /// Page size in bytes.
    pub page_size: u32,
    /// Sector size in bytes.
    pub sector_size: u32,
    /// Block size in bytes.
    pub block_size: u32,
    /// Flash size in bytes.
    pub flash_size: u64,
    /// Value of erased bytes (0xFF for NOR).
    pub erased_value: u8,
    /// The compatible chips, in file order.
    pub compatible: Vec<FlashChip>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

/// Whether `first_bytes` start like a flash information table.
pub fn is_flashinfo(first_bytes: &[u8]) -> bool {
    first_bytes.get(..4) == Some(&MAGIC.to_le_bytes()[..])
}

impl FlashInfo {
    /// Parses a flash information table. `path` names the package in errors.
    pub fn parse(bytes: &[u8], path: &str) -> Result<FlashInfo, ImageError> {
        let v = View::new(bytes, path, "flashinfo.bin");
        let magic = v.u32(0)?;
        if magic != MAGIC {
            return Err(v.bad(format!("wrong magic: expected {MAGIC:#010x} (\"FNIF\"), found {magic:#010x}")));
        }
        if bytes.len() < HEADER_SIZE {
            return Err(
                v.bad(format!("flash info image too small: {} bytes, the header alone is {HEADER_SIZE}", bytes.len()))
            );
        }
        let count = v.u32(0x8C)?;
        if count > MAX_CHIPS {
            return Err(v.bad(format!("compatible chip count {count} is absurd (at most {MAX_CHIPS} are read)")));
        }
        let need = HEADER_SIZE + count as usize * CHIP_SIZE;
        if bytes.len() < need {
            return Err(v.bad(format!(
                "flash info image too small: {count} compatible chips need {need} bytes, the file has {}",
                bytes.len()
            )));
        }
        let mut problems = Vec::new();
        if bytes.len() > need {
            problems.push(format!("flashinfo.bin: {} bytes after the chip list are ignored", bytes.len() - need));
        }
        let default_chip =
            FlashChip { vendor: v.u16(4)?, device: v.u16(6)?, name: v.ascii(0x08, 64, "the default chip's name")? };
        let device_type = v.ascii(0x48, 32, "the device type")?;
        if !DEVICE_TYPES.contains(&device_type.as_str()) {
            problems.push(format!("flashinfo.bin: unknown device type {device_type:?}"));
        }
        let mut compatible = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let at = HEADER_SIZE + i * CHIP_SIZE;
            compatible.push(FlashChip {
                vendor: v.u16(at)?,
                device: v.u16(at + 2)?,
                name: v.ascii(at + 8, 64, &format!("the name of compatible chip {i}"))?,
            });
        }
        let info = FlashInfo {
            default_chip,
            device_type,
            page_size: v.u32(0x70)?,
            sector_size: v.u32(0x74)?,
            block_size: v.u32(0x78)?,
            flash_size: v.u64(0x80)?,
            erased_value: v.bytes(0x88, 1)?[0],
            compatible,
            problems,
        };
        Ok(info.with_size_checks())
    }

    /// Adds a problem for every chip whose capacity byte disagrees with the table's flash size.
    fn with_size_checks(mut self) -> FlashInfo {
        let size = self.flash_size;
        let mut found = Vec::new();
        for chip in std::iter::once(&self.default_chip).chain(&self.compatible) {
            if let Some(cap) = chip.capacity_bytes()
                && cap != size
                && self.device_type.ends_with("NOR")
            {
                found.push(format!(
                    "flashinfo.bin: chip {} ({}) is {} bytes, the table is for {size} bytes",
                    chip.name,
                    chip.jedec(),
                    cap
                ));
            }
        }
        self.problems.extend(found);
        self
    }

    /// Every accepted chip: the default one first, then the compatible list, without repeats.
    pub fn chips(&self) -> Vec<&FlashChip> {
        let mut out: Vec<&FlashChip> = Vec::new();
        for chip in std::iter::once(&self.default_chip).chain(&self.compatible) {
            if !out.iter().any(|c| c.vendor == chip.vendor && c.device == chip.device) {
                out.push(chip);
            }
        }
        out
    }

    /// The accepted chips as `Inspection::flash_chips` entries.
    pub fn chip_entries(&self) -> Vec<ChipEntry> {
        self.chips()
            .into_iter()
            .map(|c| ChipEntry { jedec: c.jedec(), name: (!c.name.is_empty()).then(|| c.name.clone()) })
            .collect()
    }

    /// Whether the flasher would accept a module with this flash id (the header chip or one of
    /// the compatible list).
    pub fn accepts(&self, id: &FlashId) -> bool {
        self.chips().iter().any(|c| c.matches(id))
    }
}
