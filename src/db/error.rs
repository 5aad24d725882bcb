//! Why a database could not be built, opened, trusted, signed or installed.

use super::accepted::Accepted;
use crate::rules::RulesError;

/// Why a database could not be built, opened, trusted, signed or installed. Each names the file
/// and both values where there are two; [`DbError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The rules did not load.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output path may not be replaced, or replacing it failed.
    #[error(transparent)]
    Replace(#[from] super::ReplaceError),
    /// The file is not a database this build can use.
    #[error("{path}: {problem}")]
    Invalid {
        /// The database file.
        path: String,
        /// What is wrong, with both values where there are two.
        problem: String,
    },
    /// The database is made for other fwguard versions (`requires_fwguard`), usually newer ones.
    #[error("{path}: the database requires fwguard {requires}, and this is fwguard {have}")]
    Requires {
        /// The database.
        path: String,
        /// Its semver requirement.
        requires: String,
        /// This binary's version.
        have: String,
    },
    /// No signature beside the database.
    #[error("{path}: not signed: there is no signature {signature}")]
    Unsigned {
        /// The database.
        path: String,
        /// Where its signature should be.
        signature: String,
    },
    /// The signature file is damaged or does not verify.
    #[error("{path}: signature {signature} is not valid: {problem}")]
    BadSignature {
        /// The database.
        path: String,
        /// The signature file.
        signature: String,
        /// What is wrong.
        problem: String,
    },
    /// Signed by a key the station does not trust.
    #[error("{path}: signed by key {key_id}, which is not a trusted key; trusted: {trusted}")]
    UnknownKey {
        /// The database.
        path: String,
        /// The key id in the signature.
        key_id: String,
        /// The trusted key ids and where each came from (or where keys were looked for).
        trusted: String,
    },
    /// The file's bytes are not the ones signed.
    #[error("{path}: the signature by key {key_id} does not match the file: {}", altered_text(actual, signed.as_deref()))]
    Altered {
        /// The database.
        path: String,
        /// The signing key id.
        key_id: String,
        /// SHA-256 of the file as it is.
        actual: String,
        /// SHA-256 the signature says it covered, when fwguard signed it.
        signed: Option<String>,
    },
    /// A signed database older than one this station already accepted from the same key.
    #[error(
        "{path}: database version {version} is older than version {}, which this station accepted from key {} at {} ({})",
        .accepted.version, .accepted.key_id, .accepted.accepted_at, .accepted.origin
    )]
    Rollback {
        /// The database.
        path: String,
        /// Its version.
        version: u32,
        /// The newest database accepted from the same key.
        accepted: Box<Accepted>,
    },
    /// The same version as an accepted one, with other content.
    #[error(
        "{path}: database version {version} has content SHA-256 {sha256}, but version {} accepted from key {} at {} had {}",
        .accepted.version, .accepted.key_id, .accepted.accepted_at, .accepted.sha256
    )]
    Conflict {
        /// The database.
        path: String,
        /// Its version (the same as the accepted one).
        version: u32,
        /// Its content SHA-256.
        sha256: String,
        /// The database accepted with that version.
        accepted: Box<Accepted>,
    },
    /// A key file is missing, damaged, locked or would be overwritten.
    #[error("{path}: {problem}")]
    Key {
        /// The key file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A published database could not be fetched.
    #[error("{from}: {problem}")]
    Fetch {
        /// The URL or path.
        from: String,
        /// What went wrong.
        problem: String,
    },
    /// No place for fwguard's state.
    #[error("no place for fwguard's state: {0}")]
    Home(String),
}

fn altered_text(actual: &str, signed: Option<&str>) -> String {
    match signed {
        Some(s) => format!(
            "its SHA-256 is {actual}, the signature was made over {s}: the database or its signature was changed after signing"
        ),
        None => format!("its SHA-256 is {actual}: the database or its signature was changed after signing"),
    }
}

impl DbError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            DbError::Rules(_) => "run `fwguard rules lint` and fix what it reports",
            DbError::Replace(e) => e.hint(),
            DbError::Sqlite { .. } | DbError::Io { .. } => {
                "check the path, or leave out --db / FWGUARD_DB to use the built-in or installed database"
            }
            DbError::Invalid { .. } => {
                "rebuild it with `fwguard db build`, or leave out --db / FWGUARD_DB to use the built-in or installed database"
            }
            DbError::Requires { .. } => {
                "install a fwguard that meets the requirement (usually a newer one), or use a database published for this version"
            }
            DbError::Unsigned { .. } => {
                "get the database with its .minisig from where support publishes it (`fwguard db update --from ...`); support staff testing their own rules can pass --allow-unsigned"
            }
            DbError::BadSignature { .. } | DbError::Altered { .. } => {
                "fetch the database and its .minisig again from where support publishes them; do not use this copy"
            }
            DbError::UnknownKey { .. } => {
                "put the publisher's .pub file in $FWGUARD_HOME/trusted-keys/ (or name it in FWGUARD_TRUSTED_KEYS) if you trust it"
            }
            DbError::Rollback { .. } | DbError::Conflict { .. } => {
                "use the newest published database (`fwguard db update --from ...`); a publisher raises the version with every change"
            }
            DbError::Key { .. } => {
                "check the key file and its password; `fwguard db keygen --out NAME` makes a key pair"
            }
            DbError::Fetch { .. } => {
                "check the URL or path and the network; the database in effect before the update is still in effect"
            }
            DbError::Home(_) => "set FWGUARD_HOME to a writable directory",
        }
    }
}
