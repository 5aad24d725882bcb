//! Fuzzes the PDL packet decoder on both sides: replies from the UIS8910 boot ROM (host) and
//! requests to it (simulated ROM), fed in pieces as a serial port delivers them.
#![no_main]

use fwguard::flash::unisoc::wire::pdl::{PdlDecoder, PdlEvent, PdlRequest, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(1, |b| usize::from(*b % 16) + 1);
    let mut decoder = PdlDecoder::new();
    for piece in data.chunks(split) {
        for event in decoder.push(piece) {
            if let PdlEvent::Packet(body) = event {
                let _ = parse_reply(&body);
                let _ = PdlRequest::parse(&body);
            }
        }
        assert!(decoder.pending() <= fwguard::flash::unisoc::wire::pdl::MAX_BODY + 8);
    }
});
