//! `fwguard check`: judge a module and a candidate image.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
use fwguard::engine::{ImageFacts, Report, Verdict, judge};
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
    /// The flash ID from the bootloader: `20 41 17`, `0x20 0x4117`, `20:41:17`, `98 AC 90 26`.
    #[arg(long, requires = "model", help_heading = "Module")]
    pub flash_id: Option<String>,
    /// A firmware package (folder, .zip, .7z, .pac, .bin, .binpkg), judged by what its content says.
    #[arg(long, value_name = "PATH", help_heading = "Candidate")]
    pub image: Option<PathBuf>,
    /// A revision string or a package file name, judged by its name alone.
    #[arg(long, help_heading = "Candidate")]
    pub to: Option<String>,
    /// A published database file instead of the built-in one.
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Print the verdict as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The module option given.
fn source(args: &Args) -> anyhow::Result<ModuleSource> {
    Ok(if let Some(model) = &args.model {
        ModuleSource::Manual {
            model: model.clone(),
            revision: args.revision.clone().unwrap_or_default(),
            flash_id: args.flash_id.as_deref().map(FlashId::parse).transpose()?,
        }
    } else if let Some(port) = &args.port {
        ModuleSource::Port(port.clone())
    } else if let Some(profile) = &args.sim {
        ModuleSource::Sim { profile: profile.clone(), faults: Vec::new(), root: None }
    } else {
        ModuleSource::Auto
    })
}

/// Runs the check, prints the verdict and records it in the history.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref())?;
    // The candidate first: a package that cannot be read should not cost a session with the module.
    let (candidate, image) = match (&args.image, &args.to) {
        (Some(path), _) => (path.display().to_string(), fwguard::image::inspect(path)?.facts()),
        (None, to) => {
            let name = to.clone().unwrap_or_default();
            (name.clone(), ImageFacts { name, ..ImageFacts::default() })
        }
    };
    let acquired = acquire(&source(&args)?, &db, &AcquireOptions::default())?;
    let report = judge(&acquired.facts, &image, &db);
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
