//! Qualcomm `update/partition.mbn` (user partition table) reader on arbitrary bytes.
#![no_main]

use fwguard::image::qualcomm::user_table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = user_table::parse_user_table(data);
});
