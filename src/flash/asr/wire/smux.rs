//! SMUX framing, the byte layer under aboot: one codec for the host and the simulated module.
//!
//! A frame is `7E [7D (type ^ 0x20)] payload 7E`. The type marker is left out for type 0
//! (STDIO). Inside the payload `7E` is sent as `7D 5E` and `7D` as `7D 5D`. Only `7D 21`..`7D 25`
//! (and `7D 20`, type 0 spelled out) are type markers. An empty frame (`7E 7E`) means nothing.
//! Sources: amitv87/asr_aboot `ethos.c` (`_send_frame`, `smux_process_incoming_data`, the
//! `smux_frame_type_t` values); ASR's aboot-tiny `os/dev/smux.c` (the same framing).
//!
//! Before framing starts, the host sends the raw preamble `UUUU~` ([`PREAMBLE`]) and an aboot
//! "tiny" device answers the STDIO frame `~UABT~` ([`SYNC_FRAME`]); a device answering
//! `~~UUUU...` speaks ETHOS ("aboot standard"), which fwguard does not (amitv87/asr_aboot
//! `aboot.c` `preamble_start`, `preamble_callback`).

use std::fmt;

/// The frame delimiter.
pub const DELIMITER: u8 = 0x7E;
/// The escape byte.
pub const ESCAPE: u8 = 0x7D;
/// What the escape byte is XOR-ed with.
pub const ESCAPE_XOR: u8 = 0x20;
/// The raw preamble the host sends (not a frame): `55 55 55 55 7E`.
pub const PREAMBLE: [u8; 5] = *b"UUUU~";
/// The STDIO payload both sides exchange to synchronise.
pub const SYNC: &[u8; 4] = b"UABT";
/// `~UABT~`: the device's answer to the preamble, and the host's sync frame.
pub const SYNC_FRAME: [u8; 6] = [DELIMITER, b'U', b'A', b'B', b'T', DELIMITER];
/// The payload an ETHOS ("aboot standard") device answers the preamble with.
pub const ETHOS_SYNC: &[u8; 4] = b"UUUU";
/// The MTU the published host tools offer in HELLO (amitv87/asr_aboot `smux_init`: 1024).
pub const DEFAULT_MTU: u16 = 1024;
/// The smallest MTU fwguard accepts from a HELLO_REPLY; below it a command could not fit.
pub const MIN_MTU: u16 = 64;
/// The payload of the boot ROM's heartbeat frame, `~}%H~`.
pub const HEARTBEAT: &[u8; 1] = b"H";
/// The most payload bytes the decoder keeps for one frame (frames are at most an MTU, 64 KiB at
/// the very most); a longer frame is dropped as malformed.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// 0: the sync string `UABT`, and the device's log text.
    Stdio,
    /// 1: host to device, a 2-byte big-endian MTU.
    Hello,
    /// 2: device to host, a 2-byte big-endian MTU.
    HelloReply,
    /// 3: an aboot command (host) or reply (device), ASCII.
    AbootCmd,
    /// 4: download payload (host) or upload payload (device).
    AbootData,
    /// 5: the boot ROM's heartbeat, `H`.
    HeartBeat,
}

impl FrameType {
    /// Every type, in code order.
    pub const ALL: [FrameType; 6] = [
        FrameType::Stdio,
        FrameType::Hello,
        FrameType::HelloReply,
        FrameType::AbootCmd,
        FrameType::AbootData,
        FrameType::HeartBeat,
    ];

    /// The type code, 0 to 5.
    pub fn code(self) -> u8 {
        match self {
            FrameType::Stdio => 0,
            FrameType::Hello => 1,
            FrameType::HelloReply => 2,
            FrameType::AbootCmd => 3,
            FrameType::AbootData => 4,
            FrameType::HeartBeat => 5,
        }
    }

    /// The type whose marker byte (after `7D`) is `marker`: `0x20`..`0x25`.
    pub fn from_marker(marker: u8) -> Option<FrameType> {
        FrameType::ALL.into_iter().find(|t| t.code() ^ ESCAPE_XOR == marker)
    }

    /// The name the published tools use, e.g. `ABOOT_CMD`.
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Stdio => "STDIO",
            FrameType::Hello => "HELLO",
            FrameType::HelloReply => "HELLO_REPLY",
            FrameType::AbootCmd => "ABOOT_CMD",
            FrameType::AbootData => "ABOOT_DATA",
            FrameType::HeartBeat => "HEART_BEAT",
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Its type.
    pub kind: FrameType,
    /// Its payload, unescaped.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame of `kind` carrying `payload`.
    pub fn new(kind: FrameType, payload: impl Into<Vec<u8>>) -> Frame {
        Frame { kind, payload: payload.into() }
    }

    /// The frame on the wire.
    pub fn encode(&self) -> Vec<u8> {
        encode(self.kind, &self.payload)
    }

    /// The payload as text, invalid UTF-8 replaced, for logs and messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// Appends the frame `kind` + `payload` to `out`, escaped, with both delimiters.
pub fn encode_into(kind: FrameType, payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len() + payload.len() / 16 + 4);
    out.push(DELIMITER);
    if kind != FrameType::Stdio {
        out.push(ESCAPE);
        out.push(kind.code() ^ ESCAPE_XOR);
    }
    for &b in payload {
        if b == DELIMITER || b == ESCAPE {
            out.push(ESCAPE);
            out.push(b ^ ESCAPE_XOR);
        } else {
            out.push(b);
        }
    }
    out.push(DELIMITER);
}

/// The frame `kind` + `payload` on the wire.
pub fn encode(kind: FrameType, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(kind, payload, &mut out);
    out
}

/// The 2-byte big-endian MTU payload of HELLO and HELLO_REPLY.
pub fn mtu_payload(mtu: u16) -> [u8; 2] {
    mtu.to_be_bytes()
}

/// Reads the MTU of a HELLO or HELLO_REPLY payload (exactly 2 bytes, big-endian).
pub fn parse_mtu(payload: &[u8]) -> Option<u16> {
    <[u8; 2]>::try_from(payload).ok().map(u16::from_be_bytes)
}

/// What the decoder made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete frame.
    Frame(Frame),
    /// The raw preamble `UUUU~`, seen outside any frame or as a STDIO frame `UUUU` (what it
    /// looks like once the delimiter of an earlier preamble opened a frame).
    Preamble,
    /// A frame that was dropped, and why.
    Malformed(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Outside,
    /// Inside a frame.
    Inside,
    /// Inside a frame, after `7D`.
    Escaped,
}

/// An incremental SMUX decoder: bytes in, [`Event`]s out. Memory is bounded by
/// [`MAX_PAYLOAD`] per frame.
///
/// It is lenient where the published tools differ: a closing delimiter also opens the next frame
/// (asr_aboot and aboot-tiny need a fresh `7E` for each frame, so a peer must send both
/// delimiters anyway); empty frames (`7E 7E`, the stray `7E` aboot-tiny adds after a transfer of
/// a multiple of 512 bytes) are skipped; a type marker with no payload after it means nothing.
#[derive(Debug, Clone)]
pub struct Decoder {
    state: State,
    kind: Option<FrameType>,
    payload: Vec<u8>,
    broken: Option<&'static str>,
    /// The last bytes seen outside any frame, for the raw preamble.
    outside: [u8; 4],
    discarded: u64,
    max_payload: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(MAX_PAYLOAD)
    }
}

impl Decoder {
    /// A decoder that drops frames longer than `max_payload` bytes (at most [`MAX_PAYLOAD`]).
    pub fn new(max_payload: usize) -> Decoder {
        Decoder {
            state: State::Outside,
            kind: None,
            payload: Vec::new(),
            broken: None,
            outside: [0; 4],
            discarded: 0,
            max_payload: max_payload.min(MAX_PAYLOAD),
        }
    }

    /// Bytes that arrived outside any frame (before the first delimiter) and were ignored.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Forgets a frame in progress and waits for a delimiter again (a new stage starts).
    pub fn reset(&mut self) {
        *self = Decoder::new(self.max_payload);
    }

    /// Decodes `bytes`, appending what they complete to `events`.
    pub fn feed(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        for &b in bytes {
            if let Some(e) = self.push(b) {
                events.push(e);
            }
        }
    }

    /// Takes one byte; returns an event when it completes one.
    pub fn push(&mut self, b: u8) -> Option<Event> {
        match self.state {
            State::Outside => {
                if b == DELIMITER {
                    let preamble = self.outside == *ETHOS_SYNC;
                    self.outside = [0; 4];
                    self.open();
                    return preamble.then_some(Event::Preamble);
                }
                self.outside.rotate_left(1);
                self.outside[3] = b;
                self.discarded += 1;
                None
            }
            State::Inside => match b {
                DELIMITER => self.close(),
                ESCAPE => {
                    self.state = State::Escaped;
                    None
                }
                _ => {
                    self.keep(b);
                    None
                }
            },
            State::Escaped => {
                self.state = State::Inside;
                match b {
                    DELIMITER => {
                        self.broken.get_or_insert("an escape byte (7D) right before the delimiter");
                        self.close()
                    }
                    0x5E | 0x5D => {
                        self.keep(b ^ ESCAPE_XOR);
                        None
                    }
                    _ => {
                        match FrameType::from_marker(b) {
                            Some(kind) if self.kind.is_none() && self.payload.is_empty() => self.kind = Some(kind),
                            Some(_) => {
                                self.broken.get_or_insert("a type marker after the start of the frame");
                            }
                            None => {
                                self.broken.get_or_insert("an unknown escape sequence");
                            }
                        }
                        None
                    }
                }
            }
        }
    }

    fn open(&mut self) {
        self.state = State::Inside;
        self.kind = None;
        self.payload.clear();
        self.broken = None;
    }

    fn keep(&mut self, b: u8) {
        if self.payload.len() < self.max_payload {
            self.payload.push(b);
        } else {
            self.broken.get_or_insert("a frame longer than the decoder's limit");
        }
    }

    /// A delimiter inside a frame: the frame ends, and the delimiter opens the next one.
    fn close(&mut self) -> Option<Event> {
        let kind = self.kind.unwrap_or(FrameType::Stdio);
        let broken = self.broken;
        let payload = std::mem::take(&mut self.payload);
        self.open();
        if let Some(reason) = broken {
            return Some(Event::Malformed(reason));
        }
        if payload.is_empty() {
            return None;
        }
        if kind == FrameType::Stdio && payload.as_slice() == ETHOS_SYNC {
            return Some(Event::Preamble);
        }
        Some(Event::Frame(Frame { kind, payload }))
    }
}

/// Decodes a whole byte string (for tests and fuzzing).
pub fn decode_all(bytes: &[u8]) -> Vec<Event> {
    let mut d = Decoder::default();
    let mut events = Vec::new();
    d.feed(bytes, &mut events);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8]) -> Vec<Frame> {
        decode_all(bytes)
            .into_iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_published_byte_strings() {
        // amitv87/asr_aboot: HELLO with MTU 1024, a command, the sync frame, the heartbeat.
        assert_eq!(encode(FrameType::Hello, &mtu_payload(1024)), b"~}!\x04\x00~");
        assert_eq!(encode(FrameType::AbootCmd, b"getvar:version-bootrom"), b"~}#getvar:version-bootrom~");
        assert_eq!(encode(FrameType::Stdio, SYNC), SYNC_FRAME);
        assert_eq!(encode(FrameType::HeartBeat, HEARTBEAT), b"~}%H~");
        // Escapes: 7E -> 7D 5E, 7D -> 7D 5D.
        assert_eq!(encode(FrameType::AbootData, b"a~b}c"), b"~}$a}^b}]c~");
    }

    #[test]
    fn round_trip_every_type_and_byte() {
        let all: Vec<u8> = (0..=255).collect();
        for kind in FrameType::ALL {
            let got = frames(&encode(kind, &all));
            assert_eq!(got, vec![Frame::new(kind, all.clone())], "{kind}");
        }
    }

    #[test]
    fn lenient_points() {
        // Shared delimiters, empty frames, the stray 7E after a transfer, a bare type marker.
        let got = frames(b"~OKAY~}#OKAY~~~}#~}$x~~");
        assert_eq!(
            got,
            vec![Frame::new(FrameType::Stdio, *b"OKAY"), Frame::new(FrameType::AbootCmd, *b"OKAY"), {
                Frame::new(FrameType::AbootData, *b"x")
            }]
        );
        // Noise before the first delimiter is counted and skipped.
        let mut d = Decoder::default();
        let mut ev = Vec::new();
        d.feed(b"\x01\x02~UABT~", &mut ev);
        assert_eq!(d.discarded(), 2);
        assert_eq!(ev, vec![Event::Frame(Frame::new(FrameType::Stdio, *SYNC))]);
    }

    #[test]
    fn preamble_raw_or_after_a_delimiter() {
        assert_eq!(decode_all(b"UUUU~"), vec![Event::Preamble]);
        assert_eq!(decode_all(b"UUUU~UUUU~"), vec![Event::Preamble, Event::Preamble]);
        // A data frame ending in UUUU is data, not a preamble.
        assert_eq!(frames(b"~}$UUUU~"), vec![Frame::new(FrameType::AbootData, *b"UUUU")]);
    }

    #[test]
    fn malformed_frames_are_dropped_and_said() {
        for bad in [&b"~}\x01ab~"[..], b"~ab}#cd~", b"~}#ab}~", b"~}!}#ab~"] {
            let ev = decode_all(bad);
            assert!(matches!(ev.as_slice(), [Event::Malformed(_)]), "{bad:?}: {ev:?}");
        }
        // A frame over the limit is dropped; the next one is read.
        let mut d = Decoder::new(4);
        let mut ev = Vec::new();
        d.feed(b"~}#abcdef~}#ok~", &mut ev);
        assert_eq!(
            ev,
            vec![Event::Malformed("a frame longer than the decoder's limit"), {
                Event::Frame(Frame::new(FrameType::AbootCmd, *b"ok"))
            }]
        );
    }

    #[test]
    fn mtu_payloads() {
        assert_eq!(parse_mtu(&mtu_payload(0x0400)), Some(1024));
        assert_eq!(parse_mtu(b"\x04"), None);
        assert_eq!(parse_mtu(b"\x04\x00\x00"), None);
    }
}
