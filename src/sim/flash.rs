//! The simulated module's flash: `--state DIR/flash.bin` (raw content from address 0; for NAND
//! page by page without spare bytes), or memory when no state directory is given.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::error::SimError;

/// The unit the in-memory store allocates, in bytes.
const CHUNK: u64 = 64 * 1024;

/// A flash store of a fixed size. Reads past what was ever written give what the backing gives:
/// zeros for a new sparse file, `0xFF` (erased) in memory.
#[derive(Debug)]
pub struct FlashStore {
    size: u64,
    backing: Backing,
}

#[derive(Debug)]
enum Backing {
    File { file: File, path: PathBuf },
    Memory(BTreeMap<u64, Vec<u8>>),
}

impl FlashStore {
    /// A store in memory (nothing kept after the run).
    pub fn in_memory(size: u64) -> FlashStore {
        FlashStore { size, backing: Backing::Memory(BTreeMap::new()) }
    }

    /// `dir/flash.bin`: created sparse at `size` bytes, or reopened as it was left by an earlier
    /// run (the same module after a power cycle). A file of another size is refused.
    pub fn open_state(dir: &Path, size: u64) -> Result<FlashStore, SimError> {
        std::fs::create_dir_all(dir).map_err(|e| SimError::files(dir, e))?;
        let path = dir.join("flash.bin");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| SimError::files(&path, e))?;
        let len = file.metadata().map_err(|e| SimError::files(&path, e))?.len();
        if len == 0 {
            file.set_len(size).map_err(|e| SimError::files(&path, e))?;
        } else if len != size {
            return Err(SimError::files(
                &path,
                format!("holds {len} bytes, but this module's flash has {size}; use another --state directory"),
            ));
        }
        Ok(FlashStore { size, backing: Backing::File { file, path } })
    }

    /// The flash size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The backing file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.backing {
            Backing::File { path, .. } => Some(path),
            Backing::Memory(_) => None,
        }
    }

    fn check(&self, offset: u64, len: usize) -> io::Result<()> {
        let end = offset
            .checked_add(len as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range overflows"))?;
        if end > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{offset:#x}+{len:#x} is past the end of flash ({:#x})", self.size),
            ));
        }
        Ok(())
    }

    /// Reads `len` bytes at `offset`.
    pub fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.check(offset, len)?;
        let mut buf = vec![0xFF; len];
        match &self.backing {
            Backing::File { file, .. } => file.read_exact_at(&mut buf, offset)?,
            Backing::Memory(chunks) => {
                for (i, slot) in buf.iter_mut().enumerate() {
                    let addr = offset + i as u64;
                    if let Some(chunk) = chunks.get(&(addr / CHUNK)) {
                        *slot = chunk[(addr % CHUNK) as usize];
                    }
                }
            }
        }
        Ok(buf)
    }

    /// Writes `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check(offset, data.len())?;
        match &mut self.backing {
            Backing::File { file, .. } => file.write_all_at(data, offset)?,
            Backing::Memory(chunks) => {
                for (i, b) in data.iter().enumerate() {
                    let addr = offset + i as u64;
                    let chunk = chunks.entry(addr / CHUNK).or_insert_with(|| vec![0xFF; CHUNK as usize]);
                    chunk[(addr % CHUNK) as usize] = *b;
                }
            }
        }
        Ok(())
    }

    /// Erases `len` bytes at `offset` to `0xFF`.
    pub fn erase(&mut self, offset: u64, len: usize) -> io::Result<()> {
        self.write(offset, &vec![0xFF; len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_file() {
        let mut m = FlashStore::in_memory(1 << 20);
        m.write(70_000, b"abc").unwrap();
        assert_eq!(m.read(69_999, 5).unwrap(), [0xFF, b'a', b'b', b'c', 0xFF]);
        assert!(m.write((1 << 20) - 1, b"ab").is_err());
        assert!(m.read(u64::MAX, 2).is_err());

        let dir = tempfile::tempdir().unwrap();
        let mut f = FlashStore::open_state(dir.path(), 4 << 20).unwrap();
        f.write(16, b"boot").unwrap();
        f.erase(0, 4).unwrap();
        drop(f);
        let f = FlashStore::open_state(dir.path(), 4 << 20).unwrap();
        assert_eq!(f.read(14, 6).unwrap(), [0, 0, b'b', b'o', b'o', b't']);
        assert_eq!(f.read(0, 4).unwrap(), [0xFF; 4]);
        assert_eq!(std::fs::metadata(dir.path().join("flash.bin")).unwrap().len(), 4 << 20);
        assert!(FlashStore::open_state(dir.path(), 8 << 20).is_err());
    }
}
