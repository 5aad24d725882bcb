//! BSL on the simulated module's side: frames in, check-baud, replies out (the device side of
//! `flash::unisoc::bsl`; frame format in `flash::unisoc::wire::bsl`).
//!
//! Lenient where the published tools differ (and the real loaders evidently accept them):
//! a head sent unescaped (amitv87/unisoc_dloader), and any of the three odd-length checksum
//! variants. Check-baud is a read that holds only 7E bytes while no frame is in progress
//! (spd_dump sends one or four, unisoc_dloader one); each such read gets one VER. A frame that
//! does not decode is answered VERIFY_ERROR, as SPRD FDLs answer a bad packet
//! (ilyakurdyukov/spreadtrum_flash `custom_fdl/packet.c`).

use crate::flash::unisoc::wire::bsl::{BslReply, Deframer, FLAG, Frame, FrameError, Raw, decode};
use crate::flash::unisoc::wire::check::Check;

/// What arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Bare 7E bytes: check-baud.
    CheckBaud,
    /// A frame.
    Frame(Frame),
    /// Bytes between delimiters that are no frame.
    Bad(FrameError),
    /// A frame longer than any.
    Overflow,
}

/// The device's BSL port.
#[derive(Debug)]
pub struct BslPort {
    deframer: Deframer,
    check: Check,
}

impl BslPort {
    /// A port whose frames carry `check`.
    pub fn new(check: Check) -> BslPort {
        BslPort { deframer: Deframer::new(), check }
    }

    /// Takes one read's bytes.
    pub fn receive(&mut self, input: &[u8]) -> Vec<Incoming> {
        if self.deframer.is_idle() && !input.is_empty() && input.iter().all(|&b| b == FLAG) {
            self.deframer.push(input);
            return vec![Incoming::CheckBaud];
        }
        self.deframer
            .push(input)
            .into_iter()
            .map(|raw| match raw {
                Raw::Frame(raw) => match decode(&raw, self.check) {
                    Ok(frame) => Incoming::Frame(frame),
                    Err(e) => Incoming::Bad(e),
                },
                Raw::Overflow => Incoming::Overflow,
            })
            .collect()
    }

    /// The bytes of a reply.
    pub fn reply(&self, kind: BslReply, payload: Vec<u8>) -> Vec<u8> {
        Frame::new(kind.code(), payload).encode(self.check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::unisoc::wire::bsl::BslCommand;

    #[test]
    fn check_baud_frames_and_bad_frames() {
        let mut port = BslPort::new(Check::Sum);
        assert_eq!(port.receive(&[0x7E]), [Incoming::CheckBaud]);
        assert_eq!(port.receive(&[0x7E; 4]), [Incoming::CheckBaud]);
        let connect = Frame::new(BslCommand::Connect.code(), vec![]);
        let bytes = connect.encode(Check::Sum);
        assert_eq!(port.receive(&bytes[..1]), [Incoming::CheckBaud]);
        assert_eq!(port.receive(&bytes[1..]), [Incoming::Frame(connect.clone())]);
        let mut bad = bytes.clone();
        bad[5] ^= 1;
        assert!(matches!(port.receive(&bad).as_slice(), [Incoming::Bad(FrameError::Check { .. })]));
        assert_eq!(port.reply(BslReply::Ack, vec![]), [0x7E, 0x00, 0x80, 0x00, 0x00, 0xFF, 0x7F, 0x7E]);
    }
}
