//! QuecPython Eigencomm `quec_download_config.ini` reader on arbitrary text.
#![no_main]

use fwguard::image::qpy_eigen;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = qpy_eigen::parse_download_config(&String::from_utf8_lossy(data));
});
