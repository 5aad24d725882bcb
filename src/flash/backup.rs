//! The backup of a module's protected areas (calibration, NV, IMEI), read from the module before
//! the first write and kept under `$FWGUARD_HOME/backups/<IMEI>/<UTC time>/`: one file per area
//! and `manifest.json` with their SHA-256s. Every file and the folder are fsynced before the
//! flash goes on, and a backup counts as verified only when a second reading of each area (the
//! device's digest, else a second read) and the file on disk give the same SHA-256.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::driver::{Connection, Region};
use super::error::FlashError;
use super::hashing::HashWriter;
use super::plan::ProtectedArea;
use crate::image::archive::hex;

/// One area in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackedUp {
    /// Where it was read from.
    #[serde(flatten)]
    pub region: Region,
    /// What it holds.
    pub holds: String,
    /// The file, relative to the backup folder.
    pub file: String,
    /// The SHA-256 of its bytes.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The module's IMEI, when read.
    pub imei: Option<String>,
    /// The boot ROM's serial.
    pub serial: Option<String>,
    /// When, UTC.
    pub time: String,
    /// The package the flash wrote.
    pub package_sha256: String,
    /// The areas.
    pub areas: Vec<BackedUp>,
}

/// A verified backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// `[A-Za-z0-9._-]` only, so a module's id or a partition name cannot leave the folder.
fn safe(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with('.') { format!("_{s}") } else { s }
}

/// The folder for a new backup: `root/<key>/<UTC time>` (basic ISO 8601, `20250131T120000Z`),
/// with a suffix when two backups fall in the same second.
fn new_dir(root: &Path, key: &str) -> io::Result<PathBuf> {
    let time: String = crate::history::now_rfc3339().chars().filter(|c| *c != '-' && *c != ':').collect();
    let parent = root.join(safe(key));
    fs::create_dir_all(&parent)?;
    for n in 0..1000 {
        let name = if n == 0 { time.clone() } else { format!("{time}-{n}") };
        let dir = parent.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, "a thousand backups in one second"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes into a file and a hash at once.
struct Tee<'a> {
    file: &'a mut File,
    hash: HashWriter,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_all(buf)?;
        self.hash.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// What the backup needs to know about the module and the flash.
#[derive(Debug, Clone)]
pub struct BackupFor<'a> {
    /// The module's folder name (IMEI, else `serial-<serial>`).
    pub key: &'a str,
    /// The IMEI.
    pub imei: Option<&'a str>,
    /// The serial.
    pub serial: Option<&'a str>,
    /// The package's SHA-256.
    pub package_sha256: &'a str,
}

/// Reads every protected area from the module into a new folder under `root`, verifies it, and
/// fsyncs it. `on_area` is told each area as it is read.
pub fn take(
    root: &Path,
    who: &BackupFor<'_>,
    areas: &[ProtectedArea],
    conn: &mut dyn Connection,
    on_area: &mut dyn FnMut(&Region, u64),
) -> Result<Backup, FlashError> {
    let fail = |what: String| FlashError::Backup(what);
    let dir = new_dir(root, who.key).map_err(|e| fail(format!("{}: {e}", root.display())))?;
    let mut backed = Vec::new();
    for area in areas {
        let region = &area.region;
        let name = format!("{}-{:x}.bin", safe(&region.partition), region.offset);
        let path = dir.join(&name);
        let io_fail = |e: io::Error| fail(format!("{}: {e}", path.display()));
        let mut file = File::create(&path).map_err(io_fail)?;
        let mut tee = Tee { file: &mut file, hash: HashWriter::default() };
        conn.read(region, &mut tee, &mut |n| on_area(region, n))
            .map_err(|e| fail(format!("reading {region} from the module: {e}")))?;
        let Tee { hash, .. } = tee;
        if hash.written != region.length {
            return Err(fail(format!("reading {region} gave {} bytes, not {}", hash.written, region.length)));
        }
        let sha256 = hash.sha256();
        file.sync_all().map_err(io_fail)?;
        drop(file);
        // A second reading of the area must agree: the device's digest, else a second read.
        let again = match conn.digest(region).map_err(|e| fail(format!("digest of {region}: {e}")))? {
            Some(d) => hex(&d),
            None => {
                let mut h = HashWriter::default();
                conn.read(region, &mut h, &mut |_| {}).map_err(|e| fail(format!("reading {region} again: {e}")))?;
                h.sha256()
            }
        };
        if again != sha256 {
            return Err(fail(format!(
                "{region} read as SHA-256 {sha256}, then as {again}: the module's reads are not stable"
            )));
        }
        let on_disk = file_sha256(&path).map_err(io_fail)?;
        if on_disk != sha256 {
            return Err(fail(format!("{} holds SHA-256 {on_disk}, not the {sha256} read", path.display())));
        }
        backed.push(BackedUp { region: region.clone(), holds: area.holds.clone(), file: name, sha256 });
    }
    let manifest = Manifest {
        imei: who.imei.map(str::to_string),
        serial: who.serial.map(str::to_string),
        time: crate::history::now_rfc3339(),
        package_sha256: who.package_sha256.to_string(),
        areas: backed,
    };
    write_manifest(&dir, &manifest).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    Ok(Backup { dir, manifest })
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> io::Result<()> {
    let tmp = dir.join("manifest.json.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(serde_json::to_string_pretty(manifest).map_err(io::Error::other)?.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join("manifest.json"))?;
    sync_dir(dir)?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn file_sha256(path: &Path) -> io::Result<String> {
    let mut h = HashWriter::default();
    io::copy(&mut File::open(path)?, &mut h)?;
    Ok(h.sha256())
}

/// Reads back a backup taken earlier in the same run (a resumed flash): every file must hold the
/// SHA-256 its manifest gives, and the manifest must cover `areas`.
pub fn verify_existing(dir: &Path, areas: &[ProtectedArea]) -> Result<Backup, FlashError> {
    let fail = |what: String| FlashError::Backup(format!("{}: {what}", dir.display()));
    let text = fs::read_to_string(dir.join("manifest.json")).map_err(|e| fail(format!("manifest.json: {e}")))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| fail(format!("manifest.json: {e}")))?;
    for a in &manifest.areas {
        if a.file.contains('/') || a.file.starts_with('.') {
            return Err(fail(format!("manifest names a file outside the folder: {}", a.file)));
        }
        let got = file_sha256(&dir.join(&a.file)).map_err(|e| fail(format!("{}: {e}", a.file)))?;
        if got != a.sha256 {
            return Err(fail(format!("{} holds SHA-256 {got}, the manifest says {}", a.file, a.sha256)));
        }
    }
    for area in areas {
        if !manifest.areas.iter().any(|b| b.region == area.region) {
            return Err(fail(format!("the backup does not hold {}", area.region)));
        }
    }
    Ok(Backup { dir: dir.to_path_buf(), manifest })
}
