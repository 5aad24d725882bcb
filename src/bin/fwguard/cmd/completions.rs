//! `fwguard completions SHELL` and `fwguard man [--dir DIR]`: shell completions (clap_complete)
//! and man pages (clap_mangen), generated from the same command definitions as `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap_complete::Shell;

/// Arguments of `fwguard completions`.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  fwguard completions bash > ~/.local/share/bash-completion/completions/fwguard
  fwguard completions zsh > ~/.zfunc/_fwguard
  fwguard completions fish > ~/.config/fish/completions/fwguard.fish")]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `fwguard man`.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  fwguard man | man -l -
  fwguard man --dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write fwguard.1 and one page per command (fwguard-check.1, ...) into DIR instead of
    /// printing fwguard.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completions for `args.shell` on stdout.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "fwguard", &mut out);
    super::out(String::from_utf8_lossy(&out).trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page, or writes every page into `--dir`.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = crate::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            super::out(&format!("wrote man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            super::out(String::from_utf8_lossy(&out).trim_end())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
