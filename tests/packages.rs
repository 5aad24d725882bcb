//! Every package format through the real binary: `inspect` and `check --image`, built from code.

use std::path::{Path, PathBuf};

use fwguard::image::build::asr::AsrBuilder;
use fwguard::image::build::binpkg::{BinpkgBuilder, BinpkgDamage};
use fwguard::image::build::pac::{PacBuilder, PacDamage};
use fwguard::image::build::qualcomm::{Md5Mode, QualcommBuilder};
use fwguard::image::build::quecpython::QuecPythonBuilder;
use serde_json::Value;
use tempfile::TempDir;

use crate::util::run;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = run(dir, args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// `fwguard check --json` of a module described by hand and a package.
fn check_image(dir: &Path, model: &str, revision: &str, image: &Path) -> (i32, Value, String) {
    json(dir, &["check", "--json", "--model", model, "--revision", revision, "--image", image.to_str().unwrap()])
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .map(|a| a.iter().map(|f| f["rule"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

/// The entries of a folder, to show nothing was written beside the package.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn asr_flash_table_decides_the_flash_chip_check() {
    let dir = TempDir::new().unwrap();
    let lf = AsrBuilder::ec800m_cn_lf();
    let lf_path = write(dir.path(), &lf.file_name, &lf.zip().unwrap());
    let (code, i, err) = json(dir.path(), &["inspect", "--json", lf_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(i["platform"], "asr");
    assert_eq!(i["flash_chips"][0]["jedec"], "C86016", "{i}");

    // An EC800MCN_LA module with XM25QU64C (20 41 17) is offered the LF package: its flash table
    // lists only C8 60 16, so the check blocks and names both.
    let module = ["--model", "EC800MCN_LA", "--revision", "EC800MCNLAR01A01M08_OCPU", "--flash-id", "20 41 17"];
    let mut args = vec!["check", "--json"];
    args.extend_from_slice(&module);
    args.extend_from_slice(&["--image", lf_path.to_str().unwrap()]);
    let (code, r, err) = json(dir.path(), &args);
    assert_eq!(code, 1, "{err}");
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "flash-chip-mismatch")
        .unwrap_or_else(|| panic!("{r}"));
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("20 41 17") && msg.contains("C8 60 16") && msg.contains("flash table"), "{msg}");
    assert_eq!(r["image"]["path"], lf_path.to_str().unwrap());

    // The LA package lists the 8 MB chips, XM25QU64C among them: the same module may take it.
    let la = AsrBuilder::ec800m_cn_la();
    let la_path = write(dir.path(), &la.file_name, &la.zip().unwrap());
    let mut args = vec!["check", "--json"];
    args.extend_from_slice(&module);
    args.extend_from_slice(&["--image", la_path.to_str().unwrap()]);
    let (code, r, err) = json(dir.path(), &args);
    assert!(!rules(&r).contains(&"flash-chip-mismatch".to_string()), "{r} {err}");
    assert_eq!(code, 0, "{r}");
}

#[test]
fn unisoc_pac_identity_comes_from_its_content() {
    let dir = TempDir::new().unwrap();
    let pac = PacBuilder::ec200u_eu();
    let path = write(dir.path(), "firmware.pac", &pac.to_bytes());
    let (code, i, err) = json(dir.path(), &["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(i["platform"], "unisoc");
    assert_eq!(i["product"], "EC200UEUAA", "{i}");
    assert!(i["files"].as_array().unwrap().iter().all(|f| f["sha256"].as_str().unwrap().len() == 64));

    // The file name says nothing; the content says EUAA, so an EUAB module is refused.
    let (code, r, _) = check_image(dir.path(), "EC200U", "EC200UEUABR01A03M08", &path);
    assert_eq!(code, 1);
    assert!(rules(&r).contains(&"product-mismatch".to_string()), "{r}");

    // Renamed to claim another module, it is an identity conflict naming both.
    let liar = write(dir.path(), "8915DM_cat1_open_EC200UEUABR01A05M08_merge.pac", &pac.to_bytes());
    let (code, r, _) = check_image(dir.path(), "EC200U", "EC200UEUABR01A03M08", &liar);
    assert_eq!(code, 1);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "identity-conflict")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(f["message"].as_str().unwrap().contains("EC200UEUAB"), "{f}");
}

#[test]
fn nv_erase_in_a_pac_is_a_calibration_warning() {
    let dir = TempDir::new().unwrap();
    let pac = PacBuilder::ec200u_eu().with_nv_steps();
    let path = write(dir.path(), "nv.pac", &pac.to_bytes());
    let (_, r, err) = check_image(dir.path(), "EC200U", "EC200UEUAAR02A02M08_OCPU", &path);
    assert!(rules(&r).contains(&"calibration-erase".to_string()), "{r} {err}");
}

#[test]
fn quecpython_and_eigencomm_packages_inspect() {
    let dir = TempDir::new().unwrap();
    let qpy = QuecPythonBuilder::ec800m_cn_lf();
    let qpy_path = write(dir.path(), &qpy.file_name, &qpy.zip().unwrap());
    let (code, i, err) = json(dir.path(), &["inspect", "--json", qpy_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(i["format"], "quecpython");
    assert_eq!(i["product"], "EC800MCNLF", "{i}");
    assert!(!i["flash_chips"].as_array().unwrap().is_empty(), "{i}");

    let bin = BinpkgBuilder::ec600e_cn_lc();
    let bin_path = write(dir.path(), "ec600e.binpkg", &bin.to_bytes());
    let (code, i, err) = json(dir.path(), &["inspect", "--json", bin_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(i["platform"], "eigencomm");
}

#[test]
fn qualcomm_geometry_from_the_package_is_checked_against_the_module() {
    let dir = TempDir::new().unwrap();
    let pkg = QualcommBuilder::ec25("EC25EFAR06A18M4G_20.201.20.201");
    let ok = pkg.write_folder(dir.path()).unwrap();
    let (code, r, err) = check_image(dir.path(), "EC25", "EC25EFAR06A17M4G_20.200.20.200", &ok);
    assert_eq!(code, 0, "{r} {err}");

    // The same build laid out for 2 KiB pages and 128 KiB blocks (the EC25-EU NAND) would NAK
    // its first erase on this module's 256 KiB blocks.
    let other = TempDir::new().unwrap();
    let p2k =
        QualcommBuilder { geometry: fwguard::identity::NandGeometry { page_kib: 2, block_kib: 128 }, ..pkg.clone() };
    let bad = p2k.write_folder(other.path()).unwrap();
    let (code, r, _) = check_image(dir.path(), "EC25", "EC25EFAR06A17M4G_20.200.20.200", &bad);
    assert_eq!(code, 1);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "memory-mismatch")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        f["message"].as_str().unwrap().contains("p4K_b256K") && f["message"].as_str().unwrap().contains("p2K_b128K"),
        "{f}"
    );

    // A factory layout with an erase-all step and a write over efs2 warns about calibration.
    let third = TempDir::new().unwrap();
    let factory = QualcommBuilder { factory: true, erase_all: true, calibration_write: true, ..pkg.clone() };
    let fac = factory.write_folder(third.path()).unwrap();
    let (_, r, _) = check_image(dir.path(), "EC25", "EC25EFAR06A17M4G_20.200.20.200", &fac);
    assert!(rules(&r).contains(&"calibration-erase".to_string()), "{r}");
}

#[test]
fn damaged_packages_exit_2_naming_the_problem_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("crc.pac", PacBuilder { damage: vec![PacDamage::DataCrc], ..PacBuilder::ec200u_eu() }.to_bytes(), "CRC"),
        ("magic.pac", PacBuilder { damage: vec![PacDamage::HeaderCrc], ..PacBuilder::ec200u_eu() }.to_bytes(), "CRC"),
        ("short.pac", PacBuilder { damage: vec![PacDamage::Truncated], ..PacBuilder::ec200u_eu() }.to_bytes(), ""),
        ("big.pac", PacBuilder { damage: vec![PacDamage::SizeBeyondFile], ..PacBuilder::ec200u_eu() }.to_bytes(), ""),
        ("count.pac", PacBuilder { damage: vec![PacDamage::AbsurdCount], ..PacBuilder::ec200u_eu() }.to_bytes(), ""),
        (
            "sha.binpkg",
            BinpkgBuilder { damage: vec![BinpkgDamage::BadSha256], ..BinpkgBuilder::ec600e_cn_lc() }.to_bytes(),
            "SHA-256",
        ),
        ("noise.bin", vec![0x5a; 4096], ""),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), name, &bytes);
        let before = listing(dir.path());
        for args in [
            vec!["inspect", path.to_str().unwrap()],
            vec!["check", "--model", "EC200U", "--revision", "EC200UEUAAR02A02M08", "--image", path.to_str().unwrap()],
        ] {
            let (code, out, err) = run(dir.path(), &args);
            assert_eq!(code, 2, "{name}: {out} {err}");
            assert!(err.contains("error:") && err.contains(name) && err.contains("hint:"), "{name}: {err}");
            assert!(err.contains(needle), "{name}: {err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
        }
        assert_eq!(listing(dir.path()), before, "{name}: nothing may be written");
    }
}

#[test]
fn problems_the_reader_noted_become_a_warning() {
    let dir = TempDir::new().unwrap();
    let pkg = QualcommBuilder { md5: Md5Mode::Missing, ..QualcommBuilder::ec25("EC25EFAR06A18M4G_20.201.20.201") };
    let path = pkg.write_folder(dir.path()).unwrap();
    let (code, r, err) = check_image(dir.path(), "EC25", "EC25EFAR06A17M4G_20.200.20.200", &path);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("warn")), "{r} {err}");
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "package-problem")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(f["message"].as_str().unwrap().contains("md5.txt"), "{f}");
}

#[test]
fn a_vendor_package_as_shipped_is_allowed_without_warnings() {
    // The vendor layout of md5.txt (VERSION:1.0, FILE:START, FILE:END, the absent
    // upgrade\targetfiles.zip) is the format, not a problem: an untouched package is allowed.
    let dir = TempDir::new().unwrap();
    let pkg = QualcommBuilder::ec25("EC25EFAR06A18M4G_20.201.20.201");
    let path = pkg.write_folder(dir.path()).unwrap();
    let md5 = std::fs::read_to_string(path.join("md5.txt")).unwrap();
    assert!(md5.starts_with("VERSION:1.0\r\nFILE:START\r\n") && md5.contains("targetfiles.zip"), "{md5}");
    let (code, r, err) = check_image(dir.path(), "EC25", "EC25EFAR06A17M4G_20.200.20.200", &path);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("allow")), "{r} {err}");
    assert!(!rules(&r).contains(&"package-problem".to_string()), "{r}");
}

#[test]
fn a_stale_asr_partition_crc_is_a_warning_and_an_overlap_a_refusal() {
    use fwguard::image::build::asr::AsrDamage;
    let dir = TempDir::new().unwrap();
    let stale = AsrBuilder { damage: vec![AsrDamage::PartitionBadCrc], ..AsrBuilder::ec800m_cn_lf() };
    let path = write(dir.path(), &stale.file_name, &stale.zip().unwrap());
    let (code, i, err) = json(dir.path(), &["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(i["problems"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("stale CRC-32")), "{i}");
    let (code, r, err) = check_image(dir.path(), "EC800M", "EC800MCNLFR01A01M04_OCPU", &path);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("warn")), "{r} {err}");
    assert!(rules(&r).contains(&"package-problem".to_string()), "{r}");

    let mut overlap = AsrBuilder::ec800m_cn_lf();
    let rd = overlap.partitions.iter().position(|e| e.name == "rd").unwrap();
    overlap.partitions[rd].start = overlap.partitions[rd - 1].start;
    overlap.file_name = "overlap.zip".into();
    let path = write(dir.path(), &overlap.file_name, &overlap.zip().unwrap());
    let (code, _, err) = run(dir.path(), &["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("overlap") && err.contains("partition.bin"), "{err}");
}

#[test]
fn quecpython_eigencomm_folders_inspect_as_distributed() {
    // The zip QuecPython distributes (platform_config.json beside the firmware folder), and
    // that folder alone on disk.
    let dir = TempDir::new().unwrap();
    let qpy = QuecPythonBuilder::ec600e_cn_lc();
    let zip = write(dir.path(), &qpy.file_name, &qpy.zip().unwrap());
    let folder = dir.path().join(&qpy.inner_name);
    std::fs::create_dir_all(&folder).unwrap();
    for (name, data) in qpy.inner_members().unwrap() {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    for path in [&zip, &folder] {
        let (code, i, err) = json(dir.path(), &["inspect", "--json", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{} {err}", path.display());
        assert_eq!((i["format"].as_str(), i["platform"].as_str()), (Some("quecpython"), Some("eigencomm")), "{i}");
        assert_eq!(i["revision"], "EC600ECNLCR01A01M04_OCPU_QPY", "{i}");
        assert_eq!(i["problems"].as_array().map(Vec::len), Some(0), "{i}");
        assert!(i["partitions"].as_array().unwrap().iter().any(|p| p["name"] == "customer_fs"), "{i}");
    }
}

#[test]
#[ignore = "writes every builder's output to FWGUARD_SAMPLE_DIR, for checks with the vendors' tools"]
fn write_every_format() {
    // FWGUARD_SAMPLE_DIR=/tmp/x cargo test --test integration write_every_format -- --ignored
    use fwguard::image::build::quecpython::QpyInner;
    use fwguard::image::pac::header::PacVersion;
    let dir = PathBuf::from(std::env::var("FWGUARD_SAMPLE_DIR").unwrap());
    let damaged = dir.join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    QualcommBuilder::ec25("EC25EFAR06A17M4G_20.200.20.200").write_folder(&dir).unwrap();
    let mut p2k = QualcommBuilder::ec25("EC25EUGAR06A07M4G_01.001.01.001");
    p2k.geometry = fwguard::identity::NandGeometry { page_kib: 2, block_kib: 128 };
    p2k.write_folder(&dir).unwrap();
    for (name, b) in [
        ("ec200u_eu_r1.pac", PacBuilder::ec200u_eu()),
        ("ec200u_eu_r2.pac", PacBuilder { version: PacVersion::R2, ..PacBuilder::ec200u_eu() }),
        ("ec200u_eu_nv.pac", PacBuilder::ec200u_eu().with_nv_steps()),
        ("ec200u_eu_noxml.pac", PacBuilder { xml: false, ..PacBuilder::ec200u_eu() }),
    ] {
        write(&dir, name, &b.to_bytes());
    }
    for d in [
        PacDamage::HeaderCrc,
        PacDamage::DataCrc,
        PacDamage::Truncated,
        PacDamage::WrongMagic,
        PacDamage::SizeBeyondFile,
        PacDamage::Overlap,
        PacDamage::AbsurdCount,
        PacDamage::BadXml,
    ] {
        let b = PacBuilder { damage: vec![d], ..PacBuilder::ec200u_eu() };
        write(&damaged, &format!("{d:?}.pac").to_ascii_lowercase(), &b.to_bytes());
    }
    for b in [AsrBuilder::ec800m_cn_lf(), AsrBuilder::ec800m_cn_la()] {
        write(&dir, &b.file_name, &b.zip().unwrap());
        write(&dir, &b.file_name.replace(".zip", ".download.json"), b.download_json().as_bytes());
    }
    for b in [QuecPythonBuilder::ec800m_cn_lf(), QuecPythonBuilder::eg915u_eu_ab(), QuecPythonBuilder::ec600e_cn_lc()] {
        write(&dir, &b.file_name, &b.zip().unwrap());
        if let QpyInner::Pac(p) = &b.inner {
            write(&dir, &b.inner_name, &p.to_bytes());
        }
    }
    write(&dir, "EC600ECNLCR01A01M04.binpkg", &BinpkgBuilder::ec600e_cn_lc().to_bytes());
}

/// The fuzz seeds of the package parsers fwguard writes itself (fuzz/seeds/<target>/), one per
/// builder output: each parser takes its own seeds without panicking, and reads the good ones.
#[test]
fn package_fuzz_seeds_are_read() {
    use fwguard::image::asr::download_json::Recipe;
    use fwguard::image::qpy_eigen;
    use fwguard::image::qualcomm::{md5sum, mibib, user_table};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let seeds = |target: &str| -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(root.join(target)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    for s in seeds("md5_txt") {
        assert!(md5sum::parse_md5_txt(&String::from_utf8_lossy(&s)).framed);
    }
    for s in seeds("mibib") {
        assert!(mibib::parse_mibib(&s).is_ok());
    }
    for s in seeds("user_table") {
        assert!(user_table::parse_user_table(&s).is_ok());
    }
    for s in seeds("qpy_download_config") {
        assert!(qpy_eigen::parse_download_config(&String::from_utf8_lossy(&s)).is_ok());
    }
    for s in seeds("asr_download_json") {
        assert!(Recipe::parse(&s, "seed", &|n: &str| n.ends_with(".bin")).unwrap().problems.is_empty());
    }
    for s in seeds("binpkg") {
        assert!(fwguard::image::binpkg::read_binpkg(&mut std::io::Cursor::new(&s), "seed").is_ok());
    }
    for s in seeds("asr_partition_table") {
        assert!(fwguard::image::asr::partition_table::PartitionTable::parse(&s, "seed").is_ok());
    }
    for s in seeds("asr_recipe") {
        // As the fuzz target runs it: the seed as download.json of an EC800M LA package.
        let mut members = AsrBuilder::ec800m_cn_la().members();
        members.iter_mut().filter(|(n, _)| n == "download.json").for_each(|(_, d)| *d = s.clone());
        let mut package = fwguard::image::build::memory::MemoryPackage::new("seed.zip", members);
        let recipe = fwguard::flash::asr::recipe::FlashRecipe::read(&mut package).unwrap();
        assert_eq!(recipe.layout().unwrap().steps.len(), recipe.actions.len());
    }
}

#[test]
#[ignore = "rewrites fuzz/seeds/<target>/ from the builders"]
fn write_package_fuzz_seeds() {
    // cargo test --test integration write_package_fuzz_seeds -- --ignored
    use fwguard::image::build::asr;
    use fwguard::image::build::binpkg::BinpkgImageSpec;
    use fwguard::image::build::quecpython::EigenFolder;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        std::fs::create_dir_all(root.join(target)).unwrap();
        std::fs::write(root.join(target).join(name), bytes).unwrap();
    };
    let dir = TempDir::new().unwrap();
    let mut q = QualcommBuilder::ec25("EC25EFAR06A17M4G_20.200.20.200");
    q.image_size = 64;
    q.geometry = fwguard::identity::NandGeometry { page_kib: 2, block_kib: 128 };
    let pkg = q.write_folder(dir.path()).unwrap();
    put("md5_txt", "vendor-layout", &std::fs::read(pkg.join("md5.txt")).unwrap());
    put("mibib", "p2k-b128k", &std::fs::read(pkg.join("update/firehose/partition_complete_p2K_b128K.mbn")).unwrap());
    put("user_table", "ec25", &std::fs::read(pkg.join("update/partition.mbn")).unwrap());
    let e = EigenFolder::ec600e_cn_lc();
    put("qpy_download_config", "four-files", fwguard::image::qpy_eigen::format_download_config(&e.regions).as_bytes());
    let mut a = AsrBuilder::ec800m_cn_lf();
    a.images.retain(|(f, ..)| f == "app.bin");
    put("asr_download_json", "sdk-structure", a.download_json().as_bytes());
    put("asr_partition_table", "sdk-8mb", &asr::partition_bin(&asr::layout_8mb()));
    put("asr_recipe", "ec800m-la", AsrBuilder::ec800m_cn_la().download_json().as_bytes());
    let production =
        AsrBuilder { damage: vec![asr::AsrDamage::EraseAll, asr::AsrDamage::EraseNv], ..AsrBuilder::ec800m_cn_la() };
    put("asr_recipe", "production-and-nv-erase", production.download_json().as_bytes());
    let mut b = BinpkgBuilder::ec600e_cn_lc();
    for img in &mut b.images {
        img.data.truncate(24);
    }
    b.images.push(BinpkgImageSpec {
        name: "ap_extra".into(),
        address: 0x30_0000,
        max_size: 0,
        kind: "AP".into(),
        data: vec![1; 8],
    });
    put("binpkg", "three-images", &b.to_bytes());
    b.minimal_header = true;
    put("binpkg", "minimal-header", &b.to_bytes());
}
