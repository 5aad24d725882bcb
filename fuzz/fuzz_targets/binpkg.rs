//! Fuzzes the Eigencomm `.binpkg` reader: header, image bounds and SHA-256 checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fwguard::image::binpkg::inspect_binpkg_reader(&mut std::io::Cursor::new(data), "fuzz.binpkg");
});
