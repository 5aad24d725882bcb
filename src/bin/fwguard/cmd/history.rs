//! `fwguard history [--json]`: past checks and flashes, newest first, from `$FWGUARD_HOME/history.db`.

use std::process::ExitCode;

use fwguard::history::History;

/// Arguments of `fwguard history`.
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON: {"checks": [...], "flashes": [...]}.
    #[arg(long)]
    pub json: bool,
    /// How many checks to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Runs `fwguard history`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let history = History::open_default()?;
    let checks = history.list(args.limit)?;
    let flashes = history.list_flashes(args.limit)?;
    if args.json {
        super::out(&serde_json::to_string_pretty(&serde_json::json!({ "checks": checks, "flashes": flashes }))?)?;
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
        super::out(&format!("no checks recorded in {}", history.path().display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = crate::output::table(&["time", "module", "revision", "candidate", "verdict", "port"]);
    for c in &checks {
        table.add_row(vec![
            c.time.clone(),
            c.model.clone().unwrap_or_else(|| "?".into()),
            c.revision.clone(),
            c.candidate.clone(),
            c.verdict.clone(),
            c.port.clone().unwrap_or_else(|| c.device_source.clone()),
        ]);
    }
    super::out(&table.to_string())?;
    Ok(ExitCode::SUCCESS)
}
