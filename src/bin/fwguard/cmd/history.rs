//! `fwguard history [--json]`: past checks and flashes, newest first, from `$FWGUARD_HOME/history.db`.

use std::process::ExitCode;

use fwguard::history::History;

use crate::output::{Colour, Field, Grid};

/// Arguments of `fwguard history`.
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON: {"checks": [...], "flashes": [...]}.
    #[arg(long)]
    pub json: bool,
    /// How many checks to show, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Runs `fwguard history`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let history = History::open_default()?;
    let dropped = history.imported().dropped;
    if dropped > 0 {
        let log = fwguard::history::pending_path(history.path());
        eprintln!(
            "warning: {} dropped {dropped} line(s) that were not a whole check (cut off by a crash, or damaged)",
            log.display()
        );
    }
    let checks = history.list(args.limit)?;
    let flashes = history.list_flashes(args.limit)?;
    if args.json {
        crate::output::print_json(&serde_json::json!({ "checks": checks, "flashes": flashes }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for f in &flashes {
        super::out(&format!(
            "{}  flash {}  {} -> {}  {}  exit {}{}",
            f.time,
            f.outcome,
            f.revision_before.as_deref().unwrap_or("?"),
            f.revision_after.as_deref().unwrap_or("-"),
            f.package,
            f.exit_code,
            f.run.map(|r| format!("  journal run {r}")).unwrap_or_default()
        ))?;
    }
    if checks.is_empty() {
        let total = history.count()?;
        let path = history.path().display();
        super::out(&match total {
            0 => format!("no checks recorded in {path}"),
            n => format!("{n} check(s) recorded in {path}; --limit {} shows none", args.limit),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut grid = Grid::new(&["time", "module", "revision", "candidate", "verdict", "port"]);
    for c in &checks {
        let verdict = match c.verdict.as_str() {
            "block" => Field::coloured(&c.verdict, Colour::Red),
            "warn" => Field::coloured(&c.verdict, Colour::Yellow),
            _ => Field::plain(&c.verdict),
        };
        grid.row(vec![
            c.time.clone().into(),
            c.model.clone().unwrap_or_else(|| "?".into()).into(),
            c.revision.clone().into(),
            c.candidate.clone().into(),
            verdict,
            c.port.clone().unwrap_or_else(|| c.device_source.clone()).into(),
        ]);
    }
    super::out(&grid.render())?;
    Ok(ExitCode::SUCCESS)
}
