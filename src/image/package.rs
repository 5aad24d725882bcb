//! A package's members, however they are stored: a folder, a zip, a 7z.

use super::FileEntry;
use super::error::ImageError;

/// One member of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the package, `/`-separated, never absolute, never with `..`.
    pub path: String,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// Read access to the members of a package, with every read bounded.
pub trait Package {
    /// The package path as given, for messages.
    fn path(&self) -> &str;
    /// The members, in a stable order.
    fn members(&self) -> &[Member];
    /// Reads a whole member into memory; refuses members larger than `limit` bytes.
    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError>;
    /// Streams a member through SHA-256 without holding it in memory.
    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError>;
}
