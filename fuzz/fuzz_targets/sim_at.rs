//! The simulator's AT machine (it parses what a host sends) on arbitrary bytes, fed in two
//! pieces, then reset.
#![no_main]

use std::sync::Arc;

use fwguard::sim::{AtMachine, find};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = find("ec25-e") else { return };
    let mut m = AtMachine::new(Arc::new(profile), true);
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let _ = m.feed(&data[..cut]);
    let _ = m.feed(&data[cut..]);
    let mut after = m.rebooted();
    let _ = after.feed(data);
    let _ = after.boot_urcs();
});
