//! Fuzzes what the host reads from an ASR module: the SMUX decoder, the aboot reply grammar and
//! the flasher's probe lines. Any bytes must decode without panicking, within the frame limit.
#![no_main]

use fwguard::flash::asr::wire::aboot::{MAX_LINE, Reply};
use fwguard::flash::asr::wire::probe::FlashProbe;
use fwguard::flash::asr::wire::smux::{self, Decoder, Event, FrameType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(4096);
    let mut events = Vec::new();
    // Fed in two pieces: a frame split across reads decodes the same.
    let cut = data.first().map_or(0, |b| usize::from(*b) % (data.len() + 1));
    decoder.feed(&data[..cut], &mut events);
    decoder.feed(&data[cut..], &mut events);
    let mut whole = Vec::new();
    Decoder::new(4096).feed(data, &mut whole);
    assert_eq!(events, whole);
    let mut lines = Vec::new();
    for event in &events {
        if let Event::Frame(f) = event {
            assert!(!f.payload.is_empty() && f.payload.len() <= 4096);
            // What is decoded encodes back to the same frame.
            assert_eq!(smux::decode_all(&f.encode()), vec![Event::Frame(f.clone())]);
            if f.kind == FrameType::AbootCmd {
                let reply = Reply::parse(&f.payload);
                assert!(reply.line().len() <= MAX_LINE.max(f.payload.len()));
            }
            lines.push(f.text());
        }
    }
    if let Some(p) = FlashProbe::from_log(lines.iter().map(String::as_str), "", false) {
        assert!(p.flash_id().bytes().len() >= 3);
    }
});
