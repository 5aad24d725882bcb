//! `fwguard sim [PROFILE] [--model M --revision R --flash-id HEX --platform P] [--state DIR]
//! [--root DIR] [--fault SPEC]...`
//!
//! Prints the AT port as the first line of stdout — the `--root` device node (`DIR/dev/ttyUSB2`)
//! when a root is given, else the pseudo-terminal — then serves until killed or stdin closes.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use fwguard::identity::FlashId;
use fwguard::sim::{self, Fault, Platform, Profile, SimError, SimOptions};

/// Arguments of `fwguard sim`.
#[derive(clap::Args)]
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
    let faults = args.faults.iter().map(|s| Fault::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let options = SimOptions { state: args.state.clone(), root: args.root.clone(), usb_port: args.usb_port, faults };
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
    // Serve until stdin reaches its end (or fails); the simulator runs on its own thread.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    handle.shutdown()?;
    Ok(ExitCode::SUCCESS)
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
    let mut table = crate::output::table(&["profile", "model", "revision", "platform", "USB id", "flash ID", "about"]);
    for p in sim::builtin()? {
        table.add_row(vec![
            p.name.clone(),
            p.model.clone(),
            p.revision.clone(),
            format!("{} {}", p.platform.as_str(), p.chipset),
            p.usb.to_string(),
            p.flash_id.as_ref().map(ToString::to_string).unwrap_or_else(|| "?".into()),
            p.summary.clone(),
        ]);
    }
    super::out(&table.to_string())?;
    Ok(())
}
