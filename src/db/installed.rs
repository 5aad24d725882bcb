//! The database `fwguard db update` installed in `$FWGUARD_HOME/database/`.
//!
//! Each installed database lives in its own directory (`v3-<sha256 prefix>/`, the file and its
//! `.minisig`); the small `current` file names the one in effect. An install writes and syncs the
//! new directory first and then replaces `current` by a rename, so an update that fails or is cut
//! off at any point leaves the previous database in effect.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DbError;

/// The database file's name inside its directory.
pub const DB_FILE: &str = "fwguard-rules.db";
/// Its signature's name.
pub const SIG_FILE: &str = "fwguard-rules.db.minisig";

/// What `current` records about the installed database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// Its directory below `database/`.
    pub dir: String,
    /// Its version.
    pub version: u32,
    /// Its content SHA-256.
    pub sha256: String,
    /// The key that signed it.
    pub key_id: String,
    /// The URL or path it was fetched from.
    pub from: String,
    /// When it was installed, UTC, RFC 3339.
    pub installed_at: String,
}

/// `$FWGUARD_HOME/database/`.
#[derive(Debug, Clone)]
pub struct InstallDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io { path: path.display().to_string(), source }
}

/// Writes a file and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io(path))
}

/// Syncs a directory, so the renames in it survive a power cut.
fn sync_dir(dir: &Path) -> Result<(), DbError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl InstallDir {
    /// The install directory of a fwguard home.
    pub fn in_home(home: &Path) -> InstallDir {
        InstallDir { root: home.join("database") }
    }

    fn pointer(&self) -> PathBuf {
        self.root.join("current")
    }

    /// The installed database, if any. A damaged `current` is an error, not "none": fwguard
    /// never falls back silently to another database than the one installed.
    pub fn current(&self) -> Result<Option<Installed>, DbError> {
        let pointer = self.pointer();
        let text = match std::fs::read(&pointer) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&pointer)(e)),
        };
        let damaged = |problem: String| DbError::Invalid { path: pointer.display().to_string(), problem };
        let installed: Installed = serde_json::from_slice(&text)
            .map_err(|e| damaged(format!("damaged ({e}); run `fwguard db update` again")))?;
        let mut parts = Path::new(&installed.dir).components();
        if !matches!((parts.next(), parts.next()), (Some(Component::Normal(_)), None)) {
            return Err(damaged(format!(
                "names {:?}, which is not a directory below {}",
                installed.dir,
                self.root.display()
            )));
        }
        Ok(Some(installed))
    }

    /// The database file of an installed entry.
    pub fn db_path(&self, installed: &Installed) -> PathBuf {
        self.root.join(&installed.dir).join(DB_FILE)
    }

    /// Installs a verified database and its signature and makes it the one in effect.
    /// `entry.dir` is chosen here. Returns the entry as recorded.
    pub fn install(&self, db_bytes: &[u8], sig_text: &str, mut entry: Installed) -> Result<Installed, DbError> {
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let previous = self.current().ok().flatten().map(|p| p.dir);
        entry.dir = format!("v{}-{}", entry.version, &entry.sha256[..16.min(entry.sha256.len())]);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let staging = self.root.join(format!(".staging-{}-{nanos}", std::process::id()));
        let result = self.stage_and_switch(&staging, db_bytes, sig_text, &entry);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
            return result.map(|()| entry);
        }
        self.clean(&[Some(entry.dir.as_str()), previous.as_deref()]);
        Ok(entry)
    }

    fn stage_and_switch(&self, staging: &Path, db: &[u8], sig: &str, entry: &Installed) -> Result<(), DbError> {
        std::fs::create_dir(staging).map_err(io(staging))?;
        write_synced(&staging.join(DB_FILE), db)?;
        write_synced(&staging.join(SIG_FILE), sig.as_bytes())?;
        sync_dir(staging)?;
        let target = self.root.join(&entry.dir);
        if target.exists() {
            // Left by an update cut off after this step; `current` does not name it, or the caller
            // would have found the same database already installed.
            std::fs::remove_dir_all(&target).map_err(io(&target))?;
        }
        std::fs::rename(staging, &target).map_err(io(&target))?;
        sync_dir(&self.root)?;
        let pointer = self.pointer();
        let tmp = self.root.join("current.tmp");
        let json = serde_json::to_vec_pretty(entry)
            .map_err(|e| DbError::Invalid { path: pointer.display().to_string(), problem: e.to_string() })?;
        write_synced(&tmp, &json)?;
        std::fs::rename(&tmp, &pointer).map_err(io(&pointer))?;
        sync_dir(&self.root)
    }

    /// Removes the installed directories but the new and the previous one (a process that read
    /// `current` just before the switch may still be opening it), and what updates cut off more
    /// than an hour ago left behind.
    fn clean(&self, keep: &[Option<&str>]) {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return };
        let hour_old = |e: &std::fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|d| d.as_secs() > 3600)
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stale = (name.starts_with(".staging-") && hour_old(&e))
                || (name.starts_with('v') && !keep.contains(&Some(name.as_str())));
            if stale && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: u32, sha: &str) -> Installed {
        Installed {
            dir: String::new(),
            version,
            sha256: sha.repeat(64),
            key_id: "0123456789ABCDEF".into(),
            from: "test".into(),
            installed_at: "2025-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn an_install_cut_off_before_the_switch_leaves_the_previous_one_in_effect() {
        let home = tempfile::tempdir().unwrap();
        let dir = InstallDir::in_home(home.path());
        assert_eq!(dir.current().unwrap(), None);
        let first = dir.install(b"db one", "sig one", entry(2, "a")).unwrap();
        assert_eq!(dir.current().unwrap().as_ref(), Some(&first));
        assert_eq!(std::fs::read(dir.db_path(&first)).unwrap(), b"db one");

        // What a process killed mid-install leaves: a staging directory, the next version's
        // directory, and a pointer written but not renamed.
        let root = home.path().join("database");
        std::fs::create_dir(root.join(".staging-1-1")).unwrap();
        std::fs::create_dir(root.join("v3-bbbbbbbbbbbbbbbb")).unwrap();
        std::fs::write(root.join("current.tmp"), b"{\"dir\": \"v3-bbbb").unwrap();
        assert_eq!(dir.current().unwrap().as_ref(), Some(&first), "still the previous one");

        let second = dir.install(b"db two", "sig two", entry(3, "b")).unwrap();
        assert_eq!(dir.current().unwrap().as_ref(), Some(&second));
        assert_eq!(std::fs::read(dir.db_path(&second)).unwrap(), b"db two");
        assert_eq!(std::fs::read(dir.db_path(&first)).unwrap(), b"db one", "the previous one is kept");
        let third = dir.install(b"db three", "sig three", entry(4, "c")).unwrap();
        assert!(!dir.db_path(&first).exists(), "older ones are removed");
        assert_eq!(dir.current().unwrap(), Some(third));
    }

    #[test]
    fn a_damaged_pointer_is_an_error_not_a_fallback() {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().join("database");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("current"), b"garbage").unwrap();
        assert!(InstallDir::in_home(home.path()).current().is_err());
        let escape = serde_json::to_vec(&Installed { dir: "../../etc".into(), ..entry(1, "d") }).unwrap();
        std::fs::write(root.join("current"), escape).unwrap();
        assert!(InstallDir::in_home(home.path()).current().is_err());
    }
}
