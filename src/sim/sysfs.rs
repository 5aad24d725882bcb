//! `--root DIR`: describes the simulated module under DIR the way the kernel would, so port
//! discovery (with `FWGUARD_SYSFS=DIR/sys FWGUARD_DEV=DIR/dev`) finds it like a real one.
//!
//! ```text
//! DIR/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/{idVendor,idProduct,manufacturer,product}
//! DIR/sys/devices/.../1-1/1-1:1.N/bInterfaceNumber
//! DIR/sys/devices/.../1-1/1-1:1.N/ttyUSBk/tty/ttyUSBk/{dev,device -> ../../../ttyUSBk}   (option, qcserial)
//! DIR/sys/devices/.../1-1/1-1:1.N/tty/ttyACMk/{dev,device -> ../../../1-1:1.N}          (cdc_acm)
//! DIR/sys/class/tty/ttyUSBk -> ../../devices/.../ttyUSBk/tty/ttyUSBk
//! DIR/sys/bus/usb/devices/{1-1,1-1:1.N} -> ../../../devices/...
//! DIR/dev/ttyUSBk -> the pseudo-terminal
//! ```

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::SimError;

const CONTROLLER: &str = "devices/pci0000:00/0000:00:14.0/usb1";

/// One tty of the module as the tree shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePort {
    /// USB interface number.
    pub interface: u8,
    /// The tty name, `ttyUSB2` or `ttyACM0`.
    pub tty: String,
    /// The pseudo-terminal the device node links to.
    pub target: PathBuf,
}

/// The USB device as the tree shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDevice {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// The USB manufacturer string.
    pub manufacturer: String,
    /// The USB product string.
    pub product: String,
    /// The USB bus id of the port it is plugged into, `1-1`.
    pub bus: String,
    /// Its ttys.
    pub ports: Vec<TreePort>,
}

/// A module's entries under a `--root` directory.
#[derive(Debug)]
pub struct SysfsTree {
    root: PathBuf,
    bus: String,
    ttys: Vec<String>,
    interfaces: Vec<u8>,
}

impl SysfsTree {
    /// Writes `device` under `root`, replacing what an earlier run left there.
    pub fn write(root: &Path, device: &TreeDevice) -> Result<SysfsTree, SimError> {
        let mut tree =
            SysfsTree { root: root.to_path_buf(), bus: device.bus.clone(), ttys: Vec::new(), interfaces: Vec::new() };
        tree.remove_stale()?;
        tree.ttys = device.ports.iter().map(|p| p.tty.clone()).collect();
        tree.interfaces = device.ports.iter().map(|p| p.interface).collect();
        tree.fill(device).map_err(|(path, e)| SimError::files(path, e))?;
        Ok(tree)
    }

    /// The device node of a tty: `root/dev/<tty>`.
    pub fn dev_path(&self, tty: &str) -> PathBuf {
        self.root.join("dev").join(tty)
    }

    fn sys(&self) -> PathBuf {
        self.root.join("sys")
    }

    fn device_dir(&self) -> PathBuf {
        self.sys().join(CONTROLLER).join(&self.bus)
    }

    fn fill(&self, device: &TreeDevice) -> Result<(), (PathBuf, io::Error)> {
        let bus = &self.bus;
        let dev_dir = self.device_dir();
        mkdir(&dev_dir)?;
        mkdir(&self.sys().join("class/tty"))?;
        mkdir(&self.sys().join("bus/usb/devices"))?;
        mkdir(&self.root.join("dev"))?;
        write(&dev_dir.join("idVendor"), &format!("{:04x}\n", device.vid))?;
        write(&dev_dir.join("idProduct"), &format!("{:04x}\n", device.pid))?;
        write(&dev_dir.join("manufacturer"), &format!("{}\n", device.manufacturer))?;
        write(&dev_dir.join("product"), &format!("{}\n", device.product))?;
        write(&dev_dir.join("busnum"), "1\n")?;
        write(&dev_dir.join("devnum"), "2\n")?;
        write(&dev_dir.join("speed"), "480\n")?;
        write(&dev_dir.join("bNumInterfaces"), &format!("{:2}\n", device.ports.len()))?;
        link(&format!("../../../{CONTROLLER}/{bus}"), &self.sys().join("bus/usb/devices").join(bus))?;
        for (minor, port) in device.ports.iter().enumerate() {
            let intf_name = format!("{bus}:1.{}", port.interface);
            let intf = dev_dir.join(&intf_name);
            mkdir(&intf)?;
            write(&intf.join("bInterfaceNumber"), &format!("{:02x}\n", port.interface))?;
            write(&intf.join("bInterfaceClass"), "ff\n")?;
            link(
                &format!("../../../{CONTROLLER}/{bus}/{intf_name}"),
                &self.sys().join("bus/usb/devices").join(&intf_name),
            )?;
            let acm = port.tty.starts_with("ttyACM");
            let (node, device_link, rel_from_class) = if acm {
                (
                    intf.join("tty").join(&port.tty),
                    format!("../../../{intf_name}"),
                    format!("{intf_name}/tty/{}", port.tty),
                )
            } else {
                let serial = intf.join(&port.tty);
                (
                    serial.join("tty").join(&port.tty),
                    format!("../../../{}", port.tty),
                    format!("{intf_name}/{0}/tty/{0}", port.tty),
                )
            };
            mkdir(&node)?;
            let major = if acm { 166 } else { 188 };
            write(&node.join("dev"), &format!("{major}:{minor}\n"))?;
            write(&node.join("uevent"), &format!("MAJOR={major}\nMINOR={minor}\nDEVNAME={}\n", port.tty))?;
            link(&device_link, &node.join("device"))?;
            link(&format!("../../{CONTROLLER}/{bus}/{rel_from_class}"), &self.sys().join("class/tty").join(&port.tty))?;
            let target = port.target.to_string_lossy().into_owned();
            link(&target, &self.dev_path(&port.tty))?;
        }
        Ok(())
    }

    /// Removes what an earlier run may have left: the device directory and every link into it.
    fn remove_stale(&self) -> Result<(), SimError> {
        let dir = self.device_dir();
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| SimError::files(&dir, e))?;
        }
        for sub in ["sys/class/tty", "sys/bus/usb/devices"] {
            let d = self.root.join(sub);
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for e in entries.filter_map(Result::ok) {
                // Links into the device directory now dangle.
                let p = e.path();
                if fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) && !p.exists() {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        // Device nodes of ttys that no longer exist.
        if let Ok(entries) = fs::read_dir(self.root.join("dev")) {
            for e in entries.filter_map(Result::ok) {
                let p = e.path();
                let is_link = fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
                if is_link && fs::symlink_metadata(self.sys().join("class/tty").join(e.file_name())).is_err() {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        Ok(())
    }

    /// Takes the module off the tree (unplugged, or re-enumerating): removes its device
    /// directory, class and bus links, and device nodes.
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(self.device_dir());
        let _ = fs::remove_file(self.sys().join("bus/usb/devices").join(&self.bus));
        for n in &self.interfaces {
            let _ = fs::remove_file(self.sys().join("bus/usb/devices").join(format!("{}:1.{n}", self.bus)));
        }
        for tty in &self.ttys {
            let _ = fs::remove_file(self.sys().join("class/tty").join(tty));
            let _ = fs::remove_file(self.dev_path(tty));
        }
    }
}

/// A hub port of a `--root` tree, held by one running simulator: the lock file
/// `DIR/.fwguard-sim-1-N.lock` is locked (`flock`) for as long as the simulator runs and holds
/// its process id. A second simulator asking for the same port is refused; a lock left by a
/// simulator that was killed outright is free again, and its stale tree is replaced.
#[derive(Debug)]
pub struct PortClaim {
    path: PathBuf,
    _lock: Flock<fs::File>,
}

impl PortClaim {
    /// Claims hub port `bus` (`1-N`) of the tree under `root`, for `usb_port` N in messages.
    pub fn take(root: &Path, bus: &str, usb_port: u8) -> Result<PortClaim, SimError> {
        fs::create_dir_all(root).map_err(|e| SimError::files(root, e))?;
        let path = root.join(format!(".fwguard-sim-{bus}.lock"));
        loop {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| SimError::files(&path, e))?;
            let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((mut file, Errno::EWOULDBLOCK)) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(SimError::PortBusy {
                        root: root.to_path_buf(),
                        usb_port,
                        pid: text.trim().parse().ok(),
                    });
                }
                Err((_, e)) => return Err(SimError::files(&path, e)),
            };
            // The simulator before may have removed the file between our open and our lock: the
            // lock counts only on the file the path still names.
            let held = lock.metadata().map(|m| (m.dev(), m.ino())).ok();
            if fs::metadata(&path).map(|m| (m.dev(), m.ino())).ok() != held {
                continue;
            }
            lock.set_len(0)
                .and_then(|()| writeln!(lock, "{}", std::process::id()))
                .map_err(|e| SimError::files(&path, e))?;
            return Ok(PortClaim { path, _lock: lock });
        }
    }
}

impl Drop for PortClaim {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with the file handle right after.
        let _ = fs::remove_file(&self.path);
    }
}

fn mkdir(p: &Path) -> Result<(), (PathBuf, io::Error)> {
    fs::create_dir_all(p).map_err(|e| (p.to_path_buf(), e))
}

fn write(p: &Path, text: &str) -> Result<(), (PathBuf, io::Error)> {
    fs::write(p, text).map_err(|e| (p.to_path_buf(), e))
}

/// Makes `at` a symbolic link to `target`, replacing an old link or file.
fn link(target: &str, at: &Path) -> Result<(), (PathBuf, io::Error)> {
    if fs::symlink_metadata(at).is_ok() {
        fs::remove_file(at).map_err(|e| (at.to_path_buf(), e))?;
    }
    symlink(target, at).map_err(|e| (at.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::ports::{SysPaths, discover_in};
    use crate::device::{Mode, Role, UsbTable};

    fn ec25(target: &Path) -> TreeDevice {
        TreeDevice {
            vid: 0x2c7c,
            pid: 0x0125,
            manufacturer: "Quectel".into(),
            product: "EC25".into(),
            bus: "1-1".into(),
            ports: (0..4)
                .map(|n| TreePort { interface: n, tty: format!("ttyUSB{n}"), target: target.to_path_buf() })
                .collect(),
        }
    }

    #[test]
    fn a_claimed_port_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = PortClaim::take(dir.path(), "1-1", 1).unwrap();
        match PortClaim::take(dir.path(), "1-1", 1) {
            Err(SimError::PortBusy { usb_port: 1, pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        let _other_port = PortClaim::take(dir.path(), "1-2", 2).unwrap();
        drop(first);
        assert!(!dir.path().join(".fwguard-sim-1-1.lock").exists());
        let _again = PortClaim::take(dir.path(), "1-1", 1).unwrap();
        // A lock file left by a simulator killed outright is not held: it is taken over.
        drop(_again);
        fs::write(dir.path().join(".fwguard-sim-1-1.lock"), "4194304\n").unwrap();
        PortClaim::take(dir.path(), "1-1", 1).unwrap();
    }

    #[test]
    fn discovery_reads_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("pty");
        fs::write(&target, "").unwrap();
        let tree = SysfsTree::write(dir.path(), &ec25(&target)).unwrap();
        let paths = SysPaths { sysfs: dir.path().join("sys"), dev: dir.path().join("dev") };
        let table = UsbTable::builtin().unwrap();
        let modules = discover_in(&paths, table).unwrap();
        assert_eq!(modules.len(), 1);
        assert_eq!(modules[0].at_port().unwrap().path, dir.path().join("dev/ttyUSB2"));
        assert_eq!(fs::canonicalize(dir.path().join("dev/ttyUSB2")).unwrap(), fs::canonicalize(&target).unwrap());
        assert!(dir.path().join("sys/bus/usb/devices/1-1/idVendor").exists());

        // Re-enumeration as an ASR AROM download port on cdc_acm.
        tree.remove();
        assert!(discover_in(&paths, table).unwrap().is_empty());
        let arom = TreeDevice {
            vid: 0x2ecc,
            pid: 0x3004,
            manufacturer: "ASR".into(),
            product: "Arom Usb Boot Port".into(),
            bus: "1-1".into(),
            ports: vec![TreePort { interface: 1, tty: "ttyACM0".into(), target: target.clone() }],
        };
        SysfsTree::write(dir.path(), &arom).unwrap();
        let modules = discover_in(&paths, table).unwrap();
        assert_eq!(modules.len(), 1);
        assert_eq!(modules[0].mode, Mode::Arom);
        assert_eq!(modules[0].ports[0].role, Role::Download);
        assert!(!dir.path().join("dev/ttyUSB2").exists());

        // A second write over a stale tree replaces it.
        SysfsTree::write(dir.path(), &ec25(&target)).unwrap();
        let modules = discover_in(&paths, table).unwrap();
        assert_eq!(modules.len(), 1);
        assert_eq!(modules[0].ports.len(), 4);
    }
}
