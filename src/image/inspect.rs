//! `inspect`: what a package claims, whatever its format. Storage is told by content (the zip
//! and 7z magic), then suffix; the format by the readers below, in order.
//!
//! Readers plug in here: a [`MemberFormat`] for formats stored as members of a folder, zip or
//! 7z (Qualcomm, DFOTA, ASR, QuecPython zips), a [`FileFormat`] for single-file formats (Unisoc
//! `.pac`, Eigencomm `.binpkg`, QuecPython `.bin`).

use std::path::Path;

use super::archive::{self, Storage};
use super::{ImageError, Inspection, Member, Package, asr, binpkg, dfota, pac, qualcomm, quecpython};
use crate::engine::ImageFacts;
use crate::identity::FlashId;
use crate::progress::{Event, Progress, Reporter};

/// A reader of a format stored as members of a folder or archive.
pub struct MemberFormat {
    /// The format's name, for messages.
    pub name: &'static str,
    /// Whether the reader takes this package, by its members and its path.
    pub claims: fn(&[Member], &Path) -> bool,
    /// Reads the package.
    pub read: fn(&mut dyn Package, &Path, Storage) -> Result<Inspection, ImageError>,
}

/// A reader of a single-file format.
pub struct FileFormat {
    /// The format's name, for messages.
    pub name: &'static str,
    /// Whether the reader takes this file, by its path and first bytes ([`SNIFF_LEN`]).
    pub claims: fn(&Path, &[u8]) -> bool,
    /// Reads the file.
    pub read: fn(&Path) -> Result<Inspection, ImageError>,
}

/// How many leading bytes [`FileFormat::claims`] sees.
pub const SNIFF_LEN: usize = 64;

/// Formats stored as members, tried in order (Qualcomm before DFOTA: a full package named like
/// a delta is a full package with a name conflict).
pub const MEMBER_FORMATS: &[MemberFormat] = &[
    MemberFormat { name: "Qualcomm package", claims: |m, _| qualcomm::claims(m), read: qualcomm::read },
    MemberFormat { name: "DFOTA delta", claims: |_, p| dfota::claims(p), read: dfota::read },
    MemberFormat {
        name: "QuecPython firmware",
        claims: |m, p| quecpython::is_quecpython(&p.display().to_string(), m),
        read: read_quecpython,
    },
    MemberFormat {
        name: "ASR package",
        claims: |m, _| asr::is_asr_package(m),
        read: |pkg, _, _| asr::inspect_asr(pkg),
    },
];

/// Single-file formats, tried in order.
pub const FILE_FORMATS: &[FileFormat] = &[
    FileFormat { name: "Unisoc PAC", claims: |_, head| pac::is_pac(head), read: pac::inspect_pac },
    FileFormat {
        name: "Eigencomm binpkg",
        // ectool does not read the header: a package whose magic is zero is still a binpkg.
        claims: |p, head| binpkg::is_binpkg(head) || has_suffix(p, ".binpkg"),
        read: binpkg::inspect_binpkg,
    },
];

/// Whether the file name of `path` ends with `suffix` (ASCII case ignored).
fn has_suffix(path: &Path, suffix: &str) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(suffix))
}

/// A QuecPython zip, whose inner zips get the same safety checks as the outer one.
fn read_quecpython(pkg: &mut dyn Package, _: &Path, _: Storage) -> Result<Inspection, ImageError> {
    let mut open_zip = |name: &str, bytes: Vec<u8>| -> Result<Box<dyn Package>, ImageError> {
        Ok(Box::new(archive::ZipPackage::from_bytes(name, bytes)?))
    };
    quecpython::inspect_quecpython(pkg, &mut open_zip)
}

/// Reads what the package at `path` claims: identity, files with sizes and SHA-256, flash chips,
/// partitions, erase steps and problems. Nothing is written anywhere.
pub fn inspect(path: &Path) -> Result<Inspection, ImageError> {
    inspect_with(path, &Reporter::none())
}

/// [`inspect`], reporting how far the reading has come to `progress` ([`Event::Reading`],
/// [`Event::Read`], [`Event::ReadDone`]).
pub fn inspect_with(path: &Path, progress: &dyn Progress) -> Result<Inspection, ImageError> {
    let storage = archive::storage_of(path)?;
    if storage == Storage::File {
        let head = archive::sniff(path, SNIFF_LEN)?;
        if let Some(f) = FILE_FORMATS.iter().find(|f| (f.claims)(path, &head)) {
            let shown = path.display().to_string();
            progress.event(&Event::Reading { package: &shown, bytes: None });
            let result = (f.read)(path);
            progress.event(&Event::ReadDone);
            return result;
        }
        return Err(unknown(path, "a single file", FILE_FORMATS.iter().map(|f| f.name)));
    }
    let package = archive::open_as(path, storage)?;
    if let Some(f) = MEMBER_FORMATS.iter().find(|f| (f.claims)(package.members(), path)) {
        let mut observed = archive::Observed::new(package, progress);
        return (f.read)(&mut observed, path, storage);
    }
    Err(unknown(path, &format!("a {}", storage.label()), MEMBER_FORMATS.iter().map(|f| f.name)))
}

/// Opens the package at `path` as a flasher reads it: QuecPython's wrapper zip around an ASR
/// aboot package (`QPY_…_FW.zip` holding `platform_config.json` and `QPY_…_FW.bin`, itself a
/// zip: QuecPython/download_tool `qpy.py` unpacks it the same way) is the inner package, read
/// into memory (at most [`quecpython::INNER_LIMIT`] bytes) with the same safety checks;
/// anything else is opened as it is.
pub fn open_firmware(path: &Path) -> Result<Box<dyn Package>, ImageError> {
    let mut package = archive::open_package(path)?;
    let members = package.members().to_vec();
    if asr::is_asr_package(&members) || !quecpython::is_quecpython(&path.display().to_string(), &members) {
        return Ok(package);
    }
    let inner = members.iter().filter(|m| {
        let lower = m.path.to_ascii_lowercase();
        m.size <= quecpython::INNER_LIMIT && (lower.ends_with(".bin") || lower.ends_with(".zip"))
    });
    for m in inner.cloned().collect::<Vec<_>>() {
        let bytes = package.read(&m.path, quecpython::INNER_LIMIT)?;
        if !bytes.starts_with(&archive::ZIP_MAGIC) {
            continue;
        }
        let zip = archive::ZipPackage::from_bytes(&format!("{}:{}", path.display(), m.path), bytes)?;
        if asr::is_asr_package(zip.members()) {
            return Ok(Box::new(zip));
        }
    }
    Ok(package)
}

fn unknown<'a>(path: &Path, what: &str, tried: impl Iterator<Item = &'a str>) -> ImageError {
    let tried: Vec<&str> = tried.collect();
    let reason = if tried.is_empty() {
        format!("{what}, and no reader for single-file formats is built in yet")
    } else {
        format!("{what} that is none of: {}", tried.join(", "))
    };
    ImageError::UnknownFormat { path: path.display().to_string(), reason }
}

impl Inspection {
    /// The facts the engine judges. The name is the revision the content gives (for a delta,
    /// `SOURCE-TARGET`); it is empty, and so refused, when the content gives none.
    pub fn facts(&self) -> ImageFacts {
        let name = match (&self.source_revision, &self.revision) {
            (Some(src), Some(dst)) => format!("{src}-{dst}"),
            (_, Some(rev)) => rev.clone(),
            // No revision inside (a QuecPython image names only its product): judge the file name.
            _ => Path::new(&self.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        let chips: Vec<FlashId> = self.flash_chips.iter().filter_map(|c| FlashId::parse(&c.jedec).ok()).collect();
        ImageFacts {
            name,
            path: Some(self.path.clone()),
            nand: self.nand,
            flash_chips: (!self.flash_chips.is_empty()).then_some(chips),
            erases: self.erases.clone(),
            signed: self.signed,
            name_conflict: self.name_conflict.clone(),
            problems: self.problems.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ImageKind, ImageName};
    use crate::image::ChipEntry;

    #[test]
    fn facts_carry_identity() {
        let ins = Inspection {
            path: "p.zip".into(),
            revision: Some("EC20EQAR02A09V02".into()),
            source_revision: Some("EC20EQAR02A05V03".into()),
            flash_chips: vec![ChipEntry { jedec: "204117".into(), name: None }],
            ..Inspection::default()
        };
        let f = ins.facts();
        assert!(matches!(ImageName::parse(&f.name).unwrap().kind, ImageKind::Delta { .. }));
        assert_eq!(f.flash_chips.unwrap()[0].hex(), FlashId::parse("20 41 17").unwrap().hex());
        assert_eq!(Inspection::default().facts().flash_chips, None);
    }
}
