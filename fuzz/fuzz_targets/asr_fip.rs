//! Fuzzes the reader of ASR `preboot.img` / `flasher.img` FIP containers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fwguard::image::asr::fip::Fip::parse(data, "fuzz", "preboot.img");
});
