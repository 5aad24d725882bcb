//! `fwguard check`: judge a module and a candidate image.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::acquire::flash_id::{self, FlashIdRequest};
use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
use fwguard::engine::{Report, Verdict, judge};
use fwguard::flash::Registry;
use fwguard::history::{CheckRecord, History};
use fwguard::identity::FlashId;
use fwguard::rules::model::Severity;

use crate::output::{Colour, colour_stdout, paint, print_json, table};

/// Judge a module and a candidate image.
#[derive(ClapArgs)]
#[command(group(ArgGroup::new("device").args(["port", "sim", "model"])))]
#[command(group(ArgGroup::new("candidate").required(true).args(["image", "to"])))]
pub struct Args {
    /// The module's AT port. With no module option, the one attached module is found by its USB id.
    #[arg(long, help_heading = "Module")]
    pub port: Option<PathBuf>,
    /// A built-in simulated module (fwguard sim --list), queried over a pseudo-terminal.
    #[arg(long, value_name = "PROFILE", help_heading = "Module")]
    pub sim: Option<String>,
    /// The module's ATI model line, e.g. EC25 or EC800MCN_LA (a module described by hand).
    #[arg(long, requires = "revision", help_heading = "Module")]
    pub model: Option<String>,
    /// What AT+QGMR answered (raw text with echo, URCs and OK is fine).
    #[arg(long, requires = "model", allow_hyphen_values = true, help_heading = "Module")]
    pub revision: Option<String>,
    /// The flash ID from the bootloader: `20 41 17`, `0x20 0x4117`, `20:41:17`, `98 AC 90 26`
    /// (with a live module, it is then not read from the boot loader).
    #[arg(long, help_heading = "Module")]
    pub flash_id: Option<String>,
    /// Do not read the flash ID from the boot loader. By default, on a live module whose
    /// family's variants differ by flash chip, check takes the module to its download mode,
    /// reads the flash probe with the candidate package's boot-loader stages and returns the
    /// module to normal mode: at most 2 minutes (30 s to reach the download mode, 30 s in the
    /// boot loader, 60 s to boot back and answer AT), a few seconds when all is well.
    #[arg(long, help_heading = "Module")]
    pub no_bootloader: bool,
    /// A firmware package (folder, .zip, .7z, .pac, .bin, .binpkg), judged by what its content says.
    #[arg(long, value_name = "PATH", help_heading = "Candidate")]
    pub image: Option<PathBuf>,
    /// A revision string or a package file name, judged by its name alone. A package file that
    /// exists also lends its boot-loader stages to read the flash ID, and its flash table to
    /// judge the chip.
    #[arg(long, help_heading = "Candidate")]
    pub to: Option<String>,
    /// A published database file instead of the built-in one.
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Print the verdict as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The module option given (a simulated module under `root`, so discovery can follow it).
fn source(args: &Args, root: Option<&std::path::Path>) -> anyhow::Result<ModuleSource> {
    Ok(if let Some(model) = &args.model {
        ModuleSource::Manual {
            model: model.clone(),
            revision: args.revision.clone().unwrap_or_default(),
            flash_id: args.flash_id.as_deref().map(FlashId::parse).transpose()?,
        }
    } else if let Some(port) = &args.port {
        ModuleSource::Port(port.clone())
    } else if let Some(profile) = &args.sim {
        ModuleSource::Sim { profile: profile.clone(), faults: Vec::new(), root: root.map(std::path::Path::to_path_buf) }
    } else {
        ModuleSource::Auto
    })
}

/// Runs the check, prints the verdict and records it in the history.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref())?;
    // The candidate first: a package that cannot be read should not cost a session with the module.
    let (candidate, image, loaders) = match (&args.image, &args.to) {
        (Some(path), _) => (path.display().to_string(), fwguard::image::inspect(path)?.facts(), Some(path.clone())),
        (None, to) => {
            let name = to.clone().unwrap_or_default();
            (name.clone(), flash_id::name_facts(&name), flash_id::loaders_for_name(&name))
        }
    };
    let sim_root = match &args.sim {
        Some(_) => Some(super::TempTree::new("check")?),
        None => None,
    };
    let options = AcquireOptions { keep_sim: true, ..AcquireOptions::default() };
    let mut acquired = acquire(&source(&args, sim_root.as_ref().map(super::TempTree::path))?, &db, &options)?;
    if args.model.is_none()
        && let Some(id) = &args.flash_id
    {
        acquired.facts.flash_id = Some(FlashId::parse(id)?);
    }
    let skip = args.no_bootloader.then(|| "--no-bootloader was given".to_string());
    let request = FlashIdRequest { loaders: loaders.as_deref(), skip, ..FlashIdRequest::default() };
    let outcome = flash_id::complete(&acquired, &db, &Registry::builtin(), &request);
    if let Some(id) = outcome.flash_id() {
        acquired.facts.flash_id = Some(id.clone());
    }
    if let Some(warning) = outcome.warning() {
        eprintln!("warning: {warning}");
    }
    let mut report = judge(&acquired.facts, &image, &db);
    outcome.annotate(&mut report);
    print_report(&report, db.origin(), args.json)?;
    record(&acquired.check_record(&candidate, &report));
    Ok(exit_code(&report))
}

/// Writes the check into the history; a history that cannot be written is reported, not fatal.
fn record(r: &CheckRecord) {
    if let Err(e) = History::open_default().and_then(|h| h.record_check(r)) {
        eprintln!("warning: the check was not recorded in the history: {e} ({})", e.hint());
    }
}

/// 0 for allow and warn, 1 for block.
pub fn exit_code(report: &Report) -> ExitCode {
    match report.verdict {
        Verdict::Block => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// Prints a report as JSON or as a table for people.
pub fn print_report(report: &Report, origin: &str, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    let on = colour_stdout();
    let (word, colour) = match report.verdict {
        Verdict::Allow => ("ALLOW", Colour::Green),
        Verdict::Warn => ("WARN", Colour::Yellow),
        Verdict::Block => ("BLOCK", Colour::Red),
    };
    let dev = &report.device;
    let img = &report.image;
    let or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".into());
    println!("{}  {} -> {}", paint(word, colour, on), or_unknown(&dev.revision), or_unknown(&img.revision));
    println!(
        "module    {}  revision {}  product {}  flash {}",
        dev.model.as_deref().unwrap_or("(model unknown)"),
        or_unknown(&dev.revision),
        or_unknown(&dev.product),
        dev.flash_id.as_deref().unwrap_or("unknown")
    );
    println!(
        "image     {}  product {}{}",
        or_unknown(&img.revision),
        or_unknown(&img.product),
        img.path.as_ref().map(|p| format!("  path {p}")).unwrap_or_default()
    );
    println!(
        "database  v{}  sha256 {}  ({origin})",
        report.database.version,
        &report.database.sha256[..16.min(report.database.sha256.len())]
    );
    if report.findings.is_empty() {
        println!("no findings: same product, memory, baseline and stream");
        return Ok(());
    }
    let mut t = table(&["severity", "rule", "finding"]);
    for f in &report.findings {
        let sev = match f.severity {
            Severity::Block => paint("block", Colour::Red, on),
            Severity::Warn => paint("warn", Colour::Yellow, on),
            Severity::Info => "info".to_string(),
        };
        let mut text = f.message.clone();
        if !f.hint.is_empty() {
            text.push_str(&format!("\nhint: {}", f.hint));
        }
        text.push_str(&format!("\nsource: {}", f.source));
        t.add_row(vec![sev, f.rule.clone(), text]);
    }
    println!("{t}");
    println!("fwguard explain RULE tells more about a rule.");
    Ok(())
}
