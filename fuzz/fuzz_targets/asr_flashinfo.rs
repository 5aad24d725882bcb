//! Fuzzes the ASR `flashinfo.bin` reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = fwguard::image::asr::flashinfo::FlashInfo::parse(data, "fuzz") {
        let _ = info.chip_entries();
    }
});
