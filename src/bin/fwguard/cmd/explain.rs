//! `fwguard explain RULE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use crate::output::hinted;

/// Explain a rule id.
#[derive(ClapArgs)]
pub struct Args {
    /// A rule id, e.g. cross-baseline, or the id of an entry in rules/ (a step, a known-bad build).
    pub rule: String,
    /// A published database file instead of the built-in one.
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Use a database file without a valid signature by a trusted key (for testing rules).
    #[arg(long)]
    pub allow_unsigned: bool,
}

/// Prints what the rule means, its source and what to do.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref(), args.allow_unsigned)?;
    if let Some(p) = db.policy(&args.rule) {
        println!(
            "{} ({})\n\n{}\n\n{}\n\nWhat to do: {}\nSource: {}",
            p.id,
            p.severity,
            p.summary,
            p.explain.trim(),
            p.hint,
            p.source
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(e) = db.rules().describe(&args.rule) {
        println!("{} (family {})\n\n{}\nSource: {}", e.id, e.family, e.text, e.source);
        return Ok(ExitCode::SUCCESS);
    }
    let ids: Vec<&str> = db.rules().policy.iter().map(|p| p.id.as_str()).collect();
    Err(hinted(
        format!("no rule {:?} in database v{}", args.rule, db.version()),
        &format!("rule ids: {}", ids.join(", ")),
    ))
}
