//! Fault injection: `--fault SPEC`, repeatable.

use std::fmt;
use std::time::Duration;

use super::error::SimError;
use crate::device::Mode;
use crate::identity::FlashId;

/// The longest `slow=` or `boot=` delay, in milliseconds: a day.
const MAX_DELAY_MS: u64 = 86_400_000;

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `silent`: reads everything, never answers.
    Silent,
    /// `garbage`: answers every command (and boots) with noise bytes.
    Garbage,
    /// `flood`: after the first command, sends lines without end and never a final result.
    Flood,
    /// `glue-urcs`: the boot URCs come glued to the first answers (before and after them)
    /// instead of on their own time, as modules under load send them.
    GlueUrcs,
    /// `slow=MS`: each answer comes this much later (echo stays immediate).
    Slow(Duration),
    /// `boot=MS`: the module boots this long before it hears anything, then says `RDY`.
    Boot(Duration),
    /// `drop-at=BYTES`: the link goes away after the module has sent this many bytes.
    DropAt(u64),
    /// `nak-at=N`: the download protocol refuses its N-th command (ASR's AROM: the N-th aboot
    /// command, counted from 1 over all stages, answers `FAIL`; Qualcomm: the N-th Firehose
    /// command, counting `configure`, is NAKed; UIS8910: the N-th packet gets VERIFY_ERROR).
    NakAt(u64),
    /// `flash-id=HEX`: the boot loader reports this flash ID instead of the profile's.
    FlashId(FlashId),
}

impl Fault {
    /// Parses a spec such as `slow=200` or `flash-id=20:41:17`.
    pub fn parse(spec: &str) -> Result<Fault, SimError> {
        let err = |reason: &str| SimError::Fault { spec: spec.to_string(), reason: reason.to_string() };
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        let number = |v: Option<&str>| -> Result<u64, SimError> {
            v.ok_or_else(|| err("needs a value"))?.parse::<u64>().map_err(|_| err("the value must be a whole number"))
        };
        let fault = match name.to_ascii_lowercase().as_str() {
            "silent" => Fault::Silent,
            "garbage" => Fault::Garbage,
            "flood" => Fault::Flood,
            "glue-urcs" => Fault::GlueUrcs,
            "slow" | "boot" => {
                let ms = number(value)?;
                if ms > MAX_DELAY_MS {
                    return Err(err("at most 86400000 ms (a day)"));
                }
                let d = Duration::from_millis(ms);
                if name.eq_ignore_ascii_case("slow") { Fault::Slow(d) } else { Fault::Boot(d) }
            }
            "drop-at" => Fault::DropAt(number(value)?),
            "nak-at" => Fault::NakAt(number(value)?),
            "flash-id" => Fault::FlashId(
                FlashId::parse(value.ok_or_else(|| err("needs a value"))?).map_err(|e| err(&e.to_string()))?,
            ),
            _ => return Err(err("unknown fault")),
        };
        let takes_value =
            matches!(fault, Fault::Slow(_) | Fault::Boot(_) | Fault::DropAt(_) | Fault::NakAt(_) | Fault::FlashId(_));
        if value.is_some() && !takes_value {
            return Err(err("takes no value"));
        }
        Ok(fault)
    }
}

impl Fault {
    /// Whether the simulator acts on this fault for a module whose download mode is `download`.
    /// `nak-at` and `flash-id` belong to the download protocols: ASR's AROM and Qualcomm's EDL
    /// (Firehose) act on them; for a mode not simulated yet a run with either is refused rather
    /// than silently ignoring it.
    pub fn is_simulated(&self, download: Mode) -> bool {
        match self {
            Fault::NakAt(_) | Fault::FlashId(_) => matches!(download, Mode::Arom | Mode::Edl),
            _ => true,
        }
    }

    /// Whether the simulator acts on this fault for `profile`, whose download mode is
    /// `download`: as [`Fault::is_simulated`], and the simulated UIS8910 download protocols act
    /// on `nak-at` and `flash-id` too.
    pub fn is_simulated_on(&self, profile: &super::profile::Profile, download: Mode) -> bool {
        self.is_simulated(download) || super::unisoc::simulates(profile)
    }
}

impl fmt::Display for Fault {
    /// The spec form, as `--fault` takes it: `slow=250`, `flash-id=204117`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Silent => f.write_str("silent"),
            Fault::Garbage => f.write_str("garbage"),
            Fault::Flood => f.write_str("flood"),
            Fault::GlueUrcs => f.write_str("glue-urcs"),
            Fault::Slow(d) => write!(f, "slow={}", d.as_millis()),
            Fault::Boot(d) => write!(f, "boot={}", d.as_millis()),
            Fault::DropAt(n) => write!(f, "drop-at={n}"),
            Fault::NakAt(n) => write!(f, "nak-at={n}"),
            Fault::FlashId(id) => write!(f, "flash-id={}", id.hex()),
        }
    }
}

/// The faults of one run, gathered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Never answer.
    pub silent: bool,
    /// Answer noise.
    pub garbage: bool,
    /// Answer endlessly.
    pub flood: bool,
    /// Glue the boot URCs to answers.
    pub glue_urcs: bool,
    /// Extra latency per answer.
    pub slow: Duration,
    /// Boot time before the first `RDY`.
    pub boot: Duration,
    /// Bytes sent before the link goes away.
    pub drop_at: Option<u64>,
    /// The download packet to refuse.
    pub nak_at: Option<u64>,
    /// The flash ID to report instead of the profile's.
    pub flash_id: Option<FlashId>,
}

impl Faults {
    /// Gathers a list of faults; later ones win.
    pub fn from_list(list: &[Fault]) -> Faults {
        let mut f = Faults::default();
        for fault in list {
            match fault {
                Fault::Silent => f.silent = true,
                Fault::Garbage => f.garbage = true,
                Fault::Flood => f.flood = true,
                Fault::GlueUrcs => f.glue_urcs = true,
                Fault::Slow(d) => f.slow = *d,
                Fault::Boot(d) => f.boot = *d,
                Fault::DropAt(n) => f.drop_at = Some(*n),
                Fault::NakAt(n) => f.nak_at = Some(*n),
                Fault::FlashId(id) => f.flash_id = Some(id.clone()),
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(Fault::parse("silent").unwrap(), Fault::Silent);
        assert_eq!(Fault::parse("slow=250").unwrap(), Fault::Slow(Duration::from_millis(250)));
        assert_eq!(Fault::parse("drop-at=100").unwrap(), Fault::DropAt(100));
        assert_eq!(Fault::parse("flash-id=20:41:17").unwrap(), Fault::FlashId(FlashId::parse("204117").unwrap()));
        for bad in ["", "loud", "slow", "slow=x", "silent=1", "flash-id=zz", "drop-at=-1"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        let all = Faults::from_list(&[Fault::Slow(Duration::from_millis(5)), Fault::Garbage]);
        assert!(all.garbage && all.slow == Duration::from_millis(5) && !all.silent);
    }

    #[test]
    fn specs_round_trip_and_download_faults_need_a_simulated_download_mode() {
        for spec in [
            "silent",
            "garbage",
            "flood",
            "glue-urcs",
            "slow=250",
            "boot=0",
            "drop-at=100",
            "nak-at=3",
            "flash-id=204117",
        ] {
            let fault = Fault::parse(spec).unwrap();
            assert_eq!(fault.to_string(), spec);
            let download = spec.starts_with("nak-at") || spec.starts_with("flash-id");
            assert!(fault.is_simulated(Mode::Arom), "{spec}");
            assert!(fault.is_simulated(Mode::Edl), "{spec}");
            assert_eq!(fault.is_simulated(Mode::Wtptp), !download, "{spec}");
        }
    }
}
