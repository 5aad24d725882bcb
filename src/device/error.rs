//! What can go wrong talking to a module, with the port, the last command and a hint.

use std::time::Duration;

/// An AT session or identification failure. Every variant names the port and, once a command
/// was sent, the last command; [`DeviceError::hint`] says what to try.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The port's path is not valid UTF-8, which the serial library cannot open.
    #[error("{port}: the port path is not valid UTF-8; ports can only be opened by a UTF-8 name")]
    NotUtf8 {
        /// The port path, with the bytes that are not UTF-8 replaced.
        port: String,
    },
    /// The port could not be opened or configured.
    #[error("{port}: cannot open the port: {source}")]
    Open {
        /// The port path.
        port: String,
        /// Why.
        source: serialport::Error,
    },
    /// Reading or writing failed for a reason other than a closed link.
    #[error("{port}: I/O error during {command}: {source}")]
    Io {
        /// The port path.
        port: String,
        /// The command in progress.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The link went away (the module reset, re-enumerated or was unplugged).
    #[error("{port}: the link went away during {command} ({detail})")]
    Disconnected {
        /// The port path.
        port: String,
        /// The command in progress.
        command: String,
        /// What the operating system said.
        detail: String,
    },
    /// The module never answered `AT` with `OK`.
    #[error("{port}: no answer to AT after {attempts} attempts in {} ms", waited.as_millis())]
    NotResponding {
        /// The port path.
        port: String,
        /// How many times `AT` was sent.
        attempts: u32,
        /// How long fwguard waited.
        waited: Duration,
    },
    /// A command got no final result (`OK`, `ERROR`, `+CME ERROR`) in time.
    #[error("{port}: no final result to {command} within {} ms; received {received:?}", waited.as_millis())]
    Timeout {
        /// The port path.
        port: String,
        /// The command.
        command: String,
        /// How long fwguard waited.
        waited: Duration,
        /// What did arrive (shortened).
        received: String,
    },
    /// The whole identification took longer than its overall deadline.
    #[error("{port}: the overall deadline of {} ms passed during {command}", deadline.as_millis())]
    Deadline {
        /// The port path.
        port: String,
        /// The command in progress.
        command: String,
        /// The deadline.
        deadline: Duration,
    },
    /// The port answers bytes that are not AT text.
    #[error("{port}: the answer to {command} is not AT text ({noise} of {total} bytes are noise): {sample:?}")]
    Garbage {
        /// The port path.
        port: String,
        /// The command.
        command: String,
        /// Noise bytes seen.
        noise: usize,
        /// All bytes seen.
        total: usize,
        /// The start of what arrived, escaped.
        sample: String,
    },
    /// The answer grew past the response cap without a final result.
    #[error("{port}: the answer to {command} passed {limit} bytes without a final result")]
    TooLong {
        /// The port path.
        port: String,
        /// The command.
        command: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// One line of the answer was longer than the line cap.
    #[error("{port}: a line of the answer to {command} is longer than {limit} bytes")]
    LineTooLong {
        /// The port path.
        port: String,
        /// The command.
        command: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The module refused a command fwguard cannot do without.
    #[error("{port}: {command} answered {result}")]
    CommandFailed {
        /// The port path.
        port: String,
        /// The command.
        command: String,
        /// The final result, e.g. `ERROR` or `+CME ERROR: 3`.
        result: String,
    },
    /// No revision could be read by any command.
    #[error("{port}: no revision from AT+QGMR, AT+CGMR or ATI (last command {command}): {detail}")]
    NoRevision {
        /// The port path.
        port: String,
        /// The last command tried.
        command: String,
        /// What went wrong.
        detail: String,
    },
}

impl DeviceError {
    /// The port the error concerns.
    pub fn port(&self) -> &str {
        match self {
            DeviceError::NotUtf8 { port }
            | DeviceError::Open { port, .. }
            | DeviceError::Io { port, .. }
            | DeviceError::Disconnected { port, .. }
            | DeviceError::NotResponding { port, .. }
            | DeviceError::Timeout { port, .. }
            | DeviceError::Deadline { port, .. }
            | DeviceError::Garbage { port, .. }
            | DeviceError::TooLong { port, .. }
            | DeviceError::LineTooLong { port, .. }
            | DeviceError::CommandFailed { port, .. }
            | DeviceError::NoRevision { port, .. } => port,
        }
    }

    /// The last command sent, if any.
    pub fn command(&self) -> Option<&str> {
        match self {
            DeviceError::NotUtf8 { .. } | DeviceError::Open { .. } => None,
            DeviceError::NotResponding { .. } => Some("AT"),
            DeviceError::Io { command, .. }
            | DeviceError::Disconnected { command, .. }
            | DeviceError::Timeout { command, .. }
            | DeviceError::Deadline { command, .. }
            | DeviceError::Garbage { command, .. }
            | DeviceError::TooLong { command, .. }
            | DeviceError::LineTooLong { command, .. }
            | DeviceError::CommandFailed { command, .. }
            | DeviceError::NoRevision { command, .. } => Some(command),
        }
    }

    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            DeviceError::NotUtf8 { .. } => {
                "name the port by a UTF-8 path: the device node `fwguard ports` lists, or a symbolic link \
                 with a plain name"
            }
            DeviceError::Open { .. } => {
                "check the path, that you may open it (dialout group), and that no other program \
                 (ModemManager, minicom) holds it"
            }
            DeviceError::Io { .. } => "unplug and replug the module, then try again",
            DeviceError::Disconnected { .. } => {
                "the module reset or left normal mode; wait for it to re-enumerate, then run `fwguard ports`"
            }
            DeviceError::NotResponding { .. } => {
                "this may not be the AT port (try `fwguard ports`), or the module is still booting or \
                 powered down; wait for RDY and try again"
            }
            DeviceError::Timeout { .. } | DeviceError::Deadline { .. } => {
                "the module may still be booting or busy: wait and retry, and power-cycle it if it stays \
                 silent; check that this is the AT port (`fwguard ports`)"
            }
            DeviceError::Garbage { .. } => {
                "this is probably not an AT port (DIAG and NMEA ports answer binary or NMEA), or the \
                 baud rate is wrong; find the AT port with `fwguard ports`"
            }
            DeviceError::TooLong { .. } | DeviceError::LineTooLong { .. } => {
                "the port floods output; it is probably not an AT port, or a trace is enabled on it"
            }
            DeviceError::CommandFailed { .. } => {
                "the module refuses basic identification; it may be in a restricted state (FTM, CFUN=0) \
                 or not a Quectel module"
            }
            DeviceError::NoRevision { .. } => {
                "describe the module by hand with --model and --revision (what AT+QGMR or ATI showed)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_hints_point_to_what_a_user_can_do() {
        // No command-line option sets the session timeouts: a hint must not send people looking
        // for one.
        let port = "/dev/ttyUSB2".to_string();
        for e in [
            DeviceError::Timeout {
                port: port.clone(),
                command: "ATI".into(),
                waited: Duration::from_secs(3),
                received: String::new(),
            },
            DeviceError::Deadline { port: port.clone(), command: "ATI".into(), deadline: Duration::from_secs(30) },
        ] {
            let hint = e.hint();
            assert!(!hint.to_ascii_lowercase().contains("timeout"), "{hint}");
            assert!(hint.contains("booting") && hint.contains("fwguard ports"), "{hint}");
        }
    }
}
