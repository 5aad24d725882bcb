//! Numbered schema migrations, tracked in SQLite's `user_version`. Used by the compiled rules
//! database (`db/rules/`) and by fwguard's own state (`db/state/`).

use rusqlite::{Connection, TransactionBehavior};

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
///
/// Safe when several processes open the same new file at once (fifty `fwguard check` started
/// together on a fresh `FWGUARD_HOME`): each migration runs in an `IMMEDIATE` transaction, which
/// takes the write lock first (waiting within the connection's busy timeout), and the version is
/// read again under that lock, so a migration another process applied meanwhile is skipped
/// rather than run twice.
pub fn apply_migrations(conn: &mut Connection, migrations: &[Migration]) -> Result<u32, MigrationError> {
    let known = migrations.last().map(|m| m.version).unwrap_or(0);
    let found = user_version(conn)?;
    if found > known {
        return Err(MigrationError::TooNew { found, known });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = user_version(&tx)?;
        if now > known {
            return Err(MigrationError::TooNew { found: now, known });
        }
        if m.version <= now {
            continue;
        }
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    Ok(known)
}

fn user_version(conn: &Connection) -> Result<u32, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] = &[
        Migration { version: 1, sql: "CREATE TABLE a (x INTEGER);" },
        Migration { version: 2, sql: "CREATE TABLE b (y INTEGER);" },
    ];

    #[test]
    fn concurrent_first_opens_migrate_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = Connection::open(&path).unwrap();
                    conn.busy_timeout(std::time::Duration::from_secs(20)).unwrap();
                    apply_migrations(&mut conn, STEPS)
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), 2);
        }
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
        assert!(matches!(apply_migrations(&mut conn, STEPS), Err(MigrationError::TooNew { found: 7, known: 2 })));
    }
}
