//! A package's members, however they are stored: a folder, a zip, a 7z.

use std::io::Read;

use super::FileEntry;
use super::error::ImageError;

/// The largest member the default [`Package::for_each`] holds in memory at once (64 MiB).
/// Readers that stream (folders, zips, 7z) never hold a whole member.
pub const DEFAULT_VISIT_LIMIT: u64 = 64 << 20;

/// One member of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the package, `/`-separated, never absolute, never with `..`.
    pub path: String,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// What [`Package::for_each`] calls for each member: the member and a reader of its bytes.
pub type Visitor<'v> = dyn FnMut(&Member, &mut dyn Read) -> Result<(), ImageError> + 'v;

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

    /// Streams every member once to `visit`, in the order cheapest for the storage (for an
    /// archive, the order of its data), each as a reader that yields exactly the member's bytes
    /// and fails if the stored data is longer, shorter or damaged. The visitor may stop reading
    /// a member early. Errors from the visitor stop the walk and are returned.
    ///
    /// The default reads each member whole with [`Package::read`], up to
    /// [`DEFAULT_VISIT_LIMIT`]; the readers in [`crate::image::archive`] override it to stream.
    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let members = self.members().to_vec();
        for member in &members {
            let data = self.read(&member.path, DEFAULT_VISIT_LIMIT)?;
            visit(member, &mut data.as_slice())?;
        }
        Ok(())
    }

    /// Whether the package has a member at `path`.
    fn contains(&self, path: &str) -> bool {
        self.members().iter().any(|m| m.path == path)
    }
}
