//! `fwguard check`: judge a module and a candidate image.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::db::{Database, Trust};
use fwguard::device::{self, PortsError, SessionOptions, SysPaths, UsbTable, locate_at_port};
use fwguard::engine::{DeviceFacts, ImageFacts, Report, Verdict, judge};
use fwguard::history::{CheckRecord, History};
use fwguard::identity::FlashId;
use fwguard::rules::model::Severity;
use fwguard::sim::{self, SimOptions};

use crate::output::{Colour, colour_stdout, hinted, paint, print_json, table};

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
    /// A published database file instead of the installed or built-in one; it must be signed by a
    /// trusted key (FILE.minisig).
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Use a database file without a valid signature by a trusted key (support staff testing their
    /// own rules); the verdict says so.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Print the verdict as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Where the module's identity came from, for the history.
struct Acquired {
    facts: DeviceFacts,
    source: String,
    port: Option<String>,
    usb_id: Option<String>,
}

/// Reads the module: by hand, over a port, from a simulated module, or the one attached.
fn acquire(args: &Args, db: &Database) -> anyhow::Result<Acquired> {
    if let Some(model) = &args.model {
        let flash_id = match args.flash_id.as_deref().map(FlashId::parse).transpose() {
            Ok(f) => f,
            Err(e) => return Err(hinted(e, "write the ID as hex bytes, e.g. --flash-id \"20 41 17\"")),
        };
        let facts = DeviceFacts {
            model: Some(model.clone()),
            revision: args.revision.clone().unwrap_or_default(),
            flash_id,
            ..DeviceFacts::default()
        };
        return Ok(Acquired { facts, source: "hand".into(), port: None, usb_id: None });
    }
    let opts = SessionOptions::default();
    let (report, source) = if let Some(port) = &args.port {
        (device::identify(port, &opts)?, "port".to_string())
    } else if let Some(profile) = &args.sim {
        let handle = sim::spawn(sim::find(profile)?, SimOptions::default())?;
        let report = device::identify(handle.port(), &opts)?;
        drop(handle);
        (report, format!("sim:{profile}"))
    } else {
        // The USB ids of the database in effect, so a published database reaches discovery too.
        let table = UsbTable::from_ids(&db.rules().usb).map_err(PortsError::from)?;
        let (module, port) = locate_at_port(&SysPaths::from_env(), &table).map_err(|e| {
            let hint = e.hint();
            hinted(e, hint)
        })?;
        tracing::info!(module = %module.usb_id(), port = %port.display(), "found one attached module");
        (device::identify(&port, &opts)?, "auto".to_string())
    };
    tracing::info!(exchanges = report.exchanges.len(), ms = report.ms, "identified the module");
    Ok(Acquired {
        facts: report.facts(),
        source,
        port: Some(report.port.clone()),
        usb_id: report.usb.as_ref().map(|u| u.usb_id.clone()),
    })
}

/// Runs the check, prints the verdict and records it in the history.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref(), args.allow_unsigned)?;
    // The candidate first: a package that cannot be read should not cost a session with the module.
    let (candidate, image) = match (&args.image, &args.to) {
        (Some(path), _) => (path.display().to_string(), fwguard::image::inspect(path)?.facts()),
        (None, to) => {
            let name = to.clone().unwrap_or_default();
            (name.clone(), ImageFacts { name, ..ImageFacts::default() })
        }
    };
    let acquired = acquire(&args, &db)?;
    let report = judge(&acquired.facts, &image, &db);
    print_report(&report, args.json)?;
    record(&acquired, &candidate, &report);
    Ok(exit_code(&report))
}

/// Writes the check into the history; a history that cannot be written is reported, not fatal.
fn record(acquired: &Acquired, candidate: &str, report: &Report) {
    let f = &acquired.facts;
    let revision = report.device.revision.clone().unwrap_or_else(|| f.revision.clone());
    let mut r = CheckRecord::new(&acquired.source, &revision, candidate, &report.verdict.to_string());
    r.port = acquired.port.clone();
    r.usb_id = acquired.usb_id.clone();
    r.model = f.model.clone();
    r.imei = f.imei.clone();
    r.flash_id = f.flash_id.as_ref().map(FlashId::hex);
    r.secure_boot = f.secure_boot;
    r.findings = serde_json::to_value(&report.findings).unwrap_or_default();
    r.db_version = Some(i64::from(report.database.version));
    r.db_sha256 = Some(report.database.sha256.clone());
    if let Err(e) = History::open_default().and_then(|h| h.record_check(&r)) {
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
pub fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
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
    let d = &report.database;
    let trust = match (d.trust, &d.signer) {
        (Trust::Signed, Some(key)) => format!("  signed by key {key}"),
        (Trust::Unsigned, _) => format!("  {}", paint("UNSIGNED (--allow-unsigned)", Colour::Yellow, on)),
        _ => String::new(),
    };
    println!("database  v{}  sha256 {}  ({}){trust}", d.version, &d.sha256[..16.min(d.sha256.len())], d.origin);
    if let Some(why) = &d.untrusted_because {
        println!("          not trusted: {why}");
    }
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
