//! The check history: every check fwguard makes, kept in SQLite at `$FWGUARD_HOME/history.db`
//! (default `$XDG_DATA_HOME/fwguard`, else `~/.local/share/fwguard`).
//!
//! The schema comes from the numbered migrations in `db/state/` (embedded), applied in order by
//! `PRAGMA user_version`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::db::{Migration, MigrationError, apply_migrations};

mod flashes;
mod pending;

pub use flashes::FlashRecord;
pub use pending::{Imported, PENDING_LIMIT, pending_path};

/// The migrations of the state database (history and flash journal), in order; the database's
/// `user_version` counts how many are applied.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, sql: include_str!("../../db/state/0001_history.sql") },
    Migration { version: 2, sql: include_str!("../../db/state/0002_flash.sql") },
    Migration { version: 3, sql: include_str!("../../db/state/0003_patch_steps.sql") },
    Migration { version: 4, sql: include_str!("../../db/state/0004_pending_key.sql") },
];

/// How long a writer waits for another process's lock on the history before giving up: 30 s.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The write-ahead log's size past which a check checkpoints it: about 30 checks, so reading the
/// log at start-up stays well under a millisecond and the checkpoint's fsyncs are rare.
const LOG_LIMIT: u64 = 256 * 1024;

/// Why the history could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Neither `FWGUARD_HOME` nor a home directory is set.
    #[error("no place for the history: FWGUARD_HOME and HOME are unset")]
    NoHome,
    /// The directory could not be created.
    #[error("{path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The database was written by a newer fwguard.
    #[error("{path}: schema version {found} is newer than this fwguard knows ({known})")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: usize,
    },
    /// A record is not valid (e.g. a verdict other than allow, warn or block).
    #[error("invalid check record: {0}")]
    Invalid(String),
    /// The pending check log could not be written or read.
    #[error("{path}: {source}")]
    Pending {
        /// The log, `history.pending`.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl HistoryError {
    /// What to try next.
    pub fn hint(&self) -> &'static str {
        match self {
            HistoryError::NoHome => "set FWGUARD_HOME to a writable directory",
            HistoryError::Dir { .. } | HistoryError::Sqlite { .. } | HistoryError::Pending { .. } => {
                "check that FWGUARD_HOME is writable and that no other program locks history.db"
            }
            HistoryError::TooNew { .. } => "upgrade fwguard, or point FWGUARD_HOME elsewhere",
            HistoryError::Invalid(_) => "this is a bug in the caller",
        }
    }
}

/// One check, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// Row id, once stored.
    pub id: Option<i64>,
    /// When, UTC, RFC 3339.
    pub time: String,
    /// The AT port queried, if any.
    pub port: Option<String>,
    /// The port's USB id, `2c7c:0125`, when known.
    pub usb_id: Option<String>,
    /// How the module was described: `port`, `sim` or `manual`.
    pub device_source: String,
    /// The ATI model line.
    pub model: Option<String>,
    /// The revision read or typed.
    pub revision: String,
    /// The IMEI read.
    pub imei: Option<String>,
    /// The flash ID, upper-case hex.
    pub flash_id: Option<String>,
    /// The secure-boot state read.
    pub secure_boot: Option<bool>,
    /// The candidate: image path or `--to` name.
    pub candidate: String,
    /// `allow`, `warn` or `block`.
    pub verdict: String,
    /// The findings, as `check --json` prints them.
    pub findings: serde_json::Value,
    /// The rules database's version.
    pub db_version: Option<i64>,
    /// The rules database's sha256.
    pub db_sha256: Option<String>,
}

impl CheckRecord {
    /// A record stamped now, with the required fields; fill in the rest.
    pub fn new(device_source: &str, revision: &str, candidate: &str, verdict: &str) -> CheckRecord {
        CheckRecord {
            id: None,
            time: now_rfc3339(),
            port: None,
            usb_id: None,
            device_source: device_source.into(),
            model: None,
            revision: revision.into(),
            imei: None,
            flash_id: None,
            secure_boot: None,
            candidate: candidate.into(),
            verdict: verdict.into(),
            findings: serde_json::Value::Array(Vec::new()),
            db_version: None,
            db_sha256: None,
        }
    }
}

/// The history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
    imported: Imported,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("path", &self.path).finish()
    }
}

/// `$FWGUARD_HOME`, else `$XDG_DATA_HOME/fwguard`, else `$HOME/.local/share/fwguard`.
pub fn fwguard_home() -> Result<PathBuf, HistoryError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = var("FWGUARD_HOME") {
        return Ok(home);
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return Ok(data.join("fwguard"));
    }
    var("HOME").map(|h| h.join(".local/share/fwguard")).ok_or(HistoryError::NoHome)
}

impl History {
    /// Opens (creating if needed) `history.db` in [`fwguard_home`].
    pub fn open_default() -> Result<History, HistoryError> {
        History::open(&fwguard_home()?.join("history.db"))
    }

    /// Opens (creating if needed) the history at `path`, applying pending migrations.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir { path: dir.to_path_buf(), source })?;
        }
        let conn =
            Connection::open(path).map_err(|source| HistoryError::Sqlite { path: path.to_path_buf(), source })?;
        let mut history = History::init(conn, path.to_path_buf())?;
        history.imported = pending::import(&mut history.conn, path)?;
        if history.imported.checks > 0 {
            history.keep_log_short();
        }
        Ok(history)
    }

    /// A history in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<History, HistoryError> {
        let path = PathBuf::from(":memory:");
        let conn =
            Connection::open_in_memory().map_err(|source| HistoryError::Sqlite { path: path.clone(), source })?;
        History::init(conn, path)
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<History, HistoryError> {
        let sql = |source| HistoryError::Sqlite { path: path.clone(), source };
        // Many `fwguard check` may run at once (a test station with several modules): each waits
        // its turn for the write lock rather than failing, and the first ones create the schema
        // safely (see `apply_migrations`).
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // A check record needs no fsync of its own: in WAL mode with synchronous=NORMAL a commit
        // only appends to the log, and a crash never corrupts the file (it may lose the last
        // records). The log is not checkpointed when the connection closes (that costs fsyncs on
        // every check) but by `record_check` once it has grown past `LOG_LIMIT` (see there).
        // The flash journal opens its own connection with synchronous=FULL.
        let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(sql)?;
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(sql)?;
        apply_migrations(&mut conn, MIGRATIONS).map_err(|e| match e {
            MigrationError::TooNew { found, known } => {
                HistoryError::TooNew { path: path.clone(), found: i64::from(found), known: known as usize }
            }
            MigrationError::Sqlite(source) => HistoryError::Sqlite { path: path.clone(), source },
        })?;
        Ok(History { conn, path, imported: Imported::default() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening it imported from the pending check log.
    pub fn imported(&self) -> Imported {
        self.imported
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, HistoryError> {
        self.conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite { path: self.path.clone(), source }
    }

    /// Stores a check; returns its row id. `fwguard check` uses the cheaper [`append_check`].
    pub fn record_check(&self, r: &CheckRecord) -> Result<i64, HistoryError> {
        validate(r)?;
        insert_check(&self.conn, r, None).map_err(|e| self.err(e))?;
        let id = self.conn.last_insert_rowid();
        self.keep_log_short();
        Ok(id)
    }

    /// Checkpoints and empties the write-ahead log once it is longer than `LOG_LIMIT`. Each new
    /// process rebuilds its index of the log by reading all of it, and SQLite's own automatic
    /// checkpoints would never restart a log whose index was rebuilt, so without this the log and
    /// the cost of every check would grow without bound. A failure here loses nothing.
    fn keep_log_short(&self) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > LOG_LIMIT) {
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// The latest `limit` checks, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<CheckRecord>, HistoryError> {
        let sql = format!("SELECT {COLUMNS} FROM checks ORDER BY time DESC, id DESC LIMIT ?1");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], row_to_record).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// How many checks are recorded.
    pub fn count(&self) -> Result<u64, HistoryError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM checks", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The check with row id `id`.
    pub fn get(&self, id: i64) -> Result<Option<CheckRecord>, HistoryError> {
        let sql = format!("SELECT {COLUMNS} FROM checks WHERE id = ?1");
        self.conn.query_row(&sql, [id], row_to_record).optional().map_err(|e| self.err(e))
    }
}

/// Records a check in the history at `db` the cheap way: one line appended to the pending check
/// log beside it, imported into `db` when the log has grown past [`PENDING_LIMIT`] (and whenever
/// the history is opened).
pub fn append_check(db: &Path, r: &CheckRecord) -> Result<(), HistoryError> {
    if pending::append(db, r)? > PENDING_LIMIT {
        History::open(db)?;
    }
    Ok(())
}

/// Refuses a record the schema would refuse.
fn validate(r: &CheckRecord) -> Result<(), HistoryError> {
    if !matches!(r.verdict.as_str(), "allow" | "warn" | "block") {
        return Err(HistoryError::Invalid(format!("verdict {:?} is not allow, warn or block", r.verdict)));
    }
    Ok(())
}

/// Inserts a check; with a pending-log key, a check already stored under that key is left as it is.
fn insert_check(conn: &Connection, r: &CheckRecord, key: Option<&str>) -> rusqlite::Result<usize> {
    let findings = serde_json::to_string(&r.findings).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT OR IGNORE INTO checks (time, port, usb_id, device_source, model, revision, imei, flash_id,
                                       secure_boot, candidate, verdict, findings, db_version, db_sha256, pending_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            r.time,
            r.port,
            r.usb_id,
            r.device_source,
            r.model,
            r.revision,
            r.imei,
            r.flash_id,
            r.secure_boot,
            r.candidate,
            r.verdict,
            findings,
            r.db_version,
            r.db_sha256,
            key
        ],
    )
}

const COLUMNS: &str = "id, time, port, usb_id, device_source, model, revision, imei, flash_id, secure_boot, \
                       candidate, verdict, findings, db_version, db_sha256";

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<CheckRecord> {
    let findings: String = row.get(12)?;
    Ok(CheckRecord {
        id: row.get(0)?,
        time: row.get(1)?,
        port: row.get(2)?,
        usb_id: row.get(3)?,
        device_source: row.get(4)?,
        model: row.get(5)?,
        revision: row.get(6)?,
        imei: row.get(7)?,
        flash_id: row.get(8)?,
        secure_boot: row.get(9)?,
        candidate: row.get(10)?,
        verdict: row.get(11)?,
        findings: serde_json::from_str(&findings).unwrap_or(serde_json::Value::String(findings)),
        db_version: row.get(13)?,
        db_sha256: row.get(14)?,
    })
}

/// Now, UTC, RFC 3339 with seconds: `2025-01-31T12:00:00Z`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift to a calendar starting on 0000-03-01 so leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_164_799), "2024-02-28T23:59:59Z");
        assert_eq!(rfc3339(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn the_log_stays_short_across_processes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        for i in 0..150 {
            // A new connection for each check, as a new process makes.
            let h = History::open(&path).unwrap();
            let mut r = CheckRecord::new("hand", "EC25EFAR06A17M4G_20.200.20.200", "x", "allow");
            r.findings = serde_json::json!([{ "rule": "reinstall", "message": "m".repeat(300) }]);
            h.record_check(&r).unwrap();
            assert_eq!(h.list(1000).unwrap().len(), i + 1);
        }
        let wal = std::fs::metadata(dir.path().join("history.db-wal")).map(|m| m.len()).unwrap_or(0);
        assert!(wal <= LOG_LIMIT + 64 * 1024, "the log grew to {wal} bytes");
    }

    #[test]
    fn record_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.db");
        let h = History::open(&path).unwrap();
        assert_eq!(h.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mut r =
            CheckRecord::new("sim", "EC25EFAR06A17M4G_20.200.20.200", "EC25EFAR08A01M4G_01.001.01.001", "block");
        r.port = Some("/dev/pts/3".into());
        r.usb_id = Some("2c7c:0125".into());
        r.model = Some("EC25".into());
        r.imei = Some("861234000000011".into());
        r.secure_boot = Some(false);
        r.findings = serde_json::json!([{ "rule": "cross-baseline", "severity": "block" }]);
        r.db_version = Some(1);
        r.db_sha256 = Some("ab".repeat(32));
        let id = h.record_check(&r).unwrap();
        let mut later = CheckRecord::new("manual", "EC25EFAR06A17M4G", "x.zip", "allow");
        later.time = "2999-01-01T00:00:00Z".into();
        h.record_check(&later).unwrap();
        drop(h);

        // Reopening applies nothing new and keeps the rows.
        let h = History::open(&path).unwrap();
        let all = h.list(10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].candidate, "x.zip");
        let mut stored = all[1].clone();
        assert_eq!(stored.id, Some(id));
        stored.id = None;
        assert_eq!(stored, r);
        assert_eq!(h.list(1).unwrap().len(), 1);
        assert_eq!(h.count().unwrap(), 2);
        assert_eq!(h.get(id).unwrap().map(|c| c.verdict), Some("block".into()));
        assert!(h.get(999).unwrap().is_none());
    }

    #[test]
    fn migration_3_keeps_the_journal_and_takes_patch_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            crate::db::apply_migrations(&mut conn, &MIGRATIONS[..2]).unwrap();
            conn.execute_batch(
                "INSERT INTO flash_runs (id, started, platform, package, package_sha256, plan)
                     VALUES (1, '2026-01-01T00:00:00Z', 'qualcomm', 'p', 'ab', '[]');
                 INSERT INTO flash_steps (run, step, kind, partition, started, outcome, detail)
                     VALUES (1, 3, 'write', 'mibib', '2026-01-01T00:00:01Z', 'done', 'sent');",
            )
            .unwrap();
            let patch = "INSERT INTO flash_steps (run, kind, started) VALUES (1, 'patch', 'x')";
            assert!(conn.execute(patch, []).is_err(), "version 2 has no patch steps");
        }
        let h = History::open(&path).unwrap();
        assert_eq!(h.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(h);
        let conn = Connection::open(&path).unwrap();
        let kept: (i64, String, String) = conn
            .query_row("SELECT step, kind, detail FROM flash_steps WHERE run = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(kept, (3, "write".into(), "sent".into()));
        conn.execute("INSERT INTO flash_steps (run, kind, started) VALUES (1, 'patch', 'x')", []).unwrap();
        assert!(conn.execute("INSERT INTO flash_steps (run, kind, started) VALUES (1, 'poke', 'x')", []).is_err());
    }

    #[test]
    fn refuses_bad_records_and_newer_schemas() {
        let h = History::open_in_memory().unwrap();
        assert!(matches!(h.record_check(&CheckRecord::new("sim", "r", "c", "maybe")), Err(HistoryError::Invalid(_))));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(History::open(&path), Err(HistoryError::TooNew { found: 99, .. })));
    }
}
