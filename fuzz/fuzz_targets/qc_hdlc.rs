//! DIAG bytes from the module (host side: HDLC frames, build-id answers) and from the host
//! (device side: the simulated DM port), in two pieces split at the first byte's value.
#![no_main]

use fwguard::flash::qualcomm::wire::diag::BuildId;
use fwguard::flash::qualcomm::wire::hdlc::{Decoder, Frame};
use fwguard::sim::qualcomm::DiagPort;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b) % (data.len() + 1));
    let mut d = Decoder::default();
    for f in d.feed(&data[..split]).into_iter().chain(d.feed(&data[split..])) {
        if let Frame::Good(p) = f {
            let _ = BuildId::decode(&p);
        }
    }
    if let Ok(profile) = fwguard::sim::find("ec25-e") {
        let mut port = DiagPort::default();
        let _ = port.feed(&data[..split], &profile);
        let _ = port.feed(&data[split..], &profile);
    }
});
