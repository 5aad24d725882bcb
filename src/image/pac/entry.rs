//! PAC file entries: 2580 bytes each, directly after the header (`ilyakurdyukov/spreadtrum_flash:unpac/unpac.c`, `openLuat/Luat_CSDK_Air724U:tools/pacgen.py`).

use super::header::PacVersion;
use crate::image::ImageError;
use crate::image::fields::View;

/// Size of one file entry.
pub const ENTRY_SIZE: usize = 0xA14;
/// Most entries read; more is refused as absurd.
pub const MAX_ENTRIES: u32 = 4096;
/// `nFileFlag`: an operation with no data (an erase).
pub const FLAG_OPERATION: u32 = 0;
/// `nFileFlag`: a file.
pub const FLAG_FILE: u32 = 1;
/// `nFileFlag`: the XML scheme.
pub const FLAG_XML: u32 = 2;
/// `nFileFlag`: an FDL.
pub const FLAG_FDL: u32 = 0x101;

/// Field offsets inside an entry.
pub mod offsets {
    /// `szFileID`, u16[256].
    pub const FILE_ID: usize = 0x004;
    /// `szFileName`, u16[256].
    pub const FILE_NAME: usize = 0x204;
    /// `szFileVersion`: u16[252] (R2) or u16[256] (R1).
    pub const FILE_VERSION: usize = 0x404;
    /// `dwHiFileSize` (R2).
    pub const HI_SIZE: usize = 0x5FC;
    /// `dwHiDataOffset` (R2).
    pub const HI_OFFSET: usize = 0x600;
    /// `dwLoFileSize`.
    pub const LO_SIZE: usize = 0x604;
    /// `nFileFlag`.
    pub const FLAG: usize = 0x608;
    /// `nCheckFlag`.
    pub const CHECK_FLAG: usize = 0x60C;
    /// `dwLoDataOffset`.
    pub const LO_OFFSET: usize = 0x610;
    /// `dwCanOmitFlag`.
    pub const CAN_OMIT: usize = 0x614;
    /// `dwAddrNum`.
    pub const ADDR_NUM: usize = 0x618;
    /// `dwAddr[5]`.
    pub const ADDR: usize = 0x61C;
}

/// One file entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacEntry {
    /// Position in the table.
    pub index: usize,
    /// `szFileID`: `FDL`, `FDL2`, `NV`, ... (empty for the XML).
    pub file_id: String,
    /// `szFileName`.
    pub file_name: String,
    /// `szFileVersion`.
    pub file_version: String,
    /// Data size.
    pub size: u64,
    /// Data offset in the PAC.
    pub offset: u64,
    /// `nFileFlag`: 0 operation, 1 file, 2 XML, 0x101 FDL.
    pub flag: u32,
    /// `nCheckFlag`.
    pub check_flag: u32,
    /// `dwCanOmitFlag`.
    pub can_omit: u32,
    /// The `dwAddrNum` addresses.
    pub addresses: Vec<u32>,
}

impl PacEntry {
    /// A name for messages: the file name, else the file id, else the index.
    pub fn label(&self) -> String {
        if !self.file_name.is_empty() {
            self.file_name.clone()
        } else if !self.file_id.is_empty() {
            self.file_id.clone()
        } else {
            format!("file entry {}", self.index)
        }
    }

    /// Parses entry `index` from its 2580 bytes.
    pub fn parse(bytes: &[u8], version: PacVersion, index: usize, path: &str) -> Result<PacEntry, ImageError> {
        let part = format!("PAC file entry {index}");
        let v = View::new(bytes, path, &part);
        let version_len = match version {
            PacVersion::R1 => 512,
            PacVersion::R2 => 504,
        };
        let (hi_size, hi_offset) = match version {
            PacVersion::R1 => (0, 0),
            PacVersion::R2 => (v.u32(offsets::HI_SIZE)?, v.u32(offsets::HI_OFFSET)?),
        };
        let addr_num = v.u32(offsets::ADDR_NUM)?;
        if addr_num > 5 {
            return Err(v.bad(format!("dwAddrNum is {addr_num}, at most 5 addresses fit")));
        }
        let mut addresses = Vec::with_capacity(addr_num as usize);
        for k in 0..addr_num as usize {
            addresses.push(v.u32(offsets::ADDR + 4 * k)?);
        }
        Ok(PacEntry {
            index,
            file_id: v.utf16(offsets::FILE_ID, 512, "szFileID")?,
            file_name: v.utf16(offsets::FILE_NAME, 512, "szFileName")?,
            file_version: v.utf16(offsets::FILE_VERSION, version_len, "szFileVersion")?,
            size: u64::from(hi_size) << 32 | u64::from(v.u32(offsets::LO_SIZE)?),
            offset: u64::from(hi_offset) << 32 | u64::from(v.u32(offsets::LO_OFFSET)?),
            flag: v.u32(offsets::FLAG)?,
            check_flag: v.u32(offsets::CHECK_FLAG)?,
            can_omit: v.u32(offsets::CAN_OMIT)?,
            addresses,
        })
    }
}

/// Checks every entry's data against the file: inside it, after the entry table, and
/// overlapping no other entry's data.
pub fn check_bounds(entries: &[PacEntry], table_end: u64, file_len: u64, path: &str) -> Result<(), ImageError> {
    let bad = |e: &PacEntry, problem: String| {
        crate::image::fields::malformed(path, &format!("PAC file {}", e.label()), problem)
    };
    let mut spans: Vec<(u64, u64, &PacEntry)> = Vec::new();
    for e in entries {
        if e.size == 0 {
            continue;
        }
        let end = e.offset.checked_add(e.size).filter(|&end| end <= file_len).ok_or_else(|| {
            bad(
                e,
                format!(
                    "declares {} bytes at offset {:#x}, beyond the end of the file ({file_len} bytes)",
                    e.size, e.offset
                ),
            )
        })?;
        if e.offset < table_end {
            return Err(bad(
                e,
                format!("data at {:#x} lies inside the header and entry table (which end at {table_end:#x})", e.offset),
            ));
        }
        spans.push((e.offset, end, e));
    }
    spans.sort_by_key(|s| s.0);
    for pair in spans.windows(2) {
        let ((a_start, a_end, a), (b_start, _, b)) = (pair[0], pair[1]);
        if b_start < a_end {
            return Err(bad(b, format!("data at {b_start:#x} overlaps {} ({a_start:#x}..{a_end:#x})", a.label())));
        }
    }
    Ok(())
}
