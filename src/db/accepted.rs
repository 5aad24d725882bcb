//! The station's record of the highest database version it accepted from each signing key
//! (`$FWGUARD_HOME/trust.db`), which refuses rollbacks: a signed database older than one already
//! accepted from the same key, or the same version with other content.
//!
//! Written with `synchronous=FULL` inside one immediate transaction, so two processes accepting at
//! once cannot lower the record and a power cut cannot lose it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::migrate::{Migration, MigrationError, apply_migrations};
use super::signature::KeyId;
use super::{Database, DbError};

const MIGRATIONS: &[Migration] = &[Migration { version: 1, sql: include_str!("../../db/trust/0001_accepted.sql") }];

/// One accepted database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    /// The signing key id.
    pub key_id: String,
    /// The highest version accepted from it.
    pub version: u32,
    /// That database's content SHA-256.
    pub sha256: String,
    /// When, UTC, RFC 3339.
    pub accepted_at: String,
    /// The path or URL it came from.
    pub origin: String,
}

/// `trust.db` in a fwguard home.
#[derive(Debug, Clone)]
pub struct AcceptedStore {
    path: PathBuf,
}

impl AcceptedStore {
    /// The record in `home` (created on the first acceptance).
    pub fn in_home(home: &Path) -> AcceptedStore {
        AcceptedStore { path: home.join("trust.db") }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        |source| DbError::Sqlite { path: self.path.display().to_string(), source }
    }

    /// Opens the record for reading; `None` when nothing was ever accepted.
    fn open_read(&self) -> Result<Option<Connection>, DbError> {
        if !self.path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(self.err())?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(self.err())?;
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(self.err())?;
        if found == 0 {
            return Ok(None);
        }
        self.schema_known(found)?;
        Ok(Some(conn))
    }

    fn schema_known(&self, found: u32) -> Result<(), DbError> {
        let known = MIGRATIONS.len() as u32;
        if found > known {
            return Err(DbError::Invalid {
                path: self.path.display().to_string(),
                problem: format!("schema version {found} is newer than this fwguard knows ({known})"),
            });
        }
        Ok(())
    }

    /// What was accepted from the key `key_id` (16 hex digits, as [`KeyId`] prints).
    pub fn get(&self, key_id: &str) -> Result<Option<Accepted>, DbError> {
        let Some(conn) = self.open_read()? else { return Ok(None) };
        select(&conn, "WHERE key_id = ?1", [key_id]).map_err(self.err())
    }

    /// The highest version accepted from any key.
    pub fn highest(&self) -> Result<Option<Accepted>, DbError> {
        let Some(conn) = self.open_read()? else { return Ok(None) };
        select(&conn, "ORDER BY version DESC, accepted_at DESC LIMIT 1", []).map_err(self.err())
    }

    /// Refuses `db` (signed by `key`, read from `path`) if it rolls back what was accepted.
    pub fn check(&self, key: KeyId, db: &Database, path: &str) -> Result<(), DbError> {
        refuse_rollback(self.get(&key.to_string())?, db, path)
    }

    /// Refuses a rollback of what was accepted from `key`, and with `record` raises the record to
    /// `db` when it is newer. Reading first keeps the common case (nothing new) free of writes.
    pub fn accept(&self, key: KeyId, db: &Database, origin: &str, record: bool) -> Result<(), DbError> {
        let current = self.get(&key.to_string())?;
        let newer = current.as_ref().is_none_or(|c| c.version < db.version());
        refuse_rollback(current, db, origin)?;
        if record && newer {
            self.record(key, db, origin)?;
        }
        Ok(())
    }

    /// Records `db` as accepted from `key` if it is newer than what was; refuses a rollback,
    /// checked again inside the write transaction. Returns whether the record was raised.
    pub fn record(&self, key: KeyId, db: &Database, origin: &str) -> Result<bool, DbError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io { path: dir.display().to_string(), source })?;
        }
        let mut conn = Connection::open(&self.path).map_err(self.err())?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(self.err())?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(self.err())?;
        apply_migrations(&mut conn, MIGRATIONS).map_err(|e| match e {
            MigrationError::TooNew { found, .. } => {
                self.schema_known(found).err().unwrap_or_else(|| DbError::Home(e.to_string()))
            }
            MigrationError::Sqlite(source) => self.err()(source),
        })?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.err())?;
        let key_id = key.to_string();
        let current = select(&tx, "WHERE key_id = ?1", [&key_id]).map_err(self.err())?;
        refuse_rollback(current.clone(), db, origin)?;
        if current.is_some_and(|c| c.version == db.version()) {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO accepted (key_id, version, sha256, accepted_at, origin) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (key_id) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256,
                 accepted_at = excluded.accepted_at, origin = excluded.origin",
            params![key_id, db.version(), db.sha256(), crate::history::now_rfc3339(), origin],
        )
        .map_err(self.err())?;
        tx.commit().map_err(self.err())?;
        Ok(true)
    }
}

fn select<P: rusqlite::Params>(conn: &Connection, tail: &str, args: P) -> rusqlite::Result<Option<Accepted>> {
    let sql = format!("SELECT key_id, version, sha256, accepted_at, origin FROM accepted {tail}");
    conn.query_row(&sql, args, |r| {
        Ok(Accepted {
            key_id: r.get(0)?,
            version: r.get(1)?,
            sha256: r.get(2)?,
            accepted_at: r.get(3)?,
            origin: r.get(4)?,
        })
    })
    .optional()
}

fn refuse_rollback(current: Option<Accepted>, db: &Database, path: &str) -> Result<(), DbError> {
    let Some(a) = current else { return Ok(()) };
    if db.version() < a.version {
        return Err(DbError::Rollback { path: path.to_string(), version: db.version(), accepted: Box::new(a) });
    }
    if db.version() == a.version && db.sha256() != a.sha256 {
        return Err(DbError::Conflict {
            path: path.to_string(),
            version: db.version(),
            sha256: db.sha256().to_string(),
            accepted: Box::new(a),
        });
    }
    Ok(())
}
