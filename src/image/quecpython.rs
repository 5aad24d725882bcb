//! QuecPython firmware (identity.md §4, asr.md §6.1): a `QPY_OCPU_V0004_EC800M_CNLF_FW.zip`
//! holding `platform_config.json` (`{"platform": "..."}`) and the firmware: for ASR a
//! `QPY_…_FW.bin` that is itself the aboot zip, for Unisoc a `.pac` named
//! `8915DM_cat1_open_<REVISION>_…_merge.pac`, for Eigencomm a `.binpkg`. The `QPY_…_FW.bin`
//! alone (an ASR package) is read here too.
//!
//! Zips inside the package are opened through a caller-given [`ZipOpener`], so the archive
//! module's safety checks apply to them as to any package.

use std::io::Cursor;

use crate::identity::{ImageKind, normalise_model};

use super::asr::{self, is_asr_package};
use super::claims::{name_claim, name_conflict};
use super::fields::{file_name, malformed};
use super::pac::describe::chip_of_model;
use super::scan::{Keep, scan};
use super::{ImageError, Inspection, Member, Package, binpkg, pac};

/// `Inspection::format` of QuecPython firmware.
pub const FORMAT: &str = "quecpython";
/// The platform file.
pub const CONFIG: &str = "platform_config.json";
/// Most bytes of `platform_config.json` read.
pub const CONFIG_LIMIT: u64 = 64 << 10;
/// Most bytes of an inner firmware image read into memory.
pub const INNER_LIMIT: u64 = 256 << 20;

/// Opens a zip found inside a package: `(member path, bytes) -> package`.
pub type ZipOpener<'a> = dyn FnMut(&str, Vec<u8>) -> Result<Box<dyn Package>, ImageError> + 'a;

/// The platform family (`asr`, `unisoc`, `qualcomm`, `eigencomm`) of a `platform_config.json`
/// value; `None` for the Wi-Fi modules (FCM360W, FC41D) and unknown values.
pub fn platform_family(value: &str) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase();
    if v.starts_with("asr") {
        Some("asr")
    } else if v.starts_with("unisoc") || v.starts_with("rda") {
        Some("unisoc")
    } else if v.starts_with("mdm") {
        Some("qualcomm")
    } else if v == "eigen" {
        Some("eigencomm")
    } else {
        None
    }
}

/// Whether a package is QuecPython firmware: it has `platform_config.json`, or its file name
/// is a QuecPython name.
pub fn is_quecpython(path: &str, members: &[Member]) -> bool {
    members.iter().any(|m| file_name(&m.path) == CONFIG)
        || matches!(name_claim(path), Some(n) if matches!(n.kind, ImageKind::QuecPython { .. }))
}

/// The platform family a module model belongs to, where fwguard knows it.
fn family_of_model(product: &str) -> Option<&'static str> {
    if asr::expected_chip(product).is_some() {
        Some("asr")
    } else if chip_of_model(product).is_some() {
        Some("unisoc")
    } else if normalise_model(product).starts_with("EC600E") || normalise_model(product).starts_with("EC800E") {
        Some("eigencomm")
    } else {
        None
    }
}

/// Reads QuecPython firmware: its platform file and the firmware inside, checked by the
/// reader of its format; every member hashed.
pub fn inspect_quecpython(pkg: &mut dyn Package, open_zip: &mut ZipOpener<'_>) -> Result<Inspection, ImageError> {
    let path = pkg.path().to_string();
    let members: Vec<Member> = pkg.members().to_vec();
    let mut insp = Inspection { path: path.clone(), format: FORMAT.into(), ..Inspection::default() };
    let config = read_config(pkg, &members)?;
    // One pass hashes every member (a pass per member would decode a 7z's solid stream again
    // for each).
    insp.files = scan(pkg, &|_| Keep::Nothing, false)?.into_files();
    let mut flash_mib = None;
    let inner = if is_asr_package(&members) {
        let read = asr::read_asr(pkg)?;
        let mut inner = Inspection { path: path.clone(), ..Inspection::default() };
        asr::describe(&read, &members, &mut inner);
        flash_mib = read.flash_mib();
        Some(("asr", inner))
    } else {
        inner_firmware(pkg, &members, open_zip, &mut insp, &mut flash_mib)?
    };
    let Some((family, inner)) = inner else {
        if config.is_none() {
            return Err(ImageError::UnknownFormat {
                path,
                reason: "a QuecPython name but neither platform_config.json nor firmware inside".into(),
            });
        }
        insp.problems.push("no firmware image (.pac, .binpkg or ASR zip) found inside".into());
        insp.platform = config.as_deref().and_then(platform_family).unwrap_or("").into();
        return Ok(insp);
    };
    insp.platform = family.into();
    if let Some(value) = &config {
        match platform_family(value) {
            Some(f) if f != family => insp
                .problems
                .push(format!("{CONFIG} says platform {value:?} ({f}), the firmware inside is a {family} image")),
            None => insp.problems.push(format!("{CONFIG}: unknown platform {value:?}")),
            _ => {}
        }
    }
    let same_package = inner.path == path;
    let inner_conflict = merge(&mut insp, inner);
    let content = insp.revision.as_deref().and_then(|r| crate::identity::Revision::parse(r).ok());
    let mut conflicts: Vec<String> = Vec::new();
    if !same_package {
        conflicts.extend(name_conflict(&path, content.as_ref(), flash_mib));
    }
    conflicts.extend(inner_conflict);
    if let Some(name) = name_claim(&path)
        && let Some(expected) = family_of_model(name.product())
        && expected != family
    {
        conflicts.push(format!(
            "the file name is for {} (a {expected} module), the firmware inside is a {family} image",
            name.product()
        ));
    }
    if !conflicts.is_empty() {
        insp.name_conflict = Some(conflicts.join("; "));
    }
    if insp.revision.is_none() {
        super::claims::fill_identity(&mut insp, None);
    }
    Ok(insp)
}

fn read_config(pkg: &mut dyn Package, members: &[Member]) -> Result<Option<String>, ImageError> {
    let Some(m) = members.iter().filter(|m| file_name(&m.path) == CONFIG).min_by_key(|m| m.path.matches('/').count())
    else {
        return Ok(None);
    };
    let bytes = pkg.read(&m.path, CONFIG_LIMIT)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(pkg.path(), &m.path, format!("not valid JSON: {e}")))?;
    match value.get("platform").and_then(serde_json::Value::as_str) {
        Some(p) => Ok(Some(p.to_string())),
        None => Err(malformed(pkg.path(), &m.path, "expected {\"platform\": \"...\"}")),
    }
}

/// Finds and reads the firmware image inside: a `.pac`, a `.binpkg`, or a zip holding an ASR
/// package. Its problems are prefixed with its member path.
fn inner_firmware(
    pkg: &mut dyn Package,
    members: &[Member],
    open_zip: &mut ZipOpener<'_>,
    insp: &mut Inspection,
    flash_mib: &mut Option<u64>,
) -> Result<Option<(&'static str, Inspection)>, ImageError> {
    let ext = |m: &Member| m.path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let rank = |m: &Member| match ext(m).as_str() {
        "pac" | "binpkg" => Some(0),
        "bin" | "zip" if file_name(&m.path).to_ascii_uppercase().starts_with("QPY") => Some(1),
        "bin" | "zip" => Some(2),
        _ => None,
    };
    let mut candidates: Vec<&Member> = members.iter().filter(|m| rank(m).is_some()).collect();
    candidates.sort_by_key(|m| rank(m));
    for m in candidates {
        let bytes = pkg.read(&m.path, INNER_LIMIT)?;
        let prefix = bytes.get(..64).unwrap_or(&bytes);
        if pac::is_pac(prefix) {
            let read = pac::read_pac(&mut Cursor::new(&bytes), &m.path)?;
            let mut inner = Inspection { path: m.path.clone(), ..Inspection::default() };
            pac::describe(&read, &mut inner);
            return Ok(Some(("unisoc", inner)));
        }
        if binpkg::is_binpkg(prefix) {
            let read = binpkg::read_binpkg(&mut Cursor::new(&bytes), &m.path)?;
            let mut inner = Inspection { path: m.path.clone(), ..Inspection::default() };
            binpkg::describe(&read, &mut inner);
            return Ok(Some(("eigencomm", inner)));
        }
        if prefix.starts_with(b"PK\x03\x04") {
            let mut zip = open_zip(&m.path, bytes)?;
            let inner_members = zip.members().to_vec();
            if !is_asr_package(&inner_members) {
                insp.problems.push(format!("{}: a zip that is not an ASR package", m.path));
                continue;
            }
            let read = asr::read_asr(zip.as_mut())?;
            let mut inner = Inspection { path: m.path.clone(), ..Inspection::default() };
            asr::describe(&read, &inner_members, &mut inner);
            for mut entry in scan(zip.as_mut(), &|_| Keep::Nothing, false)?.into_files() {
                entry.path = format!("{}/{}", m.path, entry.path);
                inner.files.push(entry);
            }
            *flash_mib = read.flash_mib();
            return Ok(Some(("asr", inner)));
        }
    }
    Ok(None)
}

/// Takes identity, chips, partitions, erases, inner files and problems from the inner image;
/// returns the inner image's own name conflict.
fn merge(insp: &mut Inspection, inner: Inspection) -> Option<String> {
    let label = inner.path.clone();
    insp.revision = inner.revision;
    insp.product = inner.product;
    insp.flash_chips = inner.flash_chips;
    insp.partitions = inner.partitions;
    insp.erases = inner.erases;
    insp.signed = inner.signed;
    if label != insp.path {
        for f in inner.files {
            if !f.path.starts_with(&format!("{label}/")) {
                insp.files.push(super::FileEntry { path: format!("{label}/{}", f.path), ..f });
            } else {
                insp.files.push(f);
            }
        }
        insp.problems.extend(inner.problems.into_iter().map(|p| format!("{label}: {p}")));
        inner.name_conflict.map(|c| format!("inside, {label}: {c}"))
    } else {
        insp.problems.extend(inner.problems);
        inner.name_conflict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::memory::MemoryPackage;
    use crate::image::build::quecpython::{QpyInner, QuecPythonBuilder};

    fn opener() -> impl FnMut(&str, Vec<u8>) -> Result<Box<dyn Package>, ImageError> {
        |name: &str, bytes: Vec<u8>| -> Result<Box<dyn Package>, ImageError> {
            Ok(Box::new(MemoryPackage::from_zip(name, &bytes)?))
        }
    }

    fn inspect(builder: &QuecPythonBuilder) -> Inspection {
        let zip = builder.zip().unwrap();
        let mut pkg = MemoryPackage::from_zip(&builder.file_name, &zip).unwrap();
        assert!(is_quecpython(&builder.file_name, pkg.members()));
        inspect_quecpython(&mut pkg, &mut opener()).unwrap()
    }

    #[test]
    fn asr_firmware() {
        let insp = inspect(&QuecPythonBuilder::ec800m_cn_lf());
        assert_eq!((insp.format.as_str(), insp.platform.as_str()), ("quecpython", "asr"));
        assert_eq!(insp.revision.as_deref(), Some("EC800MCNLFR01A01M04_OCPU_QPY"));
        assert_eq!(insp.flash_chips[0].jedec, "C86016");
        assert!(insp.files.iter().any(|f| f.path.ends_with("_FW.bin/customer_fs.bin")), "{:?}", insp.files);
        assert_eq!(insp.name_conflict, None);
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
    }

    #[test]
    fn outer_and_inner_members_are_hashed_in_one_pass_each() {
        use std::cell::Cell;
        use std::rc::Rc;

        use crate::image::build::memory::{CountingPackage, Counts};
        let builder = QuecPythonBuilder::ec800m_cn_lf();
        let counts = Rc::new(Cell::new(Counts::default()));
        let inner_counts = Rc::clone(&counts);
        let mut open = |name: &str, bytes: Vec<u8>| -> Result<Box<dyn Package>, ImageError> {
            let zip = MemoryPackage::from_zip(name, &bytes)?;
            Ok(Box::new(CountingPackage::new(Box::new(zip), Rc::clone(&inner_counts))))
        };
        let zip = builder.zip().unwrap();
        let outer = MemoryPackage::from_zip(&builder.file_name, &zip).unwrap();
        let mut pkg = CountingPackage::new(Box::new(outer), Rc::clone(&counts));
        let insp = inspect_quecpython(&mut pkg, &mut open).unwrap();
        let c = counts.get();
        assert_eq!((c.hashes, c.walks), (0, 2), "{c:?}");
        let QpyInner::Asr(asr) = &builder.inner else { unreachable!() };
        let inner_count = asr.package().members().len();
        assert_eq!(insp.files.len(), 2 + inner_count, "{:?}", insp.files);
        let bin = insp.files.iter().find(|f| f.path.ends_with("_FW.bin/customer_fs.bin")).unwrap();
        assert_eq!(bin.sha256, crate::image::archive::digest(&mut &[0xFF; 1024][..], false).unwrap().sha256);
    }

    #[test]
    fn the_flash_size_is_taken_only_when_whole_and_not_zero() {
        // Named with memory code M04 (4 MB): a flash table of 0 bytes, or of no whole number of
        // MiB, says nothing; the recipe's VARIANT (04MB) or nothing is used instead.
        for (size, variant) in [(0, true), (0, false), ((4 << 20) + 512, false), ((4 << 20) + 512, true)] {
            let mut builder = QuecPythonBuilder::ec800m_cn_lf();
            builder.file_name = "EC800MCNLFR01A01M04_OCPU_QPY.zip".into();
            let QpyInner::Asr(asr) = &mut builder.inner else { unreachable!() };
            asr.flash.flash_size = size;
            if !variant {
                asr.arelease = None;
            }
            let insp = inspect(&builder);
            assert_eq!(insp.name_conflict, None, "{size} {variant}");
        }
        // A whole size that disagrees with the name is still a conflict naming both.
        let mut builder = QuecPythonBuilder::ec800m_cn_lf();
        builder.file_name = "EC800MCNLFR01A01M04_OCPU_QPY.zip".into();
        let QpyInner::Asr(asr) = &mut builder.inner else { unreachable!() };
        asr.flash.flash_size = 8 << 20;
        let c = inspect(&builder).name_conflict.expect("4 MB named, 8 MB built");
        assert!(c.contains("M04 (4 MB flash)") && c.contains("built for 8 MB flash"), "{c}");
    }

    #[test]
    fn the_bin_alone_is_an_asr_package() {
        let builder = QuecPythonBuilder::ec800m_cn_lf();
        let QpyInner::Asr(asr) = &builder.inner else { unreachable!() };
        let mut pkg = asr.package();
        assert!(is_quecpython(&asr.file_name, pkg.members()));
        let insp = inspect_quecpython(&mut pkg, &mut opener()).unwrap();
        assert_eq!(insp.platform, "asr");
        assert_eq!(insp.name_conflict, None);
        assert_eq!(insp.product.as_deref(), Some("EC800MCNLF"));
    }

    #[test]
    fn pac_and_binpkg_firmware() {
        let insp = inspect(&QuecPythonBuilder::eg915u_eu_ab());
        assert_eq!(insp.platform, "unisoc");
        assert_eq!(insp.revision.as_deref(), Some("EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300"));
        assert_eq!(insp.name_conflict, None);
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
        let insp = inspect(&QuecPythonBuilder::ec600e_cn_lc());
        assert_eq!(insp.platform, "eigencomm");
        assert_eq!(insp.files.len(), 5);
    }

    #[test]
    fn conflicts_between_name_platform_and_content() {
        let mut builder = QuecPythonBuilder::ec800m_cn_lf();
        builder.platform = Some("unisoc8910".into());
        builder.file_name = "QPY_OCPU_V0004_EC600U_CNLB_FW.zip".into();
        let insp = inspect(&builder);
        assert!(insp.problems.iter().any(|p| p.contains("unisoc8910")), "{:?}", insp.problems);
        let c = insp.name_conflict.unwrap();
        assert!(c.contains("EC600UCNLB") && c.contains("unisoc"), "{c}");

        let mut builder = QuecPythonBuilder::ec800m_cn_lf();
        builder.file_name = "QPY_OCPU_V0004_EC800M_CNLE_FW.zip".into();
        assert!(inspect(&builder).name_conflict.unwrap().contains("EC800MCNLE"));
    }

    #[test]
    fn bad_or_empty_packages() {
        let mut pkg =
            MemoryPackage::new("QPY_OCPU_V0004_EC800M_CNLF_FW.zip", vec![("readme.txt".into(), b"hi".to_vec())]);
        assert!(matches!(inspect_quecpython(&mut pkg, &mut opener()), Err(ImageError::UnknownFormat { .. })));
        let mut pkg = MemoryPackage::new("x.zip", vec![(CONFIG.into(), b"{\"p\": 1}".to_vec())]);
        assert!(matches!(inspect_quecpython(&mut pkg, &mut opener()), Err(ImageError::Malformed { .. })));
        let mut pkg = MemoryPackage::new("x.zip", vec![(CONFIG.into(), b"{\"platform\": \"FC41D\"}".to_vec())]);
        let insp = inspect_quecpython(&mut pkg, &mut opener()).unwrap();
        assert!(!insp.problems.is_empty());
        assert_eq!(platform_family("ASR1803S"), Some("asr"));
        assert_eq!(platform_family("RDA8908A"), Some("unisoc"));
        assert_eq!(platform_family("MDM9X05"), Some("qualcomm"));
        assert_eq!(platform_family("FCM360W"), None);
    }
}
