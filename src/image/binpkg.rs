//! Eigencomm `.binpkg` packages (as found in the real file
//! `QuecPython/thonny-quecpython:thonnycontrib/quecpython/fw/exes/Eigen/image_ec618/pkgdir/at_command.binpkg`,
//! which ships beside its extracted images): a 0x34-byte header ("bpkg", image count,
//! hash algorithm) and images, each a 0x16C-byte header (name, flash address, max size, its own
//! offset, data length, SHA-256 as hex, type) followed by its data. Every image is checked
//! against its SHA-256, streamed through a fixed buffer. Integers are read little-endian
//! (inferred: the values in that file read sensibly only that way).

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
    /// Max size.
    pub const MAX_SIZE: usize = 0x44;
    /// File offset of this header.
    pub const HEADER_OFFSET: usize = 0x48;
    /// Data length.
    pub const LENGTH: usize = 0x4C;
    /// SHA-256 as ASCII hex, char[256].
    pub const SHA256: usize = 0x50;
    /// Type, char[28]: BL, AP, CP.
    pub const TYPE: usize = 0x150;
}

/// One image of a binpkg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinpkgImage {
    /// `ap_bootloader`, `ap_at_command`, `cp-demo-flash`, ...
    pub name: String,
    /// Flash address.
    pub address: u32,
    /// Largest size the flash region takes.
    pub max_size: u32,
    /// Offset of this image's header in the file.
    pub header_offset: u64,
    /// Data length.
    pub length: u32,
    /// The SHA-256 the header gives (lower-case hex), verified.
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
    /// The header's version text, `106`.
    pub version: String,
    /// Unix build time.
    pub build_time: u32,
    /// The hash algorithm, `SHA256`.
    pub hash_algorithm: String,
    /// The images, in file order.
    pub images: Vec<BinpkgImage>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

/// Whether `first_bytes` start like a binpkg ("bpkg" at offset 8).
pub fn is_binpkg(first_bytes: &[u8]) -> bool {
    first_bytes.get(8..12) == Some(&MAGIC[..])
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
    Ok(insp)
}

/// Fills `insp` from a read binpkg. A binpkg carries no revision; the image names are
/// searched for one, and the file name's claim stays the only identity otherwise.
pub fn describe(pkg: &Binpkg, insp: &mut Inspection) {
    let content = revision_in(pkg.images.iter().map(|i| i.name.as_str()));
    super::claims::fill_identity(insp, content.as_ref());
    insp.name_conflict = super::claims::name_conflict(&insp.path, content.as_ref(), None);
    if content.is_none() && name_claim(&insp.path).is_none() {
        insp.problems.push("neither the content nor the file name says which module this package is for".into());
    }
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
    let mut head = [0u8; HEADER_SIZE];
    reader.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    let got = read_up_to(reader, &mut head).map_err(|e| io_error(path, e))?;
    let v = View::new(&head[..got], path, "binpkg header");
    let magic = v.bytes(8, 4)?;
    if magic != MAGIC {
        return Err(
            v.bad(format!("wrong magic: expected \"bpkg\" at offset 8, found {:?}", String::from_utf8_lossy(magic)))
        );
    }
    let version = v.ascii(0, 8, "the version")?;
    let build_time = v.u32(0x0C)?;
    let count = v.u32(0x10)?;
    let hash_algorithm = v.ascii(0x14, 32, "the hash algorithm")?;
    if hash_algorithm != "SHA256" {
        return Err(v.bad(format!("hash algorithm {hash_algorithm:?} is not supported (expected \"SHA256\")")));
    }
    if count > MAX_IMAGES {
        return Err(v.bad(format!("image count {count} is absurd (at most {MAX_IMAGES} are read)")));
    }
    let mut images = Vec::with_capacity(count as usize);
    let mut problems = Vec::new();
    let mut pos = HEADER_SIZE as u64;
    for i in 0..count as usize {
        let img = read_image(reader, pos, file_len, i, path)?;
        pos = img.data_offset() + u64::from(img.length);
        images.push(img);
    }
    if pos < file_len {
        problems.push(format!("{} bytes after the last image are not part of any image", file_len - pos));
    }
    check_regions(&images, path)?;
    Ok(Binpkg { version, build_time, hash_algorithm, images, problems })
}

fn read_image<R: Read + Seek>(
    reader: &mut R,
    pos: u64,
    file_len: u64,
    i: usize,
    path: &str,
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
        header_offset: u64::from(v.u32(offsets::HEADER_OFFSET)?),
        length: v.u32(offsets::LENGTH)?,
        sha256: v.ascii(offsets::SHA256, 256, "the SHA-256")?.to_ascii_lowercase(),
        kind: v.ascii(offsets::TYPE, 28, "the type")?,
        name,
    };
    if img.header_offset != pos {
        return Err(v.bad(format!("its header says it is at offset {:#x}, it is at {pos:#x}", img.header_offset)));
    }
    if img.sha256.len() != 64 || !img.sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(v.bad(format!("the SHA-256 field {:?} is not 64 hex digits", img.sha256)));
    }
    if img.length > img.max_size {
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
    if found != img.sha256 {
        return Err(v.bad(format!("SHA-256 mismatch: the header gives {}, the data hashes to {found}", img.sha256)));
    }
    Ok(img)
}

/// Flash regions of images on the same flash (CP images live on `cp_flash`) must not overlap.
fn check_regions(images: &[BinpkgImage], path: &str) -> Result<(), ImageError> {
    for (i, a) in images.iter().enumerate() {
        for b in &images[..i] {
            let same_flash = (a.kind == "CP") == (b.kind == "CP");
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
