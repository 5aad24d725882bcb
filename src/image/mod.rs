//! Image: what a firmware package claims, read from its content.

pub mod archive;
pub mod asr;
pub mod binpkg;
pub mod build;
mod claims;
pub mod dfota;
mod error;
mod fields;
mod inspect;
pub mod pac;
mod package;
pub mod protected;
pub mod qpy_eigen;
pub mod qualcomm;
pub mod quecpython;
#[cfg(test)]
mod robustness;
pub mod scan;

pub use error::ImageError;
pub use inspect::{
    FILE_FORMATS, FileFormat, MEMBER_FORMATS, MemberFormat, SNIFF_LEN, inspect, inspect_with, open_firmware,
};
pub use package::{DEFAULT_VISIT_LIMIT, Member, Package, Visitor};

use serde::Serialize;

use crate::identity::NandGeometry;
use crate::platform::Platform;

/// One file in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Path inside the package.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// A flash chip a package accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChipEntry {
    /// JEDEC ID as hex, `204117`.
    pub jedec: String,
    /// Chip name, where known.
    pub name: Option<String>,
}

/// A partition a package writes or erases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Partition name (`sbl`, `modem`, `efs2`, `nvm`, ...).
    pub name: String,
    /// Start (byte address or sector, as the format gives it).
    pub start: Option<u64>,
    /// Size in bytes, where known.
    pub size: Option<u64>,
    /// The file written there, if any.
    pub file: Option<String>,
    /// Whether the package erases it.
    pub erase: bool,
}

/// The version of the JSON form of [`Inspection`] (`format_version` in `fwguard inspect --json`):
/// raised when a key changes meaning or goes away, not when one is added.
pub const INSPECTION_FORMAT_VERSION: u32 = 1;

/// What a package claims, read from its content. The JSON keys of `fwguard inspect --json`: every
/// key is always there, `null` when the package does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The package path as given.
    pub path: String,
    /// The package format: `qualcomm-folder`, `qualcomm-zip`, `qualcomm-7z`, `asr-zip`,
    /// `quecpython`, `unisoc-pac`, `eigencomm-binpkg`, `dfota`.
    pub format: String,
    /// The platform the package is for, when its content tells.
    pub platform: Option<Platform>,
    /// The revision the content gives.
    pub revision: Option<String>,
    /// The product code the content gives.
    pub product: Option<String>,
    /// Every file, with size and SHA-256.
    pub files: Vec<FileEntry>,
    /// The flash chips the package accepts.
    pub flash_chips: Vec<ChipEntry>,
    /// NAND geometry, where the package names one.
    pub nand: Option<NandGeometry>,
    /// Partitions written or erased.
    pub partitions: Vec<Partition>,
    /// Steps that erase or overwrite calibration, NV or IMEI areas.
    pub erases: Vec<String>,
    /// For a delta (DFOTA), the build it applies to; `revision` is the build it produces.
    pub source_revision: Option<String>,
    /// The Firehose programmer (or loader) the package carries, as a member path.
    pub programmer: Option<String>,
    /// The chip or platform the programmer's name gives (`MDM9x07`, `SDX55`).
    pub chip: Option<String>,
    /// Whether the package is signed, when it says.
    pub signed: Option<bool>,
    /// What the file name claims, when it disagrees with the content.
    pub name_conflict: Option<String>,
    /// Anything wrong that did not stop the reading.
    pub problems: Vec<String>,
}
