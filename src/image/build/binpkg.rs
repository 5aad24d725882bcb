//! Builds real-format Eigencomm `.binpkg` files, and damaged variants.

use crate::image::binpkg::{HEADER_SIZE, IMAGE_HEADER_SIZE, MAGIC, offsets};
use crate::image::fields::{put_ascii, sha256_hex};

/// One image of a binpkg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinpkgImageSpec {
    /// Image name.
    pub name: String,
    /// Flash address.
    pub address: u32,
    /// Flash region size.
    pub max_size: u32,
    /// `BL`, `AP` or `CP`.
    pub kind: String,
    /// The data.
    pub data: Vec<u8>,
}

/// One way to damage a built binpkg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinpkgDamage {
    /// The second image's SHA-256 field names other data.
    BadSha256,
    /// The last 100 bytes cut off.
    Truncated,
    /// "bpkg" replaced.
    WrongMagic,
    /// The last image declares more data than the file holds.
    SizeBeyondFile,
    /// An image count of 0xFFFFFFFF.
    AbsurdCount,
    /// The second image's flash region overlaps the first's.
    OverlappingRegions,
}

/// Builds a binpkg.
#[derive(Debug, Clone)]
pub struct BinpkgBuilder {
    /// Version text, `106`.
    pub version: String,
    /// Unix build time.
    pub build_time: u32,
    /// The images, in order.
    pub images: Vec<BinpkgImageSpec>,
    /// Damage to apply.
    pub damage: Vec<BinpkgDamage>,
}

fn image(name: &str, address: u32, max_size: u32, kind: &str, len: usize) -> BinpkgImageSpec {
    let data = name.bytes().cycle().take(len).collect();
    BinpkgImageSpec { name: name.into(), address, max_size, kind: kind.into(), data }
}

impl BinpkgBuilder {
    /// The layout of the EC600E-CN LC `at_command.binpkg` in `QuecPython/thonny-quecpython`
    /// (smaller data).
    pub fn ec600e_cn_lc() -> BinpkgBuilder {
        BinpkgBuilder {
            version: "106".into(),
            build_time: 0x61A8_73E3,
            images: vec![
                image("ap_bootloader", 0x4000, 0x8000, "BL", 0x1234),
                image("ap_at_command", 0x24000, 0x2D_C000, "AP", 0x9000),
                image("cp-demo-flash", 0x0, 0x8_0000, "CP", 0x2001),
            ],
            damage: Vec::new(),
        }
    }

    /// The binpkg bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let has = |d| self.damage.contains(&d);
        let mut out = vec![0u8; HEADER_SIZE];
        put_ascii(&mut out[0..8], &self.version);
        out[8..12].copy_from_slice(if has(BinpkgDamage::WrongMagic) { b"bpkX" } else { MAGIC });
        out[0x0C..0x10].copy_from_slice(&self.build_time.to_le_bytes());
        let count = if has(BinpkgDamage::AbsurdCount) { u32::MAX } else { self.images.len() as u32 };
        out[0x10..0x14].copy_from_slice(&count.to_le_bytes());
        put_ascii(&mut out[0x14..0x34], "SHA256");
        let last = self.images.len().saturating_sub(1);
        for (i, img) in self.images.iter().enumerate() {
            let mut h = vec![0u8; IMAGE_HEADER_SIZE];
            put_ascii(&mut h[offsets::NAME..offsets::NAME + 64], &img.name);
            let mut address = img.address;
            if has(BinpkgDamage::OverlappingRegions) && i == 1 {
                address = self.images[0].address + 0x10;
            }
            h[offsets::ADDRESS..offsets::ADDRESS + 4].copy_from_slice(&address.to_le_bytes());
            h[offsets::MAX_SIZE..offsets::MAX_SIZE + 4].copy_from_slice(&img.max_size.to_le_bytes());
            h[offsets::HEADER_OFFSET..offsets::HEADER_OFFSET + 4].copy_from_slice(&(out.len() as u32).to_le_bytes());
            let mut length = img.data.len() as u32;
            if has(BinpkgDamage::SizeBeyondFile) && i == last {
                length += 0x100;
            }
            h[offsets::LENGTH..offsets::LENGTH + 4].copy_from_slice(&length.to_le_bytes());
            let sha =
                if has(BinpkgDamage::BadSha256) && i == 1 { sha256_hex(b"other data") } else { sha256_hex(&img.data) };
            put_ascii(&mut h[offsets::SHA256..offsets::SHA256 + 256], &sha);
            put_ascii(&mut h[offsets::TYPE..offsets::TYPE + 28], &img.kind);
            out.extend_from_slice(&h);
            out.extend_from_slice(&img.data);
        }
        if has(BinpkgDamage::Truncated) {
            out.truncate(out.len().saturating_sub(100));
        }
        out
    }
}
