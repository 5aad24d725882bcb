//! Fuzzes the Unisoc PAC reader: header, entries, CRCs, streaming hashes and the XML scheme.
//! Inputs of 2124 bytes or more get their CRCs fixed up half of the time, so the checks behind
//! the CRCs are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.first().is_some_and(|b| b & 1 == 1) {
        fwguard::image::build::pac::seal(&mut bytes);
    }
    let _ = fwguard::image::pac::inspect_pac_reader(&mut std::io::Cursor::new(&bytes), "fuzz.pac");
});
