//! Fuzzes the simulated UIS8910 (ROM, FDL1, FDL2) with arbitrary host bytes: every device-side
//! parser of host bytes, through the state machine, on an in-memory flash.
#![no_main]

use fwguard::device::Transport;
use fwguard::sim::unisoc::Uis8910Download;
use fwguard::sim::{Faults, FlashStore, Loopback, find};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let profile = find("ec200u-cn").unwrap();
    let flash = FlashStore::in_memory(profile.flash.size);
    let mut module = Loopback::new(profile, Box::new(Uis8910Download::new()), flash, Faults::default());
    let split = data.first().map_or(1, |b| usize::from(*b % 64) + 1);
    let mut buf = [0u8; 4096];
    for piece in data.chunks(split) {
        let _ = module.send(piece);
        while module.read_within(&mut buf, std::time::Duration::ZERO).unwrap_or(0) > 0 {}
    }
});
