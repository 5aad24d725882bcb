//! What can go wrong talking to a Qualcomm module, each error naming what was expected and what
//! came, with a hint.

use std::io;
use std::time::Duration;

use super::wire::firehose::SplitError;
use super::wire::mbn::MbnError;
use super::wire::sahara::{PacketError, Status};
use crate::diagnostic::Diagnostic;

/// A failure of the DIAG, Sahara or Firehose stage.
#[derive(Debug, thiserror::Error)]
pub enum QualcommError {
    /// Reading or writing the port failed.
    #[error("the link failed while {doing}: {source}")]
    Io {
        /// What the session was doing.
        doing: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Nothing, or not enough, arrived in time (or the module took nothing more).
    #[error("no answer while {doing} within {} ms{}", after.as_millis(), received_note(received))]
    Timeout {
        /// What the session was waiting for.
        doing: String,
        /// How long it waited.
        after: Duration,
        /// What had arrived meanwhile (a printable summary, empty if nothing).
        received: String,
    },
    /// A DIAG answer that is not the one the command expects.
    #[error("DIAG {command}: expected {expected}, the module answered {got}")]
    Diag {
        /// The command sent.
        command: &'static str,
        /// The answer expected.
        expected: String,
        /// The answer received.
        got: String,
    },
    /// The module has no DIAG port the USB table knows of.
    #[error("no DIAG port on {module}: its ports are {ports}")]
    NoDiagPort {
        /// The module (bus id and USB id).
        module: String,
        /// Its ports and their roles.
        ports: String,
    },
    /// Port discovery failed while waiting for the module.
    #[error("port discovery failed while waiting for the module in emergency download: {0}")]
    Discovery(String),
    /// The module did not come back in emergency download.
    #[error("the module did not re-enumerate in emergency download (05c6:9008) within {} s; seen: {seen}", after.as_secs())]
    NoEdl {
        /// How long discovery watched.
        after: Duration,
        /// What it saw meanwhile.
        seen: String,
    },
    /// Bytes from the boot ROM that are not a Sahara packet.
    #[error("Sahara, while {doing}: {source}")]
    SaharaPacket {
        /// What the session was doing.
        doing: String,
        /// Why the bytes are not a packet.
        #[source]
        source: PacketError,
    },
    /// A Sahara packet other than the one the protocol calls for.
    #[error("Sahara: expected {expected}, the module sent {got}")]
    SaharaUnexpected {
        /// The packet expected.
        expected: String,
        /// The packet received.
        got: String,
    },
    /// The boot ROM refused something, with a status code.
    #[error("Sahara: the module refused {what}: {status}")]
    SaharaRefused {
        /// What it refused.
        what: String,
        /// Its status code, by name.
        status: Status,
    },
    /// No Sahara protocol version both sides speak.
    #[error(
        "Sahara: the module speaks versions {device_compatible} to {device_version}; fwguard speaks {host_compatible} to {host_version}"
    )]
    SaharaVersion {
        /// The module's version.
        device_version: u32,
        /// The oldest the module speaks.
        device_compatible: u32,
        /// The host's version.
        host_version: u32,
        /// The oldest the host speaks.
        host_compatible: u32,
    },
    /// The boot ROM asked for bytes the image does not have.
    #[error("Sahara: the module asked for bytes {offset}..{end} of image {image}, which has {len} bytes")]
    SaharaRange {
        /// The image id asked for.
        image: u64,
        /// First byte.
        offset: u64,
        /// One past the last byte.
        end: u64,
        /// The image's length.
        len: u64,
    },
    /// The programmer is not an image a boot ROM loads.
    #[error("the programmer is not a loadable image: {0}")]
    Programmer(#[source] MbnError),
    /// The programmer answered NAK.
    #[error("Firehose {command}: the programmer answered NAK{}", log_note(log))]
    Nak {
        /// The command, as sent (shortened).
        command: String,
        /// The programmer's log lines that came with the NAK.
        log: Vec<String>,
    },
    /// The programmer broke the protocol (a malformed message, a wrong rawmode, missing sizes).
    #[error("Firehose {command}: {problem}")]
    Firehose {
        /// The command.
        command: String,
        /// What was wrong.
        problem: String,
    },
    /// A request this session refuses before sending anything (a file larger than its
    /// partition, a range past the end of the disk, a sector size of zero).
    #[error("{0}")]
    Invalid(String),
}

fn received_note(received: &str) -> String {
    if received.is_empty() { "; nothing arrived".into() } else { format!("; received {received}") }
}

fn log_note(log: &[String]) -> String {
    if log.is_empty() { String::new() } else { format!(": {}", log.join(" | ")) }
}

impl QualcommError {
    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            QualcommError::Io { .. } | QualcommError::Timeout { .. } => {
                "the module stopped answering: check the cable and power; a module left in emergency download comes back there after a power cycle, and the flash can be resumed"
            }
            QualcommError::Diag { .. } => {
                "the DIAG port answered something else; make sure no other program (ModemManager, QLog) uses the DM port"
            }
            QualcommError::NoDiagPort { .. } => {
                "this USB id has no DIAG interface in fwguard's USB table; put the module into emergency download another way (its EDL test point) and run again"
            }
            QualcommError::Discovery(_) => "port discovery needs Linux sysfs; set FWGUARD_SYSFS and FWGUARD_DEV",
            QualcommError::NoEdl { .. } => {
                "the module did not reset into emergency download; check `fwguard ports`, and that the qcserial driver binds 05c6:9008"
            }
            QualcommError::SaharaPacket { .. } | QualcommError::SaharaUnexpected { .. } => {
                "the boot ROM's conversation went out of step; power-cycle the module (it comes back in emergency download) and run again"
            }
            QualcommError::SaharaRefused { .. } => {
                "the boot ROM refused the programmer: use the programmer from a package for this module's chip (update/firehose/prog_*); a secure-boot module needs a signed one"
            }
            QualcommError::SaharaVersion { .. } => {
                "this module's boot ROM is newer than fwguard supports; update fwguard"
            }
            QualcommError::SaharaRange { .. } => {
                "the boot ROM asked for more than the programmer file holds: the file is truncated or for another chip"
            }
            QualcommError::Programmer(_) => {
                "the package's programmer file is damaged or not a programmer; get the package again"
            }
            QualcommError::Nak { .. } => {
                "the programmer refused the command; its log lines say why (a geometry that does not match the package, a range past the end of the flash)"
            }
            QualcommError::Firehose { .. } => {
                "the programmer broke the Firehose protocol; power-cycle the module and run again, with the package's own programmer"
            }
            QualcommError::Invalid(_) => "this is a mistake in the flash plan; report it with the package used",
        }
    }

    pub(crate) fn io(doing: impl Into<String>, source: io::Error) -> QualcommError {
        QualcommError::Io { doing: doing.into(), source }
    }
}

impl Diagnostic for QualcommError {
    fn code(&self) -> &'static str {
        match self {
            QualcommError::Io { .. } => "fwguard::qualcomm::io",
            QualcommError::Timeout { .. } => "fwguard::qualcomm::timeout",
            QualcommError::Diag { .. } => "fwguard::qualcomm::diag",
            QualcommError::NoDiagPort { .. } => "fwguard::qualcomm::no_diag_port",
            QualcommError::Discovery(_) => "fwguard::qualcomm::discovery",
            QualcommError::NoEdl { .. } => "fwguard::qualcomm::no_edl",
            QualcommError::SaharaPacket { .. } => "fwguard::qualcomm::sahara_packet",
            QualcommError::SaharaUnexpected { .. } => "fwguard::qualcomm::sahara_unexpected",
            QualcommError::SaharaRefused { .. } => "fwguard::qualcomm::sahara_refused",
            QualcommError::SaharaVersion { .. } => "fwguard::qualcomm::sahara_version",
            QualcommError::SaharaRange { .. } => "fwguard::qualcomm::sahara_range",
            QualcommError::Programmer(_) => "fwguard::qualcomm::programmer",
            QualcommError::Nak { .. } => "fwguard::qualcomm::nak",
            QualcommError::Firehose { .. } => "fwguard::qualcomm::firehose",
            QualcommError::Invalid(_) => "fwguard::qualcomm::invalid",
        }
    }
    fn hint(&self) -> Option<String> {
        Some(QualcommError::hint(self).to_string())
    }
}

impl Diagnostic for PacketError {
    fn code(&self) -> &'static str {
        "fwguard::qualcomm::sahara_packet"
    }
    fn hint(&self) -> Option<String> {
        Some("the boot ROM sent something that is not a Sahara packet; power-cycle the module and run again".into())
    }
}

impl Diagnostic for MbnError {
    fn code(&self) -> &'static str {
        "fwguard::qualcomm::image"
    }
    fn hint(&self) -> Option<String> {
        Some("the file is not a boot image for this chip; use the programmer from a package for this module".into())
    }
}

impl Diagnostic for SplitError {
    fn code(&self) -> &'static str {
        "fwguard::qualcomm::firehose_message"
    }
    fn hint(&self) -> Option<String> {
        Some("the programmer's answers are not Firehose messages; power-cycle the module and run again".into())
    }
}

/// A printable summary of received bytes: text when they are text, else hex (at most 64 bytes).
pub(crate) fn summarize(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let shown = &bytes[..bytes.len().min(64)];
    let more = if bytes.len() > shown.len() { format!(" ... ({} bytes)", bytes.len()) } else { String::new() };
    if shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}{more}", String::from_utf8_lossy(shown))
    } else {
        let hex: Vec<String> = shown.iter().map(|b| format!("{b:02X}")).collect();
        format!("{}{more}", hex.join(" "))
    }
}
