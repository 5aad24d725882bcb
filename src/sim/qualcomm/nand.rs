//! NAND as the simulated programmer drives it: pages and erase blocks over the flash store.
//! A block erase sets every page to `0xFF`; programming a page that is not erased fails, as NAND
//! does (a page reads as erased when all its bytes are `0xFF`, as NAND controllers tell erased
//! pages); erased pages read `0xFF`.

use super::super::storage::FlashStore;
use super::firmware::Geometry;

/// A NAND failure, worded for the programmer's log.
pub type NandError = String;

/// The NAND of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nand {
    /// Its geometry.
    pub geometry: Geometry,
}

impl Nand {
    fn page_bytes(&self) -> u64 {
        self.geometry.page
    }

    /// Erases `count` blocks from block `first`.
    pub fn erase_blocks(&self, store: &mut FlashStore, first: u64, count: u64) -> Result<(), NandError> {
        let g = self.geometry;
        if first.checked_add(count).is_none_or(|end| end > g.blocks()) {
            return Err(format!(
                "Block erase request exceeding total number of blocks ({first}+{count} > {})",
                g.blocks()
            ));
        }
        let block = g.page * g.pages_per_block;
        store.erase(first * block, (count * block) as usize).map_err(|e| format!("erase failed: {e}"))
    }

    /// Programs one page (`data` is exactly a page).
    pub fn program_page(&self, store: &mut FlashStore, page: u64, data: &[u8]) -> Result<(), NandError> {
        if page >= self.geometry.pages {
            return Err(format!("page {page} is past the end of the device ({} pages)", self.geometry.pages));
        }
        let at = page * self.page_bytes();
        if data.iter().all(|b| *b == 0xFF) {
            return Ok(()); // programming all-ones changes nothing
        }
        match store.is_erased(at, data.len()) {
            Ok(true) => store.write(at, data).map_err(|e| format!("program failed: {e}")),
            Ok(false) => Err(format!("page {page} is not erased: program failed (erase its block first)")),
            Err(e) => Err(format!("program failed: {e}")),
        }
    }

    /// Reads `count` pages from `first`.
    pub fn read_pages(&self, store: &FlashStore, first: u64, count: u64) -> Result<Vec<u8>, NandError> {
        if first.checked_add(count).is_none_or(|end| end > self.geometry.pages) {
            return Err(format!(
                "read of pages {first}+{count} is past the end of the device ({} pages)",
                self.geometry.pages
            ));
        }
        store
            .read(first * self.page_bytes(), (count * self.page_bytes()) as usize)
            .map_err(|e| format!("read failed: {e}"))
    }

    /// Rewrites one page in place, as a programmer patching NAND must: the block is read, erased
    /// and written again with the new page (pages that were erased stay erased).
    pub fn rewrite_page(&self, store: &mut FlashStore, page: u64, data: &[u8]) -> Result<(), NandError> {
        let ppb = self.geometry.pages_per_block;
        let block = page / ppb;
        let mut pages = self.read_pages(store, block * ppb, ppb)?;
        let size = self.page_bytes() as usize;
        let within = ((page % ppb) as usize) * size;
        pages[within..within + size].copy_from_slice(data);
        self.erase_blocks(store, block, 1)?;
        for (i, p) in pages.chunks(size).enumerate() {
            self.program_page(store, block * ppb + i as u64, p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erase_before_program() {
        let g = Geometry { page: 2048, pages_per_block: 64, pages: 64 * 8 };
        let nand = Nand { geometry: g };
        let mut store = FlashStore::in_memory(g.pages * g.page);
        let page = vec![0x5A; 2048];
        nand.program_page(&mut store, 3, &page).unwrap();
        assert!(nand.program_page(&mut store, 3, &page).unwrap_err().contains("not erased"));
        assert_eq!(nand.read_pages(&store, 2, 1).unwrap(), vec![0xFF; 2048]);
        nand.rewrite_page(&mut store, 4, &vec![1; 2048]).unwrap();
        assert_eq!(nand.read_pages(&store, 3, 1).unwrap(), page);
        assert_eq!(nand.read_pages(&store, 5, 1).unwrap(), vec![0xFF; 2048]);
        nand.erase_blocks(&mut store, 0, 1).unwrap();
        nand.program_page(&mut store, 3, &page).unwrap();
        assert!(nand.erase_blocks(&mut store, 7, 2).unwrap_err().contains("exceeding total number of blocks"));
        assert!(nand.read_pages(&store, 511, 2).is_err());
    }
}
