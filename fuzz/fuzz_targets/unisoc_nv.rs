//! Fuzzes the NV item image reader and merge: the module's NV is device output.
#![no_main]

use fwguard::flash::unisoc::nv::{image_len, merge, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, "fuzz");
    if let Some(len) = image_len(data) {
        assert!(len <= data.len(), "an NV image ends inside what was read");
    }
    let half = data.len() / 2;
    let (module, package) = data.split_at(half);
    let mut package = package.to_vec();
    let before = package.len();
    let _ = merge(module, &mut package, &[5, 2, 0x100]);
    assert_eq!(package.len(), before);
});
