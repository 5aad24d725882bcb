//! `fwguard check`: judge a module and a candidate image.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args as ClapArgs};
use fwguard::acquire::flash_id::{self, FlashIdRequest};
use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
use fwguard::db::Trust;
use fwguard::device::SessionOptions;
use fwguard::engine::{Report, Verdict, judge};
use fwguard::flash::Registry;
use fwguard::history::{CheckRecord, append_check, fwguard_home};
use fwguard::identity::FlashId;
use fwguard::rules::model::Severity;
use fwguard::sim::Fault;

use crate::output::{
    Colour, Field, Grid, colour_stdout, fill, hinted, paint, print_json, stdout_is_terminal, terminal_width,
};
use crate::progress::Line;

/// Judge a module and a candidate image.
#[derive(ClapArgs)]
#[command(after_help = after_help())]
#[command(group(ArgGroup::new("device").args(["port", "sim", "model"])))]
#[command(group(ArgGroup::new("candidate").required(true).args(["image", "to"])))]
pub struct Args {
    /// The module's AT port. With no module option, the one attached module is found by its USB id.
    #[arg(long, help_heading = "Module")]
    pub port: Option<PathBuf>,
    /// A built-in simulated module (fwguard sim --list), queried over a pseudo-terminal.
    #[arg(long, value_name = "PROFILE", help_heading = "Module")]
    pub sim: Option<String>,
    /// A fault for the --sim module, as `fwguard sim --fault`: silent, garbage, flood, slow=MS,
    /// boot=MS, drop-at=BYTES. Repeatable.
    #[arg(long = "fault", value_name = "SPEC", requires = "sim", help_heading = "Module")]
    pub faults: Vec<String>,
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
    /// Do not record this check in the history ($FWGUARD_HOME/history.db).
    #[arg(long, env = "FWGUARD_NO_HISTORY")]
    pub no_history: bool,
}

/// `check --help` ends with the examples and the time bounds.
fn after_help() -> String {
    let o = SessionOptions::default();
    format!(
        "Examples:
  fwguard check --sim ec25-e --to EC25EFAR08A01M4G_01.001.01.001
  fwguard check --port /dev/ttyUSB2 --image EC25EFAR06A18M4G_20.201.20.201.zip
  fwguard check --model EC25 --revision \"$(cat qgmr.txt)\" --to EC25EFAR06A18M4G_20.201.20.201.zip --json

Time bounds: a module is sent AT until it answers for at most {boot} s (it may still be booting),
then each command waits at most {cmd} s for its answer, and the whole session ends after {all} s;
a module that does not answer is an error (exit 2), not a wait. A package (--image) is read once,
in time proportional to its size, within the size caps (at most {members} entries, {total} GiB).",
        boot = o.boot_timeout.as_secs(),
        cmd = o.command_timeout.as_secs(),
        all = o.deadline.as_secs(),
        members = fwguard::image::archive::limits::MAX_MEMBERS,
        total = fwguard::image::archive::limits::MAX_TOTAL_SIZE >> 30,
    )
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
        let faults = args.faults.iter().map(|s| Fault::parse(s)).collect::<Result<Vec<_>, _>>()?;
        ModuleSource::Sim { profile: profile.clone(), faults, root: root.map(std::path::Path::to_path_buf) }
    } else {
        ModuleSource::Auto
    })
}

/// Runs the check, prints the verdict and records it in the history.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.faults.is_empty() && args.sim.is_none() {
        return Err(hinted(
            "--fault acts on a simulated module",
            "give --sim PROFILE with --fault, or leave --fault out",
        ));
    }
    let db = super::load_database(args.db.as_deref(), args.allow_unsigned)?;
    // The candidate first: a package that cannot be read should not cost a session with the module.
    let (candidate, image, loaders) = match (&args.image, &args.to) {
        (Some(path), _) => {
            let facts = fwguard::image::inspect_with(path, Line::stderr().as_ref())?.facts();
            (path.display().to_string(), facts, Some(path.clone()))
        }
        (None, to) => {
            let name = to.clone().unwrap_or_default();
            (name.clone(), flash_id::name_facts(&name), flash_id::loaders_for_name(&name))
        }
    };
    let sim_root = match &args.sim {
        Some(_) => Some(super::TempTree::new("check")?),
        None => None,
    };
    // What the session waits for is drawn on stderr; the line clears when the options go.
    let options = AcquireOptions {
        session: SessionOptions { progress: Line::stderr().reporter(), ..SessionOptions::default() },
        keep_sim: true,
        ..AcquireOptions::default()
    };
    let mut acquired = acquire(&source(&args, sim_root.as_ref().map(super::TempTree::path))?, &db, &options)?;
    drop(options);
    if args.model.is_none()
        && let Some(id) = &args.flash_id
    {
        acquired.facts.flash_id = Some(FlashId::parse(id)?);
    }
    let skip = args.no_bootloader.then(|| "--no-bootloader was given".to_string());
    let request = FlashIdRequest { loaders: loaders.as_deref(), skip, ..FlashIdRequest::default() };
    let line = Line::stderr();
    let outcome = flash_id::complete_with(&acquired, &db, &Registry::builtin(), &request, &mut |bound| {
        let limit = bound.as_secs();
        line.show(format!(
            "reading the flash ID from the module's boot loader (download mode and back, at most {limit} s)"
        ));
    });
    line.clear();
    if let Some(id) = outcome.flash_id() {
        acquired.facts.flash_id = Some(id.clone());
    }
    if let Some(warning) = outcome.warning() {
        eprintln!("warning: {warning}");
    }
    let mut report = judge(&acquired.facts, &image, &db);
    outcome.annotate(&mut report);
    print_report(&report, args.json)?;
    if !args.no_history {
        record(&acquired.check_record(&candidate, &report));
    }
    // The process ends next: the operating system takes the database back at once, which is
    // cheaper than freeing its thousands of allocations one by one.
    std::mem::forget(db);
    Ok(exit_code(&report))
}

/// Writes the check into the history (through the pending check log, which costs a fraction of
/// opening SQLite); a history that cannot be written is reported, not fatal.
fn record(r: &CheckRecord) {
    if let Err(e) = fwguard_home().and_then(|home| append_check(&home.join("history.db"), r)) {
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

/// Prints a report as JSON or for people: on a terminal, the findings as a table fitted to its
/// width with the sources (URLs) whole below it; otherwise plain lines that can be grepped.
pub fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    let text = render(report, stdout_is_terminal().then(terminal_width), colour_stdout());
    super::out(text.trim_end())
}

/// The database line's facts: version, hash, where it came from, and who signed it (or that it
/// is used unsigned, with --allow-unsigned).
fn database_facts(d: &fwguard::engine::DatabaseSummary, colour: bool) -> Vec<String> {
    let mut facts = vec![
        format!("v{}", d.version),
        format!("sha256 {}", &d.sha256[..16.min(d.sha256.len())]),
        format!("({})", d.origin),
    ];
    match (d.trust, &d.signer) {
        (Trust::Signed, Some(key)) => facts.push(format!("signed by key {key}")),
        (Trust::Unsigned, _) => facts.push(paint("UNSIGNED (--allow-unsigned)", Colour::Yellow, colour)),
        _ => {}
    }
    facts
}

/// The report for people: a table `width` columns wide, or plain lines for `None`.
pub fn render(report: &Report, width: Option<u16>, colour: bool) -> String {
    let (word, colour_of_verdict) = match report.verdict {
        Verdict::Allow => ("ALLOW", Colour::Green),
        Verdict::Warn => ("WARN", Colour::Yellow),
        Verdict::Block => ("BLOCK", Colour::Red),
    };
    let dev = &report.device;
    let img = &report.image;
    let or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".into());
    // One line each for the module, the image and the database, their facts separated by two
    // spaces; on a terminal too narrow for a line, it breaks between facts, never inside one.
    let line = |label: &str, facts: Vec<String>| {
        let pieces = facts.iter().map(String::as_str);
        match width {
            Some(w) => fill(&format!("{label:<8}"), pieces, "  ", usize::from(w), "          "),
            None => fill(&format!("{label:<8}"), pieces, "  ", usize::MAX, ""),
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "{}  {} -> {}\n",
        paint(word, colour_of_verdict, colour),
        or_unknown(&dev.revision),
        or_unknown(&img.revision)
    ));
    let mut image = vec![or_unknown(&img.revision), format!("product {}", or_unknown(&img.product))];
    image.extend(img.path.as_ref().map(|p| format!("path {p}")));
    let lines = [
        line(
            "module",
            vec![
                dev.model.clone().unwrap_or_else(|| "(model unknown)".into()),
                format!("revision {}", or_unknown(&dev.revision)),
                format!("product {}", or_unknown(&dev.product)),
                format!("flash {}", dev.flash_id.as_deref().unwrap_or("unknown")),
            ],
        ),
        line("image", image),
        line("database", database_facts(&report.database, colour)),
    ];
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    if let Some(why) = &report.database.untrusted_because {
        out.push_str(&line("", vec![format!("not trusted: {why}")]));
        out.push('\n');
    }
    if report.findings.is_empty() {
        out.push_str("no findings: same product, memory, baseline and stream\n");
        return out;
    }
    let severity = |f: &fwguard::engine::Finding| match f.severity {
        Severity::Block => Field::coloured("block", Colour::Red),
        Severity::Warn => Field::coloured("warn", Colour::Yellow),
        Severity::Info => Field::plain("info"),
    };
    match width {
        Some(w) => {
            // Sources are printed whole below the table, numbered, so a URL is never wrapped
            // inside a cell and can be clicked or copied.
            let mut sources: Vec<&str> = Vec::new();
            let mut grid = Grid::new(&["severity", "rule", "finding"]);
            for f in &report.findings {
                let n = match sources.iter().position(|s| *s == f.source) {
                    Some(i) => i + 1,
                    None => {
                        sources.push(&f.source);
                        sources.len()
                    }
                };
                let mut text = f.message.clone();
                if !f.hint.is_empty() {
                    text.push_str(&format!("\nhint: {}", f.hint));
                }
                text.push_str(&format!("\nsource: [{n}]"));
                grid.row(vec![severity(f), f.rule.clone().into(), text.into()]);
            }
            out.push_str(&grid.table(w, colour));
            out.push('\n');
            // A source naming several places (`URL; URL`) gives each its own line, so no URL
            // ends in the separator.
            for (i, s) in sources.iter().enumerate() {
                for (k, place) in s.split("; ").enumerate() {
                    let start = if k == 0 { format!("[{}]", i + 1) } else { "   ".to_string() };
                    out.push_str(&fill(&start, place.split(' '), " ", usize::from(w), "    "));
                    out.push('\n');
                }
            }
        }
        None => {
            let mut grid = Grid::new(&["severity", "rule", "finding"]);
            for f in &report.findings {
                grid.row(vec![severity(f), f.rule.clone().into(), f.message.clone().into()]);
            }
            // One finding a line (grep by rule id), its hint and source on the lines after it.
            for (i, line) in grid.plain(colour).lines().enumerate().skip(1) {
                let f = &report.findings[i - 1];
                out.push_str(line);
                out.push('\n');
                if !f.hint.is_empty() {
                    out.push_str(&format!("  hint: {}\n", f.hint));
                }
                out.push_str(&format!("  source: {}\n", f.source));
            }
        }
    }
    out.push_str("fwguard explain RULE tells more about a rule.\n");
    out
}
