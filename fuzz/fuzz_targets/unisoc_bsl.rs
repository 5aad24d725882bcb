//! Fuzzes BSL framing on both sides: the deframer, frame decoding with both checks, and the
//! payload parsers of FDL commands (device side) and replies (host side).
#![no_main]

use fwguard::flash::unisoc::wire::bsl::{Deframer, Raw, decode};
use fwguard::flash::unisoc::wire::check::Check;
use fwguard::flash::unisoc::wire::payload::{ReadFlash, StartData, parse_baud, parse_erase, parse_version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(1, |b| usize::from(*b % 32) + 1);
    let mut deframer = Deframer::new();
    for piece in data.chunks(split) {
        for raw in deframer.push(piece) {
            let Raw::Frame(raw) = raw else { continue };
            for check in [Check::Sum, Check::Crc16] {
                if let Ok(frame) = decode(&raw, check) {
                    let p = &frame.payload;
                    let _ = StartData::parse(p).map(|s| s.encode());
                    let _ = ReadFlash::parse(p);
                    let _ = parse_erase(p);
                    let _ = parse_baud(p);
                    let _ = parse_version(p);
                    assert_eq!(decode(&frame.encode(check)[1..frame.encode(check).len() - 1], check).as_ref(), Ok(&frame));
                }
            }
        }
    }
    // The payload parsers on raw bytes too.
    let _ = StartData::parse(data);
    let _ = ReadFlash::parse(data);
    let _ = parse_erase(data);
});
