//! What `<getstorageinfo>` reports.
//!
//! Qualcomm's device programmer logs the storage as text lines ("Device Total Logical Blocks:
//! 0x..", "Device Block Size in Bytes: 0x..", ...) and as one JSON line,
//! `{"storage_info": {"total_blocks":N, "block_size":N, "page_size":N, "num_physical":N,
//! "manufacturer_id":N, "serial_num":N, "fw_version":"..", "mem_type":"..", "prod_name":".."}}`
//! (`devprg_firehose.c` `handle_storage_info`; linux-msm/qdl `firehose.c` reads
//! `total_blocks` and `block_size` from it). On NAND (`devprg_storage_nand.c`):
//! `total_blocks` counts good erase blocks, `page_size` is the page without spare bytes,
//! `block_size` is in bytes (page size x pages per block), `manufacturer_id` is the NAND maker
//! id and `serial_num` the device id.

use serde::Deserialize;

use super::super::wire::firehose::number;
use crate::identity::FlashId;

/// The storage as the programmer describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct StorageInfo {
    /// Erase blocks (NAND: good blocks).
    pub total_blocks: u64,
    /// Erase block size in bytes.
    pub block_size: u64,
    /// Page (sector) size in bytes.
    pub page_size: u64,
    /// Physical partitions (LUNs).
    pub num_physical: u64,
    /// NAND maker id (JEDEC manufacturer).
    pub manufacturer_id: u64,
    /// NAND device id (the ID bytes after the maker's).
    pub serial_num: u64,
    /// Storage firmware version.
    pub fw_version: String,
    /// `NAND`, `eMMC`, `UFS`.
    pub mem_type: String,
    /// Product name.
    pub prod_name: String,
}

#[derive(Deserialize)]
struct Wrapper {
    storage_info: StorageInfo,
}

impl StorageInfo {
    /// Reads the programmer's log lines: the JSON line when there is one, else the text lines.
    pub fn from_log<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<StorageInfo> {
        let mut text = StorageInfo::default();
        let mut any = false;
        for line in lines {
            if let Some(start) = line.find('{')
                && let Ok(w) = serde_json::from_str::<Wrapper>(line[start..].trim())
            {
                return Some(w.storage_info);
            }
            let body = line.trim().trim_start_matches("INFO:").trim();
            let Some((key, value)) = body.split_once(':') else { continue };
            let Some(v) = number(value) else { continue };
            let slot = match key.trim() {
                "Device Total Logical Blocks" => &mut text.total_blocks,
                "Device Block Size in Bytes" => &mut text.block_size,
                "Device Total Physical Partitions" => &mut text.num_physical,
                "Device Manufacturer ID" => &mut text.manufacturer_id,
                "Device Serial Number" => &mut text.serial_num,
                _ => continue,
            };
            *slot = v;
            any = true;
        }
        any.then_some(text)
    }

    /// Pages per erase block, when both sizes are known.
    pub fn pages_per_block(&self) -> Option<u64> {
        (self.page_size > 0 && self.block_size.is_multiple_of(self.page_size)).then(|| self.block_size / self.page_size)
    }

    /// The storage's size in bytes (good blocks only).
    pub fn size_bytes(&self) -> u64 {
        self.total_blocks.saturating_mul(self.block_size)
    }

    /// The NAND ID: the maker byte, then the device id's bytes (most significant first, leading
    /// zero bytes dropped). `None` without a maker id.
    pub fn nand_id(&self) -> Option<FlashId> {
        let maker = u8::try_from(self.manufacturer_id).ok().filter(|m| *m != 0)?;
        let mut bytes = vec![maker];
        let device = self.serial_num.to_be_bytes();
        let first = device.iter().position(|b| *b != 0).unwrap_or(device.len());
        bytes.extend(&device[first..]);
        Some(FlashId::from_bytes(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_forms() {
        let json = r#"INFO: {"storage_info": {"total_blocks":2048, "block_size":262144, "page_size":4096, "num_physical":1, "manufacturer_id":152, "serial_num":11309094, "fw_version":"","mem_type":"NAND","prod_name":""}}"#;
        let s = StorageInfo::from_log(["INFO: Calling handler for getstorageinfo", json]).unwrap();
        assert_eq!((s.total_blocks, s.pages_per_block(), s.size_bytes()), (2048, Some(64), 512 << 20));
        assert_eq!(s.nand_id().unwrap().hex(), "98AC9026");
        let text = [
            "INFO: Device Total Logical Blocks: 0x800",
            "INFO: Device Block Size in Bytes: 0x20000",
            "INFO: Device Manufacturer ID: 0x2c",
            "INFO: Device Serial Number: 0xaa",
        ];
        let s = StorageInfo::from_log(text).unwrap();
        assert_eq!((s.total_blocks, s.block_size, s.nand_id().unwrap().hex()), (0x800, 0x20000, "2CAA".into()));
        assert_eq!(StorageInfo::from_log(["INFO: nothing here"]), None);
    }
}
