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
    /// The one module is in a download (or recovery) mode: it has no AT port at all.
    #[error("the module {module} is in its {mode} download mode, which has no AT port")]
    InDownloadMode {
        /// The module, described.
        module: String,
        /// The mode its USB id says it is in.
        mode: Mode,
    },
    /// The one module is in normal mode but has no AT port fwguard can name (an interface layout
    /// no source gives).
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
            LocateError::InDownloadMode { .. } => {
                "the module is in its download mode: power-cycle it to return to normal mode"
            }
            LocateError::NoAtPort { .. } => "name the module's AT port with --port (see `fwguard ports`)",
        }
    }
}

/// One line describing a module for lists.
pub fn describe(m: &Module) -> String {
    let ports: Vec<String> = m.ports.iter().map(|p| format!("{} ({})", p.path.display(), p.role)).collect();
    format!("  {} {} {} {}: {}", m.bus_id, m.usb_id(), m.mode, m.models.join("/"), ports.join(", "))
}

/// The one attached module, in whatever mode it is.
pub fn locate_module(paths: &SysPaths, table: &UsbTable) -> Result<Module, LocateError> {
    let mut modules = discover_in(paths, table)?;
    match modules.len() {
        0 => Err(LocateError::None { sysfs: paths.sysfs.clone() }),
        1 => Ok(modules.remove(0)),
        _ => Err(LocateError::Several(modules.iter().map(describe).collect())),
    }
}

/// The one attached module and its AT port.
pub fn locate_at_port(paths: &SysPaths, table: &UsbTable) -> Result<(Module, PathBuf), LocateError> {
    let m = locate_module(paths, table)?;
    if m.mode.is_download() {
        return Err(LocateError::InDownloadMode { module: describe(&m).trim().to_string(), mode: m.mode });
    }
    match m.at_port().map(|p| p.path.clone()) {
        Some(p) => Ok((m, p)),
        None => Err(LocateError::NoAtPort {
            module: describe(&m).trim().to_string(),
            reason: "no source gives the interface layout of this USB id".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SysfsTree, TreeDevice, TreePort};
    use std::path::Path;

    /// One module with `ports` (interface, tty) under `root`, as the kernel shows it.
    fn attach(root: &Path, vid: u16, pid: u16, ports: &[(u8, &str)]) -> SysPaths {
        let device = TreeDevice {
            vid,
            pid,
            manufacturer: "Quectel".into(),
            product: "test".into(),
            bus: "1-1".into(),
            ports: ports
                .iter()
                .map(|(n, tty)| TreePort { interface: *n, tty: (*tty).into(), target: "/dev/null".into() })
                .collect(),
        };
        SysfsTree::write(root, &device).unwrap();
        SysPaths { sysfs: root.join("sys"), dev: root.join("dev") }
    }

    #[test]
    fn normal_mode_module_gives_its_at_port() {
        let dir = tempfile::tempdir().unwrap();
        let paths =
            attach(dir.path(), 0x2c7c, 0x0125, &[(0, "ttyUSB0"), (1, "ttyUSB1"), (2, "ttyUSB2"), (3, "ttyUSB3")]);
        let (m, port) = locate_at_port(&paths, UsbTable::builtin().unwrap()).unwrap();
        assert_eq!(m.mode, Mode::At);
        assert_eq!(port, dir.path().join("dev/ttyUSB2"));
    }

    #[test]
    fn download_mode_module_says_power_cycle_not_port() {
        for (vid, pid, mode, tty) in [
            (0x05c6, 0x9008, Mode::Edl, "ttyUSB0"),
            (0x2ecc, 0x3004, Mode::Arom, "ttyACM0"),
            (0x0525, 0xa4a7, Mode::Unisoc, "ttyUSB0"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let paths = attach(dir.path(), vid, pid, &[(0, tty)]);
            let err = locate_at_port(&paths, UsbTable::builtin().unwrap()).unwrap_err();
            assert!(matches!(err, LocateError::InDownloadMode { mode: m, .. } if m == mode), "{err}");
            assert!(err.to_string().contains(mode.as_str()), "{err}");
            assert!(err.hint().contains("power-cycle") && !err.hint().contains("--port"), "{}", err.hint());
        }
    }

    #[test]
    fn unknown_layout_says_name_the_port() {
        let dir = tempfile::tempdir().unwrap();
        // 2c7c:0903 (EC801E-CN): the option driver binds it, but no public source gives its layout.
        let paths = attach(dir.path(), 0x2c7c, 0x0903, &[(2, "ttyUSB0")]);
        let err = locate_at_port(&paths, UsbTable::builtin().unwrap()).unwrap_err();
        assert!(matches!(err, LocateError::NoAtPort { .. }), "{err}");
        assert!(err.hint().contains("--port"), "{}", err.hint());
    }

    #[test]
    fn no_module_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/class/tty")).unwrap();
        let paths = SysPaths { sysfs: dir.path().join("sys"), dev: dir.path().join("dev") };
        let err = locate_at_port(&paths, UsbTable::builtin().unwrap()).unwrap_err();
        assert!(matches!(err, LocateError::None { .. }), "{err}");
        assert!(err.hint().contains("--port"), "{}", err.hint());
    }
}
