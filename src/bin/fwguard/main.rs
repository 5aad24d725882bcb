//! `fwguard`: the command-line front end. Exit codes: 0 ok, 2 error (errors print `error: ...`
//! and `hint: ...` on stderr).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Stops people flashing the wrong firmware onto Quectel cellular modules.
#[derive(Parser)]
#[command(name = "fwguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a simulated module on a pseudo-terminal until killed or stdin closes.
    Sim(cmd::sim::Args),
    /// List attached Quectel modules: port, USB id, mode, role.
    Ports(cmd::ports::Args),
    /// Show past checks.
    History(cmd::history::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(args) => cmd::sim::run(args),
        Command::Ports(args) => cmd::ports::run(args),
        Command::History(args) => cmd::history::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(hint) = cmd::hint(&e) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
