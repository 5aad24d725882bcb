//! `fwguard db update --from URL|PATH`: fetch a published database and its signature, check both
//! rules (a trusted signature, no rollback) and `requires_fwguard`, and install it atomically as
//! the database in effect. Nothing is installed or recorded unless every check passes.

use std::path::Path;

use super::accepted::AcceptedStore;
use super::fetch::fetch;
use super::installed::{InstallDir, Installed};
use super::signature::{NamedKey, verify_bytes};
use super::trusted_keys::TrustedKeys;
use super::{Database, DbError};

/// What an update did.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    /// The database now installed.
    pub installed: Installed,
    /// The one installed before, if any.
    pub previous: Option<Installed>,
    /// Whether it was already installed (nothing changed).
    pub unchanged: bool,
    /// The key that signed it.
    pub key: NamedKey,
}

/// Fetches, verifies and installs the database published at `from`, in the fwguard `home`.
pub fn update(from: &str, home: &Path) -> Result<UpdateOutcome, DbError> {
    let fetched = fetch(from)?;
    let keys = TrustedKeys::load(home)?;
    let verified = verify_bytes(
        Path::new(&fetched.from),
        &fetched.bytes,
        Path::new(&fetched.signature_from),
        &fetched.signature,
        keys.keys(),
        &keys.places(),
    )?;
    let db = Database::from_bytes(&fetched.bytes, &fetched.from)?;
    let store = AcceptedStore::in_home(home);
    store.check(verified.key.id, &db, &fetched.from)?;
    let dir = InstallDir::in_home(home);
    // A damaged record of the previous install does not stand in the way of a good new one.
    let previous = dir.current().ok().flatten();
    let key_id = verified.key.id.to_string();
    if let Some(p) = previous.as_ref().filter(|p| p.sha256 == db.sha256() && p.version == db.version())
        && p.key_id == key_id
        && dir.db_path(p).is_file()
    {
        store.record(verified.key.id, &db, &fetched.from)?;
        return Ok(UpdateOutcome { installed: p.clone(), previous, unchanged: true, key: verified.key });
    }
    let entry = Installed {
        dir: String::new(),
        version: db.version(),
        sha256: db.sha256().to_string(),
        key_id,
        from: fetched.from.clone(),
        installed_at: crate::history::now_rfc3339(),
    };
    let installed = dir.install(&fetched.bytes, &fetched.signature, entry)?;
    store.record(verified.key.id, &db, &fetched.from)?;
    Ok(UpdateOutcome { installed, previous, unchanged: false, key: verified.key })
}
