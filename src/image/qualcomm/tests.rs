//! Round trips: packages built by [`crate::image::build::qualcomm`], read back by `inspect`.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::identity::NandGeometry;
use crate::image::build::Content;
use crate::image::build::qualcomm::{Md5Mode, QualcommBuilder};
use crate::image::{ImageError, Inspection, inspect};

const REV: &str = "EC25EFAR06A17M4G_20.200.20.200";

#[derive(Clone, Copy, Debug)]
enum Store {
    Folder,
    Zip,
    SevenZ,
}

fn build(b: &QualcommBuilder, store: Store, dir: &Path, name: Option<&str>) -> PathBuf {
    match store {
        Store::Folder => b.write_folder(dir).unwrap(),
        Store::Zip => {
            let p = dir.join(name.map_or_else(|| b.file_name(".zip"), str::to_string));
            b.write_zip(&p).unwrap();
            p
        }
        Store::SevenZ => {
            let p = dir.join(name.map_or_else(|| b.file_name(".7z"), str::to_string));
            b.write_7z(&p).unwrap();
            p
        }
    }
}

fn read(b: &QualcommBuilder, store: Store) -> Result<Inspection, ImageError> {
    let dir = tempfile::tempdir().unwrap();
    let path = build(b, store, dir.path(), None);
    inspect(&path)
}

#[test]
fn good_package_round_trips_in_every_storage() {
    let b = QualcommBuilder::ec25(REV);
    let expected = b.files().unwrap();
    for store in [Store::Folder, Store::Zip, Store::SevenZ] {
        let ins = read(&b, store).unwrap();
        let format = match store {
            Store::Folder => "qualcomm-folder",
            Store::Zip => "qualcomm-zip",
            Store::SevenZ => "qualcomm-7z",
        };
        assert_eq!(ins.format, format);
        assert_eq!(ins.platform, Some(crate::platform::Platform::Qualcomm));
        assert_eq!(ins.revision.as_deref(), Some(REV));
        assert_eq!(ins.product.as_deref(), Some("EC25EFA"));
        assert_eq!(ins.nand, Some(NandGeometry { page_kib: 4, block_kib: 256 }));
        assert_eq!(ins.chip.as_deref(), Some("MDM9x07"));
        let top = if matches!(store, Store::Folder) { String::new() } else { format!("{REV}/") };
        assert_eq!(ins.programmer, Some(format!("{top}update/firehose/prog_nand_firehose_9x07.mbn")));
        assert_eq!(ins.name_conflict, None);
        assert!(ins.erases.is_empty(), "{:?}", ins.erases);
        assert!(ins.problems.is_empty(), "{store:?}: {:?}", ins.problems);
        assert_eq!(ins.files.len(), expected.len());
        for ((path, content), f) in expected.iter().zip(&ins.files) {
            assert_eq!(f.path, path.strip_prefix(&format!("{REV}/")).filter(|_| top.is_empty()).unwrap_or(path));
            assert_eq!(f.size, content.len());
            assert_eq!(f.sha256, content.sha256().unwrap());
        }
        let sbl = ins.partitions.iter().find(|p| p.name == "sbl").unwrap();
        assert_eq!((sbl.start, sbl.size, sbl.erase), (Some(0), Some(640 * 4096), true));
        assert_eq!(sbl.file.as_deref(), Some("update/sbl1.mbn"));
        let modem = ins.partitions.iter().find(|p| p.start == Some(24000 * 4096)).unwrap();
        assert_eq!(modem.file.as_deref(), Some("update/NON-HLOS.ubi"));
        assert!(!modem.erase);
        let facts = ins.facts();
        assert_eq!(facts.name, REV);
        assert_eq!(facts.nand, ins.nand);
    }
}

#[test]
fn geometry_and_top_level_variants() {
    let mut b = QualcommBuilder::ec25("EC25EUGAR06A07M4G_01.001.01.001");
    b.geometry = NandGeometry { page_kib: 2, block_kib: 128 };
    let ins = read(&b, Store::Zip).unwrap();
    assert_eq!(ins.nand, Some(NandGeometry { page_kib: 2, block_kib: 128 }));
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);

    let mut flat = QualcommBuilder::ec25(REV);
    flat.top_folder = false;
    let ins = read(&flat, Store::Zip).unwrap();
    assert_eq!(ins.revision, None);
    assert!(ins.problems.iter().any(|p| p.contains("no revision folder")), "{:?}", ins.problems);
    flat.contents = Some(Some(REV.to_string()));
    let ins = read(&flat, Store::Zip).unwrap();
    assert_eq!(ins.revision.as_deref(), Some(REV));
}

#[test]
fn bad_md5_is_malformed_naming_file_expected_and_found() {
    let mut b = QualcommBuilder::ec25(REV);
    b.md5 = Md5Mode::Wrong("update/tz.mbn".into());
    for store in [Store::Folder, Store::Zip, Store::SevenZ] {
        let err = read(&b, store).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ImageError::Malformed { ref part, .. } if part.ends_with("update/tz.mbn")), "{text}");
        assert!(text.contains("MD5 mismatch") && text.contains("expects") && text.contains("the file has"), "{text}");
    }
}

#[test]
fn missing_md5_is_a_problem() {
    let mut b = QualcommBuilder::ec25(REV);
    b.md5 = Md5Mode::Missing;
    let ins = read(&b, Store::Zip).unwrap();
    assert!(ins.problems.iter().any(|p| p.contains("no md5.txt")), "{:?}", ins.problems);
}

#[test]
fn name_and_content_conflict() {
    let b = QualcommBuilder::ec25(REV);
    let dir = tempfile::tempdir().unwrap();
    let path = build(&b, Store::Zip, dir.path(), Some("EC25EFAR08A01M4G_01.001.01.001.zip"));
    let ins = inspect(&path).unwrap();
    assert_eq!(ins.revision.as_deref(), Some(REV));
    let conflict = ins.name_conflict.clone().expect("the name and the content disagree");
    assert!(conflict.contains("EC25EFAR08A01M4G") && conflict.contains("EC25EFAR06A17M4G"), "{conflict}");
    assert_eq!(ins.facts().name_conflict, Some(conflict));
    let mut c = QualcommBuilder::ec25(REV);
    c.contents = Some(Some("EC25EFAR08A01M4G_01.001.01.001".into()));
    let ins = read(&c, Store::Folder).unwrap();
    assert!(ins.problems.iter().any(|p| p.contains("contents.xml names")), "{:?}", ins.problems);
}

#[test]
fn erase_all_factory_and_calibration_are_found() {
    let mut b = QualcommBuilder::ec25(REV);
    b.erase_all = true;
    let ins = read(&b, Store::Zip).unwrap();
    assert_eq!(ins.erases.len(), 1, "{:?}", ins.erases);
    assert!(
        ins.erases[0].contains("rawprogram_nand_p4K_b256K_update.xml step 1") && ins.erases[0].contains("whole device")
    );
    assert_eq!(ins.facts().erases, ins.erases);

    let mut b = QualcommBuilder::ec25(REV);
    b.calibration_write = true;
    let ins = read(&b, Store::Folder).unwrap();
    assert_eq!(ins.erases.len(), 1, "{:?}", ins.erases);
    assert!(ins.erases[0].contains("overwrites efs2.mbn"), "{:?}", ins.erases);

    let mut b = QualcommBuilder::ec25(REV);
    b.factory = true;
    let ins = read(&b, Store::Zip).unwrap();
    assert!(ins.erases.iter().any(|e| e.contains("_factory.xml") && e.contains("factory layout")), "{:?}", ins.erases);
}

#[test]
fn damaged_parts() {
    let mut b = QualcommBuilder::ec25(REV);
    b.good_mibib = false;
    let ins = read(&b, Store::Zip).unwrap();
    assert!(ins.problems.iter().any(|p| p.contains("not a MIBIB")), "{:?}", ins.problems);

    let mut b = QualcommBuilder::ec25(REV);
    b.programmer = None;
    let ins = read(&b, Store::Zip).unwrap();
    assert!(ins.problems.iter().any(|p| p.contains("no Firehose programmer")), "{:?}", ins.problems);

    let mut b = QualcommBuilder::ec25(REV);
    b.extra.push(("update/firehose/partition_complete_p2K_b128K.mbn".into(), Content::text("x")));
    let err = read(&b, Store::Folder).unwrap_err();
    assert!(err.to_string().contains("two NAND geometries"), "{err}");

    let mut b = QualcommBuilder::ec25(REV);
    b.extra.push(("update/firehose/rawprogram_broken.xml".into(), Content::text("<data><program filename=")));
    let err = read(&b, Store::Zip).unwrap_err();
    assert!(matches!(err, ImageError::Malformed { ref part, .. } if part.ends_with("rawprogram_broken.xml")), "{err}");

    let mut b = QualcommBuilder::ec25(REV);
    b.extra.push((
        "update/firehose/rawprogram_escape.xml".into(),
        Content::text(r#"<data><program SECTOR_SIZE_IN_BYTES="4096" PAGES_PER_BLOCK="64" filename="..\..\..\..\etc\passwd" start_sector="1" num_partition_sectors="1"/></data>"#),
    ));
    let err = read(&b, Store::Zip).unwrap_err();
    assert!(matches!(err, ImageError::Unsafe { .. }) && err.to_string().contains("outside the package"), "{err}");
}

#[test]
fn implausible_sector_size_is_malformed_naming_file_value_and_range() {
    let rawprogram = |size: &str, ppb: &str| {
        Content::text(&format!(
            r#"<data><program SECTOR_SIZE_IN_BYTES="{size}" {ppb} filename="..\sbl1.mbn" start_sector="0" num_partition_sectors="1"/></data>"#
        ))
    };
    // 4294967296 is 4194304 KiB pages: 1024 times that overflows a u32.
    for size in ["4294967296", "18446744073709551615", "0", "256", "131072"] {
        for ppb in [r#"PAGES_PER_BLOCK="64""#, ""] {
            let mut b = QualcommBuilder::ec25(REV);
            b.extra.push(("update/firehose/rawprogram_huge.xml".into(), rawprogram(size, ppb)));
            let err = read(&b, Store::Folder).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, ImageError::Malformed { ref part, .. } if part.ends_with("update/firehose/rawprogram_huge.xml")),
                "{text}"
            );
            assert!(text.contains(&format!("SECTOR_SIZE_IN_BYTES is {size},")), "{text}");
            assert!(text.contains("512 to 65536 bytes"), "{text}");
        }
    }
    let mut b = QualcommBuilder::ec25(REV);
    b.extra.push((
        "update/firehose/rawprogram_huge.xml".into(),
        rawprogram("4096", r#"PAGES_PER_BLOCK="18446744073709551615""#),
    ));
    let err = read(&b, Store::Folder).unwrap_err();
    assert!(matches!(err, ImageError::Malformed { .. }) && err.to_string().contains("erase block too large"), "{err}");
    for size in ["512", "65536"] {
        let mut b = QualcommBuilder::ec25(REV);
        b.extra.push(("update/firehose/rawprogram_emmc.xml".into(), rawprogram(size, "")));
        assert!(read(&b, Store::Folder).is_ok(), "{size}");
    }
}

#[test]
fn a_large_rawprogram_is_read_whole() {
    // 20,000 steps, each a new partition: members and partitions are looked up by index.
    let n: u64 = 20_000;
    let mut xml = String::from("<data>");
    for i in 0..n {
        xml.push_str(&format!(
            r#"<program SECTOR_SIZE_IN_BYTES="4096" PAGES_PER_BLOCK="64" filename="..\SBL1.mbn" start_sector="{}" num_partition_sectors="1"/>"#,
            200_000 + i
        ));
    }
    xml.push_str("</data>");
    assert!((xml.len() as u64) < crate::image::qualcomm::xml::MAX_XML_SIZE);
    let mut b = QualcommBuilder::ec25(REV);
    b.extra.push(("update/firehose/rawprogram_many.xml".into(), Content::text(&xml)));
    let ins = read(&b, Store::Folder).unwrap();
    let many: Vec<_> = ins.partitions.iter().filter(|p| p.start >= Some(200_000 * 4096)).collect();
    assert_eq!(many.len() as u64, n);
    assert!(many.iter().all(|p| p.file.as_deref() == Some("update/sbl1.mbn") && p.size == Some(4096)));
    assert_eq!(many.last().unwrap().start, Some((200_000 + n - 1) * 4096));
    assert!(!ins.problems.iter().any(|p| p.contains("does not have")), "{:?}", ins.problems);
}

#[test]
fn many_xml_members_are_refused_past_the_keep_budget() {
    use crate::image::archive::limits::MAX_KEPT_TOTAL;
    use crate::image::qualcomm::xml::MAX_XML_SIZE;
    // Each patch XML is within its own 4 MiB limit; together they pass the 32 MiB budget.
    let mut b = QualcommBuilder::ec25(REV);
    b.md5 = Md5Mode::Missing;
    for i in 0..=MAX_KEPT_TOTAL / MAX_XML_SIZE {
        b.extra.push((format!("update/firehose/patch_fill{i}.xml"), Content::Filler { len: MAX_XML_SIZE, seed: i }));
    }
    let err = read(&b, Store::Folder).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ImageError::Unsafe { .. }), "{text}");
    assert!(text.contains("patch_fill") && text.contains("(MAX_KEPT_TOTAL)"), "{text}");
    assert!(text.contains(&format!("{MAX_KEPT_TOTAL}-byte cap")), "{text}");
}

#[test]
fn delta_packages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("EC20EQAR02A05V03-R02A09V02.zip");
    crate::image::build::zip::write_zip(&path, &[("delta.bin".into(), Content::Filler { len: 1000, seed: 1 })], true)
        .unwrap();
    let ins = inspect(&path).unwrap();
    assert_eq!(ins.format, "dfota");
    assert_eq!(ins.revision.as_deref(), Some("EC20EQAR02A09V02"));
    assert_eq!(ins.source_revision.as_deref(), Some("EC20EQAR02A05V03"));
    assert_eq!(ins.files.len(), 1);
    assert_eq!(ins.facts().name, "EC20EQAR02A05V03-EC20EQAR02A09V02");

    // A full package named like a delta is a full package with a name conflict.
    let full = dir.path().join("EC25EFAR06A17M4G-R06A18M4G.zip");
    QualcommBuilder::ec25(REV).write_zip(&full).unwrap();
    let ins = inspect(&full).unwrap();
    assert_eq!(ins.format, "qualcomm-zip");
    let conflict = ins.name_conflict.expect("a full package named like a delta");
    assert!(conflict.contains("EC25EFAR06A17M4G-R06A18M4G") && conflict.contains("R06A18"), "{conflict}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random text given as rawprogram XML, contents.xml or md5.txt never panics the parsers.
    #[test]
    fn random_text_never_panics(text in ".{0,400}", bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = super::rawprogram::parse_steps(&text);
        let _ = super::contents::parse_contents(&text);
        let _ = super::contents::parse_partition_nand(&text);
        let _ = super::md5sum::parse_md5_txt(&text);
        let _ = super::mibib::parse_mibib(&bytes);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = super::rawprogram::parse_steps(&lossy);
    }

    /// XML-shaped random documents never panic the step reader.
    #[test]
    fn xmlish_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("<data>".to_string()), Just("</data>".to_string()), Just("<program ".to_string()),
        Just("/>".to_string()), Just("<erase".to_string()), Just(" start_sector=\"".to_string()),
        Just("\"".to_string()), Just("&amp;".to_string()), Just("&#x41;".to_string()), Just("<!--".to_string()),
        Just("-->".to_string()), Just("<![CDATA[".to_string()), Just("]]>".to_string()), "[0-9a-z]{0,5}"
    ], 0..40)) {
        let _ = super::rawprogram::parse_steps(&parts.concat());
    }
}
