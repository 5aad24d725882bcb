//! The simulated module's NOR flash as the flasher drives it: erase sets whole sectors to
//! `0xFF`, programming can only clear bits (a program over unerased bytes gives the AND of old
//! and new), so a write that forgot its erase shows in `flash.bin`.

use std::io;

use crate::sim::FlashStore;

/// The erase unit of the QSPI NOR chips in ASR's flash tables (`sector_size` 0x1000 in
/// waybyte/logicromsdk `lib/asr160x/pack/flashinfo_8M.bin`).
pub const SECTOR: u64 = 0x1000;

/// A NOR view of the flash store.
pub struct Nor<'a> {
    store: &'a mut FlashStore,
}

impl<'a> Nor<'a> {
    /// NOR semantics over `store`.
    pub fn new(store: &'a mut FlashStore) -> Nor<'a> {
        Nor { store }
    }

    /// The flash size in bytes.
    pub fn size(&self) -> u64 {
        self.store.size()
    }

    /// Erases every sector that `len` bytes at `offset` touch.
    pub fn erase(&mut self, offset: u64, len: u64) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let start = offset / SECTOR * SECTOR;
        let end = offset
            .checked_add(len)
            .map(|e| e.div_ceil(SECTOR) * SECTOR)
            .filter(|e| *e <= self.size())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "erase beyond the end of the flash"))?;
        let mut at = start;
        while at < end {
            let n = (end - at).min(64 * SECTOR);
            self.store.erase(at, n as usize)?;
            at += n;
        }
        Ok(())
    }

    /// Programs `data` at `offset`: each byte becomes the AND of what was there and `data`.
    pub fn program(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut old = self.store.read(offset, data.len())?;
        for (o, n) in old.iter_mut().zip(data) {
            *o &= *n;
        }
        self.store.write(offset, &old)
    }

    /// Erases the sectors `data` covers, then programs it: what the flasher's raw writes do.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.erase(offset, data.len() as u64)?;
        self.program(offset, data)
    }

    /// Reads `len` bytes at `offset`.
    pub fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.store.read(offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nor_rules() {
        let mut store = FlashStore::in_memory(64 * 1024);
        let mut nor = Nor::new(&mut store);
        nor.write(0x1010, &[0x0F, 0xF0]).unwrap();
        assert_eq!(nor.read(0x100F, 4).unwrap(), [0xFF, 0x0F, 0xF0, 0xFF]);
        nor.program(0x1010, &[0xF3, 0x3F]).unwrap();
        assert_eq!(nor.read(0x1010, 2).unwrap(), [0x03, 0x30], "programming only clears bits");
        nor.erase(0x1FFF, 2).unwrap();
        assert_eq!(nor.read(0x1010, 2).unwrap(), [0xFF, 0xFF], "erase takes whole sectors");
        assert!(nor.erase(0xF000, 0x1001).is_err());
        assert!(nor.write(0xFFFF, &[0, 0]).is_err());
    }
}
