//! Sahara bytes: the host's packet decoder and key-hash trimming on what a module sends, and the
//! simulated boot ROM on what a host sends (fed in pieces).
#![no_main]

use fwguard::flash::qualcomm::sahara::trim_pk_hash;
use fwguard::flash::qualcomm::wire::sahara::Packet;
use fwguard::sim::qualcomm::{chip, identity, sahara::SaharaTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Packet::decode(data);
    let _ = trim_pk_hash(data);
    if let Ok(profile) = fwguard::sim::find("ec25-e") {
        let mut rom = SaharaTarget::new(chip::MDM9607, identity(&profile));
        let _ = rom.hello();
        for piece in data.chunks(23) {
            let _ = rom.feed(piece);
        }
    }
});
