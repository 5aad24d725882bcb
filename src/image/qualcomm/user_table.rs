//! `update/partition.mbn`: the user partition table of the streaming (NPRG/ENPRG) path, built
//! from `update/partition_nand.xml` (defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md).
//!
//! Little-endian, verified on the real `update/partition.mbn` of Biktorgj/quectel_eg25_recovery
//! (branch EG25GGBR07A08M2G_30.006.30.006, 492 bytes): a 16-byte header (the XML's
//! `usr_part_magic1` `0xAA7D1B9A`, `usr_part_magic2` `0x1F7D48BC`, `partition_version` 4, then
//! the entry count, 17), then 28-byte entries: name\[16\] (`0:SBL`), u32 size and u32 padding
//! as the XML gives them (`size_blks` 8 and `pad_blks` 2 for SBL, `size_kb` 16384 and `pad_kb`
//! 1024 for EFS2), and the four `<attr>` bytes in order (`FF 01 00 FE` for SBL).

/// `usr_part_magic1`, `usr_part_magic2` of the real partition_nand.xml and partition.mbn.
pub const USER_MAGIC: [u32; 2] = [0xAA7D_1B9A, 0x1F7D_48BC];
/// `partition_version` of the real partition_nand.xml and partition.mbn.
pub const USER_VERSION: u32 = 4;
/// Bytes of the header.
pub const HEADER_SIZE: usize = 16;
/// Bytes of one entry.
pub const ENTRY_SIZE: usize = 28;
/// Most entries read; more is refused as absurd.
pub const MAX_ENTRIES: u32 = 1024;
/// Largest partition.mbn read.
pub const MAX_SIZE: u64 = HEADER_SIZE as u64 + MAX_ENTRIES as u64 * ENTRY_SIZE as u64;

/// One entry: the values partition_nand.xml gives, in its units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// `0:SBL`.
    pub name: String,
    /// `size_blks` or `size_kb` (`0xFFFFFFFF` for "the rest").
    pub size: u32,
    /// `pad_blks` or `pad_kb`.
    pub pad: u32,
    /// The four `<attr>` values.
    pub attrs: [u8; 4],
}

/// A parsed user partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTable {
    /// The two magic words.
    pub magic: [u32; 2],
    /// The table version.
    pub version: u32,
    /// The entries.
    pub entries: Vec<UserEntry>,
}

fn word(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Parses partition.mbn, refusing a wrong magic, an absurd count or a cut table.
pub fn parse_user_table(bytes: &[u8]) -> Result<UserTable, String> {
    let magic = [word(bytes, 0), word(bytes, 4)];
    let magic = match magic {
        [Some(a), Some(b)] if [a, b] == USER_MAGIC => [a, b],
        [Some(a), Some(b)] => {
            return Err(format!("starts with {a:08X} {b:08X}, not the user partition magic AA7D1B9A 1F7D48BC"));
        }
        _ => return Err(format!("{} bytes, shorter than the 16-byte header", bytes.len())),
    };
    let (Some(version), Some(count)) = (word(bytes, 8), word(bytes, 12)) else {
        return Err(format!("{} bytes, shorter than the 16-byte header", bytes.len()));
    };
    if count > MAX_ENTRIES {
        return Err(format!("an entry count of {count} is absurd (at most {MAX_ENTRIES})"));
    }
    let need = HEADER_SIZE + count as usize * ENTRY_SIZE;
    if bytes.len() < need {
        return Err(format!("{count} entries need {need} bytes, the file has {}", bytes.len()));
    }
    let entries = (0..count as usize)
        .map(|i| {
            let e = &bytes[HEADER_SIZE + i * ENTRY_SIZE..HEADER_SIZE + (i + 1) * ENTRY_SIZE];
            let end = e[..16].iter().position(|&b| b == 0).unwrap_or(16);
            UserEntry {
                name: String::from_utf8_lossy(&e[..end]).into_owned(),
                size: word(e, 16).unwrap_or(0),
                pad: word(e, 20).unwrap_or(0),
                attrs: [e[24], e[25], e[26], e[27]],
            }
        })
        .collect();
    Ok(UserTable { magic, version, entries })
}

/// Writes partition.mbn: header and entries, nothing after them (as the real file).
pub fn write_user_table(version: u32, entries: &[UserEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_SIZE + entries.len() * ENTRY_SIZE);
    for v in [USER_MAGIC[0], USER_MAGIC[1], version, entries.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for e in entries {
        let mut name = [0u8; 16];
        let n = e.name.len().min(16);
        name[..n].copy_from_slice(&e.name.as_bytes()[..n]);
        out.extend_from_slice(&name);
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&e.pad.to_le_bytes());
        out.extend_from_slice(&e.attrs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_real_bytes() {
        // The first 0x48 bytes of the real EG25-G partition.mbn: header (17 entries) and the
        // SBL and MIBIB entries.
        let real: [u8; 0x48] = [
            0x9a, 0x1b, 0x7d, 0xaa, 0xbc, 0x48, 0x7d, 0x1f, 0x04, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, //
            b'0', b':', b'S', b'B', b'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
            0x08, 0, 0, 0, 0x02, 0, 0, 0, 0xff, 0x01, 0x00, 0xfe, //
            b'0', b':', b'M', b'I', b'B', b'I', b'B', 0, 0, 0, 0, 0, 0, 0, 0, 0, //
            0x06, 0, 0, 0, 0x04, 0, 0, 0, 0xff, 0x01, 0xff, 0xfe,
        ];
        let entries = [
            UserEntry { name: "0:SBL".into(), size: 8, pad: 2, attrs: [0xFF, 0x01, 0x00, 0xFE] },
            UserEntry { name: "0:MIBIB".into(), size: 6, pad: 4, attrs: [0xFF, 0x01, 0xFF, 0xFE] },
        ];
        // Two entries written: the same bytes but for the count.
        let written = write_user_table(USER_VERSION, &entries);
        assert_eq!(written[..12], real[..12]);
        assert_eq!(written[12..16], 2u32.to_le_bytes());
        assert_eq!(written[16..], real[16..]);
        let t = parse_user_table(&written).unwrap();
        assert_eq!((t.magic, t.version, t.entries.as_slice()), (USER_MAGIC, 4, &entries[..]));
        // The real header with its 17 entries cut after two is refused as cut.
        assert!(parse_user_table(&real).unwrap_err().contains("17 entries need 492 bytes"));
    }

    #[test]
    fn refuses_damage() {
        let good = write_user_table(4, &[UserEntry { name: "0:SBL".into(), size: 8, pad: 2, attrs: [0; 4] }]);
        assert!(parse_user_table(&good[..20]).unwrap_err().contains("need"));
        assert!(parse_user_table(&good[..6]).unwrap_err().contains("shorter"));
        let mut wrong = good.clone();
        wrong[0] = 0;
        assert!(parse_user_table(&wrong).unwrap_err().contains("magic"));
        let mut absurd = good;
        absurd[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_user_table(&absurd).unwrap_err().contains("absurd"));
    }
}
