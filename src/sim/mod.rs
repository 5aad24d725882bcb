//! A simulated Quectel module on pseudo-terminals: `fwguard sim`, and `fwguard check --sim`.
//!
//! The module has one pseudo-terminal per USB interface of its profile. The AT port answers AT as
//! the real module does (echo until `ATE0`, `\r\n` framing, boot URCs that also arrive between
//! commands, `ERROR` and `+CME ERROR: n`, quirks such as a missing `AT+QGMR`); the modem port also
//! takes AT; a Qualcomm DIAG port answers the build-id query and the download switch; other ports
//! stay silent.
//! `AT+QDOWNLOAD=1` (ASR, Unisoc, Eigencomm) or the DIAG switch (Qualcomm) moves the module into
//! its platform's [`download::DownloadMode`], the slot where the download protocols go: ASR's
//! AROM, `preboot.img` and `flasher.img` are [`asr::AsrDownload`]. [`in_process::InProcess`]
//! runs a download mode behind the [`crate::device::Transport`] trait without a pseudo-terminal.
//!
//! ```no_run
//! use fwguard::sim::{self, SimOptions};
//! let sim = sim::spawn(sim::find("ec25-e")?, SimOptions::default())?;
//! println!("AT port: {}", sim.port().display());
//! // ... talk to it; dropping the handle stops it.
//! # Ok::<(), fwguard::sim::SimError>(())
//! ```

pub mod asr;
mod at_mode;
pub mod download;
mod error;
mod fault;
pub mod firmware;
pub mod in_process;
pub mod loopback;
mod package;
mod profile;
pub mod qualcomm;
mod server;
mod storage;
mod sysfs;
pub mod unisoc;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

pub use at_mode::{AtEvent, AtMachine};
pub use error::SimError;
pub use fault::{Fault, Faults};
pub use firmware::{Boot, SimFirmware};
pub use loopback::Loopback;
pub use package::write_demo_package;
pub use profile::{FlashSpec, Platform, Profile, Quirk, SIMULATED_PLATFORMS, SecbootQuery, builtin, find};
pub use storage::FlashStore;
pub use sysfs::{PortClaim, SysfsTree, TreeDevice, TreePort};

/// How to run a simulated module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// `--state DIR`: keep the flash in `DIR/flash.bin`.
    pub state: Option<PathBuf>,
    /// `--root DIR`: describe the module under `DIR/sys` and `DIR/dev`.
    pub root: Option<PathBuf>,
    /// `--usb-port N`: the hub port under `--root` (bus id `1-N`, ttys from `ttyUSB{8(N-1)}`), so
    /// several simulated modules can share one tree. 0 is taken as 1.
    pub usb_port: u8,
    /// `--fault SPEC`... ([`spawn`] refuses those the simulator does not act on yet: see
    /// [`Fault::is_simulated_on`]).
    pub faults: Vec<Fault>,
}

/// A simulated module running on a thread. Dropping it stops the module (and takes it off the
/// `--root` tree).
pub struct SimHandle {
    port: PathBuf,
    pty: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// The AT port: the `--root` device node (`DIR/dev/ttyUSB2`) when a root was given, else the
    /// pseudo-terminal (`/dev/pts/N`).
    pub fn port(&self) -> &Path {
        &self.port
    }

    /// The AT port's pseudo-terminal.
    pub fn pty(&self) -> &Path {
        &self.pty
    }

    /// Stops the module and waits for its thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Whether the simulator thread is still serving (it stops only when asked).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the module and waits for its thread; an error if the thread had died of a panic
    /// (a bug in the simulator, which would otherwise go unnoticed).
    pub fn shutdown(mut self) -> Result<(), SimError> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(panic)) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Err(SimError::Crashed(what))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `profile` on a thread. Pseudo-terminals, `--state` and `--root` are set up before this
/// returns, so the port can be opened at once. A fault the simulator does not act on for this
/// module (`nak-at`, `flash-id` where its download mode is not simulated) is refused with
/// [`SimError::NotSimulated`].
pub fn spawn(profile: Profile, options: SimOptions) -> Result<SimHandle, SimError> {
    let server = server::Server::new(profile, &options)?;
    let port = server.port_path();
    let pty = server.pty_path();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("fwguard-sim".into())
        .spawn(move || server.run(&flag))
        .map_err(|e| SimError::Pty(format!("cannot start the simulator thread: {e}")))?;
    Ok(SimHandle { port, pty, stop, thread: Some(thread) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{DeviceError, RevisionSource, SessionOptions, identify};
    use std::time::{Duration, Instant};

    fn quick() -> SessionOptions {
        SessionOptions {
            command_timeout: Duration::from_millis(800),
            boot_timeout: Duration::from_millis(1500),
            deadline: Duration::from_secs(10),
            ..SessionOptions::default()
        }
    }

    #[test]
    fn identify_in_process() {
        for (name, model, revision, source) in [
            ("ec25-e", "EC25", "EC25EFAR06A17M4G_20.200.20.200", RevisionSource::Qgmr),
            ("ec20-old", "EC20", "EC20EQAR02A04E2G", RevisionSource::Cgmr),
            ("ec200u-cn", "EC200U", "EC200UCNAAR03A03M08", RevisionSource::Qgmr),
            ("ec800m-cn-la", "EC800MCN_LA", "LTE01R06A04_VOLTE_C_SDK_A", RevisionSource::Qgmr),
        ] {
            let sim = spawn(find(name).unwrap(), SimOptions::default()).unwrap();
            let r = identify(sim.port(), &quick()).unwrap();
            assert_eq!(r.model.as_deref(), Some(model), "{name}");
            assert_eq!(r.revision, revision, "{name}");
            assert_eq!(r.revision_source, source, "{name}");
            assert_eq!(r.imei.as_deref(), Some(find(name).unwrap().imei.as_str()));
        }
    }

    #[test]
    fn booting_module_is_waited_for() {
        let opts = SimOptions { faults: vec![Fault::Boot(Duration::from_millis(600))], ..SimOptions::default() };
        let sim = spawn(find("ec25-e").unwrap(), opts).unwrap();
        let r = identify(sim.port(), &quick()).unwrap();
        assert_eq!(r.model.as_deref(), Some("EC25"));
        assert!(r.exchanges.iter().filter(|e| e.command == "AT").count() > 1);
    }

    #[test]
    fn slow_within_timeout_succeeds_and_beyond_fails() {
        let opts = SimOptions { faults: vec![Fault::Slow(Duration::from_millis(100))], ..SimOptions::default() };
        let sim = spawn(find("ec25-e").unwrap(), opts).unwrap();
        assert!(identify(sim.port(), &quick()).is_ok());

        let opts = SimOptions { faults: vec![Fault::Slow(Duration::from_millis(1200))], ..SimOptions::default() };
        let sim = spawn(find("ec25-e").unwrap(), opts).unwrap();
        let started = Instant::now();
        let err = identify(sim.port(), &quick()).unwrap_err();
        assert!(matches!(err, DeviceError::Timeout { .. } | DeviceError::NotResponding { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn download_faults_are_refused_until_simulated() {
        for fault in [Fault::NakAt(1), Fault::FlashId(crate::identity::FlashId::parse("20 41 17").unwrap())] {
            let opts = SimOptions { faults: vec![Fault::Slow(Duration::ZERO), fault.clone()], ..SimOptions::default() };
            // ASR's AROM acts on them; ASR's WTPTP (ec200a-eu) is not simulated yet.
            assert!(spawn(find("ec800m-cn-la").unwrap(), opts.clone()).is_ok(), "{fault}");
            match spawn(find("ec200a-eu").unwrap(), opts) {
                Err(e @ SimError::NotSimulated { .. }) => assert!(e.to_string().contains("not simulated yet"), "{e}"),
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("a download fault was accepted"),
            }
        }
    }

    #[test]
    fn qdownload_and_root_tree() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SimOptions { root: Some(dir.path().to_path_buf()), ..SimOptions::default() };
        let sim = spawn(find("ec800m-cn-lf").unwrap(), opts).unwrap();
        // The AT port is interface 3, the second tty (interface 2 is diagnostics).
        assert_eq!(sim.port(), dir.path().join("dev/ttyUSB1"));
        let mut s = crate::device::Session::open(sim.port(), &quick()).unwrap();
        s.sync().unwrap();
        let reply = s.command("AT+QDOWNLOAD=1").unwrap();
        assert!(reply.result.is_ok());
        let paths = crate::device::SysPaths { sysfs: dir.path().join("sys"), dev: dir.path().join("dev") };
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let modules =
                crate::device::ports::discover_in(&paths, crate::device::UsbTable::builtin().unwrap()).unwrap();
            if modules.first().is_some_and(|m| m.mode == crate::device::Mode::Arom) {
                assert_eq!(modules[0].download_port().unwrap().name, "ttyACM0");
                break;
            }
            assert!(Instant::now() < deadline, "the module did not re-enumerate: {modules:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(s);
        drop(sim);
        assert!(!dir.path().join("dev/ttyACM0").exists());
    }

    /// Reads from `port` until the link goes away; returns what arrived before (a pseudo-terminal
    /// may discard what was still buffered when its master closed). Fails if the link is still up
    /// after a few seconds.
    fn read_until_gone(port: &mut crate::device::SerialTransport) -> Vec<u8> {
        use crate::device::Transport;
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            assert!(Instant::now() < deadline, "the link stayed up; received {got:?}");
            match port.read_within(&mut buf, Duration::from_millis(100)) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => return got,
            }
        }
    }

    /// Reads from `port` until `want` bytes have arrived.
    fn read_exactly(port: &mut crate::device::SerialTransport, want: usize) -> Vec<u8> {
        use crate::device::Transport;
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while got.len() < want {
            assert!(Instant::now() < deadline, "expected {want} bytes, received {got:?}");
            let n = port.read_within(&mut buf[..want - got.len()], Duration::from_millis(100)).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    /// After the link went away the simulator thread keeps running (it did not panic) until it
    /// is stopped, and the module is off the `--root` tree.
    fn assert_dropped_cleanly(sim: SimHandle, root: &std::path::Path) {
        // On a loaded machine the simulator may still be taking the module off the tree.
        let deadline = Instant::now() + Duration::from_secs(3);
        let dev = loop {
            std::thread::sleep(Duration::from_millis(100));
            let dev: Vec<_> = std::fs::read_dir(root.join("dev"))
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            if dev.is_empty() || Instant::now() > deadline {
                break dev;
            }
        };
        assert!(sim.is_running(), "the simulator thread died after the link went away");
        assert!(dev.is_empty(), "the module is still in the --root tree: {dev:?}");
        sim.shutdown().expect("the simulator stops cleanly");
    }

    #[test]
    fn drop_inside_the_qdownload_answer_stops_cleanly() {
        use crate::device::{SerialTransport, Transport};
        let profile = find("ec800m-cn-lf").unwrap();
        // What the module sends: its boot output, then the echo and answer of AT+QDOWNLOAD=1.
        let mut machine = AtMachine::new(Arc::new(profile.clone()), true);
        let boot = machine.boot_output();
        let command = b"AT+QDOWNLOAD=1\r";
        let mut answer = Vec::new();
        let mut echo_len = 0;
        let mut enters = false;
        for event in machine.feed(command) {
            match event {
                AtEvent::Echo(b) => {
                    echo_len += b.len();
                    answer.extend(b);
                }
                AtEvent::Reply(b) => answer.extend(b),
                AtEvent::EnterDownload => enters = true,
                AtEvent::Reset => {}
            }
        }
        assert!(enters, "AT+QDOWNLOAD=1 takes this profile to its download mode");
        // Cut the link three bytes into the reply (after the echo): inside "\r\nOK\r\n".
        let cut = echo_len + 3;
        assert!(cut < answer.len());
        let drop_at = (boot.len() + cut) as u64;

        let dir = tempfile::tempdir().unwrap();
        let opts = SimOptions {
            root: Some(dir.path().to_path_buf()),
            faults: vec![Fault::DropAt(drop_at)],
            ..SimOptions::default()
        };
        let sim = spawn(profile, opts).unwrap();
        let mut port = SerialTransport::open(sim.port(), 115_200).unwrap();
        assert_eq!(read_exactly(&mut port, boot.len()), boot);
        port.send(command).unwrap();
        let got = read_until_gone(&mut port);
        assert!(answer[..cut].starts_with(&got), "{got:?}");
        drop(port);
        assert_dropped_cleanly(sim, dir.path());
    }

    #[test]
    fn drop_inside_the_diag_echo_stops_cleanly() {
        use crate::device::{SerialTransport, Transport};
        use download::DIAG_DOWNLOAD_SWITCH;
        let profile = find("ec25-e").unwrap();
        let boot = AtMachine::new(Arc::new(profile.clone()), true).boot_output();
        let drop_at = (boot.len() + 3) as u64;

        let dir = tempfile::tempdir().unwrap();
        let opts = SimOptions {
            root: Some(dir.path().to_path_buf()),
            faults: vec![Fault::DropAt(drop_at)],
            ..SimOptions::default()
        };
        let sim = spawn(profile, opts).unwrap();
        // Interface 0 of the EC25 is DIAG: ttyUSB0 under the root.
        let mut at = SerialTransport::open(sim.port(), 115_200).unwrap();
        let mut diag = SerialTransport::open(&dir.path().join("dev/ttyUSB0"), 115_200).unwrap();
        assert_eq!(read_exactly(&mut at, boot.len()), boot);
        diag.send(&DIAG_DOWNLOAD_SWITCH).unwrap();
        let got = read_until_gone(&mut diag);
        assert!(DIAG_DOWNLOAD_SWITCH[..3].starts_with(&got), "{got:?}");
        drop((at, diag));
        assert_dropped_cleanly(sim, dir.path());
    }

    #[test]
    fn drop_inside_the_sahara_hello_stops_the_upload() {
        use crate::device::{SerialTransport, Transport};
        use crate::flash::qualcomm::link::Link;
        use crate::flash::qualcomm::sahara::{SaharaOptions, SaharaSession};
        let profile = find("ec25-e").unwrap();
        let boot = AtMachine::new(Arc::new(profile.clone()), true).boot_output();
        // The boot output, the DIAG echo (7 bytes), then 20 bytes of the 48-byte HELLO.
        let drop_at = (boot.len() + 7 + 20) as u64;
        let dir = tempfile::tempdir().unwrap();
        let opts = SimOptions {
            root: Some(dir.path().to_path_buf()),
            faults: vec![Fault::DropAt(drop_at)],
            ..SimOptions::default()
        };
        let sim = spawn(profile, opts).unwrap();
        // The EDL port is the AT port's pseudo-terminal: held open from the start, since the link
        // goes away as soon as the module has sent 20 bytes of its HELLO.
        let mut at = SerialTransport::open(sim.port(), 115_200).unwrap();
        assert_eq!(read_exactly(&mut at, boot.len()), boot);
        let mut diag = SerialTransport::open(&dir.path().join("dev/ttyUSB0"), 115_200).unwrap();
        diag.send(&DIAG_DOWNLOAD_SWITCH_BYTES).unwrap();
        assert_eq!(read_exactly(&mut diag, 7), DIAG_DOWNLOAD_SWITCH_BYTES);
        drop(diag);
        let link = Link::new(&mut at);
        let options = SaharaOptions { hello_timeout: Duration::from_secs(2), nudge: false, ..SaharaOptions::default() };
        let err = SaharaSession::connect(link, options).err().expect("the link went away inside HELLO");
        assert!(
            matches!(
                err,
                crate::flash::qualcomm::QualcommError::Io { .. }
                    | crate::flash::qualcomm::QualcommError::Timeout { .. }
            ),
            "{err}"
        );
        drop(at);
        assert_dropped_cleanly(sim, dir.path());
    }

    const DIAG_DOWNLOAD_SWITCH_BYTES: [u8; 7] = download::DIAG_DOWNLOAD_SWITCH;
}
