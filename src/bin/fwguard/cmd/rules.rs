//! `fwguard rules lint [DIR]` and `fwguard rules test [DIR]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use fwguard::db::Database;
use fwguard::db::diff::{CaseChange, case_changes};
use fwguard::rules::{LoadedRules, embedded_sources, load, read_dir_sources, run_tests};

use crate::output::{Colour, colour_stdout, paint};

/// Rule maintenance.
#[derive(Subcommand)]
pub enum Command {
    /// Reject bad rules with file, line and reason (exit 1 if any).
    Lint {
        /// The rules directory (default: ./rules if it exists, else the built-in rules).
        dir: Option<PathBuf>,
    },
    /// Run the rule test cases in DIR/tests (exit 1 if any fails, 2 if the rules do not load).
    Test {
        /// The rules directory (default: ./rules if it exists, else the built-in rules).
        dir: Option<PathBuf>,
        /// Also run the cases against an older database (file or rules directory) and list the
        /// cases whose verdict or rule ids change.
        #[arg(long, value_name = "OLD")]
        against: Option<PathBuf>,
    },
}

/// Reads rules from DIR, ./rules, or the built-in set; `Err` carries lint problems.
fn read(dir: Option<&Path>) -> anyhow::Result<(String, Result<LoadedRules, Vec<fwguard::rules::LintIssue>>)> {
    let default = Path::new("rules");
    let dir = dir.or_else(|| default.is_dir().then_some(default));
    let (label, sources) = match dir {
        Some(d) => {
            let sources = read_dir_sources(d)?;
            (d.display().to_string(), sources)
        }
        None => ("built-in rules".to_string(), embedded_sources()),
    };
    Ok((label, load(&sources)))
}

/// Runs a rules subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Lint { dir } => {
            let (label, loaded) = read(dir.as_deref())?;
            match loaded {
                Ok(l) => {
                    let s = &l.set;
                    let products: usize = s.families.iter().map(|f| f.products.len()).sum();
                    println!(
                        "{label}: ok: {} families, {products} products, {} flash chips, {} USB ids, {} policy rules, {} test files",
                        s.families.len(),
                        s.chips.len(),
                        s.usb.len(),
                        s.policy.len(),
                        l.tests.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(issues) => {
                    for i in &issues {
                        println!("{i}");
                    }
                    eprintln!("{label}: {} problem(s)", issues.len());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Test { dir, against } => {
            let (label, loaded) = read(dir.as_deref())?;
            let loaded = match loaded {
                Ok(l) => l,
                Err(issues) => {
                    for i in &issues {
                        println!("{i}");
                    }
                    // The tests could not run at all: exit 2, as for any command that could not run.
                    eprintln!("{label}: the rules do not load ({} problem(s)); fix them first", issues.len());
                    return Ok(ExitCode::from(2));
                }
            };
            let db = Database::from_rules(loaded.set.clone(), &label);
            let outcomes = run_tests(&loaded, &db);
            let on = colour_stdout();
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            for o in outcomes.iter().filter(|o| !o.passed) {
                println!("{} {}:{}: {}", paint("FAIL", Colour::Red, on), o.file, o.line, o.name);
                match &o.error {
                    Some(e) => println!("     the case is broken: {e}"),
                    None => {
                        println!("     expected {} {:?}", o.expected_verdict, o.expected_rules);
                        println!("     got      {} {:?}", o.verdict, o.rules);
                    }
                }
            }
            if let Some(old) = &against {
                let old_db = super::db_diff::open_any(old)?;
                print_changes(&case_changes(&run_tests(&loaded, &old_db), &outcomes), &old_db);
            }
            println!("{} passed, {failed} failed", outcomes.len() - failed);
            Ok(if failed == 0 && !outcomes.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Lists the cases whose outcome differs with the older database.
fn print_changes(changes: &[CaseChange], old: &Database) {
    let verdicts = changes.iter().filter(|c| c.verdict_changed()).count();
    println!(
        "against {} (v{}): {verdicts} case(s) change verdict, {} more change rule ids only",
        old.origin(),
        old.version(),
        changes.len() - verdicts
    );
    for c in changes {
        let what = if c.verdict_changed() { "verdict" } else { "rules" };
        println!("changed {what} {}:{}: {}", c.file, c.line, c.name);
        println!("     old  {} {:?}", c.old_verdict, c.old_rules);
        println!("     new  {} {:?}", c.new_verdict, c.new_rules);
    }
}
