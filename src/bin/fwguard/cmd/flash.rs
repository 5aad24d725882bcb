//! `fwguard flash`: a guarded flash of a package onto a module.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
use fwguard::diagnostic::Diagnostic;
use fwguard::flash::{self, Event, FlashError, Permissions, Registry, Request};

use crate::draw::Drawer;
use crate::output::print_error;

/// Flash a firmware package onto a module, guarded.
#[derive(ClapArgs)]
#[command(group(ArgGroup::new("device").args(["port", "sim"])))]
pub struct Args {
    /// The module's AT port (or, with --resume, its download port). With neither --port nor
    /// --sim, the one attached module is found by its USB id.
    #[arg(long, help_heading = "Module")]
    pub port: Option<PathBuf>,
    /// A built-in simulated module (fwguard sim --list).
    #[arg(long, value_name = "PROFILE", help_heading = "Module")]
    pub sim: Option<String>,
    /// The firmware package (folder, .zip, .7z, .pac, .bin, .binpkg).
    #[arg(long, value_name = "PATH")]
    pub image: PathBuf,
    /// Print the plan and send nothing past identification (which, for a module whose variants
    /// differ by flash chip, reads the flash ID from its boot loader, as check does).
    #[arg(long)]
    pub dry_run: bool,
    /// Flash although the verdict warns.
    #[arg(long)]
    pub accept_warnings: bool,
    /// Continue an interrupted flash of the same module and package from its journal.
    #[arg(long)]
    pub resume: bool,
    /// Allow writing or erasing calibration, NV and IMEI areas (a verified backup is taken first).
    #[arg(long)]
    pub allow_protected: bool,
    /// A published database file instead of the built-in one.
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Use a database file without a valid signature by a trusted key (support staff testing their
    /// own rules); the plan and the result say so.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Print one JSON object per event (plan, step begin/end, verify, result).
    #[arg(long)]
    pub json: bool,
}

/// Runs the flash. Exit 0 written and verified, 1 refused before writing, 2 error before any
/// write, 3 failed after writing began.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref(), args.allow_unsigned)?;
    let home = fwguard::history::fwguard_home()?;
    let mut drawer = Drawer::new(args.json, std::io::stderr().is_terminal());
    // A simulated module is described under a tree of its own, so discovery follows it into
    // its download mode and back.
    let sim_root = match &args.sim {
        Some(_) => Some(super::TempTree::new("flash")?),
        None => None,
    };
    let source = match (&args.port, &args.sim) {
        (Some(port), _) => ModuleSource::Port(port.clone()),
        (None, Some(profile)) => ModuleSource::Sim {
            profile: profile.clone(),
            faults: Vec::new(),
            root: sim_root.as_ref().map(|d| d.path().to_path_buf()),
        },
        (None, None) => ModuleSource::Auto,
    };
    let options = AcquireOptions { allow_download_mode: args.resume, keep_sim: true, ..AcquireOptions::default() };
    let module = match acquire(&source, &db, &options) {
        Ok(m) => m,
        Err(e) => return Ok(fail(FlashError::Acquire(e), &mut drawer)),
    };
    let mut request = Request::new(&args.image, &home);
    request.dry_run = args.dry_run;
    request.resume = args.resume;
    request.permissions = Permissions { accept_warnings: args.accept_warnings, allow_protected: args.allow_protected };
    match flash::flash(&module, &request, &db, &Registry::builtin(), &mut drawer) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(report(e)),
    }
}

/// A failure before `flash::flash` ran: its result event, then the error.
fn fail(e: FlashError, drawer: &mut Drawer) -> ExitCode {
    let code = e.exit_code();
    fwguard::flash::Progress::event(
        drawer,
        &Event::Result {
            exit_code: code,
            outcome: None,
            error: Some(e.to_string()),
            code: Some(e.code()),
            hint: e.hint(),
        },
    );
    report(e)
}

/// Prints the error (and its hint) on stderr; returns its exit code.
fn report(e: FlashError) -> ExitCode {
    let code = e.exit_code();
    // With --json the result event above already carries the error and its hint.
    print_error(&anyhow::Error::new(e), false);
    ExitCode::from(code)
}
