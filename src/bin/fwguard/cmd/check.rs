//! `fwguard check`: judge a module and a candidate image.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::engine::{DeviceFacts, ImageFacts, Report, Verdict, judge};
use fwguard::identity::FlashId;
use fwguard::rules::model::Severity;

use crate::output::{Colour, colour_stdout, hinted, paint, print_json, table};

/// Judge a module and a candidate image.
#[derive(ClapArgs)]
#[command(group(ArgGroup::new("device").required(true).args(["model"])))]
#[command(group(ArgGroup::new("candidate").required(true).args(["to"])))]
pub struct Args {
    /// The module's ATI model line, e.g. EC25 or EC800MCN_LA (a module described by hand).
    #[arg(long, requires = "revision", help_heading = "Module")]
    pub model: Option<String>,
    /// What AT+QGMR answered (raw text with echo, URCs and OK is fine).
    #[arg(long, requires = "model", allow_hyphen_values = true, help_heading = "Module")]
    pub revision: Option<String>,
    /// The flash ID from the bootloader: `20 41 17`, `0x20 0x4117`, `20:41:17`, `98 AC 90 26`.
    #[arg(long, requires = "model", help_heading = "Module")]
    pub flash_id: Option<String>,
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

/// Runs the check and prints the verdict.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref())?;
    let flash_id = match args.flash_id.as_deref().map(FlashId::parse).transpose() {
        Ok(f) => f,
        Err(e) => return Err(hinted(e, "write the ID as hex bytes, e.g. --flash-id \"20 41 17\"")),
    };
    let device = DeviceFacts {
        model: args.model.clone(),
        revision: args.revision.clone().unwrap_or_default(),
        flash_id,
        ..DeviceFacts::default()
    };
    let image = ImageFacts { name: args.to.clone().unwrap_or_default(), ..ImageFacts::default() };
    let report = judge(&device, &image, &db);
    print_report(&report, db.origin(), args.json)?;
    Ok(exit_code(&report))
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
