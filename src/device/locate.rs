//! Finds the one attached Quectel module to talk to, when the user names no port.

use std::path::PathBuf;

use super::ports::{Module, PortsError, SysPaths, discover_in};
use super::usb::{Mode, UsbTable};

/// Why no single module could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// Discovery itself failed.
    #[error(transparent)]
    Ports(#[from] PortsError),
    /// No Quectel module is attached.
    #[error("no Quectel module found under {sysfs}")]
    None {
        /// The sysfs root searched.
        sysfs: PathBuf,
    },
    /// More than one is attached.
    #[error("{} Quectel modules found, fwguard will not guess which one:\n{}", .0.len(), .0.join("\n"))]
    Several(Vec<String>),
    /// The one module has no AT port fwguard can name (download mode, or an interface layout no source gives).
    #[error("the module {module} has no AT port fwguard can identify ({reason})")]
    NoAtPort {
        /// The module, described.
        module: String,
        /// Why.
        reason: String,
    },
}

impl LocateError {
    /// What to do.
    pub fn hint(&self) -> &'static str {
        match self {
            LocateError::Ports(e) => e.hint(),
            LocateError::None { .. } => "attach the module, or name its AT port with --port, or try --sim PROFILE",
            LocateError::Several(_) => "name the module's AT port with --port (see `fwguard ports`)",
            LocateError::NoAtPort { .. } => "name the module's AT port with --port",
        }
    }
}

/// One line describing a module for lists.
pub fn describe(m: &Module) -> String {
    let ports: Vec<String> = m.ports.iter().map(|p| format!("{} ({:?})", p.path.display(), p.role)).collect();
    format!("  {} {} {:?} {}: {}", m.bus_id, m.usb_id(), m.mode, m.models.join("/"), ports.join(", "))
}

/// The one attached module and its AT port.
pub fn locate_at_port(paths: &SysPaths, table: &UsbTable) -> Result<(Module, PathBuf), LocateError> {
    let mut modules = discover_in(paths, table)?;
    match modules.len() {
        0 => Err(LocateError::None { sysfs: paths.sysfs.clone() }),
        1 => {
            let m = modules.remove(0);
            if m.mode != Mode::At {
                let reason = format!("it is in {:?} mode", m.mode);
                return Err(LocateError::NoAtPort { module: describe(&m).trim().to_string(), reason });
            }
            match m.at_port().map(|p| p.path.clone()) {
                Some(p) => Ok((m, p)),
                None => Err(LocateError::NoAtPort {
                    module: describe(&m).trim().to_string(),
                    reason: "no source gives the interface layout of this USB id".into(),
                }),
            }
        }
        _ => Err(LocateError::Several(modules.iter().map(describe).collect())),
    }
}
