//! Replacing a file atomically and only when it is a regular file: `db build --out` (and any
//! other file fwguard publishes) is written to a temporary file in the same folder, synced, and
//! renamed over the target, so a reader sees the old file or the new one, never half of one,
//! and a crash leaves the old file. What is at the target is checked first: a symbolic link, a
//! FIFO, a device node, a socket or a folder is refused, never written through or replaced.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Why a file could not be replaced.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError {
    /// The target exists and is not a regular file.
    #[error("{path}: {kind}; only a regular file is replaced")]
    NotAFile {
        /// The target.
        path: PathBuf,
        /// What it is: `a symbolic link`, `a FIFO (named pipe)`, ...
        kind: &'static str,
    },
    /// Creating, writing, syncing or renaming failed.
    #[error("{path}: {source}")]
    Io {
        /// The file the operation was on.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl ReplaceError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ReplaceError::NotAFile { .. } => {
                "give a new path or a regular file; fwguard never writes through a link or over a device, FIFO, socket or folder"
            }
            ReplaceError::Io { .. } => "check that the folder exists and is writable, and that the disk has room",
        }
    }
}

/// A file being replaced: write the new content to [`Replacement::temp_path`], then
/// [`Replacement::commit`]. Dropped without a commit, the temporary file is removed and the
/// target is untouched.
#[derive(Debug)]
pub struct Replacement {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl Replacement {
    /// Checks that `target` is absent or a regular file (a link to one is refused too), and
    /// creates an empty temporary file beside it, readable by all and writable by the owner.
    pub fn begin(target: &Path) -> Result<Replacement, ReplaceError> {
        check_target(target)?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).mode(0o644).open(&temp) {
                Ok(_) => return Ok(Replacement { target: target.to_path_buf(), temp, committed: false }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(ReplaceError::Io { path: temp, source }),
            }
        }
        Err(ReplaceError::Io {
            path: dir,
            source: io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary file name"),
        })
    }

    /// The temporary file to write the new content to.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Syncs the temporary file, checks the target again, renames the temporary file over it
    /// and syncs the folder, so the new file survives a power cut.
    pub fn commit(mut self) -> Result<(), ReplaceError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReplaceError::Io { path, source }
        };
        File::open(&self.temp).and_then(|f| f.sync_all()).map_err(io(&self.temp))?;
        check_target(&self.target)?;
        fs::rename(&self.temp, &self.target).map_err(io(&self.target))?;
        self.committed = true;
        let dir = self.target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        Ok(())
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Absent, or a regular file (not through a link).
fn check_target(target: &Path) -> Result<(), ReplaceError> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReplaceError::Io { path: target.to_path_buf(), source }),
    };
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else {
        crate::image::archive::file_kind(&t)
    };
    Err(ReplaceError::NotAFile { path: target.to_path_buf(), kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(target: &Path, text: &str) -> Result<(), ReplaceError> {
        let r = Replacement::begin(target)?;
        fs::write(r.temp_path(), text).unwrap();
        r.commit()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_new_and_replaces_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.db");
        replace(&target, "one").unwrap();
        replace(&target, "two").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "two");
        assert!(leftovers(dir.path()).is_empty());
        // Abandoned: the target keeps its content and the temporary file goes.
        let r = Replacement::begin(&target).unwrap();
        fs::write(r.temp_path(), "three").unwrap();
        drop(r);
        assert_eq!(fs::read_to_string(&target).unwrap(), "two");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn refuses_links_fifos_devices_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.db");
        fs::write(&real, "keep").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let fifo = dir.path().join("fifo.db");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        for (target, kind) in [
            (link.as_path(), "a symbolic link"),
            (fifo.as_path(), "a FIFO (named pipe)"),
            (dir.path(), "a folder"),
            (Path::new("/dev/null"), "a character device"),
        ] {
            match Replacement::begin(target) {
                Err(ReplaceError::NotAFile { kind: k, .. }) => assert_eq!(k, kind, "{}", target.display()),
                other => panic!("{}: {other:?}", target.display()),
            }
        }
        assert_eq!(fs::read_to_string(&real).unwrap(), "keep");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(leftovers(dir.path()).is_empty());
    }
}
