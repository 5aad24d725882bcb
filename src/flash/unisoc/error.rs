//! What can go wrong talking to a Unisoc module in its download mode.

use std::time::Duration;

use super::wire::bsl::{BslCommand, BslReply};
use super::wire::pdl::{PdlCommand, PdlReply};

/// A failure of a Unisoc download session. Each variant names the step in progress and what was
/// expected against what came; [`UnisocError::hint`] says what to try.
#[derive(Debug, thiserror::Error)]
pub enum UnisocError {
    /// Reading or writing the link failed.
    #[error("I/O error during {during}: {source}")]
    Io {
        /// The step.
        during: String,
        /// Why.
        source: std::io::Error,
    },
    /// The link went away (the module reset, re-enumerated or was unplugged).
    #[error("the link went away during {during} ({detail})")]
    Disconnected {
        /// The step.
        during: String,
        /// What the operating system said.
        detail: String,
    },
    /// No complete answer in time.
    #[error("no answer to {during} within {} ms ({received} bytes received)", waited.as_millis())]
    Timeout {
        /// The step.
        during: String,
        /// How long fwguard waited.
        waited: Duration,
        /// Bytes that arrived without completing an answer.
        received: usize,
    },
    /// The boot ROM refused a PDL request.
    #[error("the boot ROM answered {command} with {reply}, expected ACK")]
    RomRefused {
        /// The request.
        command: PdlCommand,
        /// The answer.
        reply: PdlReply,
    },
    /// The ROM or FDL refused a BSL command.
    #[error("{stage} answered {command} with {reply}, expected {expected}{detail}")]
    Refused {
        /// Who answered: "the boot ROM", "FDL1", "FDL2".
        stage: &'static str,
        /// The command.
        command: BslCommand,
        /// The answer.
        reply: BslReply,
        /// What would have been success.
        expected: String,
        /// More about the step (address, size), with a leading separator, or empty.
        detail: String,
    },
    /// The device answered with bytes that are not an answer of its protocol.
    #[error("unintelligible answer during {during}: {detail}")]
    Garbled {
        /// The step.
        during: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Reading the image data to send failed or it ended early.
    #[error("reading the data for {what}: {detail}")]
    Source {
        /// What was being sent.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// A value does not fit the protocol (a size, an address).
    #[error("{what}: {detail}")]
    Invalid {
        /// What.
        what: String,
        /// Why.
        detail: String,
    },
    /// Something the protocol or package needs that the published sources do not record.
    #[error("not supported: {what}")]
    NotSupported {
        /// What is unknown, and where it would be needed.
        what: String,
    },
    /// The package's download scheme cannot be turned into steps.
    #[error("{package}: cannot plan the download: {problem}")]
    Scheme {
        /// The package.
        package: String,
        /// Why.
        problem: String,
    },
}

impl UnisocError {
    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            UnisocError::Io { .. } => "check the cable and the port; run `fwguard ports` to see the module",
            UnisocError::Disconnected { .. } => {
                "the module left its download mode: power-cycle it into download mode (boot pin, or \
                 AT+QDOWNLOAD=1) and run again with --resume"
            }
            UnisocError::Timeout { .. } => {
                "the module stopped answering: power-cycle it into download mode and run again with --resume"
            }
            UnisocError::RomRefused { .. } => {
                "the boot ROM refused the loader: check that the package is for this chip (UIS8910 or UIS8850)"
            }
            UnisocError::Refused { .. } => {
                "the loader refused the step: check that the package is for this module's chip and flash; the \
                 journal says which step failed"
            }
            UnisocError::Garbled { .. } => {
                "another program may be using the port, or this is not a Unisoc download port: close other \
                 tools and check `fwguard ports`"
            }
            UnisocError::Source { .. } => "the package could not be read: check the file and run `fwguard inspect`",
            UnisocError::Invalid { .. } => "the package asks for something the protocol cannot carry: inspect it",
            UnisocError::NotSupported { .. } => {
                "fwguard refuses what it cannot do safely; flash this module with the vendor's tool, or report \
                 the package so the missing facts can be added"
            }
            UnisocError::Scheme { .. } => "run `fwguard inspect` on the package to see its files and scheme",
        }
    }

    /// Whether the failure happened on the link (the module may be in any state), as opposed to
    /// a refusal the module answered.
    pub fn is_link_failure(&self) -> bool {
        matches!(self, UnisocError::Io { .. } | UnisocError::Disconnected { .. } | UnisocError::Timeout { .. })
    }
}

impl crate::diagnostic::Diagnostic for UnisocError {
    fn code(&self) -> &'static str {
        match self {
            UnisocError::Io { .. } => "fwguard::unisoc::io",
            UnisocError::Disconnected { .. } => "fwguard::unisoc::disconnected",
            UnisocError::Timeout { .. } => "fwguard::unisoc::timeout",
            UnisocError::RomRefused { .. } => "fwguard::unisoc::rom_refused",
            UnisocError::Refused { .. } => "fwguard::unisoc::refused",
            UnisocError::Garbled { .. } => "fwguard::unisoc::garbled",
            UnisocError::Source { .. } => "fwguard::unisoc::source",
            UnisocError::Invalid { .. } => "fwguard::unisoc::invalid",
            UnisocError::NotSupported { .. } => "fwguard::unisoc::not_supported",
            UnisocError::Scheme { .. } => "fwguard::unisoc::scheme",
        }
    }

    fn hint(&self) -> Option<String> {
        Some(UnisocError::hint(self).to_string())
    }
}
