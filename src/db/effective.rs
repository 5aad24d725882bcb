//! The database in effect and its trust decision, the same for every command that judges
//! (`check`, `flash`, `ports`, `explain`, `db info`):
//!
//! 1. a file named by `--db` or `FWGUARD_DB`;
//! 2. else the database `fwguard db update` installed, unless the built-in one is newer;
//! 3. else the built-in database, trusted as part of the binary.
//!
//! A file must carry a valid signature (`FILE.minisig`) by a trusted key and must not be older
//! than a database this station already accepted from that key; otherwise it is refused, unless
//! `--allow-unsigned` is given, which the verdict then reports. `requires_fwguard` is never waived.

use std::path::{Path, PathBuf};

use super::accepted::{Accepted, AcceptedStore};
use super::builtin;
use super::fetch::MAX_DATABASE_BYTES;
use super::installed::InstallDir;
use super::provenance::{Provenance, Trust};
use super::signature::{MAX_SIGNATURE_BYTES, Verified, read_small, verify_bytes, with_suffix};
use super::trusted_keys::TrustedKeys;
use super::{Database, DbError};

/// How to choose the database.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// A file named by `--db` or `FWGUARD_DB`.
    pub db: Option<PathBuf>,
    /// Use a file without a valid signature by a trusted key (support staff testing rules).
    pub allow_unsigned: bool,
    /// The fwguard home (default: `FWGUARD_HOME`, else the user's data directory).
    pub home: Option<PathBuf>,
}

/// The fwguard home: `FWGUARD_HOME`, else `$XDG_DATA_HOME/fwguard`, else `~/.local/share/fwguard`.
pub fn home() -> Result<PathBuf, DbError> {
    crate::history::fwguard_home().map_err(|e| DbError::Home(e.to_string()))
}

/// Loads the database in effect, with its trust decision in [`Database::provenance`]. Accepting a
/// signed file newer than any before from its key records it (durably) before returning.
pub fn load_in_effect(opts: &LoadOptions) -> Result<Database, DbError> {
    let home = match &opts.home {
        Some(h) => Ok(h.clone()),
        None => home(),
    };
    if let Some(path) = &opts.db {
        return open_trusted(path, &home?, opts.allow_unsigned, "named by --db or FWGUARD_DB", Record::Yes);
    }
    let builtin_with = |why: String| -> Database {
        let mut db = Database::builtin();
        db.provenance.allow_unsigned = opts.allow_unsigned;
        db.provenance.why = why;
        db
    };
    let Ok(home) = home else {
        // Nowhere for an installed database or a trust record: the built-in one, as before any set-up.
        return Ok(builtin_with("no --db or FWGUARD_DB, and no fwguard home (FWGUARD_HOME, HOME)".into()));
    };
    let builtin_version = builtin::version();
    let mut db = match InstallDir::in_home(&home).current()? {
        Some(installed) if installed.version >= builtin_version => {
            let why = format!("installed by `fwguard db update` from {} at {}", installed.from, installed.installed_at);
            let path = InstallDir::in_home(&home).db_path(&installed);
            return open_trusted(&path, &home, opts.allow_unsigned, &why, Record::Yes);
        }
        Some(installed) => builtin_with(format!(
            "the built-in database (version {builtin_version}) is newer than the installed one (version {}, from {})",
            installed.version, installed.from
        )),
        None => builtin_with("no --db, FWGUARD_DB or installed database".into()),
    };
    db.provenance.outdated_by =
        AcceptedStore::in_home(&home).highest()?.filter(|a: &Accepted| a.version > builtin_version);
    Ok(db)
}

/// Whether accepting a file raises the station's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Record it (a database put to use).
    Yes,
    /// Only check it (`db verify`).
    No,
}

/// Opens a database file and decides whether to trust it: signature by a trusted key, no
/// rollback, `requires_fwguard`. With `allow_unsigned`, a file that fails the signature or
/// rollback rules is used anyway and marked unsigned, with the reason.
pub fn open_trusted(
    path: &Path,
    home: &Path,
    allow_unsigned: bool,
    why: &str,
    record: Record,
) -> Result<Database, DbError> {
    let bytes = read_small(path, MAX_DATABASE_BYTES)?;
    let v = match verify_file(path, &bytes, home) {
        Ok(v) => v,
        Err(e) if allow_unsigned && is_trust_refusal(&e) => {
            let mut db = Database::from_bytes(&bytes, &path.display().to_string())?;
            db.provenance = untrusted(why, &e);
            return Ok(db);
        }
        Err(e) => return Err(e),
    };
    let mut db = Database::from_bytes(&bytes, &path.display().to_string())?;
    let store = AcceptedStore::in_home(home);
    let origin = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    match store.accept(v.key.id, &db, &origin, record == Record::Yes) {
        Ok(()) => {}
        Err(e) if allow_unsigned && is_trust_refusal(&e) => {
            db.provenance = untrusted(why, &e);
            return Ok(db);
        }
        Err(e) => return Err(e),
    }
    db.provenance = Provenance {
        trust: Trust::Signed,
        signer: Some(v.key.id.to_string()),
        signer_key: Some(v.key.from.clone()),
        allow_unsigned,
        untrusted_because: None,
        why: why.to_string(),
        outdated_by: None,
    };
    Ok(db)
}

/// Checks a file's bytes against `FILE.minisig` and the keys the station trusts.
pub fn verify_file(path: &Path, bytes: &[u8], home: &Path) -> Result<Verified, DbError> {
    let sig_path = with_suffix(path, ".minisig");
    let sig = match read_small(&sig_path, MAX_SIGNATURE_BYTES) {
        Ok(s) => s,
        Err(DbError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(DbError::Unsigned {
                path: path.display().to_string(),
                signature: sig_path.display().to_string(),
            });
        }
        Err(e) => return Err(e),
    };
    let keys = TrustedKeys::load(home)?;
    verify_bytes(path, bytes, &sig_path, &String::from_utf8_lossy(&sig), keys.keys(), &keys.places())
}

/// Refusals that `--allow-unsigned` waives: the signature and rollback rules.
fn is_trust_refusal(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Unsigned { .. }
            | DbError::BadSignature { .. }
            | DbError::UnknownKey { .. }
            | DbError::Altered { .. }
            | DbError::Rollback { .. }
            | DbError::Conflict { .. }
    )
}

fn untrusted(why: &str, e: &DbError) -> Provenance {
    Provenance { allow_unsigned: true, untrusted_because: Some(e.to_string()), ..Provenance::unchecked(why) }
}
