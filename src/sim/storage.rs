//! The simulated module's flash: `--state DIR/flash.bin` (raw content from address 0; for NAND
//! page by page without spare bytes), or memory when no state directory is given.
//!
//! Erased flash reads `0xFF`, as a real chip's does, in both backings. `flash.bin` is a sparse
//! file: a region that was never written, or was erased whole, is a hole in it, and reads as
//! `0xFF` through [`FlashStore`] (a plain read of the file gives zeros there). Written regions
//! hold their bytes exactly.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{FallocateFlags, fallocate};
use nix::unistd::{Whence, lseek};

use super::error::SimError;

/// The unit both backings allocate (and the file backing materialises and punches), in bytes.
const CHUNK: u64 = 64 * 1024;

/// A flash store of a fixed size.
#[derive(Debug)]
pub struct FlashStore {
    size: u64,
    fresh: bool,
    backing: Backing,
}

#[derive(Debug)]
enum Backing {
    File { file: File, path: PathBuf },
    Memory(BTreeMap<u64, Box<[u8]>>),
}

impl FlashStore {
    /// A store in memory (nothing kept after the run), erased.
    pub fn in_memory(size: u64) -> FlashStore {
        FlashStore { size, fresh: true, backing: Backing::Memory(BTreeMap::new()) }
    }

    /// `dir/flash.bin`: created sparse (erased) at `size` bytes, or reopened as it was left by an
    /// earlier run (the same module after a power cycle). A file of another size is refused.
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
        let fresh = len == 0;
        if fresh {
            file.set_len(size).map_err(|e| SimError::files(&path, e))?;
        } else if len != size {
            return Err(SimError::files(
                &path,
                format!("holds {len} bytes, but this module's flash has {size}; use another --state directory"),
            ));
        }
        Ok(FlashStore { size, fresh, backing: Backing::File { file, path } })
    }

    /// The flash size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the store was created by this run (a new module: nothing installed yet).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The backing file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.backing {
            Backing::File { path, .. } => Some(path),
            Backing::Memory(_) => None,
        }
    }

    fn check(&self, offset: u64, len: usize) -> io::Result<u64> {
        let end = offset
            .checked_add(len as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range overflows"))?;
        if end > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{offset:#x}+{len:#x} is past the end of flash ({:#x})", self.size),
            ));
        }
        Ok(end)
    }

    /// Reads `len` bytes at `offset`.
    pub fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0xFF; len];
        self.read_into(offset, &mut buf)?;
        Ok(buf)
    }

    /// Fills `buf` from `offset`.
    pub fn read_into(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = self.check(offset, buf.len())?;
        match &self.backing {
            Backing::File { file, .. } => {
                file.read_exact_at(buf, offset)?;
                for (from, to) in holes(file, offset, end)? {
                    buf[(from - offset) as usize..(to - offset) as usize].fill(0xFF);
                }
            }
            Backing::Memory(chunks) => {
                for (addr, range) in pieces(offset, end) {
                    let dst = &mut buf[(addr - offset) as usize..][..range.len()];
                    match chunks.get(&(addr / CHUNK)) {
                        Some(chunk) => dst.copy_from_slice(&chunk[range]),
                        None => dst.fill(0xFF),
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes `data` at `offset` (the bytes as given: NAND rules are the programmer's business).
    pub fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let end = self.check(offset, data.len())?;
        match &mut self.backing {
            Backing::File { file, .. } => {
                // A chunk written in part for the first time is erased (0xFF) first.
                for (addr, range) in pieces(offset, end) {
                    let start = addr - range.start as u64;
                    if range.len() < CHUNK as usize && is_hole(file, start)? {
                        file.write_all_at(&[0xFF; CHUNK as usize], start)?;
                    }
                }
                file.write_all_at(data, offset)?;
            }
            Backing::Memory(chunks) => {
                for (addr, range) in pieces(offset, end) {
                    let chunk = chunks.entry(addr / CHUNK).or_insert_with(|| vec![0xFF; CHUNK as usize].into());
                    let src = &data[(addr - offset) as usize..][..range.len()];
                    chunk[range].copy_from_slice(src);
                }
            }
        }
        Ok(())
    }

    /// Erases `len` bytes at `offset` to `0xFF`. Whole chunks become holes again.
    pub fn erase(&mut self, offset: u64, len: usize) -> io::Result<()> {
        let end = self.check(offset, len)?;
        for (addr, range) in pieces(offset, end) {
            let start = addr - range.start as u64;
            let whole = range.len() == CHUNK as usize;
            match &mut self.backing {
                Backing::Memory(chunks) if whole => {
                    chunks.remove(&(addr / CHUNK));
                }
                Backing::Memory(chunks) => {
                    if let Some(chunk) = chunks.get_mut(&(addr / CHUNK)) {
                        chunk[range].fill(0xFF);
                    }
                }
                Backing::File { file, .. } => {
                    if is_hole(file, start)? {
                        continue;
                    }
                    if whole {
                        let punched = fallocate(
                            file.as_fd(),
                            FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE,
                            start as i64,
                            CHUNK as i64,
                        );
                        if punched.is_ok() && is_hole(file, start)? {
                            continue;
                        }
                    }
                    file.write_all_at(&vec![0xFF; range.len()], addr)?;
                }
            }
        }
        Ok(())
    }

    /// Whether `len` bytes at `offset` are all erased (`0xFF`).
    pub fn is_erased(&self, offset: u64, len: usize) -> io::Result<bool> {
        Ok(self.read(offset, len)?.iter().all(|b| *b == 0xFF))
    }
}

/// Splits `[offset, end)` at chunk boundaries: each piece's address and its range within its
/// chunk.
fn pieces(offset: u64, end: u64) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> {
    let mut addr = offset;
    std::iter::from_fn(move || {
        if addr >= end {
            return None;
        }
        let within = (addr % CHUNK) as usize;
        let n = ((CHUNK - addr % CHUNK).min(end - addr)) as usize;
        let piece = (addr, within..within + n);
        addr += n as u64;
        Some(piece)
    })
}

/// Whether the chunk starting at `start` is a hole in `file` (never written, or punched).
fn is_hole(file: &File, start: u64) -> io::Result<bool> {
    match lseek(file.as_fd(), start as i64, Whence::SeekData) {
        Ok(data) => Ok(data as u64 >= start + CHUNK),
        Err(Errno::ENXIO) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// The holes of `file` within `[offset, end)`.
fn holes(file: &File, offset: u64, end: u64) -> io::Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    let mut pos = offset;
    while pos < end {
        let data = match lseek(file.as_fd(), pos as i64, Whence::SeekData) {
            Ok(d) => d as u64,
            Err(Errno::ENXIO) => end,
            Err(e) => return Err(e.into()),
        };
        if data > pos {
            out.push((pos, data.min(end)));
        }
        if data >= end {
            break;
        }
        pos = match lseek(file.as_fd(), data as i64, Whence::SeekHole) {
            Ok(h) => h as u64,
            Err(e) => return Err(e.into()),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(f: &mut FlashStore) {
        assert_eq!(f.read(0, 4).unwrap(), [0xFF; 4], "a new flash is erased");
        f.write(70_000, b"abc").unwrap();
        assert_eq!(f.read(69_999, 5).unwrap(), [0xFF, b'a', b'b', b'c', 0xFF]);
        f.write(CHUNK - 2, b"wxyz").unwrap();
        assert_eq!(f.read(CHUNK - 3, 6).unwrap(), [0xFF, b'w', b'x', b'y', b'z', 0xFF]);
        let big: Vec<u8> = (0..3 * CHUNK as usize).map(|i| i as u8).collect();
        f.write(CHUNK * 4 + 100, &big).unwrap();
        assert_eq!(f.read(CHUNK * 4 + 100, big.len()).unwrap(), big);
        f.erase(CHUNK * 4, 4 * CHUNK as usize).unwrap();
        assert!(f.is_erased(CHUNK * 4, 4 * CHUNK as usize).unwrap());
        f.erase(70_001, 1).unwrap();
        assert_eq!(f.read(70_000, 3).unwrap(), [b'a', 0xFF, b'c']);
        assert!(f.write(f.size() - 1, b"ab").is_err());
        assert!(f.read(u64::MAX, 2).is_err());
    }

    #[test]
    fn memory_and_file_behave_alike() {
        exercise(&mut FlashStore::in_memory(1 << 24));
        let dir = tempfile::tempdir().unwrap();
        let mut f = FlashStore::open_state(dir.path(), 1 << 24).unwrap();
        assert!(f.is_fresh());
        exercise(&mut f);
        drop(f);
        let f = FlashStore::open_state(dir.path(), 1 << 24).unwrap();
        assert!(!f.is_fresh());
        assert_eq!(f.read(70_000, 3).unwrap(), [b'a', 0xFF, b'c'], "the same module after a power cycle");
        assert_eq!(f.read(0, 2).unwrap(), [0xFF; 2]);
        assert_eq!(std::fs::metadata(dir.path().join("flash.bin")).unwrap().len(), 1 << 24);
        assert!(FlashStore::open_state(dir.path(), 8 << 20).is_err());
    }
}
