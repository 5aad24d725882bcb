//! The flash journal: SQLite in `$FWGUARD_HOME/history.db` (tables from `db/state/0002_flash.sql`),
//! written with `synchronous=FULL` before and after every operation of a flash, so that after a
//! crash, a cut cable or a power loss it says which module, which package, and exactly which
//! ranges were erased, written and verified. `--resume` reads it back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::driver::Region;
use crate::db::{MigrationError, apply_migrations};
use crate::diagnostic::Diagnostic;
use crate::history::now_rfc3339;

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The folder could not be created.
    #[error("{path}: {source}")]
    Dir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("flash journal {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The file was written by a newer fwguard.
    #[error("flash journal {path}: schema version {found} is newer than this fwguard knows ({known})")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
}

impl Diagnostic for JournalError {
    fn code(&self) -> &'static str {
        match self {
            JournalError::Dir { .. } => "fwguard::journal::dir",
            JournalError::Sqlite { .. } => "fwguard::journal::sqlite",
            JournalError::TooNew { .. } => "fwguard::journal::schema_too_new",
        }
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            JournalError::Dir { .. } | JournalError::Sqlite { .. } => {
                "check that FWGUARD_HOME is writable and has space; fwguard writes nothing to a module it cannot journal"
            }
            JournalError::TooNew { .. } => "upgrade fwguard, or point FWGUARD_HOME elsewhere",
        }
        .into())
    }
}

/// What kind of operation a journal row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Taking the module into its download mode.
    Enter,
    /// Handshake and programmer upload.
    Connect,
    /// The storage comparison.
    Gate,
    /// Reading a protected area into the backup.
    Backup,
    /// A plan step's erase.
    Erase,
    /// A plan step's write.
    Write,
    /// A plan step's patch (the device changes bytes in place).
    Patch,
    /// Checking a written range.
    Verify,
    /// Resetting the module.
    Reset,
    /// Finding the module again and reading its revision.
    Reidentify,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Enter => "enter",
            Kind::Connect => "connect",
            Kind::Gate => "gate",
            Kind::Backup => "backup",
            Kind::Erase => "erase",
            Kind::Write => "write",
            Kind::Patch => "patch",
            Kind::Verify => "verify",
            Kind::Reset => "reset",
            Kind::Reidentify => "reidentify",
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It was done.
    Done,
    /// It was not needed (a resumed flash found the range already right).
    Skipped,
    /// It failed.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// What a run starts with.
#[derive(Debug, Clone, Default)]
pub struct RunStart {
    /// The IMEI.
    pub imei: Option<String>,
    /// The boot ROM serial, when known.
    pub serial: Option<String>,
    /// The ATI model line.
    pub model: Option<String>,
    /// The product code.
    pub product: Option<String>,
    /// The revision before the flash.
    pub revision_before: Option<String>,
    /// The platform.
    pub platform: String,
    /// The package path.
    pub package: String,
    /// The package's SHA-256.
    pub package_sha256: String,
    /// The package's revision.
    pub package_revision: Option<String>,
    /// The database's version.
    pub db_version: Option<i64>,
    /// The database's SHA-256.
    pub db_sha256: Option<String>,
    /// The plan's steps, as JSON.
    pub plan: String,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// When it started.
    pub started: String,
    /// `running`, `done`, `failed` or `superseded`.
    pub status: String,
    /// The IMEI.
    pub imei: Option<String>,
    /// The boot ROM serial.
    pub serial: Option<String>,
    /// The product code.
    pub product: Option<String>,
    /// The revision before.
    pub revision_before: Option<String>,
    /// The platform.
    pub platform: String,
    /// The package path.
    pub package: String,
    /// The package's SHA-256.
    pub package_sha256: String,
    /// The plan's steps, as JSON.
    pub plan: String,
    /// The backup folder, once a verified backup was taken.
    pub backup_dir: Option<String>,
}

/// One operation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// The plan step's index, if it is one.
    pub step: Option<i64>,
    /// The kind (`write`, `verify`, ...).
    pub kind: String,
    /// The partition.
    pub partition: Option<String>,
    /// First byte.
    pub offset: Option<i64>,
    /// Length.
    pub length: Option<i64>,
    /// When it began.
    pub started: String,
    /// When it ended; `None` if it never did.
    pub finished: Option<String>,
    /// `done`, `skipped`, `failed`; `None` if it never ended.
    pub outcome: Option<String>,
    /// What happened.
    pub detail: Option<String>,
}

/// The journal.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens (creating if needed) the journal in `home` (`$FWGUARD_HOME`).
    pub fn open(home: &Path) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(home).map_err(|source| JournalError::Dir { path: home.to_path_buf(), source })?;
        let path = home.join("history.db");
        let conn = Connection::open(&path).map_err(|source| JournalError::Sqlite { path: path.clone(), source })?;
        Journal::init(conn, path)
    }

    /// A journal in memory (tests).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        let path = PathBuf::from(":memory:");
        let conn =
            Connection::open_in_memory().map_err(|source| JournalError::Sqlite { path: path.clone(), source })?;
        Journal::init(conn, path)
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Journal, JournalError> {
        let sql = |source| JournalError::Sqlite { path: path.clone(), source };
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        // Every commit reaches the disk before the operation it records goes on.
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        apply_migrations(&mut conn, crate::history::MIGRATIONS).map_err(|e| match e {
            MigrationError::TooNew { found, known } => JournalError::TooNew { path: path.clone(), found, known },
            MigrationError::Sqlite(source) => JournalError::Sqlite { path: path.clone(), source },
        })?;
        Ok(Journal { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `synchronous` setting in effect (2 is FULL).
    pub fn synchronous(&self) -> Result<i64, JournalError> {
        self.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite { path: self.path.clone(), source }
    }

    /// Starts a run; returns its id.
    pub fn begin_run(&self, r: &RunStart) -> Result<i64, JournalError> {
        self.conn
            .execute(
                "INSERT INTO flash_runs (started, imei, serial, model, product, revision_before, platform, package,
                                         package_sha256, package_revision, db_version, db_sha256, plan)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    now_rfc3339(),
                    r.imei,
                    r.serial,
                    r.model,
                    r.product,
                    r.revision_before,
                    r.platform,
                    r.package,
                    r.package_sha256,
                    r.package_revision,
                    r.db_version,
                    r.db_sha256,
                    r.plan
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records the boot ROM's serial number of the run's module.
    pub fn set_serial(&self, run: i64, serial: &str) -> Result<(), JournalError> {
        self.update("UPDATE flash_runs SET serial = ?2 WHERE id = ?1", params![run, serial])
    }

    /// Records the run's verified backup folder.
    pub fn set_backup(&self, run: i64, dir: &Path) -> Result<(), JournalError> {
        self.update("UPDATE flash_runs SET backup_dir = ?2 WHERE id = ?1", params![run, dir.display().to_string()])
    }

    /// Ends a run: `done`, `failed` or `superseded`, with a message.
    pub fn finish_run(&self, run: i64, status: &str, message: Option<&str>) -> Result<(), JournalError> {
        self.update(
            "UPDATE flash_runs SET status = ?2, finished = ?3, message = ?4 WHERE id = ?1",
            params![run, status, now_rfc3339(), message],
        )
    }

    /// Marks every unfinished run of the module with `imei` (or `serial`), other than `except`,
    /// superseded: a new flash of the module replaces them, and `--resume` no longer offers them.
    pub fn supersede(&self, imei: Option<&str>, serial: Option<&str>, except: i64) -> Result<(), JournalError> {
        self.update(
            "UPDATE flash_runs SET status = 'superseded', finished = ?4
             WHERE id != ?3 AND status IN ('running', 'failed')
               AND ((?1 IS NOT NULL AND imei = ?1) OR (?2 IS NOT NULL AND serial = ?2))",
            params![imei, serial, except, now_rfc3339()],
        )
    }

    /// Marks a run running again (a resume continues it).
    pub fn reopen_run(&self, run: i64) -> Result<(), JournalError> {
        self.update("UPDATE flash_runs SET status = 'running', finished = NULL WHERE id = ?1", params![run])
    }

    fn update(&self, sql: &str, p: impl rusqlite::Params) -> Result<(), JournalError> {
        self.conn.execute(sql, p).map(|_| ()).map_err(|e| self.err(e))
    }

    /// Records that an operation begins (before it does); returns the row to end.
    pub fn begin(
        &self,
        run: i64,
        step: Option<usize>,
        kind: Kind,
        region: Option<&Region>,
        expected_sha256: Option<&str>,
    ) -> Result<i64, JournalError> {
        let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "INSERT INTO flash_steps (run, step, kind, partition, offset, length, expected_sha256, started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    run,
                    step.map(|s| s as i64),
                    kind.as_str(),
                    region.map(|r| r.partition.clone()),
                    region.map(|r| as_i64(r.offset)),
                    region.map(|r| as_i64(r.length)),
                    expected_sha256,
                    now_rfc3339()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how an operation ended (after it did).
    pub fn end(&self, row: i64, outcome: Outcome, detail: &str, device_log: &[String]) -> Result<(), JournalError> {
        let log = (!device_log.is_empty()).then(|| device_log.join("\n"));
        self.update(
            "UPDATE flash_steps SET finished = ?2, outcome = ?3, detail = ?4, device_log = ?5 WHERE id = ?1",
            params![row, now_rfc3339(), outcome.as_str(), detail, log],
        )
    }

    /// A run by id.
    pub fn run(&self, id: i64) -> Result<Option<Run>, JournalError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM flash_runs WHERE id = ?1");
        self.conn.query_row(&sql, [id], row_to_run).optional().map_err(|e| self.err(e))
    }

    /// The runs that did not finish (`running` or `failed`), newest first.
    pub fn unfinished(&self) -> Result<Vec<Run>, JournalError> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM flash_runs WHERE status IN ('running', 'failed') ORDER BY id DESC");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_run).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The operations of a run, in order.
    pub fn entries(&self, run: i64) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, step, kind, partition, offset, length, started, finished, outcome, detail
                 FROM flash_steps WHERE run = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run], |r| {
                Ok(Entry {
                    id: r.get(0)?,
                    step: r.get(1)?,
                    kind: r.get(2)?,
                    partition: r.get(3)?,
                    offset: r.get(4)?,
                    length: r.get(5)?,
                    started: r.get(6)?,
                    finished: r.get(7)?,
                    outcome: r.get(8)?,
                    detail: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

const RUN_COLUMNS: &str =
    "id, started, status, imei, serial, product, revision_before, platform, package, package_sha256, plan, backup_dir";

fn row_to_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        started: r.get(1)?,
        status: r.get(2)?,
        imei: r.get(3)?,
        serial: r.get(4)?,
        product: r.get(5)?,
        revision_before: r.get(6)?,
        platform: r.get(7)?,
        package: r.get(8)?,
        package_sha256: r.get(9)?,
        plan: r.get(10)?,
        backup_dir: r.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_before_and_after_survive_a_reopen() {
        let home = tempfile::tempdir().unwrap();
        let j = Journal::open(home.path()).unwrap();
        assert_eq!(j.synchronous().unwrap(), 2, "synchronous=FULL");
        let run = j
            .begin_run(&RunStart {
                imei: Some("861234000000011".into()),
                platform: "qualcomm".into(),
                package: "p.zip".into(),
                package_sha256: "ab".repeat(32),
                plan: "[]".into(),
                ..RunStart::default()
            })
            .unwrap();
        let region = Region::new("modem", 0x1000, 0x2000);
        let row = j.begin(run, Some(3), Kind::Write, Some(&region), Some("cd")).unwrap();
        // A crash here: the row says the write began and never ended.
        drop(j);
        let j = Journal::open(home.path()).unwrap();
        let e = &j.entries(run).unwrap()[0];
        assert_eq!((e.kind.as_str(), e.step, e.outcome.clone()), ("write", Some(3), None));
        assert_eq!((e.partition.as_deref(), e.offset, e.length), (Some("modem"), Some(0x1000), Some(0x2000)));
        j.end(row, Outcome::Done, "sent 8192 bytes", &["log line".into()]).unwrap();
        assert_eq!(j.entries(run).unwrap()[0].outcome.as_deref(), Some("done"));
        assert_eq!(j.unfinished().unwrap().len(), 1);
        j.set_serial(run, "0x1234").unwrap();
        j.finish_run(run, "done", None).unwrap();
        assert!(j.unfinished().unwrap().is_empty());
        assert_eq!(j.run(run).unwrap().unwrap().serial.as_deref(), Some("0x1234"));

        // The history and the journal share the file and its migrations.
        let h = crate::history::History::open(&home.path().join("history.db")).unwrap();
        assert_eq!(h.schema_version().unwrap(), crate::history::MIGRATIONS.len() as i64);
    }
}
