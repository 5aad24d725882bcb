//! One module per subcommand: `Args` (clap) and `run`.

pub mod check;
pub mod completions;
pub mod db;
pub mod db_diff;
pub mod explain;
pub mod flash;
pub mod history;
pub mod inspect;
pub mod ports;
pub mod rules;
pub mod sim;

use std::io::Write;
use std::path::Path;

use fwguard::db::{Database, DbError, LoadOptions, load_in_effect};

use crate::output::hinted;

/// The database in effect (`--db FILE` / `FWGUARD_DB`, else the installed one, else the built-in
/// one), refused unless trusted or `allow_unsigned`.
pub fn load_database(path: Option<&Path>, allow_unsigned: bool) -> anyhow::Result<Database> {
    let opts = LoadOptions { db: path.map(Path::to_path_buf), allow_unsigned, home: None };
    load_in_effect(&opts).map_err(db_error)
}

/// A database error with its hint.
pub fn db_error(e: DbError) -> anyhow::Error {
    let hint = e.hint();
    hinted(e, hint)
}

/// Prints `text` and a newline to stdout; a closed pipe (`fwguard ports | head`) is not an error.
pub fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// A private folder for a simulated module's `--root` tree (so discovery follows it into its
/// download mode and back), removed when the command ends.
pub struct TempTree(std::path::PathBuf);

impl TempTree {
    /// `$TMPDIR/fwguard-<command>-sim-<pid>`.
    pub fn new(command: &str) -> anyhow::Result<TempTree> {
        let base = std::env::temp_dir().join(format!("fwguard-{command}-sim-{}", std::process::id()));
        std::fs::create_dir_all(&base)?;
        Ok(TempTree(base))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
