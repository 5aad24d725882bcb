//! md5.txt reader on arbitrary bytes.
#![no_main]

use fwguard::image::qualcomm::md5sum;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = md5sum::parse_md5_txt(&String::from_utf8_lossy(data));
});
