//! The 2124-byte PAC header, versions `BP_R1.0.0` and `BP_R2.0.1` (`ilyakurdyukov/spreadtrum_flash:unpac/unpac.c`, `openLuat/Luat_CSDK_Air724U:tools/pacgen.py`).

use crc::{CRC_16_ARC, Crc};

use crate::image::ImageError;
use crate::image::fields::{View, utf16_z};

/// Size of the header.
pub const HEADER_SIZE: usize = 0x84C;
/// `dwMagic` at 0x844.
pub const MAGIC: u32 = 0xFFFA_FFFA;
/// Offset of `dwMagic`.
pub const MAGIC_OFFSET: usize = 0x844;
/// Offset of `wCRC1`, the CRC of everything before it.
pub const CRC1_OFFSET: usize = 0x848;
/// Offset of `wCRC2`, the CRC of everything after the header.
pub const CRC2_OFFSET: usize = 0x84A;
/// CRC-16/ARC, both PAC CRCs.
pub static CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// Field offsets.
pub mod offsets {
    /// `dwHiSize` (R2 only).
    pub const HI_SIZE: usize = 0x2C;
    /// `dwSize`.
    pub const SIZE: usize = 0x30;
    /// `szPrdName`, u16[256].
    pub const PRD_NAME: usize = 0x34;
    /// `szPrdVersion`, u16[256].
    pub const PRD_VERSION: usize = 0x234;
    /// `nFileCount`.
    pub const FILE_COUNT: usize = 0x434;
    /// `dwFileOffset`.
    pub const FILE_OFFSET: usize = 0x438;
    /// `dwMode`, then flash type, NAND strategy, NV backup, NAND page type.
    pub const MODE: usize = 0x43C;
    /// `szPrdAlias`, u16[100].
    pub const PRD_ALIAS: usize = 0x450;
    /// `dwOmaDmProductFlag`, `dwIsOmaDM`, `dwIsPreload`.
    pub const OMA_DM: usize = 0x518;
}

/// The two header versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacVersion {
    /// `BP_R1.0.0`: 32-bit sizes, `szVersion` u16[24], `szFileVersion` u16[256].
    R1,
    /// `BP_R2.0.1`: high size words in the header and each file entry.
    R2,
}

impl PacVersion {
    /// The `szVersion` text.
    pub fn text(self) -> &'static str {
        match self {
            PacVersion::R1 => "BP_R1.0.0",
            PacVersion::R2 => "BP_R2.0.1",
        }
    }
}

/// A parsed, CRC1-checked PAC header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacHeader {
    /// Which layout.
    pub version: PacVersion,
    /// `szVersion` as written.
    pub version_text: String,
    /// The total size the header declares (R1: low 32 bits only).
    pub declared_size: u64,
    /// `szPrdName`, e.g. `UIX8910_MODEM`.
    pub product_name: String,
    /// `szPrdVersion`, e.g. `8910 MODULE`.
    pub product_version: String,
    /// `szPrdAlias`, e.g. `8915DM_cat1_open`.
    pub product_alias: String,
    /// `nFileCount`.
    pub file_count: u32,
    /// `dwFileOffset`.
    pub file_offset: u32,
    /// `dwMode`.
    pub mode: u32,
    /// `dwFlashType`: 0 NOR, 1 NAND.
    pub flash_type: u32,
    /// `dwIsNvBackup`.
    pub nv_backup: u32,
    /// `wCRC1` (verified).
    pub crc1: u16,
    /// `wCRC2` (verified by the reader's streaming pass).
    pub crc2: u16,
}

/// Whether `first_bytes` start with a PAC `szVersion` (`BP_R` in UTF-16LE).
pub fn is_pac(first_bytes: &[u8]) -> bool {
    let n = first_bytes.len().min(44);
    first_bytes.len() >= 8 && utf16_z(&first_bytes[..n - n % 2]).is_some_and(|v| v.starts_with("BP_R"))
}

impl PacHeader {
    /// Parses the header at the start of `bytes` and checks its magic and CRC1.
    pub fn parse(bytes: &[u8], path: &str) -> Result<PacHeader, ImageError> {
        let v = View::new(bytes, path, "PAC header");
        if bytes.len() < HEADER_SIZE {
            return Err(v.bad(format!("truncated: the header is {HEADER_SIZE} bytes, the file has {}", bytes.len())));
        }
        let short = v.utf16(0, 44, "szVersion")?;
        let version = if short.starts_with("BP_R2") {
            PacVersion::R2
        } else if short.starts_with("BP_R1") {
            PacVersion::R1
        } else {
            return Err(v.bad(format!("not a PAC version: expected \"BP_R1...\" or \"BP_R2...\", found {short:?}")));
        };
        let version_text = match version {
            PacVersion::R1 => v.utf16(0, 48, "szVersion")?,
            PacVersion::R2 => short,
        };
        let magic = v.u32(MAGIC_OFFSET)?;
        if magic != MAGIC {
            return Err(v.bad(format!("wrong magic: expected {MAGIC:#010x}, found {magic:#010x}")));
        }
        let crc1 = v.u16(CRC1_OFFSET)?;
        let computed = CRC16.checksum(v.bytes(0, CRC1_OFFSET)?);
        if crc1 != computed {
            return Err(v.bad(format!(
                "header CRC-16 mismatch: the header stores {crc1:#06x}, its bytes give {computed:#06x}"
            )));
        }
        let low = u64::from(v.u32(offsets::SIZE)?);
        let declared_size = match version {
            PacVersion::R1 => low,
            PacVersion::R2 => u64::from(v.u32(offsets::HI_SIZE)?) << 32 | low,
        };
        Ok(PacHeader {
            version,
            version_text,
            declared_size,
            product_name: v.utf16(offsets::PRD_NAME, 512, "szPrdName")?,
            product_version: v.utf16(offsets::PRD_VERSION, 512, "szPrdVersion")?,
            product_alias: v.utf16(offsets::PRD_ALIAS, 200, "szPrdAlias")?,
            file_count: v.u32(offsets::FILE_COUNT)?,
            file_offset: v.u32(offsets::FILE_OFFSET)?,
            mode: v.u32(offsets::MODE)?,
            flash_type: v.u32(offsets::MODE + 4)?,
            nv_backup: v.u32(offsets::MODE + 12)?,
            crc1,
            crc2: v.u16(CRC2_OFFSET)?,
        })
    }

    /// Checks the declared size against the real one: larger is a truncated file.
    pub fn check_size(&self, file_len: u64, path: &str, problems: &mut Vec<String>) -> Result<(), ImageError> {
        let actual = match self.version {
            PacVersion::R1 => file_len & 0xFFFF_FFFF,
            PacVersion::R2 => file_len,
        };
        if self.declared_size > actual {
            return Err(crate::image::fields::malformed(
                path,
                "PAC header",
                format!("truncated: the header declares {} bytes, the file has {file_len}", self.declared_size),
            ));
        }
        if self.declared_size < actual {
            problems.push(format!(
                "PAC header declares {} bytes; the {} bytes after that are not part of the package",
                self.declared_size,
                actual - self.declared_size
            ));
        }
        Ok(())
    }
}
