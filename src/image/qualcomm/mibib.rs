//! The MIBIB, the NAND partition table written as `partition_complete_p4K_b256K.mbn`
//! (`iamromulan/qfenix:gpt.c`).
//!
//! Public sources give: an MBN header magic `0xFE569FAC`, `0xCD7F127A` on page 0; a table magic
//! `0x55EE73AA`, `0xE35EBDDB` on page 1; versions 3 and 4; 16-byte names; offsets and lengths in
//! erase blocks. They do not give where the version, the entry count or the entries sit, nor
//! the width and order of the entry fields. So fwguard reads only what is given: the two magic
//! pairs (as little-endian words at the start of pages 0 and 1), which also tell the page size
//! the table was built for. It does not list the entries.

/// The MBN header magic words on page 0.
pub const MBN_MAGIC: [u32; 2] = [0xFE56_9FAC, 0xCD7F_127A];
/// The partition table magic words on page 1.
pub const TABLE_MAGIC: [u32; 2] = [0x55EE_73AA, 0xE35E_BDDB];

/// Bytes of a MIBIB file fwguard needs: two pages of the largest page size (4 KiB).
pub const MIBIB_PREFIX: usize = 2 * 4096;

/// What the MIBIB header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mibib {
    /// The page size at which the table magic was found (2048 or 4096).
    pub page_size: u32,
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
}

fn words(bytes: &[u8], at: usize) -> Option<[u32; 2]> {
    let w = |o: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(o..o + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    };
    Some([w(at)?, w(at + 4)?])
}

/// Reads the MIBIB header from the first bytes of the file (at least [`MIBIB_PREFIX`] for 4 KiB
/// pages).
pub fn parse_mibib(bytes: &[u8]) -> Result<Mibib, MibibError> {
    let head = words(bytes, 0);
    if head != Some(MBN_MAGIC) {
        let found = head.map_or_else(|| "fewer than 8 bytes".to_string(), |[a, b]| format!("{a:08X} {b:08X}"));
        return Err(MibibError::HeaderMagic { found });
    }
    for page_size in [2048u32, 4096] {
        if words(bytes, page_size as usize) == Some(TABLE_MAGIC) {
            return Ok(Mibib { page_size });
        }
    }
    Err(MibibError::TableMagic)
}

/// The first two pages of a MIBIB with the magic words and nothing else, for fixtures.
pub fn magic_pages(page_size: usize) -> Vec<u8> {
    let page_size = page_size.max(8);
    let mut out = vec![0xFFu8; 2 * page_size];
    for (i, w) in MBN_MAGIC.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    for (i, w) in TABLE_MAGIC.iter().enumerate() {
        let at = page_size + i * 4;
        out[at..at + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_page_size() {
        assert_eq!(parse_mibib(&magic_pages(4096)).unwrap().page_size, 4096);
        assert_eq!(parse_mibib(&magic_pages(2048)).unwrap().page_size, 2048);
    }

    #[test]
    fn refuses_other_bytes() {
        assert!(matches!(parse_mibib(&[0u8; 16]), Err(MibibError::HeaderMagic { .. })));
        assert!(matches!(parse_mibib(&[1, 2]), Err(MibibError::HeaderMagic { .. })));
        let mut only_header = magic_pages(4096);
        only_header.truncate(4096);
        assert_eq!(parse_mibib(&only_header), Err(MibibError::TableMagic));
    }
}
