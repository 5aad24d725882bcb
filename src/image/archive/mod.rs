//! Safe reading of package storage: folders, zips and 7z archives, behind the [`Package`] trait.
//!
//! Nothing is ever extracted to disk. Every member name is checked ([`path::normalise`]), links
//! are refused or kept inside the package, and the caps in [`limits`] stop bombs before any byte
//! is decompressed. Members are streamed with a fixed buffer, so memory stays bounded whatever
//! the package's size.

mod buffer;
mod file;
mod folder;
mod guard;
mod inflate;
pub mod limits;
mod observed;
pub mod path;
mod sevenz;
mod zip;

use std::path::Path;

pub use self::buffer::SeekBuffer;
pub use self::file::FilePackage;
pub use self::folder::FolderPackage;
pub use self::guard::{Digests, STREAM_BUFFER, digest, hex};
pub use self::observed::Observed;
pub use self::sevenz::{MAX_7Z_HEADER, SEVEN_Z_MAGIC, SevenZPackage};
pub use self::zip::{EMPTY_ZIP_MAGIC, ZIP_MAGIC, ZipPackage};
pub(crate) use guard::{read_failure, read_up_to, sniff};

use super::{ImageError, Package};

/// How a package is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A folder tree.
    Folder,
    /// A zip archive.
    Zip,
    /// A 7z archive.
    SevenZ,
    /// A single file that is no archive (`.pac`, `.bin`, `.binpkg`).
    File,
}

impl Storage {
    /// `folder`, `zip`, `7z` or `file`, as format names use it (`qualcomm-zip`).
    pub fn label(self) -> &'static str {
        match self {
            Storage::Folder => "folder",
            Storage::Zip => "zip",
            Storage::SevenZ => "7z",
            Storage::File => "file",
        }
    }
}

/// Tells how the package at `path` is stored: by its content (the zip or 7z magic), then by
/// its suffix, so a `.zip` with the wrong magic is read as a zip and refused as one.
/// Anything that is neither a regular file nor a folder (after following links) is refused from
/// its metadata, before it is opened: opening a FIFO would wait for a writer forever, and a device
/// or socket is no package.
pub fn storage_of(path: &Path) -> Result<Storage, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| ImageError::Io { path: path.display().to_string(), source: e })?;
    if meta.is_dir() {
        return Ok(Storage::Folder);
    }
    if !meta.is_file() {
        return Err(ImageError::NotAFile { path: path.display().to_string(), kind: file_kind(&meta.file_type()) });
    }
    let head = sniff(path, SEVEN_Z_MAGIC.len())?;
    if head.starts_with(&ZIP_MAGIC) || head.starts_with(&EMPTY_ZIP_MAGIC) {
        return Ok(Storage::Zip);
    }
    if head.starts_with(&SEVEN_Z_MAGIC) {
        return Ok(Storage::SevenZ);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    Ok(if name.ends_with(".zip") {
        Storage::Zip
    } else if name.ends_with(".7z") {
        Storage::SevenZ
    } else {
        Storage::File
    })
}

/// What a file that is neither a regular file nor a folder is, in words.
pub(crate) fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens the package at `path` with the reader its storage needs.
pub fn open_package(path: &Path) -> Result<Box<dyn Package>, ImageError> {
    open_as(path, storage_of(path)?)
}

/// Opens the package at `path` as `storage` (a single file is a package of one member).
pub fn open_as(path: &Path, storage: Storage) -> Result<Box<dyn Package>, ImageError> {
    Ok(match storage {
        Storage::Folder => Box::new(FolderPackage::open(path)?),
        Storage::Zip => Box::new(ZipPackage::open(path)?),
        Storage::SevenZ => Box::new(SevenZPackage::open(path)?),
        Storage::File => Box::new(FilePackage::open(path)?),
    })
}

#[cfg(test)]
mod tests;
