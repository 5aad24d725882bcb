//! The MIBIB, the NAND partition table a package writes as `partition_complete_<geometry>.mbn`
//! (iamromulan/qfenix:gpt.c).
//!
//! Four NAND pages, all little-endian, each padded with 0xFF. Verified on the real
//! `update/firehose/partition_complete_p2K_b128K.mbn` of Biktorgj/quectel_eg25_recovery (branch
//! EG25GGBR07A08M2G_30.006.30.006, 8192 bytes), which matches the layout of Qualcomm's
//! `nand_mbn_generator.py` (boot.xf QcomPkg/Tools/storage/nandbootmbn):
//!
//! | Page | Bytes | Content |
//! |---|---|---|
//! | 0 | 0..16 | MBN header: magic `0xFE569FAC`, `0xCD7F127A`, version 4, age 1 |
//! | 1 | 0..16 | table header: magic `0x55EE73AA`, `0xE35EBDDB`, version 4, entry count (17) |
//! | 1 | 16.. | 28-byte entries: name\[16\] (`0:SBL`), u32 offset and u32 length in erase blocks, three attribute bytes, the flash index |
//! | 2 | | 0xFF (the user table is left empty) |
//! | 3 | 0..16 | CRC page: magic `0x9D41BEA1`, `0xF1DED2EA`, version 1, CRC-32 of pages 0 and 1 |
//!
//! The CRC is the MSB-first CRC-32 (poly `0x04C11DB7`, initial value 0, no reflection, no final
//! XOR) of the bytes `[0, 2 × page size)`: the real file stores `0xDE5D6102`, which those bytes
//! give. The package's patch XML rewrites the last entry's length (`NUM_DISK_BLOCKS-<offset>.`)
//! and this CRC (`CRC32(0,<2 × page size>)`) on the device.

use crc::{Algorithm, Crc};

/// The MBN header magic words on page 0.
pub const MBN_MAGIC: [u32; 2] = [0xFE56_9FAC, 0xCD7F_127A];
/// The MBN header version on page 0 (4 in the real file).
pub const MBN_VERSION: u32 = 4;
/// The partition table magic words on page 1.
pub const TABLE_MAGIC: [u32; 2] = [0x55EE_73AA, 0xE35E_BDDB];
/// The partition table version (4 in the real file).
pub const TABLE_VERSION: u32 = 4;
/// The CRC page magic words on page 3.
pub const CRC_MAGIC: [u32; 2] = [0x9D41_BEA1, 0xF1DE_D2EA];
/// The CRC page version (1 in the real file).
pub const CRC_VERSION: u32 = 1;
/// Bytes of one table entry.
pub const ENTRY_SIZE: usize = 28;
/// Bytes of a page header (magic pair, version, count or age or CRC).
pub const HEADER_SIZE: usize = 16;
/// Pages in a MIBIB file.
pub const PAGES: usize = 4;

/// The MIBIB CRC: CRC-32 MSB first, poly 0x04C11DB7, init 0, no reflection, no final XOR.
pub const MIBIB_CRC: Algorithm<u32> = Algorithm {
    width: 32,
    poly: 0x04C1_1DB7,
    init: 0,
    refin: false,
    refout: false,
    xorout: 0,
    check: 0x89A1_897F,
    residue: 0,
};
/// [`MIBIB_CRC`] ready to use.
pub static CRC32_MIBIB: Crc<u32> = Crc::<u32>::new(&MIBIB_CRC);

/// Bytes of a MIBIB file fwguard needs: four pages of the largest page size (4 KiB).
pub const MIBIB_PREFIX: usize = PAGES * 4096;

/// One partition of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MibibEntry {
    /// The name as written, `0:SBL`.
    pub name: String,
    /// Start, in erase blocks.
    pub offset_blocks: u32,
    /// Length, in erase blocks.
    pub length_blocks: u32,
    /// The three attribute bytes (`FF 01 00` for SBL in the real file).
    pub attrs: [u8; 3],
    /// The flash index (0).
    pub which_flash: u8,
}

/// The CRC page: what it stores and what pages 0 and 1 give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MibibCrc {
    /// The CRC the page stores.
    pub stored: u32,
    /// The CRC of pages 0 and 1.
    pub computed: u32,
}

/// What the MIBIB says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mibib {
    /// The page size at which the table magic was found (2048 or 4096).
    pub page_size: u32,
    /// The MBN header version.
    pub version: u32,
    /// The table version.
    pub table_version: u32,
    /// The partitions, in table order.
    pub entries: Vec<MibibEntry>,
    /// The CRC page, when the bytes given reach it and it carries its magic.
    pub crc: Option<MibibCrc>,
}

/// Why a MIBIB file was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MibibError {
    /// Page 0 does not start with the MBN header magic.
    #[error("page 0 starts with {found}, not the MIBIB magic FE569FAC CD7F127A")]
    HeaderMagic {
        /// What was found, as two hex words.
        found: String,
    },
    /// No page 1 with the table magic at a 2 KiB or 4 KiB page size.
    #[error("no partition table magic 55EE73AA E35EBDDB at 2048 or 4096 bytes")]
    TableMagic,
    /// The entry count does not fit the page.
    #[error("the table claims {count} entries; a {page_size}-byte page holds at most {fits}")]
    TableCount {
        /// The count the table gives.
        count: u32,
        /// The page size.
        page_size: u32,
        /// How many 28-byte entries fit after the header.
        fits: usize,
    },
}

fn word(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn words(bytes: &[u8], at: usize) -> Option<[u32; 2]> {
    Some([word(bytes, at)?, word(bytes, at + 4)?])
}

/// Reads the MIBIB from the first bytes of the file (at least [`MIBIB_PREFIX`] bytes, or the
/// whole file, to reach the CRC page of 4 KiB pages).
pub fn parse_mibib(bytes: &[u8]) -> Result<Mibib, MibibError> {
    let head = words(bytes, 0);
    if head != Some(MBN_MAGIC) {
        let found = head.map_or_else(|| "fewer than 8 bytes".to_string(), |[a, b]| format!("{a:08X} {b:08X}"));
        return Err(MibibError::HeaderMagic { found });
    }
    let page_size = [2048u32, 4096]
        .into_iter()
        .find(|&p| words(bytes, p as usize) == Some(TABLE_MAGIC))
        .ok_or(MibibError::TableMagic)?;
    let page = page_size as usize;
    let count = word(bytes, page + 12).unwrap_or(0);
    let fits = (page - HEADER_SIZE) / ENTRY_SIZE;
    if count as usize > fits {
        return Err(MibibError::TableCount { count, page_size, fits });
    }
    let mut entries = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let at = page + HEADER_SIZE + i * ENTRY_SIZE;
        let Some(e) = bytes.get(at..at + ENTRY_SIZE) else { break };
        let name_end = e[..16].iter().position(|&b| b == 0).unwrap_or(16);
        entries.push(MibibEntry {
            name: String::from_utf8_lossy(&e[..name_end]).into_owned(),
            offset_blocks: word(e, 16).unwrap_or(0),
            length_blocks: word(e, 20).unwrap_or(0),
            attrs: [e[24], e[25], e[26]],
            which_flash: e[27],
        });
    }
    let crc_page = 3 * page;
    let crc = (words(bytes, crc_page) == Some(CRC_MAGIC) && bytes.len() >= 2 * page)
        .then(|| word(bytes, crc_page + 12))
        .flatten()
        .map(|stored| MibibCrc { stored, computed: CRC32_MIBIB.checksum(&bytes[..2 * page]) });
    Ok(Mibib {
        page_size,
        version: word(bytes, 8).unwrap_or(0),
        table_version: word(bytes, page + 8).unwrap_or(0),
        entries,
        crc,
    })
}

/// Writes a MIBIB file as Qualcomm's generator does: four pages of `page_size` bytes with the
/// MBN header, the table of `entries`, an empty user page and the CRC page.
pub fn write_mibib(page_size: usize, entries: &[MibibEntry]) -> Vec<u8> {
    let page = page_size.max(HEADER_SIZE + ENTRY_SIZE);
    let mut out = vec![0xFFu8; PAGES * page];
    let put = |out: &mut [u8], at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    for (k, v) in [MBN_MAGIC[0], MBN_MAGIC[1], MBN_VERSION, 1].into_iter().enumerate() {
        put(&mut out, 4 * k, v);
    }
    let n = entries.len().min((page - HEADER_SIZE) / ENTRY_SIZE);
    for (k, v) in [TABLE_MAGIC[0], TABLE_MAGIC[1], TABLE_VERSION, n as u32].into_iter().enumerate() {
        put(&mut out, page + 4 * k, v);
    }
    for (i, e) in entries.iter().take(n).enumerate() {
        let at = page + HEADER_SIZE + i * ENTRY_SIZE;
        let slot = &mut out[at..at + ENTRY_SIZE];
        slot[..16].fill(0);
        let name = e.name.as_bytes();
        slot[..name.len().min(16)].copy_from_slice(&name[..name.len().min(16)]);
        slot[16..20].copy_from_slice(&e.offset_blocks.to_le_bytes());
        slot[20..24].copy_from_slice(&e.length_blocks.to_le_bytes());
        slot[24..27].copy_from_slice(&e.attrs);
        slot[27] = e.which_flash;
    }
    let crc = CRC32_MIBIB.checksum(&out[..2 * page]);
    for (k, v) in [CRC_MAGIC[0], CRC_MAGIC[1], CRC_VERSION, crc].into_iter().enumerate() {
        put(&mut out, 3 * page + 4 * k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first entries and headers of the real EG25-G `partition_complete_p2K_b128K.mbn`
    /// (Biktorgj/quectel_eg25_recovery, branch EG25GGBR07A08M2G_30.006.30.006), byte for byte.
    fn real_layout() -> Vec<MibibEntry> {
        let e = |name: &str, offset_blocks, length_blocks, attrs| MibibEntry {
            name: name.into(),
            offset_blocks,
            length_blocks,
            attrs,
            which_flash: 0,
        };
        vec![
            e("0:SBL", 0, 0x0A, [0xFF, 0x01, 0x00]),
            e("0:MIBIB", 0x0A, 0x0A, [0xFF, 0x01, 0xFF]),
            e("0:EFS2", 0x14, 0x88, [0xFF, 0x01, 0xFF]),
        ]
    }

    #[test]
    fn writes_the_real_layout() {
        let bytes = write_mibib(2048, &real_layout());
        assert_eq!(bytes.len(), 8192);
        // Page 0: ac9f56fe 7a127fcd 04000000 01000000.
        assert_eq!(bytes[..16], [0xAC, 0x9F, 0x56, 0xFE, 0x7A, 0x12, 0x7F, 0xCD, 4, 0, 0, 0, 1, 0, 0, 0]);
        // Page 1 at 0x800: aa73ee55 dbbd5ee3 04000000 <count>, then "0:SBL" at 0x810.
        assert_eq!(bytes[0x800..0x80C], [0xAA, 0x73, 0xEE, 0x55, 0xDB, 0xBD, 0x5E, 0xE3, 4, 0, 0, 0]);
        assert_eq!(&bytes[0x810..0x815], b"0:SBL");
        // The MIBIB entry at 0x82C: offset 0x0A, length 0x0A, attributes FF 01 FF, flash 0.
        assert_eq!(bytes[0x83C..0x848], [0x0A, 0, 0, 0, 0x0A, 0, 0, 0, 0xFF, 0x01, 0xFF, 0x00]);
        // Page 2 is empty; page 3 at 0x1800: a1be419d ead2def1 01000000 <crc>.
        assert!(bytes[0x1000..0x1800].iter().all(|&b| b == 0xFF));
        assert_eq!(bytes[0x1800..0x180C], [0xA1, 0xBE, 0x41, 0x9D, 0xEA, 0xD2, 0xDE, 0xF1, 1, 0, 0, 0]);
        let m = parse_mibib(&bytes).unwrap();
        assert_eq!((m.page_size, m.version, m.table_version), (2048, 4, 4));
        assert_eq!(m.entries, real_layout());
        let crc = m.crc.unwrap();
        assert_eq!(crc.stored, crc.computed);
    }

    #[test]
    fn the_crc_is_the_one_the_real_file_stores() {
        // The generator's CRC-32 over "123456789" (catalogue check value), and the real file's
        // stored CRC 0xDE5D6102 came out of this algorithm over its pages 0 and 1 (checked on
        // the file itself while writing this module).
        assert_eq!(CRC32_MIBIB.checksum(b"123456789"), 0x89A1_897F);
        let mut bytes = write_mibib(4096, &real_layout());
        assert_eq!(parse_mibib(&bytes).unwrap().page_size, 4096);
        bytes[4096 + 16 + 20] ^= 1;
        let crc = parse_mibib(&bytes).unwrap().crc.unwrap();
        assert_ne!(crc.stored, crc.computed);
    }

    #[test]
    fn refuses_other_bytes() {
        assert!(matches!(parse_mibib(&[0u8; 16]), Err(MibibError::HeaderMagic { .. })));
        assert!(matches!(parse_mibib(&[1, 2]), Err(MibibError::HeaderMagic { .. })));
        let mut only_header = write_mibib(4096, &real_layout());
        only_header.truncate(4096);
        assert_eq!(parse_mibib(&only_header), Err(MibibError::TableMagic));
        let mut absurd = write_mibib(2048, &real_layout());
        absurd[2048 + 12..2048 + 16].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(parse_mibib(&absurd), Err(MibibError::TableCount { count: 1000, .. })));
        // Cut inside the table: the entries that are there, no CRC.
        let m = parse_mibib(&write_mibib(2048, &real_layout())[..2048 + 16 + 28]).unwrap();
        assert_eq!((m.entries.len(), m.crc), (1, None));
    }
}
