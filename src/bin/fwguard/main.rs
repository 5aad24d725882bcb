//! The `fwguard` command line: a thin front end over the library.
//!
//! Exit codes: 0 allowed / done, 1 blocked / refused / rules rejected, 2 could not run; `flash`
//! also 3: failed after writing began.

mod cmd;
mod draw;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Checks Quectel module firmware before it is flashed, against a versioned compatibility database.
#[derive(Parser)]
#[command(name = "fwguard", version, about, long_about = None, propagate_version = true)]
struct Cli {
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
    /// Run a simulated module on a pseudo-terminal until killed or stdin closes.
    Sim(cmd::sim::Args),
    /// List attached Quectel modules: port, USB id, mode, role.
    Ports(cmd::ports::Args),
    /// Show past checks and flashes.
    History(cmd::history::Args),
    /// Show what a firmware package claims: identity, files, sizes, hashes, flash chips.
    Inspect(cmd::inspect::Args),
}

fn main() -> ExitCode {
    // A closed pipe (`fwguard check --json | head -c1`) ends the process quietly, as it does for
    // other Unix tools, instead of a panic on the next write.
    // SAFETY: setting a signal's disposition to its default installs no handler code.
    let _ =
        unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) };
    output::init_tracing();
    let cli = Cli::parse();
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e);
            ExitCode::from(2)
        }
    }
}
