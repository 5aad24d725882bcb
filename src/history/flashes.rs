//! The flashes in the history: one row per `fwguard flash` (flashed, dry run, refused or failed),
//! in the `flashes` table of `history.db` (migration 0002).

use rusqlite::params;
use serde::Serialize;

use super::{History, HistoryError, now_rfc3339};

/// One flash, as recorded (`flashed`, `dry-run`, `refused` or `failed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlashRecord {
    /// Row id, once stored.
    pub id: Option<i64>,
    /// When, UTC, RFC 3339.
    pub time: String,
    /// The flash journal's run, when one was started.
    pub run: Option<i64>,
    /// The IMEI.
    pub imei: Option<String>,
    /// The boot ROM's serial.
    pub serial: Option<String>,
    /// The ATI model line.
    pub model: Option<String>,
    /// The revision before the flash.
    pub revision_before: Option<String>,
    /// The revision the module reported afterwards.
    pub revision_after: Option<String>,
    /// The package path.
    pub package: String,
    /// Its SHA-256.
    pub package_sha256: String,
    /// The rules database's version.
    pub db_version: Option<i64>,
    /// The rules database's SHA-256.
    pub db_sha256: Option<String>,
    /// The backup folder of the protected areas.
    pub backup_dir: Option<String>,
    /// `flashed`, `dry-run`, `refused` or `failed`.
    pub outcome: String,
    /// The exit code.
    pub exit_code: i64,
    /// Why it failed or was refused.
    pub message: Option<String>,
}

impl History {
    /// Stores a flash; returns its row id.
    pub fn record_flash(&self, r: &FlashRecord) -> Result<i64, HistoryError> {
        if !matches!(r.outcome.as_str(), "flashed" | "dry-run" | "refused" | "failed") {
            return Err(HistoryError::Invalid(format!(
                "flash outcome {:?} is not flashed, dry-run, refused or failed",
                r.outcome
            )));
        }
        let time = if r.time.is_empty() { now_rfc3339() } else { r.time.clone() };
        self.conn
            .execute(
                "INSERT INTO flashes (time, run, imei, serial, model, revision_before, revision_after, package,
                                      package_sha256, db_version, db_sha256, backup_dir, outcome, exit_code, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    time,
                    r.run,
                    r.imei,
                    r.serial,
                    r.model,
                    r.revision_before,
                    r.revision_after,
                    r.package,
                    r.package_sha256,
                    r.db_version,
                    r.db_sha256,
                    r.backup_dir,
                    r.outcome,
                    r.exit_code,
                    r.message
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The latest `limit` flashes, newest first.
    pub fn list_flashes(&self, limit: usize) -> Result<Vec<FlashRecord>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, time, run, imei, serial, model, revision_before, revision_after, package, package_sha256,
                        db_version, db_sha256, backup_dir, outcome, exit_code, message
                 FROM flashes ORDER BY time DESC, id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map([limit], |r| {
                Ok(FlashRecord {
                    id: r.get(0)?,
                    time: r.get(1)?,
                    run: r.get(2)?,
                    imei: r.get(3)?,
                    serial: r.get(4)?,
                    model: r.get(5)?,
                    revision_before: r.get(6)?,
                    revision_after: r.get(7)?,
                    package: r.get(8)?,
                    package_sha256: r.get(9)?,
                    db_version: r.get(10)?,
                    db_sha256: r.get(11)?,
                    backup_dir: r.get(12)?,
                    outcome: r.get(13)?,
                    exit_code: r.get(14)?,
                    message: r.get(15)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}
