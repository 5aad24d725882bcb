//! The PAC of a package, as the flashing core hands it over (a [`Package`] of one member, the
//! `.pac` file): read and checked (both CRCs) through the package, one bounded read at a time,
//! never loaded whole.

use std::io::{self, Read, Seek, SeekFrom};

use crate::flash::DriverError;
use crate::image::pac::{PacFile, read_pac};
use crate::image::{ImageError, Package};

/// A member of a package as a seekable reader: each read streams from the current position
/// ([`Package::stream_member`]), so a PAC inside any package can be parsed where it lies.
pub struct MemberReader<'p> {
    package: &'p mut dyn Package,
    member: String,
    size: u64,
    position: u64,
}

impl<'p> MemberReader<'p> {
    /// Reads `member` of `package`.
    pub fn new(package: &'p mut dyn Package, member: &str) -> Result<MemberReader<'p>, DriverError> {
        let size = package
            .members()
            .iter()
            .find(|m| m.path == member)
            .map(|m| m.size)
            .ok_or_else(|| DriverError::Package(format!("{}: no member {member}", package.path())))?;
        Ok(MemberReader { package, member: member.to_string(), size, position: 0 })
    }
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let mut got = 0;
        let streamed = self.package.stream_member(&self.member, self.position, &mut |_, reader| {
            while got < buf.len() {
                match reader.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(ImageError::Io { path: String::new(), source: e }),
                }
            }
            Ok(())
        });
        streamed.map_err(|e| io::Error::other(e.to_string()))?;
        self.position += got as u64;
        Ok(got)
    }
}

impl Seek for MemberReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position =
            target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the member"))?;
        Ok(self.position)
    }
}

/// The package's PAC: its one `.pac` member (or its only member), read and checked. Returns the
/// member's name (what every write's source names) and the PAC.
pub fn read(package: &mut dyn Package) -> Result<(String, PacFile), DriverError> {
    let members = package.members();
    let pacs: Vec<&str> = members
        .iter()
        .filter(|m| m.path.to_ascii_lowercase().ends_with(".pac") || members.len() == 1)
        .map(|m| m.path.as_str())
        .collect();
    let member = match pacs.as_slice() {
        [one] => one.to_string(),
        [] => return Err(DriverError::Package(format!("{}: the package holds no .pac file", package.path()))),
        many => {
            return Err(DriverError::Package(format!(
                "{}: the package holds several .pac files ({}); flash one at a time",
                package.path(),
                many.join(", ")
            )));
        }
    };
    let shown = format!("{}: {member}", package.path());
    let mut reader = MemberReader::new(package, &member)?;
    let pac = read_pac(&mut reader, &shown)?;
    Ok((member, pac))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::pac::PacBuilder;

    #[test]
    fn a_pac_is_read_through_its_package() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("8915DM_cat1_open_EC200UCNAAR03A04M08_merge.pac");
        let bytes = PacBuilder::uis8910("EC200UCNAAR03A04M08").with_nv_steps().to_bytes();
        std::fs::write(&path, &bytes).unwrap();
        let mut package = crate::image::archive::open_package(&path).unwrap();
        let (member, pac) = read(package.as_mut()).unwrap();
        assert_eq!(member, "8915DM_cat1_open_EC200UCNAAR03A04M08_merge.pac");
        assert_eq!(pac.entries.len(), 8);
        let direct = read_pac(&mut std::io::Cursor::new(&bytes), "x").unwrap();
        assert_eq!(pac.sha256, direct.sha256);

        let mut r = MemberReader::new(package.as_mut(), &member).unwrap();
        r.seek(SeekFrom::End(-4)).unwrap();
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, bytes[bytes.len() - 4..]);
        assert!(r.seek(SeekFrom::Current(-100)).is_ok());
        assert!(r.seek(SeekFrom::End(-(bytes.len() as i64) - 1)).is_err());

        let mut damaged = bytes.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        let mut package = crate::image::archive::open_package(&path).unwrap();
        let err = read(package.as_mut()).unwrap_err();
        assert!(err.to_string().contains("CRC"), "{err}");
    }
}
