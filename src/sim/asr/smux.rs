//! The module end of the SMUX link: answers the preamble, the `UABT` sync and HELLO, and hands
//! aboot commands and data to the command layer.
//!
//! What it tolerates, for the published host tools (amitv87/asr_aboot:aboot.c): the raw preamble `UUUU~` at any
//! time (also as the STDIO frame `UUUU` it becomes after an earlier delimiter), a host that
//! skips the preamble and starts with its own `~UABT~` (annkirin/asr-flash), commands without
//! any handshake in a stage that follows `call` (amitv87/asr_aboot and aboot-tiny never redo it),
//! empty frames and the stray `7E` after a multiple-of-512 transfer (aboot-tiny). What it sends
//! is what those tools need: `~UABT~` with both delimiters and first in its burst (asr_aboot's
//! detector looks for `UABT` right after the first byte of a read), one delimiter pair per
//! frame, replies under 128 bytes.

use crate::flash::asr::wire::aboot::Reply;
use crate::flash::asr::wire::smux::{self, Decoder, Event, FrameType};

/// The MTU the simulated module accepts at most; it answers HELLO with the smaller of this and
/// the host's offer.
pub const DEVICE_MTU: u16 = 1024;

/// What the link passes up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// An ABOOT_CMD frame's payload.
    Command(Vec<u8>),
    /// An ABOOT_DATA frame's payload.
    Data(Vec<u8>),
}

/// The module end of the link.
#[derive(Debug, Clone)]
pub struct DeviceLink {
    decoder: Decoder,
    mtu: u16,
    hello: bool,
    malformed: u64,
}

impl Default for DeviceLink {
    fn default() -> Self {
        DeviceLink { decoder: Decoder::default(), mtu: DEVICE_MTU, hello: false, malformed: 0 }
    }
}

impl DeviceLink {
    /// Whether HELLO was answered in this stage.
    pub fn running(&self) -> bool {
        self.hello
    }

    /// The link's MTU (payload bytes per frame the module sends).
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Frames dropped as malformed.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// A new stage starts: its handshake is still to come.
    pub fn restart(&mut self) {
        self.hello = false;
        self.mtu = DEVICE_MTU;
    }

    /// Takes received bytes: handshake answers go to `out`, commands and data to `inbound`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, inbound: &mut Vec<Inbound>) {
        let mut events = Vec::new();
        self.decoder.feed(input, &mut events);
        for event in events {
            match event {
                Event::Preamble => out.extend_from_slice(&smux::SYNC_FRAME),
                Event::Malformed(_) => self.malformed += 1,
                Event::Frame(f) => match f.kind {
                    FrameType::Stdio if f.payload.as_slice() == smux::SYNC => out.extend_from_slice(&smux::SYNC_FRAME),
                    FrameType::Hello => {
                        if let Some(theirs) = smux::parse_mtu(&f.payload) {
                            self.mtu = theirs.clamp(1, DEVICE_MTU);
                            self.hello = true;
                            smux::encode_into(FrameType::HelloReply, &smux::mtu_payload(self.mtu), out);
                        }
                    }
                    FrameType::AbootCmd => inbound.push(Inbound::Command(f.payload)),
                    FrameType::AbootData => inbound.push(Inbound::Data(f.payload)),
                    FrameType::Stdio | FrameType::HelloReply | FrameType::HeartBeat => {}
                },
            }
        }
    }

    /// Appends a reply frame (at most 127 bytes: [`Reply::line`] cuts it).
    pub fn reply(&self, reply: &Reply, out: &mut Vec<u8>) {
        smux::encode_into(FrameType::AbootCmd, reply.line().as_bytes(), out);
    }

    /// Appends console text as STDIO frames of less than one MTU each.
    pub fn console(&self, text: &str, out: &mut Vec<u8>) {
        let room = usize::from(self.mtu).saturating_sub(1).max(1);
        for chunk in text.as_bytes().chunks(room) {
            smux::encode_into(FrameType::Stdio, chunk, out);
        }
    }

    /// Appends bytes as ABOOT_DATA frames of at most one MTU each.
    pub fn data(&self, bytes: &[u8], out: &mut Vec<u8>) {
        for chunk in bytes.chunks(usize::from(self.mtu.max(1))) {
            smux::encode_into(FrameType::AbootData, chunk, out);
        }
    }

    /// The heartbeat frame, `~}%H~`.
    pub fn heartbeat(&self, out: &mut Vec<u8>) {
        smux::encode_into(FrameType::HeartBeat, smux::HEARTBEAT, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(link: &mut DeviceLink, input: &[u8]) -> (Vec<u8>, Vec<Inbound>) {
        let mut out = Vec::new();
        let mut inbound = Vec::new();
        link.feed(input, &mut out, &mut inbound);
        (out, inbound)
    }

    #[test]
    fn asr_aboot_handshake_bytes() {
        // amitv87/asr_aboot on a pty (amitv87/asr_aboot:aboot.c): UUUU~ twice, ~UABT~, HELLO 1024.
        let mut link = DeviceLink::default();
        assert_eq!(run(&mut link, b"UUUU~UUUU~").0, b"~UABT~~UABT~");
        assert_eq!(run(&mut link, b"~UABT~").0, b"~UABT~");
        assert!(!link.running());
        assert_eq!(run(&mut link, b"~}!\x04\x00~").0, b"~}\"\x04\x00~");
        assert!(link.running());
        let (out, inbound) = run(&mut link, b"~}#getvar:version-bootrom~~}$0123456789abcdef}^}]xx~");
        assert!(out.is_empty());
        assert_eq!(
            inbound,
            vec![Inbound::Command(b"getvar:version-bootrom".to_vec()), {
                Inbound::Data(b"0123456789abcdef~}xx".to_vec())
            }]
        );
    }

    #[test]
    fn smaller_mtu_is_taken_and_frames_respect_it() {
        let mut link = DeviceLink::default();
        assert_eq!(run(&mut link, b"~}!\x00\x80~").0, b"~}\"\x00\x80~");
        let mut out = Vec::new();
        link.data(&[1; 300], &mut out);
        let frames: Vec<_> = smux::decode_all(&out);
        assert_eq!(frames.len(), 3);
        let mut out = Vec::new();
        link.console(&"x".repeat(300), &mut out);
        assert!(smux::decode_all(&out).iter().all(|e| matches!(e, Event::Frame(f) if f.payload.len() < 128)));
    }
}
