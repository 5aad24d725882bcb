//! `preboot.img` / `flasher.img`: ARM Trusted-Firmware FIP containers
//! (<https://trustedfirmware-a.readthedocs.io/en/latest/design/firmware-design.html>, "Firmware
//! Image Package"; real files in `waybyte/logicromsdk:lib/asr160x/pack/ASR1601/`).
//!
//! A 16-byte TOC header (u32 name 0xAA640001, u32 serial 0x12345678, u64 flags), then 40-byte
//! entries (16-byte UUID, u64 offset, u64 size, u64 flags) ended by an all-zero UUID whose offset
//! is the file size. In the ASR1601 `preboot.img` the BL2 image sits at 0x88: after the 16-byte
//! header, two entries and the terminator.

use crate::image::ImageError;
use crate::image::archive::hex;
use crate::image::fields::View;

/// TOC name.
pub const TOC_NAME: u32 = 0xAA64_0001;
/// TOC serial number.
pub const TOC_SERIAL: u32 = 0x1234_5678;
/// Size of the TOC header.
pub const HEADER_SIZE: usize = 16;
/// Size of one TOC entry.
pub const ENTRY_SIZE: usize = 40;
/// Most entries read before the terminator; more is refused.
pub const MAX_ENTRIES: usize = 64;
/// UUID of the BL2 image, in stored byte order.
pub const UUID_BL2: [u8; 16] =
    [0x5f, 0xf9, 0xec, 0x0b, 0x4d, 0x22, 0x3e, 0x4d, 0xa5, 0x44, 0xc3, 0x9d, 0x81, 0xc7, 0x3f, 0x0a];
/// UUID of the trusted boot firmware certificate, in stored byte order.
pub const UUID_TRUSTED_BOOT_FW_CERT: [u8; 16] =
    [0xd6, 0xe2, 0x69, 0xea, 0x5d, 0x63, 0xe4, 0x11, 0x8d, 0x8c, 0x9f, 0xba, 0xbe, 0x99, 0x56, 0xa5];

/// One image in a FIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipEntry {
    /// The image's UUID, in stored byte order.
    pub uuid: [u8; 16],
    /// Offset of its data in the file.
    pub offset: u64,
    /// Size of its data.
    pub size: u64,
    /// Entry flags.
    pub flags: u64,
}

impl FipEntry {
    /// `BL2`, `TRUSTED_BOOT_FW_CERT`, or the UUID in its usual text form.
    pub fn name(&self) -> String {
        match self.uuid {
            UUID_BL2 => "BL2".into(),
            UUID_TRUSTED_BOOT_FW_CERT => "TRUSTED_BOOT_FW_CERT".into(),
            u => {
                format!("{}-{}-{}-{}-{}", hex(&u[0..4]), hex(&u[4..6]), hex(&u[6..8]), hex(&u[8..10]), hex(&u[10..16]))
            }
        }
    }
}

/// A parsed, bounds-checked FIP container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fip {
    /// The images, in TOC order (without the terminator).
    pub entries: Vec<FipEntry>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

/// Whether `first_bytes` start like a FIP container.
pub fn is_fip(first_bytes: &[u8]) -> bool {
    first_bytes.get(..4) == Some(&TOC_NAME.to_le_bytes()[..])
}

impl Fip {
    /// Parses a FIP container held in `bytes`; `part` names it (`preboot.img`) in errors.
    pub fn parse(bytes: &[u8], path: &str, part: &str) -> Result<Fip, ImageError> {
        let v = View::new(bytes, path, part);
        let name = v.u32(0)?;
        if name != TOC_NAME {
            return Err(v.bad(format!("wrong FIP TOC magic: expected {TOC_NAME:#010x}, found {name:#010x}")));
        }
        let mut problems = Vec::new();
        let serial = v.u32(4)?;
        if serial != TOC_SERIAL {
            problems.push(format!("{part}: FIP serial number {serial:#010x}, expected {TOC_SERIAL:#010x}"));
        }
        let file_len = bytes.len() as u64;
        let mut entries = Vec::new();
        let mut terminated = false;
        for i in 0..=MAX_ENTRIES {
            let at = HEADER_SIZE + i * ENTRY_SIZE;
            let mut uuid = [0u8; 16];
            uuid.copy_from_slice(v.bytes(at, 16)?);
            let entry = FipEntry { uuid, offset: v.u64(at + 16)?, size: v.u64(at + 24)?, flags: v.u64(at + 32)? };
            if uuid == [0u8; 16] {
                if entry.offset > file_len {
                    return Err(v.bad(format!(
                        "truncated: the TOC terminator says the file is {} bytes, it has {file_len}",
                        entry.offset
                    )));
                }
                if entry.offset < file_len {
                    problems.push(format!(
                        "{part}: {} bytes after the end the TOC gives ({:#x})",
                        file_len - entry.offset,
                        entry.offset
                    ));
                }
                terminated = true;
                break;
            }
            entries.push(entry);
        }
        if !terminated {
            return Err(v.bad(format!("no TOC terminator within {MAX_ENTRIES} entries")));
        }
        let toc_end = (HEADER_SIZE + (entries.len() + 1) * ENTRY_SIZE) as u64;
        check_bounds(&v, &entries, toc_end, file_len)?;
        if !entries.iter().any(|e| e.uuid == UUID_BL2) {
            problems.push(format!("{part}: no BL2 image in the FIP"));
        }
        Ok(Fip { entries, problems })
    }
}

/// Every image lies after the TOC, inside the file, and overlaps no other.
fn check_bounds(v: &View<'_>, entries: &[FipEntry], toc_end: u64, file_len: u64) -> Result<(), ImageError> {
    for e in entries {
        let end = e.offset.checked_add(e.size).filter(|&end| end <= file_len).ok_or_else(|| {
            v.bad(format!(
                "image {} at {:#x} with size {:#x} extends beyond the file ({file_len} bytes)",
                e.name(),
                e.offset,
                e.size
            ))
        })?;
        if e.size > 0 && e.offset < toc_end {
            return Err(v.bad(format!(
                "image {} at {:#x} overlaps the TOC, which ends at {toc_end:#x}",
                e.name(),
                e.offset
            )));
        }
        for o in entries {
            if std::ptr::eq(o, e) || o.size == 0 || e.size == 0 {
                continue;
            }
            let o_end = o.offset.saturating_add(o.size);
            if e.offset < o_end && o.offset < end {
                return Err(v.bad(format!(
                    "images {} ({:#x}+{:#x}) and {} ({:#x}+{:#x}) overlap",
                    e.name(),
                    e.offset,
                    e.size,
                    o.name(),
                    o.offset,
                    o.size
                )));
            }
        }
    }
    Ok(())
}
