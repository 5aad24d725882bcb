//! Fuzzes the reader of the XML download scheme embedded in PAC files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fwguard::image::pac::scheme::parse_scheme(data);
});
