//! The DIAG (DM) port of a simulated Qualcomm module in normal mode: it answers the build-id
//! query and the download switch, and refuses other commands as Qualcomm's DIAG service does.

use super::super::profile::Profile;
use super::chip;
use crate::flash::qualcomm::wire::diag::{BAD_CMD, BuildId, DOWNLOAD_SWITCH, EXT_BUILD_ID};
use crate::flash::qualcomm::wire::hdlc::{self, Decoder, Frame};

/// What the port does after some input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiagReply {
    /// Bytes to send.
    pub output: Vec<u8>,
    /// The download switch arrived (and its echo is in `output`): the module resets into EDL.
    pub enter_download: bool,
}

/// The DM port's state: frames arrive in pieces.
#[derive(Debug, Clone, Default)]
pub struct DiagPort {
    decoder: Decoder,
}

impl DiagPort {
    /// Takes received bytes; answers every complete frame. Frames with a bad CRC are dropped.
    /// Anything after the download switch is ignored (the module is resetting).
    pub fn feed(&mut self, input: &[u8], profile: &Profile) -> DiagReply {
        let mut reply = DiagReply::default();
        for frame in self.decoder.feed(input) {
            let Frame::Good(payload) = frame else { continue };
            match payload.first() {
                _ if payload == DOWNLOAD_SWITCH => {
                    reply.output.extend(hdlc::encode(&payload));
                    reply.enter_download = true;
                    return reply;
                }
                Some(&EXT_BUILD_ID) => {
                    let id = BuildId {
                        version: 2,
                        msm: chip::for_chipset(&profile.chipset).msm_id,
                        model: 0,
                        software_revision: profile.ati_revision.clone(),
                        model_name: profile.model.clone(),
                    };
                    reply.output.extend(hdlc::encode(&id.encode()));
                }
                _ => {
                    let mut refusal = vec![BAD_CMD];
                    refusal.extend(payload.iter().take(16));
                    reply.output.extend(hdlc::encode(&refusal));
                }
            }
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profile::find;

    #[test]
    fn answers_across_reads() {
        let p = find("ec25-e").unwrap();
        let mut port = DiagPort::default();
        assert_eq!(port.feed(&[0x7E, 0x7C, 0x93], &p), DiagReply::default());
        let r = port.feed(&[0x49, 0x7E], &p);
        let mut d = Decoder::default();
        let Frame::Good(answer) = &d.feed(&r.output)[0] else { panic!() };
        assert_eq!(BuildId::decode(answer).unwrap().software_revision, "EC25EFAR06A17M4G");
        let r = port.feed(&[0x4B, 0x65, 0x01, 0x00, 0x54, 0x0F, 0x7E], &p);
        assert!(r.enter_download);
        assert_eq!(r.output, [0x4B, 0x65, 0x01, 0x00, 0x54, 0x0F, 0x7E]);
        let r = port.feed(&hdlc::encode(&[0x00]), &p);
        assert_eq!(d.feed(&r.output), [Frame::Good(vec![BAD_CMD, 0x00])]);
    }
}
