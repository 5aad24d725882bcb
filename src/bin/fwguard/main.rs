//! The `fwguard` command line: a thin front end over the library.
//!
//! Exit codes: 0 allowed / done, 1 blocked / refused / rules rejected, 2 could not run; `flash`
//! also 3: failed after writing began.

mod cmd;
mod draw;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// `0.1.0 (built-in database v1, commit 0123456789ab)`: the commit when built from git.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("FWGUARD_BUILD_INFO"), ")");

/// What `fwguard --help` ends with.
const AFTER_HELP: &str = "\
Examples:
  fwguard check --sim ec25-e --to EC25EFAR08A01M4G_01.001.01.001
  fwguard check --port /dev/ttyUSB2 --image EC25EFAR06A18M4G_20.201.20.201.zip
  fwguard sim ec25-e --write-package demo
  fwguard check --sim ec25-e --image demo/EC25EFAR06A17M4G_20.200.20.200.zip
  fwguard ports
  fwguard explain cross-baseline

Environment:
  FWGUARD_HOME        where the check history lives (default $XDG_DATA_HOME/fwguard,
                      else ~/.local/share/fwguard)
  FWGUARD_DB          a published database file to use instead of the built-in one (--db)
  FWGUARD_SYSFS       the sysfs root port discovery reads (default /sys)
  FWGUARD_DEV         the folder of device nodes (default /dev)
  FWGUARD_NO_HISTORY  1: record no checks in the history (check --no-history)
  FWGUARD_LOG         log filter for stderr, e.g. debug (off by default)
  NO_COLOR            set and not empty: no colour (--color always overrides it)

Exit codes: 0 allowed or done, 1 blocked or refused, 2 could not run.";

/// Checks Quectel module firmware before it is flashed, against a versioned compatibility database.
#[derive(Parser)]
#[command(name = "fwguard", version = VERSION, about, long_about = None, propagate_version = true)]
#[command(after_help = AFTER_HELP)]
pub struct Cli {
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", global = true, default_value_t = output::ColorChoice::Auto)]
    color: output::ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judge a module and a candidate image: exit 0 allowed, 1 blocked, 2 could not run.
    Check(cmd::check::Args),
    /// Flash a package onto a module, guarded: exit 0 flashed, 1 refused, 2 error before writing,
    /// 3 failed after writing began.
    Flash(cmd::flash::Args),
    /// Explain a rule id: what it means, its source, what to do.
    Explain(cmd::explain::Args),
    /// Lint and test the rules in rules/.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Build and describe compiled databases.
    #[command(subcommand)]
    Db(cmd::db::Command),
    /// Run a simulated module on a pseudo-terminal until stopped (Ctrl-C, SIGTERM, end of stdin).
    Sim(cmd::sim::Args),
    /// List attached Quectel modules: port, USB id, mode, role.
    Ports(cmd::ports::Args),
    /// Show past checks and flashes.
    History(cmd::history::Args),
    /// Show what a firmware package claims: identity, files, sizes, hashes, flash chips.
    Inspect(cmd::inspect::Args),
    /// Print shell completions: fwguard completions bash > /etc/bash_completion.d/fwguard
    Completions(cmd::completions::Args),
    /// Print the man page (roff), or write one page per command into a folder.
    Man(cmd::completions::ManArgs),
}

impl Command {
    /// Whether the command was asked for JSON (an error is then also JSON on stdout).
    fn json(&self) -> bool {
        match self {
            Command::Check(a) => a.json,
            Command::Ports(a) => a.json,
            Command::History(a) => a.json,
            Command::Inspect(a) => a.json,
            Command::Db(cmd::db::Command::Info { json, .. }) => *json,
            _ => false,
        }
    }
}

/// The clap command, for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

fn main() -> ExitCode {
    // A closed pipe (`fwguard check --json | head -c1`) ends the process quietly, as it does for
    // other Unix tools, instead of a panic on the next write.
    // SAFETY: setting a signal's disposition to its default installs no handler code.
    let _ =
        unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() && std::env::args().any(|a| a == "--json") {
                let first = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
                let _ = output::print_json(&serde_json::json!({
                    "error": first,
                    "hint": "see fwguard --help, or the --help of the command",
                }));
            }
            e.exit();
        }
    };
    output::set_color(cli.color);
    output::init_tracing();
    let json = cli.command.json();
    let result = match cli.command {
        Command::Check(a) => cmd::check::run(a),
        Command::Flash(a) => cmd::flash::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Db(c) => cmd::db::run(c),
        Command::Sim(a) => cmd::sim::run(a),
        Command::Ports(a) => cmd::ports::run(a),
        Command::History(a) => cmd::history::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Man(a) => cmd::completions::man(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::from(2)
        }
    }
}
