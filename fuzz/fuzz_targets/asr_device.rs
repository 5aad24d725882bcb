//! Fuzzes the simulated ASR module with whatever a host might send: preamble, SMUX frames, aboot
//! commands, downloads, sparse pieces. It must answer or ignore, never panic, and stay bounded.
#![no_main]

use fwguard::sim::asr::AsrDownload;
use fwguard::sim::download::{DownloadContext, DownloadMode};
use fwguard::sim::{Faults, FlashStore, find};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let profile = find("ec800m-cn-la").expect("profile");
    let mut flash = FlashStore::in_memory(profile.flash.size);
    let faults = Faults::default();
    let mut mode = AsrDownload::new(&profile);
    let mut ctx = DownloadContext {
        profile: &profile,
        flash: &mut flash,
        flash_id: profile.flash_id.as_ref(),
        faults: &faults,
    };
    // The input in reads of up to 64 bytes, as a serial port delivers it.
    for chunk in data.chunks(64) {
        let step = mode.feed(chunk, &mut ctx);
        if step.reset {
            break;
        }
    }
});
