//! What can go wrong talking to an ASR module in its download mode. Every variant names the port
//! and what fwguard was doing; [`AsrError::hint`] says what to try.

use std::io;
use std::time::Duration;

use super::wire::probe::FlashProbe;

/// An ASR download-protocol failure.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// Reading or writing the port failed for a reason other than a closed link.
    #[error("{port}: I/O error during {during}: {source}")]
    Io {
        /// The port.
        port: String,
        /// What fwguard was doing.
        during: String,
        /// Why.
        source: io::Error,
    },
    /// The link went away (the module reset, re-enumerated, or the cable was cut).
    #[error("{port}: the link went away during {during} ({detail})")]
    Disconnected {
        /// The port.
        port: String,
        /// What fwguard was doing.
        during: String,
        /// What the operating system said.
        detail: String,
    },
    /// Reading the image to send from the caller's source failed.
    #[error("{port}: cannot read the image for {during}: {source}")]
    Input {
        /// The port.
        port: String,
        /// What fwguard was doing.
        during: String,
        /// Why.
        source: io::Error,
    },
    /// No `~UABT~` came back to the `UUUU~` preamble.
    #[error("{port}: no ~UABT~ answer to {sent} UUUU~ preambles in {} ms; received {received:?}", waited.as_millis())]
    NoSync {
        /// The port.
        port: String,
        /// How many preambles were sent.
        sent: u32,
        /// How long fwguard tried.
        waited: Duration,
        /// What did arrive, escaped.
        received: String,
    },
    /// The module answered the preamble as an ETHOS ("aboot standard") device.
    #[error("{port}: the module answered UUUU~ with UUUU: it speaks ETHOS (\"aboot standard\"), not SMUX")]
    Ethos {
        /// The port.
        port: String,
    },
    /// An answer did not come in time.
    #[error("{port}: no {expected} within {} ms during {during}; received {received:?}", waited.as_millis())]
    Timeout {
        /// The port.
        port: String,
        /// What fwguard was doing.
        during: String,
        /// What it waited for.
        expected: &'static str,
        /// How long.
        waited: Duration,
        /// What did arrive, escaped.
        received: String,
    },
    /// The module answered `FAIL`.
    #[error("{port}: {command} failed: the module answered FAIL{reason}")]
    Refused {
        /// The port.
        port: String,
        /// The command.
        command: String,
        /// The text after `FAIL`.
        reason: String,
    },
    /// The module answered something other than what the protocol allows here.
    #[error("{port}: {command}: expected {expected}, the module answered {got:?}")]
    Unexpected {
        /// The port.
        port: String,
        /// The command or step.
        command: String,
        /// What the protocol allows.
        expected: String,
        /// What came.
        got: String,
    },
    /// A recipe's `require` step does not hold.
    #[error("{port}: the package requires {key}={expected}, the module answers {key}={actual:?}")]
    Requirement {
        /// The port.
        port: String,
        /// The variable.
        key: String,
        /// What the package requires (alternatives split by `|`).
        expected: String,
        /// What the module answered.
        actual: String,
    },
    /// The flasher refused the package's flash table for the chip it found.
    #[error(
        "{port}: the flasher found flash chip {} (manufacturer {:#04x}, device {:#06x}) and refused the package's flash table: FAIL{}",
        probe.flash_id(), probe.manufacturer, probe.device, probe.reply.strip_prefix("FAIL").unwrap_or(&probe.reply)
    )]
    ChipRejected {
        /// The port.
        port: String,
        /// What the flasher said.
        probe: Box<FlashProbe>,
    },
    /// The operation needs another stage than the one the module is in.
    #[error("{port}: {operation} needs the {needed} stage, the module is in its {current} stage")]
    WrongStage {
        /// The port.
        port: String,
        /// The operation.
        operation: String,
        /// The stage it needs.
        needed: &'static str,
        /// The stage the session is in.
        current: &'static str,
    },
    /// A request fwguard will not send (too long, too large, outside the partition).
    #[error("{port}: {operation}: {problem}")]
    Invalid {
        /// The port.
        port: String,
        /// The operation.
        operation: String,
        /// What is wrong, with both values.
        problem: String,
    },
}

impl AsrError {
    /// What to try.
    pub fn hint(&self) -> &'static str {
        match self {
            AsrError::Io { .. } => "check that no other program (ModemManager, a terminal) has the port open",
            AsrError::Disconnected { .. } => {
                "the module left its download mode or the cable was cut; fwguard flash --resume continues from the journal"
            }
            AsrError::Input { .. } => "the package could not be read; check the file and the disk",
            AsrError::NoSync { .. } => {
                "this port is not an ASR download port in AROM mode, or the module needs a power cycle with the boot key held"
            }
            AsrError::Ethos { .. } => {
                "this boot loader uses aboot over ETHOS (fastboot over UDP), which fwguard does not support"
            }
            AsrError::Timeout { .. } => "the module stopped answering; power-cycle it into download mode and try again",
            AsrError::Refused { .. } => "the module refused the command; the device log in the journal has its reason",
            AsrError::Unexpected { .. } => {
                "the module does not follow the aboot protocol fwguard knows; report its log"
            }
            AsrError::Requirement { .. } => {
                "the package is built for another boot ROM or chip; use a package for this module"
            }
            AsrError::ChipRejected { .. } => {
                "the package does not support this module's flash chip; use a package whose flashinfo.bin lists it"
            }
            AsrError::WrongStage { .. } => "run the package's preboot and flasher stages first",
            AsrError::Invalid { .. } => "the package or the request is not one this module can take",
        }
    }

    /// The port named in the error.
    pub fn port(&self) -> &str {
        match self {
            AsrError::Io { port, .. }
            | AsrError::Disconnected { port, .. }
            | AsrError::Input { port, .. }
            | AsrError::NoSync { port, .. }
            | AsrError::Ethos { port }
            | AsrError::Timeout { port, .. }
            | AsrError::Refused { port, .. }
            | AsrError::Unexpected { port, .. }
            | AsrError::Requirement { port, .. }
            | AsrError::ChipRejected { port, .. }
            | AsrError::WrongStage { port, .. }
            | AsrError::Invalid { port, .. } => port,
        }
    }

    /// Whether the link itself failed (so nothing more can be said to the module on it).
    pub fn is_link_lost(&self) -> bool {
        matches!(self, AsrError::Disconnected { .. } | AsrError::Io { .. })
    }

    /// Classifies an I/O error of the port.
    pub(crate) fn from_io(port: &str, during: &str, e: io::Error) -> AsrError {
        use io::ErrorKind as K;
        match e.kind() {
            K::BrokenPipe
            | K::UnexpectedEof
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::NotFound
            | K::Other => AsrError::Disconnected { port: port.into(), during: during.into(), detail: e.to_string() },
            _ => AsrError::Io { port: port.into(), during: during.into(), source: e },
        }
    }
}
