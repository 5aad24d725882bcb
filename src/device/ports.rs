//! Port discovery through Linux sysfs: which ttys belong to which attached Quectel module, in
//! which mode, and which port carries AT.
//!
//! For each `$FWGUARD_SYSFS/class/tty/*` (default `/sys`) the `device` link leads into the USB
//! tree; walking up from there finds the USB interface (it has `bInterfaceNumber`) and the USB
//! device (it has `idVendor` and `idProduct`). The id is looked up in the USB table; ports of the
//! same USB device form one [`Module`]. The device node is `$FWGUARD_DEV/<name>` (default `/dev`);
//! a tty whose node is missing or links to nothing is skipped.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use super::usb::{Mode, Role, UsbId, UsbTable, UsbTableError};
use crate::platform::Platform;

/// Where sysfs and the device nodes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysPaths {
    /// The sysfs root, `/sys`, or `$FWGUARD_SYSFS`.
    pub sysfs: PathBuf,
    /// The device directory, `/dev`, or `$FWGUARD_DEV`.
    pub dev: PathBuf,
}

impl SysPaths {
    /// `$FWGUARD_SYSFS` and `$FWGUARD_DEV`, defaulting to `/sys` and `/dev`.
    pub fn from_env() -> SysPaths {
        let var = |name: &str, default: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        SysPaths { sysfs: var("FWGUARD_SYSFS", "/sys"), dev: var("FWGUARD_DEV", "/dev") }
    }
}

/// One tty of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The device node, e.g. `/dev/ttyUSB2`.
    pub path: PathBuf,
    /// The tty name, e.g. `ttyUSB2`.
    pub name: String,
    /// The USB interface number.
    pub interface: u8,
    /// What the interface carries, from the USB table.
    pub role: Role,
}

/// One attached module: the ttys of one USB device with a Quectel id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Module {
    /// The USB device's sysfs directory.
    pub usb_path: PathBuf,
    /// The USB device's bus name, e.g. `1-1`.
    pub bus_id: String,
    /// Vendor id.
    #[serde(serialize_with = "hex4")]
    pub vid: u16,
    /// Product id.
    #[serde(serialize_with = "hex4")]
    pub pid: u16,
    /// Normal mode or which download mode.
    pub mode: Mode,
    /// The platform the id belongs to; `None` (printed `other`) for a USB bridge chip.
    #[serde(serialize_with = "super::usb::serialize_usb_platform")]
    pub platform: Option<Platform>,
    /// The modules the USB table lists for the id.
    pub models: Vec<String>,
    /// Its ttys, by interface number.
    pub ports: Vec<Port>,
}

fn hex4<S: Serializer>(v: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:04x}"))
}

impl Module {
    /// Its USB id, `2c7c:0125` when printed.
    pub fn usb_id(&self) -> UsbId {
        UsbId::new(self.vid, self.pid)
    }

    /// The AT port, when the module is in normal mode and the table names it.
    pub fn at_port(&self) -> Option<&Port> {
        self.ports.iter().find(|p| p.role == Role::At)
    }

    /// The port a download mode speaks on: the table's download interface, or the only port.
    pub fn download_port(&self) -> Option<&Port> {
        if !self.mode.is_download() {
            return None;
        }
        self.ports.iter().find(|p| p.role == Role::Download).or(match self.ports.as_slice() {
            [one] => Some(one),
            _ => None,
        })
    }
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum PortsError {
    /// The tty class directory could not be read.
    #[error("cannot read {path}: {source}")]
    Sysfs {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The USB table is broken.
    #[error(transparent)]
    Table(#[from] UsbTableError),
}

impl PortsError {
    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            PortsError::Sysfs { .. } => {
                "port discovery needs Linux sysfs; set FWGUARD_SYSFS, or name the port with --port"
            }
            PortsError::Table(_) => "the built-in USB table is damaged; reinstall fwguard",
        }
    }
}

/// Finds attached modules under `$FWGUARD_SYSFS`, with the built-in USB table.
pub fn discover() -> Result<Vec<Module>, PortsError> {
    discover_in(&SysPaths::from_env(), UsbTable::builtin()?)
}

/// Finds attached modules under `paths`, with `table`.
pub fn discover_in(paths: &SysPaths, table: &UsbTable) -> Result<Vec<Module>, PortsError> {
    let class = paths.sysfs.join("class").join("tty");
    let entries = fs::read_dir(&class).map_err(|source| PortsError::Sysfs { path: class.clone(), source })?;
    let root = fs::canonicalize(&paths.sysfs).unwrap_or_else(|_| paths.sysfs.clone());
    let mut modules: Vec<Module> = Vec::new();
    let mut names: Vec<String> =
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).collect();
    names.sort();
    for name in names {
        let Some(found) = usb_parent(&class.join(&name).join("device"), &root) else {
            continue;
        };
        let Some(entry) = table.lookup(found.vid, found.pid) else {
            continue;
        };
        let path = paths.dev.join(&name);
        // A device node that is missing, or a link to a terminal that is gone (a simulator killed
        // before it could clean its tree), is no port: listing it would show a ghost module.
        if fs::metadata(&path).is_err() {
            tracing::debug!(port = %path.display(), "skipped: no device node, or a link to nothing");
            continue;
        }
        let port = Port { path, name, interface: found.interface, role: entry.role(found.interface) };
        match modules.iter_mut().find(|m| m.usb_path == found.device_dir) {
            Some(m) => m.ports.push(port),
            None => modules.push(Module {
                bus_id: found.device_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                usb_path: found.device_dir,
                vid: found.vid,
                pid: found.pid,
                mode: entry.mode,
                platform: entry.platform,
                models: entry.modules.clone(),
                ports: vec![port],
            }),
        }
    }
    for m in &mut modules {
        m.ports.sort_by(|a, b| (a.interface, &a.name).cmp(&(b.interface, &b.name)));
    }
    modules.sort_by(|a, b| a.usb_path.cmp(&b.usb_path));
    Ok(modules)
}

/// Finds the module and port whose device node is `path` (after following links), if any.
pub fn find_port(path: &Path) -> Option<(Module, Port)> {
    find_port_in(&SysPaths::from_env(), path)
}

/// [`find_port`] under the given sysfs and device paths.
pub fn find_port_in(paths: &SysPaths, path: &Path) -> Option<(Module, Port)> {
    let wanted = fs::canonicalize(path).ok()?;
    let modules = discover_in(paths, UsbTable::builtin().ok()?).ok()?;
    for module in modules {
        let hit = module.ports.iter().find(|p| fs::canonicalize(&p.path).is_ok_and(|c| c == wanted)).cloned();
        if let Some(port) = hit {
            return Some((module, port));
        }
    }
    None
}

struct UsbParent {
    device_dir: PathBuf,
    vid: u16,
    pid: u16,
    interface: u8,
}

/// Follows a tty's `device` link up to its USB interface and USB device.
fn usb_parent(device_link: &Path, root: &Path) -> Option<UsbParent> {
    let mut dir = fs::canonicalize(device_link).ok()?;
    let mut interface = None;
    loop {
        if !dir.starts_with(root) {
            return None;
        }
        if interface.is_none()
            && let Some(n) = read_hex(&dir.join("bInterfaceNumber"))
        {
            interface = u8::try_from(n).ok();
        }
        if let (Some(vid), Some(pid)) = (read_hex(&dir.join("idVendor")), read_hex(&dir.join("idProduct"))) {
            return Some(UsbParent { device_dir: dir, vid, pid, interface: interface? });
        }
        dir = dir.parent()?.to_path_buf();
    }
}

/// Reads a small sysfs attribute holding a hex number (`2c7c`, `02`).
fn read_hex(path: &Path) -> Option<u16> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 64 {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    u16::from_str_radix(text.trim(), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Writes a kernel-like tree: one USB device `1-1` with the given (interface, tty) pairs.
    fn tree(root: &Path, vid: &str, pid: &str, ttys: &[(u8, &str)]) {
        let usb = root.join("sys/devices/pci0000:00/0000:00:14.0/usb1/1-1");
        fs::create_dir_all(&usb).unwrap();
        fs::write(usb.join("idVendor"), format!("{vid}\n")).unwrap();
        fs::write(usb.join("idProduct"), format!("{pid}\n")).unwrap();
        let class = root.join("sys/class/tty");
        fs::create_dir_all(&class).unwrap();
        fs::create_dir_all(root.join("dev")).unwrap();
        for (n, tty) in ttys {
            let intf = usb.join(format!("1-1:1.{n}"));
            let port = intf.join(tty);
            let node = port.join("tty").join(tty);
            fs::create_dir_all(&node).unwrap();
            fs::write(intf.join("bInterfaceNumber"), format!("{n:02x}\n")).unwrap();
            symlink(format!("../../../{tty}"), node.join("device")).unwrap();
            let rel = format!("../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.{n}/{tty}/tty/{tty}");
            symlink(rel, class.join(tty)).unwrap();
            fs::write(root.join("dev").join(tty), "").unwrap();
        }
        // A console tty with no device link, and a non-USB one: both ignored.
        fs::create_dir_all(class.join("tty0")).unwrap();
        let serial = root.join("sys/devices/platform/serial8250/tty/ttyS0");
        fs::create_dir_all(&serial).unwrap();
        symlink("../../../serial8250", serial.join("device")).unwrap();
        symlink("../../devices/platform/serial8250/tty/ttyS0", class.join("ttyS0")).unwrap();
    }

    fn paths(root: &Path) -> SysPaths {
        SysPaths { sysfs: root.join("sys"), dev: root.join("dev") }
    }

    #[test]
    fn ec25_layout() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), "2c7c", "0125", &[(0, "ttyUSB0"), (1, "ttyUSB1"), (2, "ttyUSB2"), (3, "ttyUSB3")]);
        let modules = discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap();
        assert_eq!(modules.len(), 1);
        let m = &modules[0];
        assert_eq!((m.usb_id().to_string().as_str(), m.mode, m.bus_id.as_str()), ("2c7c:0125", Mode::At, "1-1"));
        let roles: Vec<Role> = m.ports.iter().map(|p| p.role).collect();
        assert_eq!(roles, [Role::Diag, Role::Nmea, Role::At, Role::Modem]);
        let at = m.at_port().unwrap();
        assert_eq!(at.path, dir.path().join("dev/ttyUSB2"));
        assert_eq!(at.interface, 2);
        assert!(m.download_port().is_none());
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(json["vid"], "2c7c");
        assert_eq!(json["ports"][2]["role"], "at");
    }

    #[test]
    fn download_mode_and_unknown_ids() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), "05c6", "9008", &[(0, "ttyUSB0")]);
        let modules = discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap();
        assert_eq!(modules[0].mode, Mode::Edl);
        assert_eq!(modules[0].download_port().unwrap().name, "ttyUSB0");
        assert!(modules[0].at_port().is_none());

        let other = tempfile::tempdir().unwrap();
        tree(other.path(), "1234", "5678", &[(0, "ttyUSB0")]);
        assert!(discover_in(&paths(other.path()), UsbTable::builtin().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn undocumented_layout_has_unknown_roles() {
        let dir = tempfile::tempdir().unwrap();
        // 2c7c:0903 (EC801E-CN): no public source gives its layout.
        tree(dir.path(), "2c7c", "0903", &[(2, "ttyUSB0")]);
        let modules = discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap();
        assert_eq!(modules[0].ports[0].role, Role::Unknown);
        assert!(modules[0].at_port().is_none());
    }

    #[test]
    fn ports_whose_terminal_is_gone_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), "2c7c", "0125", &[(0, "ttyUSB0"), (1, "ttyUSB1"), (2, "ttyUSB2"), (3, "ttyUSB3")]);
        let dev = dir.path().join("dev");
        // The AT port's node links to a pseudo-terminal that no longer exists; another has none.
        fs::remove_file(dev.join("ttyUSB2")).unwrap();
        symlink(dir.path().join("pts/99"), dev.join("ttyUSB2")).unwrap();
        fs::remove_file(dev.join("ttyUSB3")).unwrap();
        let modules = discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap();
        let names: Vec<&str> = modules[0].ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ttyUSB0", "ttyUSB1"]);
        assert!(modules[0].at_port().is_none());
        // With every node gone, the module is not listed at all.
        for tty in ["ttyUSB0", "ttyUSB1"] {
            fs::remove_file(dev.join(tty)).unwrap();
        }
        assert!(discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn missing_sysfs_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover_in(&paths(dir.path()), UsbTable::builtin().unwrap()).unwrap_err();
        assert!(matches!(err, PortsError::Sysfs { .. }));
    }
}
