//! Fuzzes what the simulated ASR flasher reads from the host: Android sparse images. Any bytes
//! parse or are refused without panicking; what parses writes only inside its output size.
#![no_main]

use fwguard::flash::asr::wire::sparse::Sparse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Sparse::parse(data, 1 << 20) {
        let _ = s.check_crc();
        for (at, bytes) in s.writes() {
            assert!(at + bytes.len() as u64 <= s.output_len());
        }
    }
});
