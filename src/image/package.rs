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

/// The member at `path`, checked for [`Package::stream_member`] from `offset`.
pub(crate) fn find_member(package: &str, members: &[Member], path: &str, offset: u64) -> Result<Member, ImageError> {
    let m = members.iter().find(|m| m.path == path).cloned().ok_or_else(|| ImageError::Malformed {
        path: package.to_string(),
        part: path.to_string(),
        problem: "no such member".into(),
    })?;
    if offset > m.size {
        return Err(ImageError::Malformed {
            path: package.to_string(),
            part: path.to_string(),
            problem: format!("offset {offset} is past the member's end ({} bytes)", m.size),
        });
    }
    Ok(m)
}

/// Skips `n` bytes of `reader`; fewer is an unexpected end.
pub(crate) fn skip(reader: &mut dyn Read, n: u64) -> std::io::Result<()> {
    let skipped = std::io::copy(&mut reader.take(n), &mut std::io::sink())?;
    if skipped < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("ended {} bytes early", n - skipped),
        ));
    }
    Ok(())
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

    /// Streams one member from byte `offset` to its end, without holding it in memory: `visit`
    /// gets the member (its full size) and a reader that yields exactly the bytes from `offset`
    /// on, and fails if the stored data is shorter, longer or damaged. This is how a module is
    /// programmed member by member. An `offset` past the member's end is refused.
    ///
    /// The default reads the member whole with [`Package::read`], up to [`DEFAULT_VISIT_LIMIT`];
    /// folders, zips, 7z archives and single files ([`crate::image::archive`]) stream.
    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let m = find_member(self.path(), self.members(), member, offset)?;
        let data = self.read(member, DEFAULT_VISIT_LIMIT)?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        visit(&m, &mut &data[start..])
    }

    /// Whether the package has a member at `path`.
    fn contains(&self, path: &str) -> bool {
        self.members().iter().any(|m| m.path == path)
    }
}
