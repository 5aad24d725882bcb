//! Eigencomm `.binpkg` packages (openLuat/ectool2py:src/ectool/unpkg.py): a 0x34-byte header (version text, "bpkg",
//! build time, image count, hash algorithm) and images, each a 0x16C-byte header followed by
//! its data. Every image is checked against its SHA-256, streamed through a fixed buffer.
//!
//! What is read follows what Eigencomm's own tool accepts: `ectool` (openLuat/ectool2py
//! `src/ectool/unpkg.py`) skips the 0x34-byte header without reading it (or a 0x1D8-byte one
//! when bytes 0x38..0x3F say `pkgmode`, with the chip name at 0x190) and walks the images to
//! the end of the file, each header being `64s I I I I 256s 16s H H I I`: name, flash address,
//! flash size, offset, image size, SHA-256 as hex text, type (`BL`, `AP`, `CP`), then two u16
//! and two u32 it ignores. So the header fields may be zero (no magic, no count, no hash
//! algorithm), an image's own-offset field may be zero, and its flash size may be zero (no
//! region given); fwguard accepts those. It refuses what is damaged: an image cut short, a
//! SHA-256 that does not match, a count that is given and disagrees with the images, regions
//! that overlap. The real `at_command.binpkg` of QuecPython/thonny-quecpython
//! (`fw/exes/Eigen/image_ec618/pkgdir/`, 2,405,258 bytes) has version "106", "bpkg", build
//! time 0x61A873E3, 3 images, "SHA256", each header's offset field equal to its position
//! (0x34, 0x54E0, 0x1E5360) and the trailing u16/u32 fields zero. Integers are little-endian.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::archive::read_up_to;
use super::claims::{name_claim, revision_in};
use super::fields::{View, io_error, malformed, sha256_range, stream_len};
use super::{FileEntry, ImageError, Inspection, Partition};

/// `Inspection::format` of a binpkg.
pub const FORMAT: &str = "eigencomm-binpkg";
/// Size of the package header.
pub const HEADER_SIZE: usize = 0x34;
/// Size of the newer package header, marked by [`PKGMODE`] at [`PKGMODE_OFFSET`].
pub const PKGMODE_HEADER_SIZE: usize = 0x1D8;
/// The marker of the newer header.
pub const PKGMODE: &[u8; 7] = b"pkgmode";
/// Where [`PKGMODE`] sits.
pub const PKGMODE_OFFSET: usize = 0x38;
/// Where the newer header gives the chip name (6 bytes).
pub const PKGMODE_CHIP_OFFSET: usize = 0x190;
/// Size of an image header.
pub const IMAGE_HEADER_SIZE: usize = 0x16C;
/// The magic at offset 8.
pub const MAGIC: &[u8; 4] = b"bpkg";
/// Most images read; more is refused as absurd.
pub const MAX_IMAGES: u32 = 256;

/// Image header field offsets.
pub mod offsets {
    /// `name`, char[64].
    pub const NAME: usize = 0x00;
    /// Flash address.
    pub const ADDRESS: usize = 0x40;
    /// Max size (the flash region).
    pub const MAX_SIZE: usize = 0x44;
    /// File offset of this header.
    pub const HEADER_OFFSET: usize = 0x48;
    /// Data length.
    pub const LENGTH: usize = 0x4C;
    /// SHA-256 as ASCII hex, char[256].
    pub const SHA256: usize = 0x50;
    /// Type, char[16]: BL, AP, CP.
    pub const TYPE: usize = 0x150;
    /// Length of the type field.
    pub const TYPE_LEN: usize = 16;
    /// Two u16 and two u32 the tools ignore (`vt`, `vtsize`, `rsvd`, `pData` in ectool).
    pub const RESERVED: usize = 0x160;
}

/// One image of a binpkg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinpkgImage {
    /// `ap_bootloader`, `ap_at_command`, `cp-demo-flash`, ...
    pub name: String,
    /// Flash address.
    pub address: u32,
    /// Largest size the flash region takes; 0 when the package gives none.
    pub max_size: u32,
    /// Offset of this image's header in the file.
    pub header_offset: u64,
    /// Data length.
    pub length: u32,
    /// The SHA-256 the header gives (lower-case hex), verified; empty when it gives none.
    pub sha256: String,
    /// `BL`, `AP` or `CP`.
    pub kind: String,
}

impl BinpkgImage {
    /// Offset of the data.
    pub fn data_offset(&self) -> u64 {
        self.header_offset + IMAGE_HEADER_SIZE as u64
    }
}

/// A parsed, verified binpkg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binpkg {
    /// The header's version text, `106` (may be empty).
    pub version: String,
    /// Unix build time (0 when not given).
    pub build_time: u32,
    /// The hash algorithm, `SHA256` (empty when not given; SHA-256 is assumed).
    pub hash_algorithm: String,
    /// The chip a `pkgmode` header names.
    pub chip: Option<String>,
    /// The images, in file order.
    pub images: Vec<BinpkgImage>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

/// Whether `first_bytes` start like a binpkg: "bpkg" at offset 8, or the `pkgmode` header.
pub fn is_binpkg(first_bytes: &[u8]) -> bool {
    first_bytes.get(8..12) == Some(&MAGIC[..])
        || first_bytes.get(PKGMODE_OFFSET..PKGMODE_OFFSET + PKGMODE.len()) == Some(&PKGMODE[..])
}

/// Opens, verifies and describes the binpkg at `path`.
pub fn inspect_binpkg(path: &Path) -> Result<Inspection, ImageError> {
    let shown = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| io_error(&shown, e))?;
    inspect_binpkg_reader(&mut file, &shown)
}

/// Verifies and describes a binpkg from any seekable reader; `path` names it.
pub fn inspect_binpkg_reader<R: Read + Seek>(reader: &mut R, path: &str) -> Result<Inspection, ImageError> {
    let pkg = read_binpkg(reader, path)?;
    let mut insp = Inspection {
        path: path.to_string(),
        format: FORMAT.into(),
        platform: Some(crate::platform::Platform::Eigencomm),
        ..Inspection::default()
    };
    describe(&pkg, &mut insp);
    if insp.product.is_none() && name_claim(&insp.path).is_none() {
        insp.problems.push("neither the content nor the file name says which module this package is for".into());
    }
    Ok(insp)
}

/// Fills `insp` from a read binpkg. A binpkg carries no revision; the image names are
/// searched for one, and the file name's claim stays the only identity otherwise (the caller
/// says when neither names the module: a QuecPython package may name it in its folders).
pub fn describe(pkg: &Binpkg, insp: &mut Inspection) {
    let content = revision_in(pkg.images.iter().map(|i| i.name.as_str()));
    super::claims::fill_identity(insp, content.as_ref());
    insp.name_conflict = super::claims::name_conflict(&insp.path, content.as_ref(), None);
    for img in &pkg.images {
        insp.files.push(FileEntry { path: img.name.clone(), size: u64::from(img.length), sha256: img.sha256.clone() });
        insp.partitions.push(Partition {
            name: img.name.clone(),
            start: Some(u64::from(img.address)),
            size: Some(u64::from(img.max_size)),
            file: Some(img.name.clone()),
            erase: false,
        });
    }
    insp.problems.extend(pkg.problems.iter().cloned());
}

/// Reads a binpkg and verifies every image's bounds and SHA-256.
pub fn read_binpkg<R: Read + Seek>(reader: &mut R, path: &str) -> Result<Binpkg, ImageError> {
    let file_len = stream_len(reader).map_err(|e| io_error(path, e))?;
    let mut head = [0u8; PKGMODE_HEADER_SIZE];
    reader.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    let got = read_up_to(reader, &mut head).map_err(|e| io_error(path, e))?;
    let v = View::new(&head[..got], path, "binpkg header");
    let pkgmode = head.get(PKGMODE_OFFSET..PKGMODE_OFFSET + PKGMODE.len()) == Some(&PKGMODE[..]);
    let mut problems = Vec::new();
    let (header_size, version, build_time, count, hash_algorithm, chip) = if pkgmode {
        let chip = v.ascii(PKGMODE_CHIP_OFFSET, 6, "the chip name")?;
        (PKGMODE_HEADER_SIZE, String::new(), 0, 0, String::new(), Some(chip))
    } else {
        let magic = v.bytes(8, 4)?;
        if magic != MAGIC && magic != [0u8; 4] {
            return Err(v.bad(format!(
                "wrong magic: expected \"bpkg\" (or nothing) at offset 8, found {:?}",
                String::from_utf8_lossy(magic)
            )));
        }
        let hash_algorithm = v.ascii(0x14, 32, "the hash algorithm")?;
        if !hash_algorithm.is_empty() && hash_algorithm != "SHA256" {
            return Err(v.bad(format!("hash algorithm {hash_algorithm:?} is not supported (expected \"SHA256\")")));
        }
        (HEADER_SIZE, v.ascii(0, 8, "the version")?, v.u32(0x0C)?, v.u32(0x10)?, hash_algorithm, None)
    };
    if count > MAX_IMAGES {
        return Err(v.bad(format!("image count {count} is absurd (at most {MAX_IMAGES} are read)")));
    }
    let mut images = Vec::new();
    let mut pos = header_size as u64;
    if file_len < pos {
        return Err(v.bad(format!("truncated: the header is {header_size} bytes, the file has {file_len}")));
    }
    while pos < file_len {
        if images.len() as u32 >= MAX_IMAGES {
            return Err(malformed(path, "binpkg", format!("more than {MAX_IMAGES} images")));
        }
        let img = read_image(reader, pos, file_len, images.len(), path, &mut problems)?;
        pos = img.data_offset() + u64::from(img.length);
        images.push(img);
    }
    if count != 0 && count as usize != images.len() {
        return Err(v.bad(format!("the header says {count} images, the file holds {}", images.len())));
    }
    check_regions(&images, path)?;
    Ok(Binpkg { version, build_time, hash_algorithm, chip, images, problems })
}

fn read_image<R: Read + Seek>(
    reader: &mut R,
    pos: u64,
    file_len: u64,
    i: usize,
    path: &str,
    problems: &mut Vec<String>,
) -> Result<BinpkgImage, ImageError> {
    let part = format!("binpkg image {i}");
    let header_end = pos + IMAGE_HEADER_SIZE as u64;
    if header_end > file_len {
        return Err(malformed(
            path,
            &part,
            format!("truncated: its header at {pos:#x} ends beyond the file ({file_len} bytes)"),
        ));
    }
    let mut buf = [0u8; IMAGE_HEADER_SIZE];
    reader.seek(SeekFrom::Start(pos)).map_err(|e| io_error(path, e))?;
    reader.read_exact(&mut buf).map_err(|e| io_error(path, e))?;
    let v = View::new(&buf, path, &part);
    let name = v.ascii(offsets::NAME, 64, "the image name")?;
    let part = format!("binpkg image {name:?}");
    let v = View::new(&buf, path, &part);
    let img = BinpkgImage {
        address: v.u32(offsets::ADDRESS)?,
        max_size: v.u32(offsets::MAX_SIZE)?,
        header_offset: pos,
        length: v.u32(offsets::LENGTH)?,
        sha256: v.ascii(offsets::SHA256, 256, "the SHA-256")?.to_ascii_lowercase(),
        kind: v.ascii(offsets::TYPE, offsets::TYPE_LEN, "the type")?,
        name,
    };
    let stated = u64::from(v.u32(offsets::HEADER_OFFSET)?);
    if stated != 0 && stated != pos {
        problems.push(format!("image {:?}: its header says it is at offset {stated:#x}, it is at {pos:#x}", img.name));
    }
    if !img.sha256.is_empty() && (img.sha256.len() != 64 || !img.sha256.bytes().all(|c| c.is_ascii_hexdigit())) {
        return Err(v.bad(format!("the SHA-256 field {:?} is not 64 hex digits", img.sha256)));
    }
    if img.max_size != 0 && img.length > img.max_size {
        return Err(v.bad(format!("{} bytes of data exceed its flash region of {} bytes", img.length, img.max_size)));
    }
    if u64::from(img.address) + u64::from(img.max_size) > 1 << 32 {
        return Err(v.bad(format!("flash region {:#x}+{:#x} ends beyond 4 GiB", img.address, img.max_size)));
    }
    let data_end = header_end + u64::from(img.length);
    if data_end > file_len {
        return Err(v.bad(format!(
            "declares {} bytes of data at {header_end:#x}, beyond the end of the file ({file_len} bytes)",
            img.length
        )));
    }
    let found = sha256_range(reader, header_end, u64::from(img.length)).map_err(|e| io_error(path, e))?;
    if img.sha256.is_empty() {
        problems.push(format!("image {:?} carries no SHA-256: its data cannot be checked", img.name));
        return Ok(BinpkgImage { sha256: found, ..img });
    }
    if found != img.sha256 {
        return Err(v.bad(format!("SHA-256 mismatch: the header gives {}, the data hashes to {found}", img.sha256)));
    }
    Ok(img)
}

/// Flash regions of images on the same flash (CP images live on `cp_flash`) must not overlap.
fn check_regions(images: &[BinpkgImage], path: &str) -> Result<(), ImageError> {
    for (i, a) in images.iter().enumerate() {
        for b in &images[..i] {
            let same_flash = (a.kind == "CP") == (b.kind == "CP") && a.max_size > 0 && b.max_size > 0;
            let a_end = u64::from(a.address) + u64::from(a.max_size);
            let b_end = u64::from(b.address) + u64::from(b.max_size);
            if same_flash && u64::from(a.address) < b_end && u64::from(b.address) < a_end {
                return Err(malformed(
                    path,
                    &format!("binpkg image {:?}", a.name),
                    format!(
                        "its flash region {:#x}+{:#x} overlaps that of {:?} ({:#x}+{:#x})",
                        a.address, a.max_size, b.name, b.address, b.max_size
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::image::build::binpkg::{BinpkgBuilder, BinpkgDamage};
    use crate::image::fields::sha256_hex;

    fn inspect(builder: &BinpkgBuilder, name: &str) -> Result<Inspection, ImageError> {
        inspect_binpkg_reader(&mut Cursor::new(builder.to_bytes()), name)
    }

    #[test]
    fn round_trip() {
        let builder = BinpkgBuilder::ec600e_cn_lc();
        let bytes = builder.to_bytes();
        assert!(is_binpkg(&bytes));
        let insp = inspect(&builder, "EC600ECNLCR01A01M04.binpkg").unwrap();
        assert_eq!(
            (insp.format.as_str(), insp.platform),
            ("eigencomm-binpkg", Some(crate::platform::Platform::Eigencomm))
        );
        assert_eq!(insp.files.len(), 3);
        assert_eq!(insp.files[1].sha256, sha256_hex(&builder.images[1].data));
        assert_eq!(insp.partitions[1].start, Some(0x24000));
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
        let pkg = read_binpkg(&mut Cursor::new(bytes), "x").unwrap();
        assert_eq!((pkg.version.as_str(), pkg.build_time, pkg.images[2].kind.as_str()), ("106", 0x61A8_73E3, "CP"));
        let anonymous = inspect(&builder, "at_command.binpkg").unwrap();
        assert!(!anonymous.problems.is_empty());
    }

    #[test]
    fn the_header_is_the_real_ones() {
        // at_command.binpkg of QuecPython/thonny-quecpython (fw/exes/Eigen/image_ec618/pkgdir):
        // 31 30 36 00 00 00 00 00 | 62 70 6b 67 | e3 73 a8 61 | 03 00 00 00 | "SHA256", then
        // the first image header at 0x34 with its own offset 0x34, type "BL" in 16 bytes, the
        // SHA-256 in upper-case hex, and the four fields after the type zero.
        let bytes = BinpkgBuilder::ec600e_cn_lc().to_bytes();
        assert_eq!(bytes[..0x1A], *b"106\0\0\0\0\0bpkg\xe3\x73\xa8\x61\x03\0\0\0SHA256");
        let first = &bytes[HEADER_SIZE..HEADER_SIZE + IMAGE_HEADER_SIZE];
        assert_eq!(first[offsets::HEADER_OFFSET..offsets::HEADER_OFFSET + 4], 0x34u32.to_le_bytes());
        assert_eq!(&first[offsets::TYPE..offsets::TYPE + 3], b"BL\0");
        assert!(first[offsets::RESERVED..].iter().all(|&b| b == 0));
        assert!(
            first[offsets::SHA256..offsets::SHA256 + 64].iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
    }

    #[test]
    fn what_ectool_ignores_may_be_zero() {
        // ectool (openLuat/ectool2py unpkg.py) skips the 0x34-byte header and never reads an
        // image's own-offset field: a package with those zero is accepted, without problems.
        let mut builder = BinpkgBuilder::ec600e_cn_lc();
        builder.minimal_header = true;
        let bytes = builder.to_bytes();
        assert!(!is_binpkg(&bytes), "no magic to sniff: the .binpkg suffix tells it");
        let pkg = read_binpkg(&mut Cursor::new(&bytes), "x").unwrap();
        assert_eq!((pkg.version.as_str(), pkg.hash_algorithm.as_str(), pkg.images.len()), ("", "", 3));
        assert!(pkg.problems.is_empty(), "{:?}", pkg.problems);
        let insp = inspect(&builder, "EC600ECNLCR01A01M04.binpkg").unwrap();
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
        // The newer header: "pkgmode" at 0x38, 0x1D8 bytes, the chip name at 0x190.
        let mut newer = vec![0u8; PKGMODE_HEADER_SIZE];
        newer[PKGMODE_OFFSET..PKGMODE_OFFSET + 7].copy_from_slice(PKGMODE);
        newer[PKGMODE_CHIP_OFFSET..PKGMODE_CHIP_OFFSET + 5].copy_from_slice(b"ec718");
        newer.extend_from_slice(&bytes[HEADER_SIZE..]);
        assert!(is_binpkg(&newer[..64]));
        let pkg = read_binpkg(&mut Cursor::new(&newer), "x").unwrap();
        assert_eq!((pkg.chip.as_deref(), pkg.images.len()), (Some("ec718"), 3));
        // A stray offset field is noted, not refused; an image without a SHA-256 is noted.
        let mut odd = bytes.clone();
        odd[HEADER_SIZE + offsets::HEADER_OFFSET] = 0x99;
        odd[HEADER_SIZE + offsets::SHA256..HEADER_SIZE + offsets::SHA256 + 64].fill(0);
        let pkg = read_binpkg(&mut Cursor::new(&odd), "x").unwrap();
        assert!(pkg.problems.iter().any(|p| p.contains("offset 0x99")), "{:?}", pkg.problems);
        assert!(pkg.problems.iter().any(|p| p.contains("no SHA-256")), "{:?}", pkg.problems);
        assert_eq!(pkg.images[0].sha256, sha256_hex(&builder.images[0].data));
    }

    #[test]
    fn a_revision_in_an_image_name_is_checked_against_the_file_name() {
        let mut builder = BinpkgBuilder::ec600e_cn_lc();
        builder.images[1].name = "EC800ECNLCR02A01M04_OCPU_QPY".into();
        let insp = inspect(&builder, "EC600ECNLCR01A01M04.binpkg").unwrap();
        assert_eq!(insp.product.as_deref(), Some("EC800ECNLC"));
        assert!(insp.name_conflict.unwrap().contains("EC600ECNLC"));
    }

    #[test]
    fn damaged_packages_are_refused() {
        let cases = [
            (BinpkgDamage::BadSha256, "SHA-256 mismatch"),
            (BinpkgDamage::Truncated, "beyond the end"),
            (BinpkgDamage::WrongMagic, "wrong magic"),
            (BinpkgDamage::SizeBeyondFile, "beyond the end"),
            (BinpkgDamage::AbsurdCount, "absurd"),
            (BinpkgDamage::WrongCount, "the header says 4 images, the file holds 3"),
            (BinpkgDamage::OverlappingRegions, "overlaps"),
        ];
        for (damage, text) in cases {
            let mut builder = BinpkgBuilder::ec600e_cn_lc();
            builder.damage.push(damage);
            match inspect(&builder, "x.binpkg") {
                Err(ImageError::Malformed { part, problem, .. }) => {
                    assert!(problem.contains(text), "{damage:?}: {part}: {problem}");
                    if damage == BinpkgDamage::BadSha256 {
                        assert!(part.contains("ap_at_command") && problem.contains(&sha256_hex(b"other data")));
                    }
                }
                other => panic!("{damage:?}: {other:?}"),
            }
        }
        let bytes = BinpkgBuilder::ec600e_cn_lc().to_bytes();
        for n in [0, 8, 20, 0x34, 0x100] {
            assert!(read_binpkg(&mut Cursor::new(&bytes[..n]), "x").is_err(), "{n}");
        }
    }
}
