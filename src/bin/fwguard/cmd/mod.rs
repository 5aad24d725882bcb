//! One file per subcommand.

pub mod check;
pub mod db;
pub mod explain;
pub mod rules;

use std::path::Path;

use fwguard::db::Database;

use crate::output::hinted;

/// The database `--db FILE` / `FWGUARD_DB` names, else the built-in one.
pub fn load_database(path: Option<&Path>) -> anyhow::Result<Database> {
    let db = match path {
        Some(p) => Database::open(p),
        None => Database::builtin(),
    };
    db.map_err(|e| {
        let hint = e.hint();
        hinted(e, hint)
    })
}
