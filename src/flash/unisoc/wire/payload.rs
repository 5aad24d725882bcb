//! Payloads of the FDL commands and the constants both sides agree on.
//!
//! Sources: amitv87/unisoc_dloader `main.c` (`bsl_flash_id`, `bsl_backup_id`, `bsl_erase_id`,
//! `bsl_change_baud`, `bsl_cmd_add_partition`), ilyakurdyukov/spreadtrum_flash `spd_dump.c`
//! (`send_buf`, `read_flash`, `erase_flash`), waybyte/logicromsdk `lib/rda8910/core_config.json`
//! and `hal_config.h` (8910 load addresses and flash map), openLuat/Luat_CSDK_Air724U
//! `tools/pacgen.py` (8910 logical addresses).

/// Where the 8910 ROM loads FDL1: a U-Boot legacy uImage whose 64-byte header ends at 0x800100
/// (logicromsdk `core_config.json` `CONFIG_FDL1_IMAGE_START`).
pub const FDL1_ADDRESS_8910: u32 = 0x0080_00C0;
/// The most FDL1 bytes the 8910 takes (`CONFIG_FDL1_IMAGE_SIZE`).
pub const FDL1_MAX_8910: u32 = 0xFF40;
/// Where FDL1 loads FDL2 on the 8910 (`CONFIG_FDL2_IMAGE_START`).
pub const FDL2_ADDRESS_8910: u32 = 0x0081_0000;
/// The most FDL2 bytes the 8910 takes (`CONFIG_FDL2_IMAGE_SIZE`).
pub const FDL2_MAX_8910: u32 = 0x30000;
/// Where the 8910's NOR flash is mapped (`hal_config.h` `CONFIG_NOR_PHY_ADDRESS`).
pub const NOR_BASE_8910: u32 = 0x6000_0000;
/// The magic of a U-Boot legacy uImage header, which 8910 FDLs carry.
pub const UIMAGE_MAGIC: [u8; 4] = [0x27, 0x05, 0x19, 0x56];
/// The length of a U-Boot legacy uImage header.
pub const UIMAGE_HEADER: usize = 64;

/// A U-Boot legacy uImage of `payload` named `name` (at most 32 bytes): the 64-byte header with
/// its magic, the payload's size (`ih_size`, big-endian at byte 12) and the name at byte 32,
/// then the payload. Header CRCs, load address and type are left zero: nothing fwguard or its
/// simulator reads them (the 8910 FDLs and boot loader are such images: waybyte/logicromsdk
/// `lib/rda8910/fdl1.img`).
pub fn uimage(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = UIMAGE_MAGIC.to_vec();
    out.resize(UIMAGE_HEADER, 0);
    out[12..16].copy_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_be_bytes());
    let name = &name.as_bytes()[..name.len().min(32)];
    out[32..32 + name.len()].copy_from_slice(name);
    out.extend_from_slice(payload);
    out
}

/// The payload size a uImage header declares (`ih_size`), if `image` starts with one.
pub fn uimage_size(image: &[u8]) -> Option<u32> {
    if image.len() < UIMAGE_HEADER || image[..4] != UIMAGE_MAGIC {
        return None;
    }
    Some(u32::from_be_bytes([image[12], image[13], image[14], image[15]]))
}

/// The version string an 8910 FDL answers check-baud with (in logicromsdk `fdl1.img`); sent
/// with its terminating NUL, as SPRD FDLs send theirs (spreadtrum_flash `custom_fdl/main.c`).
pub const FDL_VERSION_8910: &str = "Spreadtrum Boot Block version 1.2";
/// The baud rate unisoc_dloader asks FDL1 for, first thing after EXEC (`bsl_change_baud`).
pub const FDL1_BAUD: u32 = 115_200;
/// FDL2 chunk size while FDL1 loads it (unisoc_dloader `FRAMESZ_FDL`).
pub const FDL2_CHUNK_8910: usize = 0x840;
/// Data chunk size on the 8910 FDL2 (unisoc_dloader uses `FRAMESZ_PDL` there).
pub const DATA_CHUNK_8910: usize = 0x800;
/// FDL chunk size in a BSL boot ROM (unisoc_dloader `FRAMESZ_BOOTCODE`; spd_dump's 528).
pub const ROM_CHUNK: usize = 0x210;
/// Data chunk size on the 8850 FDL2 over a serial link (unisoc_dloader: 0x3C00 on old kernels;
/// `FRAMESZ_OUT_DATA` 0xFC00 otherwise).
pub const DATA_CHUNK_8850: usize = 0x3C00;
/// READ_FLASH chunk size (unisoc_dloader `FRAMESZ_DATA`, what it reads NV with on the 8910).
pub const READ_CHUNK: usize = 0x3000;

/// The 8910 logical address "erase NV" (pacgen.py `ERASE_NV_LOGIC_ADDRESS`).
pub const LOGICAL_ERASE_NV: u32 = crate::image::pac::describe::ADDR_ERASE_NV;
/// The 8910 logical address of PhaseCheck (pacgen.py `PHASECHECK_LOGIC_ADDRESS`).
pub const LOGICAL_PHASECHECK: u32 = crate::image::pac::describe::ADDR_PHASECHECK;
/// The PhaseCheck size (pacgen.py `PHASE_CHECK_SIZE`).
pub const PHASECHECK_SIZE: u32 = 0x100;
/// The 8910 logical address of NV (pacgen.py `NV_LOGIC_ADDRESS`).
pub const LOGICAL_NV: u32 = crate::image::pac::describe::ADDR_NV;
/// The 8910 logical address of a cpio pre-pack (pacgen.py `PRE_PACK_FILE_LOGIC_ADDRESS`).
pub const LOGICAL_PREPACK: u32 = 0xFE00_0004;
/// The 8910 logical address "delete appimg" (pacgen.py `DEL_APPIMG_LOGIC_ADDRESS`).
pub const LOGICAL_DELETE_APPIMG: u32 = 0xFE00_0005;
/// The 8910 logical address "format flash / erase sysfs" (pacgen.py `FMT_FLASH_LOGIC_ADDRESS`).
pub const LOGICAL_FORMAT: u32 = crate::image::pac::describe::ADDR_FORMAT_FLASH;

/// Characters of a partition name (u16[36], unisoc_dloader `bsl_cmd_add_partition`).
pub const PARTITION_NAME_UNITS: usize = 36;

/// Where START_DATA or ERASE_FLASH points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An address (physical or logical) and a size, big-endian.
    Address {
        /// The address.
        address: u32,
        /// The size in bytes.
        size: u32,
    },
    /// A partition by name (u16[36] UTF-16LE) and a little-endian size.
    Partition {
        /// The name.
        name: String,
        /// The size (0 in ERASE_FLASH for the whole partition).
        size: u64,
    },
}

/// START_DATA: where, how much, and for NV the checksum of the sealed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartData {
    /// Where.
    pub target: Target,
    /// The NV checksum word (unisoc_dloader sends it for NV files).
    pub checksum: Option<u32>,
}

impl StartData {
    /// START_DATA for `size` bytes at `address`, with an NV checksum if given.
    pub fn address(address: u32, size: u32, checksum: Option<u32>) -> StartData {
        StartData { target: Target::Address { address, size }, checksum }
    }

    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.target {
            Target::Address { address, size } => {
                out.extend_from_slice(&address.to_be_bytes());
                out.extend_from_slice(&size.to_be_bytes());
                if let Some(c) = self.checksum {
                    out.extend_from_slice(&c.to_be_bytes());
                }
            }
            Target::Partition { name, size } => {
                put_name(&mut out, name);
                out.extend_from_slice(&(*size as u32).to_le_bytes());
                if let Some(c) = self.checksum {
                    out.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        out
    }

    /// Parses a payload: 8 or 12 bytes by address, 76 or 80 by partition name.
    pub fn parse(p: &[u8]) -> Result<StartData, String> {
        match p.len() {
            8 | 12 => Ok(StartData {
                target: Target::Address { address: be32(&p[0..4]), size: be32(&p[4..8]) },
                checksum: (p.len() == 12).then(|| be32(&p[8..12])),
            }),
            76 | 80 => Ok(StartData {
                target: Target::Partition { name: get_name(&p[..72]), size: u64::from(le32(&p[72..76])) },
                checksum: (p.len() == 80).then(|| le32(&p[76..80])),
            }),
            n => Err(format!("START_DATA payload of {n} bytes; expected 8 or 12 (address), 76 or 80 (partition)")),
        }
    }
}

/// The ERASE_FLASH payload for `target`.
pub fn encode_erase(target: &Target) -> Vec<u8> {
    StartData { target: target.clone(), checksum: None }.encode()
}

/// Parses an ERASE_FLASH payload: 8 bytes by address, 76 by partition name.
pub fn parse_erase(p: &[u8]) -> Result<Target, String> {
    match p.len() {
        8 | 76 => Ok(StartData::parse(p)?.target),
        n => Err(format!("ERASE_FLASH payload of {n} bytes; expected 8 (address) or 76 (partition)")),
    }
}

/// READ_FLASH: `size` bytes at `address + offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFlash {
    /// The base address.
    pub address: u32,
    /// How many bytes.
    pub size: u32,
    /// The offset from the base.
    pub offset: u32,
}

impl ReadFlash {
    /// The payload bytes (address, size, offset; big-endian).
    pub fn encode(&self) -> Vec<u8> {
        [self.address, self.size, self.offset].iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// Parses a payload: 12 bytes, or 8 with no offset (spreadtrum_flash `custom_fdl` takes both).
    pub fn parse(p: &[u8]) -> Result<ReadFlash, String> {
        match p.len() {
            8 | 12 => Ok(ReadFlash {
                address: be32(&p[0..4]),
                size: be32(&p[4..8]),
                offset: if p.len() == 12 { be32(&p[8..12]) } else { 0 },
            }),
            n => Err(format!("READ_FLASH payload of {n} bytes; expected 12 (address, size, offset) or 8")),
        }
    }
}

/// The CHANGE_BAUD payload.
pub fn encode_baud(baud: u32) -> Vec<u8> {
    baud.to_be_bytes().to_vec()
}

/// Parses a CHANGE_BAUD payload.
pub fn parse_baud(p: &[u8]) -> Result<u32, String> {
    match p {
        [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => Err(format!("CHANGE_BAUD payload of {} bytes; expected 4", p.len())),
    }
}

/// The VER payload for a version string: the text and a NUL.
pub fn encode_version(text: &str) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(0);
    v
}

/// The text of a VER payload (up to its first NUL, lossy).
pub fn parse_version(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    let units: Vec<u16> = name.encode_utf16().take(PARTITION_NAME_UNITS).collect();
    for k in 0..PARTITION_NAME_UNITS {
        out.extend_from_slice(&units.get(k).copied().unwrap_or(0).to_le_bytes());
    }
}

fn get_name(p: &[u8]) -> String {
    let units: Vec<u16> = p.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
    String::from_utf16_lossy(&units)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        let s = StartData::address(0x6001_0000, 0x2803, None);
        assert_eq!(s.encode(), [0x60, 0x01, 0, 0, 0, 0, 0x28, 0x03]);
        assert_eq!(StartData::parse(&s.encode()).unwrap(), s);
        let nv = StartData::address(LOGICAL_NV, 0x400, Some(0x1234));
        assert_eq!(StartData::parse(&nv.encode()).unwrap(), nv);
        let part = StartData { target: Target::Partition { name: "BOOT".into(), size: 9 }, checksum: None };
        let bytes = part.encode();
        assert_eq!(bytes.len(), 76);
        assert_eq!(&bytes[..4], [b'B', 0, b'O', 0]);
        assert_eq!(StartData::parse(&bytes).unwrap(), part);
        assert!(StartData::parse(&[0; 9]).is_err());
        assert_eq!(parse_erase(&encode_erase(&part.target)).unwrap(), part.target);
        assert!(parse_erase(&[0; 12]).is_err());
        let r = ReadFlash { address: LOGICAL_NV, size: 0x3000, offset: 0x3000 };
        assert_eq!(ReadFlash::parse(&r.encode()).unwrap(), r);
        assert_eq!(ReadFlash::parse(&r.encode()[..8]).unwrap().offset, 0);
        assert_eq!(parse_baud(&encode_baud(FDL1_BAUD)).unwrap(), 115_200);
        assert_eq!(parse_version(&encode_version(FDL_VERSION_8910)), FDL_VERSION_8910);
        assert_eq!(encode_version("SPRD3"), b"SPRD3\0");
    }
}
