//! The `fwguard` command line (placeholder main with `inspect`; merged with the full CLI later).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pre-flight validator, compatibility database and guarded flasher for Quectel modules.
#[derive(Parser)]
#[command(name = "fwguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What a package claims: identity, files, sizes, hashes, flash chips.
    Inspect(cmd::inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
