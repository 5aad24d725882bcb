//! The simulated Qualcomm module's device side, one file per protocol, mirroring the host in
//! `crate::flash::qualcomm`: the DIAG port of normal mode ([`diag`]), the boot ROM's Sahara in
//! emergency download ([`sahara`]), the Firehose programmer it loads ([`firehose`]) over a NAND
//! model ([`nand`]), the chip table ([`chip`]), and what the flash holds and boots
//! ([`firmware`]).

pub mod chip;
pub mod diag;
pub mod firehose;
pub mod firmware;
pub mod nand;
pub mod sahara;

use std::time::Duration;

pub use diag::DiagPort;
pub use firmware::QualcommFirmware;

use super::download::{DownloadContext, DownloadMode, DownloadStep};
use super::profile::Profile;
use crate::device::Mode;
use firehose::FirehoseTarget;
use firmware::Geometry;
use nand::Nand;
use sahara::{Identity, SaharaTarget};

/// How long the programmer takes to start after DONE_RESP before it logs its banner. A target
/// that sends both at once breaks linux-msm/qdl's `ks`, which reads one packet per `read()`.
pub const PROGRAMMER_START: Duration = Duration::from_millis(500);

/// What the boot ROM tells about a module in command mode: a serial number and an OEM key hash
/// derived from its IMEI and chipset (synthetic), secure boot as the profile says.
pub fn identity(profile: &Profile) -> Identity {
    use sha2::{Digest, Sha256};
    let serial = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(profile.imei.as_bytes());
    let pk_hash: [u8; 32] = Sha256::digest(format!("fwguard-sim OEM PK {}", profile.chipset)).into();
    Identity { serial, pk_hash, secure_boot: profile.secure_boot }
}

enum Stage {
    /// Sahara has not greeted yet.
    Off,
    Sahara(SaharaTarget),
    Firehose(Box<FirehoseTarget>),
}

/// Emergency download (05c6:9008): Sahara, then the Firehose programmer it loads.
pub struct Edl {
    stage: Stage,
}

impl Default for Edl {
    fn default() -> Edl {
        Edl { stage: Stage::Off }
    }
}

impl DownloadMode for Edl {
    fn mode(&self) -> Mode {
        Mode::Edl
    }

    fn start(&mut self, ctx: &mut DownloadContext<'_>) -> Vec<u8> {
        let mut sahara = SaharaTarget::new(chip::for_chipset(&ctx.profile.chipset), identity(ctx.profile));
        let hello = sahara.hello();
        self.stage = Stage::Sahara(sahara);
        hello
    }

    fn feed(&mut self, input: &[u8], ctx: &mut DownloadContext<'_>) -> DownloadStep {
        let mut step = DownloadStep::default();
        match &mut self.stage {
            Stage::Off => {}
            Stage::Sahara(sahara) => {
                let s = sahara.feed(input);
                step.output = s.output;
                if s.programmer_runs {
                    let nand = Nand { geometry: Geometry::of(ctx.profile) };
                    let chip = chip::for_chipset(&ctx.profile.chipset);
                    let target = FirehoseTarget::new(chip, nand, ctx.flash_id.cloned(), identity(ctx.profile).serial);
                    step.later = Some((PROGRAMMER_START, target.banner()));
                    self.stage = Stage::Firehose(Box::new(target));
                    if !s.rest.is_empty() {
                        let mut more = self.feed(&s.rest, ctx);
                        step.output.append(&mut more.output);
                    }
                }
            }
            Stage::Firehose(target) => {
                let f = target.feed(input, ctx.flash, ctx.faults);
                step.output = f.output;
                if let Some((value, delay)) = f.power {
                    step.reset = true;
                    step.reset_delay = delay;
                    step.reset_to_download = value == "reset_to_edl";
                }
            }
        }
        step
    }
}
