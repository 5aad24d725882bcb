//! QuecPython firmware (as `QuecPython/download_tool:qpy.py` and
//! `QuecPython/thonny-quecpython:thonnycontrib/quecpython/fw/__init__.py` read it): a
//! `QPY_OCPU_V0004_EC800M_CNLF_FW.zip`
//! holding `platform_config.json` (`{"platform": "..."}`) and the firmware: for ASR a
//! `QPY_…_FW.bin` that is itself the aboot zip, for Unisoc a `.pac` named
//! `8915DM_cat1_open_<REVISION>_…_merge.pac`, for Eigencomm a folder holding `at_command.binpkg`
//! and `quec_download_config.ini` ([`super::qpy_eigen`]). The `QPY_…_FW.bin` alone (an ASR
//! package) and the Eigencomm folder alone are read here too.
//!
//! QuecPython's download tool (QuecPython/download_tool `qpy.py`, `zip_handler`) unpacks the
//! zip and expects `platform_config.json` at its root beside one firmware entry (the `.bin`,
//! `.pac` or folder); when the root holds neither `platform_config.json` nor `system.img` but a
//! single folder, it looks in that folder instead.
//!
//! Zips inside the package are opened through a caller-given [`ZipOpener`], so the archive
//! module's safety checks apply to them as to any package.

use std::io::Cursor;

use crate::identity::{ImageKind, normalise_model};
use crate::platform::Platform;

use super::asr::{self, is_asr_package};
use super::claims::{name_claim, name_conflict};
use super::fields::{file_name, malformed};
use super::pac::describe::chip_of_model;
use super::scan::{Keep, scan};
use super::{ImageError, Inspection, Member, Package, Partition, binpkg, pac, qpy_eigen};

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

/// The platform of a `platform_config.json` value; `None` for the Wi-Fi modules (FCM360W,
/// FC41D) and unknown values.
pub fn platform_family(value: &str) -> Option<Platform> {
    let v = value.trim().to_ascii_lowercase();
    if v.starts_with("asr") {
        Some(Platform::Asr)
    } else if v.starts_with("unisoc") || v.starts_with("rda") {
        Some(Platform::Unisoc)
    } else if v.starts_with("mdm") {
        Some(Platform::Qualcomm)
    } else if v == "eigen" {
        Some(Platform::Eigencomm)
    } else {
        None
    }
}

/// Whether a package is QuecPython firmware: it has `platform_config.json`, or its file name
/// is a QuecPython name.
pub fn is_quecpython(path: &str, members: &[Member]) -> bool {
    members.iter().any(|m| matches!(file_name(&m.path), CONFIG | qpy_eigen::DOWNLOAD_CONFIG))
        || matches!(name_claim(path), Some(n) if matches!(n.kind, ImageKind::QuecPython { .. }))
}

/// The platform a module model belongs to, where fwguard knows it.
fn family_of_model(product: &str) -> Option<Platform> {
    if asr::expected_chip(product).is_some() {
        Some(Platform::Asr)
    } else if chip_of_model(product).is_some() {
        Some(Platform::Unisoc)
    } else if normalise_model(product).starts_with("EC600E") || normalise_model(product).starts_with("EC800E") {
        Some(Platform::Eigencomm)
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
        Some((Platform::Asr, inner))
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
        insp.platform = config.as_deref().and_then(platform_family);
        return Ok(insp);
    };
    insp.platform = Some(family);
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
        let from_folders = super::claims::revision_in(members.iter().map(|m| m.path.as_str()));
        super::claims::fill_identity(&mut insp, from_folders.as_ref());
    }
    if insp.product.is_none() {
        insp.problems.push("neither the content nor the file names say which module this package is for".into());
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
) -> Result<Option<(Platform, Inspection)>, ImageError> {
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
            return Ok(Some((Platform::Unisoc, inner)));
        }
        if binpkg::is_binpkg(prefix) || ext(m) == "binpkg" {
            let read = binpkg::read_binpkg(&mut Cursor::new(&bytes), &m.path)?;
            let mut inner = Inspection { path: m.path.clone(), ..Inspection::default() };
            binpkg::describe(&read, &mut inner);
            eigen_folder(pkg, members, &m.path, &read, &mut inner)?;
            return Ok(Some((Platform::Eigencomm, inner)));
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
            return Ok(Some((Platform::Asr, inner)));
        }
    }
    Ok(None)
}

/// Reads `quec_download_config.ini` beside the binpkg at `binpkg_path` and adds the regions it
/// burns (`ap_application.bin` …) to `inner`'s partitions, noting files that are missing or
/// larger than their region, and regions that overlap the binpkg's images. A configuration
/// that does not parse, or whose regions overlap each other, is refused.
fn eigen_folder(
    pkg: &mut dyn Package,
    members: &[Member],
    binpkg_path: &str,
    read: &binpkg::Binpkg,
    inner: &mut Inspection,
) -> Result<(), ImageError> {
    let folder = &binpkg_path[..binpkg_path.len() - file_name(binpkg_path).len()];
    let config_path = format!("{folder}{}", qpy_eigen::DOWNLOAD_CONFIG);
    if !members.iter().any(|m| m.path == config_path) {
        inner.problems.push(format!(
            "no {} beside it: QuecPython's download tool needs it to burn the application and file system",
            qpy_eigen::DOWNLOAD_CONFIG
        ));
        return Ok(());
    }
    let text = String::from_utf8_lossy(&pkg.read(&config_path, qpy_eigen::MAX_CONFIG)?).into_owned();
    let regions = qpy_eigen::parse_download_config(&text).map_err(|e| malformed(pkg.path(), &config_path, e))?;
    for r in &regions {
        let path = format!("{folder}{}", r.file);
        let size = members.iter().find(|m| m.path == path).map(|m| m.size);
        match size {
            None => inner.problems.push(format!(
                "{} [File_{}] burns {}, which the folder does not have",
                qpy_eigen::DOWNLOAD_CONFIG,
                r.index,
                r.file
            )),
            Some(n) if n > r.max_size => inner.problems.push(format!(
                "{} ({n} bytes) is larger than its region in {} ({:#x} bytes at {:#x})",
                r.file,
                qpy_eigen::DOWNLOAD_CONFIG,
                r.max_size,
                r.start
            )),
            Some(_) => {}
        }
        for img in read.images.iter().filter(|i| i.kind != "CP") {
            let (start, end) = (u64::from(img.address), u64::from(img.address) + u64::from(img.length));
            if r.start < end && start < r.end() {
                inner.problems.push(format!(
                    "{} ({:#x}+{:#x}) overlaps the data of binpkg image {:?} ({start:#x}..{end:#x})",
                    r.file, r.start, r.max_size, img.name
                ));
            }
        }
        inner.partitions.push(Partition {
            name: r.file.trim_end_matches(".bin").to_string(),
            start: Some(r.start),
            size: Some(r.max_size),
            file: size.map(|_| path.strip_prefix(folder).unwrap_or(&path).to_string()),
            erase: false,
        });
    }
    Ok(())
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
        assert_eq!((insp.format.as_str(), insp.platform), ("quecpython", Some(Platform::Asr)));
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
        assert_eq!(insp.platform, Some(Platform::Asr));
        assert_eq!(insp.name_conflict, None);
        assert_eq!(insp.product.as_deref(), Some("EC800MCNLF"));
    }

    #[test]
    fn pac_and_binpkg_firmware() {
        let insp = inspect(&QuecPythonBuilder::eg915u_eu_ab());
        assert_eq!(insp.platform, Some(Platform::Unisoc));
        assert_eq!(insp.revision.as_deref(), Some("EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300"));
        assert_eq!(insp.name_conflict, None);
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
    }

    #[test]
    fn eigencomm_firmware_as_distributed() {
        // platform_config.json ("EIGEN") beside one folder holding at_command.binpkg,
        // quec_download_config.ini and the four files it burns (QuecPython/download_tool qpy.py).
        let builder = QuecPythonBuilder::ec600e_cn_lc();
        let insp = inspect(&builder);
        assert_eq!(insp.platform, Some(Platform::Eigencomm));
        assert_eq!(insp.revision.as_deref(), Some("EC600ECNLCR01A01M04_OCPU_QPY"));
        assert_eq!(insp.name_conflict, None);
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
        assert_eq!(insp.files.len(), 7 + 3, "{:?}", insp.files);
        let app = insp.partitions.iter().find(|p| p.name == "ap_application").unwrap();
        assert_eq!(
            (app.start, app.size, app.file.as_deref()),
            (Some(0x20_0000), Some(0x1B_4000), Some("ap_application.bin"))
        );
        assert!(insp.partitions.iter().any(|p| p.name == "ap_at_command" && p.start == Some(0x24000)));

        // The folder alone, without platform_config.json: still QuecPython Eigencomm firmware.
        let mut folder = QuecPythonBuilder::ec600e_cn_lc();
        folder.platform = None;
        folder.file_name = "EC600ECNLCR01A01M04_OCPU_QPY.zip".into();
        let insp = inspect(&folder);
        assert_eq!(
            (insp.platform, insp.revision.as_deref()),
            (Some(Platform::Eigencomm), Some("EC600ECNLCR01A01M04_OCPU_QPY"))
        );
        assert!(insp.problems.is_empty(), "{:?}", insp.problems);
    }

    #[test]
    fn eigencomm_folders_that_cannot_be_burnt() {
        use crate::image::build::quecpython::QpyInner;
        let with = |f: &dyn Fn(&mut crate::image::build::quecpython::EigenFolder)| {
            let mut b = QuecPythonBuilder::ec600e_cn_lc();
            let QpyInner::Eigen(e) = &mut b.inner else { unreachable!() };
            f(e);
            let zip = b.zip().unwrap();
            let mut pkg = MemoryPackage::from_zip(&b.file_name, &zip).unwrap();
            inspect_quecpython(&mut pkg, &mut opener())
        };
        let insp = with(&|e| e.config = false).unwrap();
        assert!(insp.problems.iter().any(|p| p.contains("no quec_download_config.ini")), "{:?}", insp.problems);
        let insp = with(&|e| e.files[2] = None).unwrap();
        assert!(insp.problems.iter().any(|p| p.contains("[File_3] burns customer_fs.bin")), "{:?}", insp.problems);
        let insp = with(&|e| e.files[1] = Some(vec![0; 0x2_0001])).unwrap();
        assert!(
            insp.problems.iter().any(|p| p.contains("ap_updater.bin (131073 bytes) is larger")),
            "{:?}",
            insp.problems
        );
        let insp = with(&|e| e.regions[0].0 = 0x24000).unwrap();
        assert!(
            insp.problems.iter().any(|p| p.contains("overlaps the data of binpkg image \"ap_at_command\"")),
            "{:?}",
            insp.problems
        );
        let err = with(&|e| e.regions[1].0 = 0x20_0100).unwrap_err();
        assert!(err.to_string().contains("overlaps [File_1]"), "{err}");
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
        assert_eq!(platform_family("ASR1803S"), Some(Platform::Asr));
        assert_eq!(platform_family("RDA8908A"), Some(Platform::Unisoc));
        assert_eq!(platform_family("MDM9X05"), Some(Platform::Qualcomm));
        assert_eq!(platform_family("FCM360W"), None);
    }
}
