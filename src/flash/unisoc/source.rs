//! A PAC entry's bytes, streamed from the package rather than loaded whole.

use std::io::{self, Read, Seek, SeekFrom};

use super::error::UnisocError;
use crate::image::pac::entry::PacEntry;

/// A PAC opened for download: entries are read from it one at a time.
pub struct PacSource<R> {
    reader: R,
    name: String,
}

impl<R: Read + Seek> PacSource<R> {
    /// Wraps a reader of the PAC named `name` (for messages).
    pub fn new(reader: R, name: &str) -> PacSource<R> {
        PacSource { reader, name: name.to_string() }
    }

    /// A reader of `entry`'s data: exactly its size, from its offset.
    pub fn entry(&mut self, entry: &PacEntry) -> Result<io::Take<&mut R>, UnisocError> {
        self.reader.seek(SeekFrom::Start(entry.offset)).map_err(|e| UnisocError::Source {
            what: format!("{} in {}", entry.label(), self.name),
            detail: format!("cannot seek to {:#x}: {e}", entry.offset),
        })?;
        Ok((&mut self.reader).take(entry.size))
    }

    /// `entry`'s data in memory, for the small ones that must be whole (NV, at most `max` bytes).
    pub fn entry_bytes(&mut self, entry: &PacEntry, max: u64) -> Result<Vec<u8>, UnisocError> {
        if entry.size > max {
            return Err(UnisocError::Invalid {
                what: format!("{} in {}", entry.label(), self.name),
                detail: format!("{} bytes; at most {max} are taken", entry.size),
            });
        }
        let name = self.name.clone();
        let mut data = Vec::with_capacity(entry.size as usize);
        self.entry(entry)?
            .read_to_end(&mut data)
            .map_err(|e| UnisocError::Source { what: format!("{} in {name}", entry.label()), detail: e.to_string() })?;
        if data.len() as u64 != entry.size {
            return Err(UnisocError::Source {
                what: format!("{} in {name}", entry.label()),
                detail: format!("the package ended after {} of {} bytes", data.len(), entry.size),
            });
        }
        Ok(data)
    }
}
