//! Fuzzes the ASR `partition.bin` reader. The CRC is fixed up half of the time, so the entry
//! checks behind it are reached.
#![no_main]

use fwguard::image::asr::partition_table::{CRC_OFFSET, CRC32, PartitionTable, TABLE_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= TABLE_SIZE && bytes[TABLE_SIZE - 1] & 1 == 1 {
        let crc = CRC32.checksum(&bytes[..CRC_OFFSET]);
        bytes[CRC_OFFSET..TABLE_SIZE].copy_from_slice(&crc.to_le_bytes());
    }
    let _ = PartitionTable::parse(&bytes, "fuzz");
});
