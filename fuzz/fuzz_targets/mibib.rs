//! MIBIB header reader on arbitrary bytes.
#![no_main]

use fwguard::image::qualcomm::mibib;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mibib::parse_mibib(data);
});
