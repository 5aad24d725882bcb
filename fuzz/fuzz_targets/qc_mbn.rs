//! Boot images (programmers, boot loaders): the MBN/ELF reader and hash check.
#![no_main]

use fwguard::flash::qualcomm::wire::mbn::Mbn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Mbn::parse(data) {
        let _ = m.verify(data);
        let _ = m.verify_headers(data);
        let _ = m.end();
    }
});
