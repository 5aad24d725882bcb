//! One module per subcommand: `Args` (clap) and `run`.

pub mod check;
pub mod completions;
pub mod db;
pub mod explain;
pub mod flash;
pub mod history;
pub mod inspect;
pub mod ports;
pub mod rules;
pub mod sim;

use std::io::Write;
use std::path::Path;

use fwguard::db::Database;

/// The database `--db FILE` / `FWGUARD_DB` names, else the built-in one.
pub fn load_database(path: Option<&Path>) -> anyhow::Result<Database> {
    let db = match path {
        Some(p) => Database::open(p),
        None => Database::builtin(),
    };
    Ok(db?)
}

/// Prints `text` and a newline to stdout; a closed pipe (`fwguard ports | head`) is not an error.
pub fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
