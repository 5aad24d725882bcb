//! Numbered schema migrations, tracked in SQLite's `user_version`. Used by the compiled rules
//! database (`db/rules/`) and by fwguard's own state (`db/state/`).

use rusqlite::Connection;

/// One migration: its number (1-based, consecutive) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version it produces.
    pub version: u32,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// Why migrations could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer fwguard.
    #[error("schema version {found} is newer than this fwguard knows ({known})")]
    TooNew {
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings a database to the newest of `migrations`, each in its own transaction; returns it.
pub fn apply_migrations(conn: &mut Connection, migrations: &[Migration]) -> Result<u32, MigrationError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = migrations.last().map(|m| m.version).unwrap_or(0);
    if found > known {
        return Err(MigrationError::TooNew { found, known });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    Ok(known)
}
