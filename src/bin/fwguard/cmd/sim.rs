//! `fwguard sim [PROFILE] [--model M --revision R --flash-id HEX --platform P] [--state DIR]
//! [--root DIR] [--fault SPEC]...`
//!
//! Prints the AT port as the first line of stdout — the `--root` device node (`DIR/dev/ttyUSB2`)
//! when a root is given, else the pseudo-terminal — then serves until stdin closes or SIGINT
//! (Ctrl-C), SIGTERM or SIGHUP arrives; either way the module is stopped and its `--root` tree
//! removed before the process ends. `--write-package DIR` writes a demo package instead.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use fwguard::identity::FlashId;
use fwguard::sim::{self, Fault, Platform, Profile, SimError, SimOptions};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Arguments of `fwguard sim`.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  fwguard sim --list
  fwguard sim ec25-e
  fwguard sim ec25-e --root /tmp/fw --fault boot=3000
  fwguard sim ec25-e --write-package demo
  fwguard sim ec25-e --revision EC25EFAR06A18M4G_20.201.20.201 --write-package demo")]
pub struct Args {
    /// A built-in profile, e.g. ec25-e (see --list).
    pub profile: Option<String>,
    /// List the built-in profiles.
    #[arg(long)]
    pub list: bool,
    /// The ATI model line (describes a module by hand, or overrides the profile's).
    #[arg(long)]
    pub model: Option<String>,
    /// The full revision AT+QGMR prints.
    #[arg(long)]
    pub revision: Option<String>,
    /// The flash ID the boot loader reports: `20 41 17`, `0x20 0x4117`, `204117`.
    #[arg(long = "flash-id")]
    pub flash_id: Option<String>,
    /// qualcomm, asr, unisoc or eigencomm.
    #[arg(long)]
    pub platform: Option<String>,
    /// Keep the module's flash in DIR/flash.bin (created sparse at the flash size).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Describe the module under DIR/sys and DIR/dev as the kernel would.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The hub port under --root: bus id 1-N, ttys from ttyUSB{8(N-1)}; give each simulated module
    /// sharing one --root its own.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=16), requires = "root")]
    pub usb_port: u8,
    /// Write a demo firmware package of the profile's revision (in its platform's format) into
    /// DIR, print its path and exit, e.g. for `fwguard check --sim PROFILE --image PATH`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["list", "state", "root", "faults"])]
    pub write_package: Option<PathBuf>,
    /// Inject a fault: silent, garbage, flood, glue-urcs, slow=MS, boot=MS, drop-at=BYTES. Repeatable.
    /// nak-at=N (the N-th download command fails) and flash-id=HEX (the boot loader's chip, or
    /// the NAND id) act where the download protocol is simulated (Qualcomm EDL, ASR AROM, the
    /// UIS8910 ROM) and are refused elsewhere.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
}

/// Runs `fwguard sim`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        print_list()?;
        return Ok(ExitCode::SUCCESS);
    }
    let profile = profile(&args)?;
    if let Some(dir) = &args.write_package {
        let path = sim::write_demo_package(&profile, dir)?;
        super::out(&path.display().to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    let faults = args.faults.iter().map(|s| Fault::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let options = SimOptions { state: args.state.clone(), root: args.root.clone(), usb_port: args.usb_port, faults };
    // The stop signals are blocked before the simulator's thread starts (it inherits the mask),
    // so they reach this thread only, through a signalfd, and the tree is cleaned on the way out.
    let stop_signals = stop_signals();
    stop_signals.thread_block().context("cannot block SIGINT, SIGTERM and SIGHUP")?;
    let signals =
        SignalFd::with_flags(&stop_signals, SfdFlags::SFD_CLOEXEC).context("cannot watch for stop signals")?;
    let handle = sim::spawn(profile.clone(), options)?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", handle.port().display()).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    drop(out);
    eprintln!(
        "fwguard sim: {} {} ({}) on {}; close stdin or press Ctrl-C to stop",
        profile.model,
        profile.revision,
        profile.name,
        handle.pty().display()
    );
    if let Some(root) = &args.root {
        eprintln!(
            "fwguard sim: discover it with FWGUARD_SYSFS={} FWGUARD_DEV={}",
            root.join("sys").display(),
            root.join("dev").display()
        );
    }
    let signal = wait_for_stop(&signals);
    handle.shutdown()?;
    Ok(match signal {
        // The conventional status of a process ended by a signal, now that the tree is gone.
        Some(sig) => ExitCode::from(128u8.saturating_add(u8::try_from(sig as i32).unwrap_or(0))),
        None => ExitCode::SUCCESS,
    })
}

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    set
}

/// Waits until stdin ends (or fails) or a stop signal arrives; returns the signal, if one did.
fn wait_for_stop(signals: &SignalFd) -> Option<Signal> {
    let stdin = std::io::stdin();
    let mut sink = [0u8; 256];
    loop {
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN), PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
            Ok(_) => {}
        }
        let signal_ready = fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
        let stdin_events = fds[1].revents().unwrap_or(PollFlags::empty());
        if signal_ready && let Ok(Some(info)) = signals.read_signal() {
            return Signal::try_from(info.ssi_signo as i32).ok();
        }
        if !stdin_events.is_empty() {
            match nix::unistd::read(stdin.as_fd(), &mut sink) {
                Ok(n) if n > 0 => {}
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                // The end of stdin (or an error reading it) stops the simulator, as before.
                _ => return None,
            }
        }
    }
}

/// The profile to run: a built-in one (with overrides), or one described on the command line.
fn profile(args: &Args) -> anyhow::Result<Profile> {
    let flash_id = match &args.flash_id {
        Some(text) => Some(FlashId::parse(text).map_err(|e| SimError::Profile(e.to_string()))?),
        None => None,
    };
    let platform = match &args.platform {
        Some(text) => {
            Some(Platform::parse_any_case(text).filter(|p| sim::SIMULATED_PLATFORMS.contains(p)).ok_or_else(|| {
                SimError::Profile(format!("platform {text:?} is not qualcomm, asr, unisoc or eigencomm"))
            })?)
        }
        None => None,
    };
    let mut profile = match (&args.profile, &args.model, &args.revision) {
        (Some(name), _, _) => sim::find(name)?,
        (None, Some(model), Some(revision)) => {
            let Some(platform) = platform else {
                return Err(SimError::Profile("a module described by hand needs --platform".into()).into());
            };
            Profile::custom(model, revision, flash_id.clone(), platform)?
        }
        (None, _, _) => bail!(SimError::Profile("give a PROFILE, or --model and --revision (and --platform)".into())),
    };
    if let Some(model) = &args.model {
        profile.model = model.clone();
        profile.cgmm = model.clone();
    }
    if let Some(revision) = &args.revision {
        profile.set_revision(revision);
    }
    if let Some(platform) = platform {
        profile.platform = platform;
    }
    if let Some(id) = flash_id {
        profile.set_flash_id(id);
    }
    Ok(profile)
}

fn print_list() -> anyhow::Result<()> {
    let mut grid =
        crate::output::Grid::new(&["profile", "model", "revision", "platform", "USB id", "flash ID", "about"]);
    for p in sim::builtin()? {
        grid.row(vec![
            p.name.clone().into(),
            p.model.clone().into(),
            p.revision.clone().into(),
            format!("{} {}", p.platform.as_str(), p.chipset).into(),
            p.usb.to_string().into(),
            p.flash_id.as_ref().map(ToString::to_string).unwrap_or_else(|| "?".into()).into(),
            p.summary.clone().into(),
        ]);
    }
    super::out(&grid.render())?;
    Ok(())
}
