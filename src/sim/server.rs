//! The simulator's event loop: one pseudo-terminal per USB interface of the module, the state
//! machine behind each, fault injection, and the `--root` tree kept current across mode changes.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, poll};
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::termios::{FlushArg, SetArg, cfmakeraw, tcflush, tcgetattr, tcsetattr};

use super::SimOptions;
use super::at_mode::{AtEvent, AtMachine};
use super::download::{DownloadContext, DownloadMode, DownloadStep, for_profile};
use super::error::SimError;
use super::fault::Faults;
use super::firmware::{self, Boot, SimFirmware};
use super::profile::{Platform, Profile};
use super::qualcomm::DiagPort;
use super::storage::FlashStore;
use super::sysfs::{PortClaim, SysfsTree, TreeDevice, TreePort};
use crate::device::{Mode, Role, UsbId, UsbTable};

/// A pseudo-terminal: the master the simulator serves, and the slave path clients open. The
/// simulator holds the slave open too, so the master never sees a hang-up between clients.
struct Pty {
    master: PtyMaster,
    slave: File,
    path: PathBuf,
}

fn open_pty() -> Result<Pty, SimError> {
    let fail = |what: &str, e: Errno| SimError::Pty(format!("{what}: {e}"));
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .map_err(|e| fail("posix_openpt", e))?;
    grantpt(&master).map_err(|e| fail("grantpt", e))?;
    unlockpt(&master).map_err(|e| fail("unlockpt", e))?;
    let name = ptsname_r(&master).map_err(|e| fail("ptsname", e))?;
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY)
        .open(&name)
        .map_err(|e| SimError::Pty(format!("{name}: {e}")))?;
    // Raw from the start: a cooked slave would echo our own output back to us.
    let mut t = tcgetattr(&slave).map_err(|e| fail("tcgetattr", e))?;
    cfmakeraw(&mut t);
    tcsetattr(&slave, SetArg::TCSANOW, &t).map_err(|e| fail("tcsetattr", e))?;
    Ok(Pty { master, slave, path: PathBuf::from(name) })
}

/// What serves one port.
enum Handler {
    /// AT in normal mode (the AT port; the modem port, which also takes AT).
    At(AtMachine),
    /// The DIAG port in normal mode (Qualcomm).
    Diag(DiagPort),
    /// A port that answers nothing (NMEA in the simulator; every other port in download mode).
    Silent,
    /// The download mode, on the port it re-enumerated with.
    Download(Box<dyn DownloadMode>),
}

struct SimPort {
    role: Role,
    pty: Pty,
    handler: Handler,
    out: VecDeque<(Instant, Vec<u8>)>,
}

impl SimPort {
    /// Queues bytes to go out at `due`, after everything due no later: an echo (due now) overtakes
    /// a slow answer to the previous command, as on a real module.
    fn send_at(&mut self, due: Instant, bytes: Vec<u8>) {
        let at = self.out.iter().position(|(t, _)| *t > due).unwrap_or(self.out.len());
        if bytes.len() <= OUT_PIECE {
            self.out.insert(at, (due, bytes));
            return;
        }
        // Large answers (a Firehose read of megabytes) go in pieces, so that what the
        // pseudo-terminal takes is cut off a short piece, not moved out of a long one.
        for (k, piece) in bytes.chunks(OUT_PIECE).enumerate() {
            self.out.insert(at + k, (due, piece.to_vec()));
        }
    }
}

/// The largest piece of output queued at once (see `SimPort::send_at`).
const OUT_PIECE: usize = 64 << 10;

/// How many tty numbers each hub port's module takes (`--usb-port 2` starts at ttyUSB8).
const TTYS_PER_USB_PORT: usize = 8;

/// How long the ports are gone after `AT+CFUN=1,1` before the module boots again.
pub(crate) const REBOOT_TIME: Duration = Duration::from_millis(500);

/// A running simulated module.
/// How long a due reset waits at most for the answers still queued to go out.
const RESET_GRACE: Duration = Duration::from_secs(2);
/// How long the module lets the host read its last answer before it resets (a real target
/// resets after its USB transfer completed; a pseudo-terminal does not tell when it was read).
const RESET_SETTLE: Duration = Duration::from_millis(200);

pub(crate) struct Server {
    profile: Arc<Profile>,
    faults: Faults,
    ports: Vec<SimPort>,
    primary: usize,
    root: Option<PathBuf>,
    /// The hub port the module is plugged into (bus id `1-N`).
    usb_port: u8,
    tree: Option<SysfsTree>,
    /// The mode the module is enumerated in.
    usb_mode: Mode,
    /// The `--usb-port` of the `--root` tree, held while the module runs.
    _claim: Option<PortClaim>,
    flash: FlashStore,
    /// What the flash holds and boots into.
    firmware: Box<dyn SimFirmware>,
    /// A reset that is due (a programmer's `<power>` with a delay): when, whether it goes back to
    /// download mode whatever the flash holds, and the latest it may wait for output to drain.
    reset_at: Option<(Instant, bool, Instant)>,
    boot_at: Option<Instant>,
    sent: u64,
    dropped: bool,
    flooding: bool,
    rng: u64,
}

impl Server {
    /// Creates the pseudo-terminals, the flash store and the `--root` tree.
    pub(crate) fn new(profile: Profile, options: &SimOptions) -> Result<Server, SimError> {
        let download = for_profile(&profile).mode();
        if let Some(fault) = options.faults.iter().find(|f| !f.is_simulated_on(&profile, download)) {
            return Err(SimError::NotSimulated { spec: fault.to_string() });
        }
        let usb_port = options.usb_port.max(1);
        let claim = match &options.root {
            Some(root) => Some(PortClaim::take(root, &format!("1-{usb_port}"), usb_port)?),
            None => None,
        };
        let faults = Faults::from_list(&options.faults);
        let mut profile = profile;
        let mut flash = match &options.state {
            Some(dir) => FlashStore::open_state(dir, profile.flash.size)?,
            None => FlashStore::in_memory(profile.flash.size),
        };
        let firmware = firmware::for_platform(profile.platform);
        if flash.is_fresh() {
            let what = flash.path().map_or_else(|| PathBuf::from("flash"), PathBuf::from);
            firmware
                .preload(&profile, &mut flash)
                .map_err(|e| SimError::files(what, format!("installing firmware: {e}")))?;
        }
        // Power-on: the module boots from what its flash holds.
        let boot = firmware.boot(&profile, &flash);
        if let Boot::Normal { revision } = &boot
            && *revision != profile.revision
        {
            profile.set_revision(revision);
        }
        let profile = Arc::new(profile);
        let mut ports = Vec::new();
        for &(_, role) in &profile.interfaces {
            ports.push(SimPort {
                role,
                pty: open_pty()?,
                handler: normal_handler(&profile, role),
                out: VecDeque::new(),
            });
        }
        let primary = ports.iter().position(|p| p.role == Role::At);
        let primary = primary.ok_or_else(|| SimError::Profile(format!("{}: no AT interface", profile.name)))?;
        let mut server = Server {
            faults,
            ports,
            primary,
            root: options.root.clone(),
            usb_port,
            tree: None,
            usb_mode: Mode::At,
            _claim: claim,
            flash,
            firmware,
            reset_at: None,
            boot_at: None,
            sent: 0,
            dropped: false,
            flooding: false,
            rng: 0x9E37_79B9_7F4A_7C15,
            profile,
        };
        server.boot_at = Some(Instant::now() + server.faults.boot);
        server.write_tree(Mode::At)?;
        if let Boot::Download { .. } = boot {
            server.enter_download();
        }
        Ok(server)
    }

    /// The path to print: the `--root` device node of the AT port (of the download port, when
    /// the module came up in its download mode), else its pseudo-terminal.
    pub(crate) fn port_path(&self) -> PathBuf {
        let pty = &self.ports[self.primary].pty.path;
        match &self.tree {
            Some(tree) if self.usb_mode.is_download() => tree.dev_path(&self.tty_names(self.usb_mode)[0]),
            Some(tree) => tree.dev_path(&self.tty_names(Mode::At)[self.primary]),
            None => pty.clone(),
        }
    }

    /// The AT port's pseudo-terminal.
    pub(crate) fn pty_path(&self) -> PathBuf {
        self.ports[self.primary].pty.path.clone()
    }

    /// The tty names the kernel would give the ports in `mode`.
    fn tty_names(&self, mode: Mode) -> Vec<String> {
        // Modules on other hub ports number their ttys after the first one's, as the kernel would
        // for modules plugged in one after another.
        let base = (usize::from(self.usb_port) - 1) * TTYS_PER_USB_PORT;
        let driver = if mode == Mode::Arom { "ttyACM" } else { "ttyUSB" };
        (0..self.ports.len()).map(|k| format!("{driver}{}", base + k)).collect()
    }

    /// (Re)writes the `--root` tree for the module in `mode`.
    fn write_tree(&mut self, mode: Mode) -> Result<(), SimError> {
        self.usb_mode = mode;
        let Some(root) = self.root.clone() else {
            return Ok(());
        };
        if let Some(old) = self.tree.take() {
            old.remove();
        }
        let device = if mode == Mode::At {
            let names = self.tty_names(mode);
            TreeDevice {
                vid: self.profile.usb.vid,
                pid: self.profile.usb.pid,
                manufacturer: self.profile.manufacturer.clone(),
                product: self.profile.model.clone(),
                bus: format!("1-{}", self.usb_port),
                ports: self
                    .profile
                    .interfaces
                    .iter()
                    .zip(&self.ports)
                    .zip(names)
                    .map(|(((n, _), port), tty)| TreePort { interface: *n, tty, target: port.pty.path.clone() })
                    .collect(),
            }
        } else {
            let UsbId { vid, pid } = self.profile.download_usb.unwrap_or(UsbId::new(0, 0));
            let interface = UsbTable::builtin()
                .ok()
                .and_then(|t| t.lookup(vid, pid))
                .and_then(|e| e.interfaces.iter().find(|(_, r)| **r == Role::Download).map(|(n, _)| *n))
                .unwrap_or(0);
            let tty = self.tty_names(mode).swap_remove(0);
            TreeDevice {
                vid,
                pid,
                manufacturer: self.profile.manufacturer.clone(),
                product: format!("{} download", self.profile.model),
                bus: format!("1-{}", self.usb_port),
                ports: vec![TreePort { interface, tty, target: self.ports[self.primary].pty.path.clone() }],
            }
        };
        self.tree = Some(SysfsTree::write(&root, &device)?);
        Ok(())
    }

    /// Serves until `stop` is set; then takes the module off the `--root` tree.
    pub(crate) fn run(mut self, stop: &AtomicBool) {
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            if self.dropped {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            self.wait_for_input();
            let now = Instant::now();
            if let Some((due, to_download, latest)) = self.reset_at
                && now >= due
            {
                if self.ports.iter().any(|p| !p.out.is_empty()) && now < latest {
                    self.reset_at = Some((now + RESET_SETTLE, to_download, latest));
                } else {
                    self.reset_at = None;
                    self.reset_module(to_download);
                }
            }
            if self.boot_at.is_some_and(|t| now >= t) {
                self.boot_at = None;
                self.boot(now);
            }
            // `on_input` can drop the link (and with it every port): check before each read.
            let mut i = 0;
            while i < self.ports.len() {
                match nix::unistd::read(self.ports[i].pty.master.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => i += 1,
                    Ok(n) => {
                        let input = buf[..n].to_vec();
                        self.on_input(i, &input, now);
                    }
                }
            }
            if self.dropped {
                continue;
            }
            self.tick(now);
            if self.flooding {
                self.top_up_flood(now);
            }
            self.flush(Instant::now());
        }
        if let Some(tree) = self.tree.take() {
            tree.remove();
        }
    }

    /// Sleeps until some port has input, or briefly (timed output and the stop flag need checks).
    fn wait_for_input(&self) {
        let mut fds: Vec<PollFd<'_>> =
            self.ports.iter().map(|p| PollFd::new(p.pty.master.as_fd(), PollFlags::POLLIN)).collect();
        let due = self
            .ports
            .iter()
            .filter_map(|p| p.out.front().map(|(t, _)| *t))
            .chain(self.boot_at)
            .chain(self.reset_at.map(|(t, _, _)| t))
            .min();
        let mut wait = Duration::from_millis(20);
        if let Some(t) = due {
            wait = wait.min(t.saturating_duration_since(Instant::now()));
        }
        let ms = u16::try_from(wait.as_millis()).unwrap_or(20);
        let _ = poll(&mut fds, ms);
    }

    /// The module has booted: back on the `--root` tree if a reset took it off, `RDY` on the
    /// AT port (or noise, or nothing), then the boot URCs on their own time (or glued to the
    /// first answers, with the `glue-urcs` fault).
    fn boot(&mut self, now: Instant) {
        if self.tree.is_none()
            && let Err(e) = self.write_tree(Mode::At)
        {
            eprintln!("fwguard sim: cannot update the --root tree: {e}");
        }
        if self.faults.silent {
            return;
        }
        let primary = self.primary;
        let garbage = self.faults.garbage;
        let mut timed = Vec::new();
        let bytes = match self.ports.get_mut(primary).map(|p| &mut p.handler) {
            Some(Handler::At(_)) if garbage => self.noise(48),
            Some(Handler::At(m)) => {
                m.set_glued_urcs(self.faults.glue_urcs);
                timed = m.boot_urcs();
                m.boot_output()
            }
            _ => Vec::new(),
        };
        if !bytes.is_empty() {
            self.ports[primary].send_at(now, bytes);
        }
        for (after, urc) in timed {
            self.ports[primary].send_at(now + after, urc);
        }
    }

    /// `AT+CFUN=1,1`: the module resets into normal mode. Its ports go away (it leaves the
    /// `--root` tree; the pseudo-terminals stay open but echo and answer nothing, as a port
    /// whose device is gone) for [`REBOOT_TIME`] plus the `boot` fault, then come back and
    /// boot again: `RDY`, the boot URCs, echo on; what the module keeps in NV stays. The
    /// path a reset after a download takes is [`Server::enter_normal`].
    fn reboot_normal(&mut self) {
        if self.dropped || self.ports.is_empty() {
            return;
        }
        self.flooding = false;
        for (k, port) in self.ports.iter_mut().enumerate() {
            port.out.clear();
            let role = self.profile.interfaces.get(k).map(|(_, r)| *r).unwrap_or(Role::Unknown);
            port.handler = match &port.handler {
                Handler::At(m) => Handler::At(m.rebooted()),
                _ => normal_handler(&self.profile, role),
            };
        }
        if let Some(tree) = self.tree.take() {
            tree.remove();
        }
        self.boot_at = Some(Instant::now() + REBOOT_TIME + self.faults.boot);
    }

    fn on_input(&mut self, i: usize, input: &[u8], now: Instant) {
        if self.faults.silent || self.boot_at.is_some() {
            return; // not listening (yet)
        }
        let slow = now + self.faults.slow;
        let mut enter_download = false;
        let mut reset: Option<DownloadStep> = None;
        let mut reboot = false;
        match &mut self.ports[i].handler {
            Handler::At(_) if self.faults.flood => {
                // Endless output instead of answers, once the first command arrives.
                self.flooding |= input.contains(&b'\r');
            }
            Handler::At(_) if self.faults.garbage => {
                let commands = input.iter().filter(|b| **b == b'\r').count();
                for _ in 0..commands {
                    let noise = self.noise(64);
                    self.ports[i].send_at(slow, noise);
                }
            }
            Handler::At(machine) => {
                for event in machine.feed(input) {
                    match event {
                        AtEvent::Echo(b) => self.ports[i].send_at(now, b),
                        AtEvent::Reply(b) => self.ports[i].send_at(slow, b),
                        AtEvent::EnterDownload => enter_download = true,
                        AtEvent::Reset => reboot = true,
                    }
                }
            }
            Handler::Diag(port) => {
                let reply = port.feed(input, &self.profile);
                if !reply.output.is_empty() {
                    self.ports[i].send_at(slow, reply.output);
                }
                enter_download = reply.enter_download;
            }
            Handler::Silent => {}
            Handler::Download(mode) => {
                tracing::debug!("{} heard {} after sending {} bytes", mode.mode(), summary(input), self.sent);
                let mut ctx = DownloadContext {
                    profile: &self.profile,
                    flash: &mut self.flash,
                    flash_id: self.faults.flash_id.as_ref().or(self.profile.flash_id.as_ref()),
                    faults: &self.faults,
                };
                let mut step = mode.feed(input, &mut ctx);
                if !step.output.is_empty() {
                    self.ports[i].send_at(slow, std::mem::take(&mut step.output));
                }
                if let Some((pause, bytes)) = step.later.take() {
                    self.ports[i].send_at(slow + pause, bytes);
                }
                if step.reset {
                    reset = Some(step);
                }
            }
        }
        if enter_download {
            // Let the answer (OK, or the DIAG echo) out before the module leaves; `drop-at` may
            // cut the link in the middle of it, and then there is no module left to switch.
            self.flush(Instant::now() + self.faults.slow);
            if self.dropped {
                return;
            }
            // The answer of AT+QDOWNLOAD=1 is on the port that becomes the download port: it stays
            // for the host to read. After the DIAG switch, what is left unread there is stale
            // normal-mode output a real module would take with it.
            if i != self.primary {
                self.discard_unread();
            }
            self.enter_download();
        } else if let Some(step) = reset {
            self.schedule_reset(step.reset_delay, step.reset_to_download);
        } else if reboot {
            // The OK goes out before the module resets.
            self.flush(Instant::now() + self.faults.slow);
            self.reboot_normal();
        }
    }

    /// Lets the download mode act on time (heartbeats, a delayed reset).
    fn tick(&mut self, now: Instant) {
        let Some(port) = self.ports.get_mut(self.primary) else {
            return;
        };
        let Handler::Download(mode) = &mut port.handler else {
            return;
        };
        let mut ctx = DownloadContext {
            profile: &self.profile,
            flash: &mut self.flash,
            flash_id: self.faults.flash_id.as_ref().or(self.profile.flash_id.as_ref()),
            faults: &self.faults,
        };
        let step = mode.tick(now, &mut ctx);
        if !step.output.is_empty() {
            port.send_at(now + self.faults.slow, step.output);
        }
        if step.reset {
            self.schedule_reset(step.reset_delay, step.reset_to_download);
        }
    }

    /// A programmer asked for a reset: the module resets `delay` later, once its answer has gone
    /// out (`drop-at` may cut the link in it).
    fn schedule_reset(&mut self, delay: Duration, to_download: bool) {
        let due = Instant::now() + self.faults.slow + delay + RESET_SETTLE;
        self.reset_at = Some((due, to_download, due + RESET_GRACE));
    }

    /// The module left the bus: what its primary port had sent but the host had not read is
    /// gone (a new USB device starts with nothing queued).
    fn discard_unread(&self) {
        if let Some(port) = self.ports.get(self.primary) {
            let _ = tcflush(&port.pty.slave, FlushArg::TCIFLUSH);
        }
    }

    /// The module resets and boots from its flash: normal mode, reporting the revision the
    /// flash holds, when the boot loader is intact; its download mode when it is not (or when
    /// `to_download`). This is the one reset path of the simulator.
    pub(crate) fn reset_module(&mut self, to_download: bool) {
        if self.dropped || self.ports.is_empty() {
            return;
        }
        let boot = if to_download {
            Boot::Download { reason: "reset to download mode".into() }
        } else {
            self.firmware.boot(&self.profile, &self.flash)
        };
        match boot {
            Boot::Normal { revision } => {
                if revision != self.profile.revision {
                    let mut profile = (*self.profile).clone();
                    profile.set_revision(&revision);
                    self.profile = Arc::new(profile);
                }
                self.enter_normal();
            }
            Boot::Download { .. } => {
                self.discard_unread();
                self.enter_download();
            }
        }
    }

    /// The module resets into its download mode: the download port takes over the AT port's
    /// pseudo-terminal, every other port goes quiet, the tree shows the download id.
    /// Does nothing once the link has gone away (no ports are left).
    fn enter_download(&mut self) {
        if self.dropped || self.ports.get(self.primary).is_none() {
            return;
        }
        self.boot_at = None;
        self.reset_at = None;
        let mut mode = for_profile(&self.profile);
        let mut ctx = DownloadContext {
            profile: &self.profile,
            flash: &mut self.flash,
            flash_id: self.faults.flash_id.as_ref().or(self.profile.flash_id.as_ref()),
            faults: &self.faults,
        };
        let greeting = mode.start(&mut ctx);
        let usb_mode = mode.mode();
        self.flooding = false;
        for (k, port) in self.ports.iter_mut().enumerate() {
            port.out.clear();
            port.handler = Handler::Silent;
            if k == self.primary {
                port.role = Role::Download;
            }
        }
        self.ports[self.primary].handler = Handler::Download(mode);
        if !greeting.is_empty() {
            self.ports[self.primary].send_at(Instant::now(), greeting);
        }
        if let Err(e) = self.write_tree(usb_mode) {
            eprintln!("fwguard sim: cannot update the --root tree: {e}");
        }
    }

    /// The module boots again in normal mode. Does nothing once the link has gone away.
    fn enter_normal(&mut self) {
        if self.dropped || self.ports.is_empty() {
            return;
        }
        self.discard_unread();
        for (k, port) in self.ports.iter_mut().enumerate() {
            port.out.clear();
            port.role = self.profile.interfaces.get(k).map(|(_, r)| *r).unwrap_or(Role::Unknown);
            port.handler = normal_handler(&self.profile, port.role);
        }
        self.boot_at = Some(Instant::now() + self.faults.boot);
        if let Err(e) = self.write_tree(Mode::At) {
            eprintln!("fwguard sim: cannot update the --root tree: {e}");
        }
    }

    /// Keeps a flood going on the AT port.
    fn top_up_flood(&mut self, now: Instant) {
        let Some(port) = self.ports.get_mut(self.primary) else {
            return;
        };
        let queued: usize = port.out.iter().map(|(_, b)| b.len()).sum();
        if queued < 1024 {
            port.send_at(now, b"+QIND: \"csq\",24,99\r\n".repeat(32));
        }
    }

    /// Pseudo-random bytes with the high bit set: never text, never line framing.
    fn noise(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                0x80 | (self.rng & 0x7f) as u8
            })
            .collect()
    }

    /// Writes what is due, without blocking; counts bytes for `drop-at`.
    fn flush(&mut self, now: Instant) {
        let limit = self.faults.drop_at;
        let mut cut = false;
        for port in &mut self.ports {
            let SimPort { pty, out, .. } = port;
            while let Some((due, bytes)) = out.front_mut() {
                if *due > now {
                    break;
                }
                let mut allowed = bytes.len();
                if let Some(limit) = limit {
                    allowed = allowed.min(usize::try_from(limit.saturating_sub(self.sent)).unwrap_or(usize::MAX));
                }
                let written = if allowed == 0 {
                    0
                } else {
                    match nix::unistd::write(pty.master.as_fd(), &bytes[..allowed]) {
                        Ok(n) => n,
                        Err(e) if std::io::Error::from(e).kind() == ErrorKind::WouldBlock => break,
                        Err(_) => 0,
                    }
                };
                self.sent += written as u64;
                bytes.drain(..written);
                if limit.is_some_and(|limit| self.sent >= limit) {
                    cut = true;
                    break;
                }
                if bytes.is_empty() {
                    out.pop_front();
                } else if written == 0 {
                    break;
                }
            }
            if cut {
                break;
            }
        }
        if cut {
            self.drop_link();
        }
    }

    /// `drop-at`: the USB link goes away. The pseudo-terminals close (clients read a hang-up) and
    /// the module leaves the `--root` tree.
    fn drop_link(&mut self) {
        self.dropped = true;
        // Off the tree first: a client that sees the hang-up then finds no device left.
        if let Some(tree) = self.tree.take() {
            tree.remove();
        }
        self.ports.clear();
    }
}

/// A short description of what a host sent, for the trace (`FWGUARD_LOG=fwguard::sim=debug`):
/// the command of a Firehose document, else the byte count and first bytes. With the count of
/// bytes sent so far it tells where a `drop-at` would cut.
fn summary(input: &[u8]) -> String {
    if let Some(at) = crate::flash::qualcomm::wire::firehose::find(input, b"<data>") {
        let rest = &input[at + 6..];
        let end = rest.iter().position(|b| *b == b'>').map_or(rest.len(), |e| e + 1);
        let text: String =
            String::from_utf8_lossy(&rest[..end.min(240)]).split_whitespace().collect::<Vec<_>>().join(" ");
        return text;
    }
    let head: Vec<String> = input.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes [{}]", input.len(), head.join(" "))
}

/// What serves a port with `role` in normal mode.
fn normal_handler(profile: &Arc<Profile>, role: Role) -> Handler {
    match role {
        Role::At => Handler::At(AtMachine::new(Arc::clone(profile), true)),
        Role::Modem => Handler::At(AtMachine::new(Arc::clone(profile), false)),
        Role::Diag if profile.platform == Platform::Qualcomm => Handler::Diag(DiagPort::default()),
        _ => Handler::Silent,
    }
}
