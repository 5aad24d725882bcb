//! Numbered schema migrations, tracked in SQLite's `user_version`.

use rusqlite::Connection;

/// One migration: its number (1-based, consecutive) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version it produces.
    pub version: u32,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// Brings a database to the newest of `migrations`, each in its own transaction.
///
/// Refuses a database whose version is newer than this build knows.
pub fn apply_migrations(conn: &mut Connection, migrations: &[Migration]) -> Result<u32, String> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    let newest = migrations.last().map(|m| m.version).unwrap_or(0);
    if current > newest {
        return Err(format!("schema version {current} is newer than this fwguard knows ({newest})"));
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(m.sql).map_err(|e| format!("migration {}: {e}", m.version))?;
        tx.pragma_update(None, "user_version", m.version).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(newest)
}
