//! Rawprogram/patch XML, contents.xml and partition_nand.xml readers on arbitrary bytes.
#![no_main]

use fwguard::image::qualcomm::{contents, rawprogram};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(steps) = rawprogram::parse_steps(&text) {
        for s in &steps {
            let _ = (s.start_byte(), s.size_bytes(), s.describe());
            if let Some(f) = &s.filename {
                let _ = rawprogram::resolve("P/update/firehose", f, "P");
            }
        }
    }
    let _ = contents::parse_contents(&text);
    let _ = contents::parse_partition_nand(&text);
});
