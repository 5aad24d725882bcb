//! What can go wrong starting or running the simulator.

use std::path::PathBuf;

/// A simulator failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SimError {
    /// No built-in profile has this name.
    #[error("no simulated module called {name:?}; known: {known}")]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// A profile is malformed (built-in data or command-line description).
    #[error("simulator profile: {0}")]
    Profile(String),
    /// A `--fault` spec does not parse.
    #[error("fault {spec:?}: {reason}")]
    Fault {
        /// The spec as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// A fault that only the download protocols act on, for a module whose download mode is not
    /// simulated yet.
    #[error(
        "fault {spec:?}: not simulated yet: this module's download mode does not act on nak-at and flash-id \
         (Qualcomm's EDL, ASR's AROM and the UIS8910 ROM do)"
    )]
    NotSimulated {
        /// The fault, in spec form.
        spec: String,
    },
    /// A pseudo-terminal could not be made.
    #[error("cannot create a pseudo-terminal: {0}")]
    Pty(String),
    /// The simulator thread died (a bug in the simulator).
    #[error("the simulated module crashed: {0}")]
    Crashed(String),
    /// Another running simulator holds this `--usb-port` of the `--root` tree.
    #[error(
        "--usb-port {usb_port} of {} is in use by another simulator{}",
        root.display(),
        pid.map(|p| format!(" (process {p})")).unwrap_or_default()
    )]
    PortBusy {
        /// The `--root` directory.
        root: PathBuf,
        /// The hub port asked for.
        usb_port: u8,
        /// The process holding it, when it wrote its id.
        pid: Option<u32>,
    },
    /// Writing the `--state` or `--root` directory failed.
    #[error("{path}: {reason}")]
    Files {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl SimError {
    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            SimError::UnknownProfile { .. } => {
                "run `fwguard sim --list` for the profiles, or describe one with --model --revision --platform"
            }
            SimError::Profile(_) => "check --model, --revision, --flash-id and --platform",
            SimError::Fault { .. } => {
                "faults: silent, garbage, flood, glue-urcs, slow=MS, boot=MS, drop-at=BYTES, and for modules whose \
                 download mode is simulated (Qualcomm, ASR AROM, UIS8910) nak-at=N and flash-id=HEX"
            }
            SimError::NotSimulated { .. } => {
                "leave the fault out for this module; silent, garbage, flood, glue-urcs, slow=MS, boot=MS and \
                 drop-at=BYTES work everywhere"
            }
            SimError::Pty(_) => "the system may be out of pseudo-terminals (see /proc/sys/kernel/pty/max)",
            SimError::Crashed(_) => "this is a bug in fwguard sim: please report it with the command line used",
            SimError::PortBusy { .. } => "give this simulator another --usb-port, or stop the one that holds it",
            SimError::Files { .. } => "check that the directory is writable and on a file system with symbolic links",
        }
    }

    pub(crate) fn files(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> SimError {
        SimError::Files { path: path.into(), reason: e.to_string() }
    }
}
