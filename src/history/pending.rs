//! The pending check log: `history.pending` beside `history.db`, to which `fwguard check` appends
//! one JSON line per check instead of opening SQLite, which would cost more than the rest of an
//! offline check together (open, schema, write-ahead log index, insert). Opening the history
//! ([`super::History::open`]) imports the log into `history.db` and empties it; so does an append
//! that finds the log longer than [`PENDING_LIMIT`], so it never grows without bound.
//!
//! Appenders hold a shared lock on the log while they write, each line in one append, and the
//! importer an exclusive one while it reads, commits (`synchronous=FULL`) and truncates, so no
//! line is lost between the read and the truncation. A line carries a key unique to its check
//! (stored as `checks.pending_key`, migration 0004): an import cut off after its commit and before
//! the truncation stores nothing twice when the next import reads the same lines again. Like a
//! commit with `synchronous=NORMAL`, an append is not synced: a power cut may lose the last
//! checks, never the history. A line cut off by a crash is dropped and counted.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{CheckRecord, HistoryError, insert_check, validate};

/// The log's length past which an append imports it into `history.db`: about 250 checks.
pub const PENDING_LIMIT: u64 = 256 * 1024;

/// The longest line the import reads; a longer one is dropped (a check's line is about 1 KiB).
const MAX_LINE: usize = 1024 * 1024;

/// One line of the log.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// Unique to this check: nanoseconds since the epoch, process id, a counter.
    key: String,
    /// The check.
    check: CheckRecord,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    /// Checks moved into `history.db` (those already there counted too).
    pub checks: usize,
    /// Lines that were not a check (cut off by a crash, or damaged) and were dropped.
    pub dropped: usize,
}

/// The log beside the history database at `db`: `history.db` → `history.pending`.
pub fn pending_path(db: &Path) -> PathBuf {
    db.with_extension("pending")
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> HistoryError + '_ {
    move |source| HistoryError::Pending { path: path.to_path_buf(), source }
}

fn new_key() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Opens the log, refusing anything but a regular file: a FIFO planted in its place would
/// otherwise hold every check (opened without `O_NONBLOCK`, it waits for a reader).
fn open_regular(options: &mut OpenOptions, path: &Path) -> Result<File, HistoryError> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, nix::libc::O_NONBLOCK);
    let file = options.open(path).map_err(io_err(path))?;
    if !file.metadata().map_err(io_err(path))?.is_file() {
        let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
        return Err(HistoryError::Pending { path: path.to_path_buf(), source });
    }
    Ok(file)
}

/// Appends a check to the log beside `db` (creating its directory and the log if needed); returns
/// the log's length afterwards.
pub fn append(db: &Path, r: &CheckRecord) -> Result<u64, HistoryError> {
    validate(r)?;
    let path = pending_path(db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir { path: dir.to_path_buf(), source })?;
    }
    let entry = Entry { key: new_key(), check: r.clone() };
    let mut line = serde_json::to_vec(&entry).map_err(|e| HistoryError::Invalid(e.to_string()))?;
    line.push(b'\n');
    let mut file = open_regular(OpenOptions::new().append(true).create(true), &path)?;
    file.lock_shared().map_err(io_err(&path))?;
    file.write_all(&line).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    Ok(len)
}

/// Imports the log beside `db` into `conn` and empties it; a missing log imports nothing.
pub(super) fn import(conn: &mut Connection, db: &Path) -> Result<Imported, HistoryError> {
    let path = pending_path(db);
    let file = match open_regular(OpenOptions::new().read(true).write(true), &path) {
        Ok(f) => f,
        Err(HistoryError::Pending { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Imported::default());
        }
        Err(e) => return Err(e),
    };
    // Waits for appends in progress; new ones wait for the truncation.
    file.lock().map_err(io_err(&path))?;
    if file.metadata().map_err(io_err(&path))?.len() == 0 {
        return Ok(Imported::default());
    }
    let sql = |source| HistoryError::Sqlite { path: db.to_path_buf(), source };
    // The checks must be on disk before the log that holds them is emptied.
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
    let imported = store_lines(conn, &file, &path, db);
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
    let imported = imported?;
    file.set_len(0).map_err(io_err(&path))?;
    Ok(imported)
}

/// Reads every line of the log and stores its check, in one transaction.
fn store_lines(conn: &mut Connection, file: &File, path: &Path, db: &Path) -> Result<Imported, HistoryError> {
    let sql = |source| HistoryError::Sqlite { path: db.to_path_buf(), source };
    let tx = conn.transaction().map_err(sql)?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut imported = Imported::default();
    while let Some(whole) = next_line(&mut reader, &mut line).map_err(io_err(path))? {
        let entry = whole.then(|| serde_json::from_slice::<Entry>(&line).ok()).flatten();
        match entry {
            Some(e) if validate(&e.check).is_ok() => {
                insert_check(&tx, &e.check, Some(&e.key)).map_err(sql)?;
                imported.checks += 1;
            }
            _ => imported.dropped += 1,
        }
    }
    tx.commit().map_err(sql)?;
    Ok(imported)
}

/// Reads the next line into `buf` without its newline: `Some(true)` for a whole line, `Some(false)`
/// for one longer than [`MAX_LINE`] (skipped to its end) or cut off at the end of the file, `None`
/// at the end.
fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    buf.clear();
    let n = reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Some(true));
    }
    if buf.len() <= MAX_LINE {
        return Ok(Some(false)); // the end of the file, cut off
    }
    // Too long: skip the rest of it.
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(Some(false));
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(Some(false));
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::History;
    use super::*;

    fn check(n: usize) -> CheckRecord {
        let mut r = CheckRecord::new("manual", "EC25EFAR06A17M4G_01.001.01.001", &format!("candidate {n}"), "allow");
        r.findings = serde_json::json!([{ "rule": "reinstall", "severity": "warn" }]);
        r.db_version = Some(2);
        r
    }

    fn candidates(h: &History) -> Vec<String> {
        let mut c: Vec<String> = h.list(10_000).unwrap().into_iter().map(|r| r.candidate).collect();
        c.sort();
        c
    }

    #[test]
    fn appended_checks_are_imported_once_and_the_log_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("home/history.db");
        append(&db, &check(1)).unwrap();
        append(&db, &check(2)).unwrap();
        assert!(!db.exists(), "an append does not touch the database");
        let saved = std::fs::read(pending_path(&db)).unwrap();

        let h = History::open(&db).unwrap();
        assert_eq!(h.imported(), Imported { checks: 2, dropped: 0 });
        let stored = h.list(10).unwrap();
        assert_eq!(stored.len(), 2);
        let mut first = stored.into_iter().find(|r| r.candidate == "candidate 1").unwrap();
        first.id = None;
        let mut want = check(1);
        want.time = first.time.clone();
        assert_eq!(first, want);
        assert_eq!(std::fs::metadata(pending_path(&db)).unwrap().len(), 0);
        drop(h);

        // An import cut off after its commit leaves the lines in the log: the next one stores
        // nothing twice.
        std::fs::write(pending_path(&db), saved).unwrap();
        let h = History::open(&db).unwrap();
        assert_eq!(h.imported().checks, 2);
        assert_eq!(h.count().unwrap(), 2);
    }

    #[test]
    fn lines_that_are_not_a_whole_check_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        append(&db, &check(1)).unwrap();
        let mut log = OpenOptions::new().append(true).open(pending_path(&db)).unwrap();
        log.write_all(b"not json\n").unwrap();
        log.write_all(b"{\"key\":\"k\",\"check\":{\"verdict\":\"maybe\"}}\n").unwrap();
        log.write_all(&vec![b'x'; MAX_LINE + 10]).unwrap();
        log.write_all(b"\n").unwrap();
        drop(log);
        append(&db, &check(2)).unwrap();
        let mut log = OpenOptions::new().append(true).open(pending_path(&db)).unwrap();
        log.write_all(b"{\"key\":\"cut off").unwrap();
        drop(log);
        let h = History::open(&db).unwrap();
        assert_eq!(h.imported(), Imported { checks: 2, dropped: 4 });
        assert_eq!(candidates(&h), ["candidate 1", "candidate 2"]);
    }

    #[test]
    fn a_long_log_is_imported_by_the_append_that_finds_it_long() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        let mut n = 0;
        while !db.exists() {
            super::super::append_check(&db, &check(n)).unwrap();
            n += 1;
            assert!(n < 10_000, "the log was never imported");
        }
        assert_eq!(std::fs::metadata(pending_path(&db)).unwrap().len(), 0);
        assert!(n > 100, "imported after only {n} checks");
        assert_eq!(History::open(&db).unwrap().count().unwrap(), n as u64);
    }

    #[test]
    fn concurrent_appends_and_imports_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        History::open(&db).unwrap();
        let appenders: Vec<_> = (0..4)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        append(&db, &check(t * 1000 + i)).unwrap();
                    }
                })
            })
            .collect();
        let importer = {
            let db = db.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    History::open(&db).unwrap();
                }
            })
        };
        for a in appenders {
            a.join().unwrap();
        }
        importer.join().unwrap();
        let h = History::open(&db).unwrap();
        let mut want: Vec<String> =
            (0..4).flat_map(|t| (0..50).map(move |i| format!("candidate {}", t * 1000 + i))).collect();
        want.sort();
        assert_eq!(candidates(&h), want);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_the_log_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        nix::unistd::mkfifo(&pending_path(&db), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Opened for writing without a reader it fails at once (ENXIO); opened for the import, it
        // is found not to be a file.
        let e = append(&db, &check(1)).unwrap_err();
        assert!(e.to_string().contains("history.pending"), "{e}");
        let e = History::open(&db).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn an_invalid_check_is_refused_before_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        let bad = CheckRecord::new("manual", "r", "c", "maybe");
        assert!(matches!(append(&db, &bad), Err(HistoryError::Invalid(_))));
        assert!(!pending_path(&db).exists());
    }
}
