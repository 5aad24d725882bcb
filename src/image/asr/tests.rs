use super::download_json::{Recipe, StepKind};
use super::fip::Fip;
use super::flashinfo::FlashInfo;
use super::partition_table::{self, PartitionTable};
use super::*;
use crate::identity::FlashId;
use crate::image::build::asr::{self as b, AsrBuilder, AsrDamage};
use crate::image::build::memory::MemoryPackage;

fn inspect(builder: &AsrBuilder) -> Result<Inspection, ImageError> {
    inspect_asr(&mut builder.package())
}

fn problem_of(err: ImageError) -> String {
    match err {
        ImageError::Malformed { part, problem, .. } => format!("{part}: {problem}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn round_trip_lf() {
    let insp = inspect(&AsrBuilder::ec800m_cn_lf()).unwrap();
    assert_eq!(insp.format, "asr-zip");
    assert_eq!(insp.platform, Some(crate::platform::Platform::Asr));
    assert_eq!(insp.revision.as_deref(), Some("EC800MCNLFR01A01M04_OCPU"));
    assert_eq!(insp.product.as_deref(), Some("EC800MCNLF"));
    assert_eq!(insp.flash_chips.len(), 1);
    assert_eq!(insp.flash_chips[0].jedec, "C86016");
    assert_eq!(insp.files.len(), 8);
    assert!(insp.files.iter().all(|f| f.sha256.len() == 64));
    let cp = insp.partitions.iter().find(|p| p.name == "cp").unwrap();
    assert_eq!((cp.start, cp.file.as_deref()), (Some(0x40000), Some("cp.bin")));
    assert_eq!(insp.name_conflict, None);
    assert!(insp.erases.is_empty(), "{:?}", insp.erases);
    assert!(insp.problems.is_empty(), "{:?}", insp.problems);
}

#[test]
fn every_member_is_hashed_in_one_pass() {
    use std::cell::Cell;
    use std::rc::Rc;

    use crate::image::build::memory::{CountingPackage, Counts};
    let builder = AsrBuilder::ec800m_cn_lf();
    let counts = Rc::new(Cell::new(Counts::default()));
    let mut pkg = CountingPackage::new(Box::new(builder.package()), Rc::clone(&counts));
    let insp = inspect_asr(&mut pkg).unwrap();
    let c = counts.get();
    assert_eq!((c.hashes, c.walks), (0, 1), "{c:?}");
    let mut plain = builder.package();
    assert_eq!(insp.files.len(), plain.members().len());
    for f in &insp.files {
        assert_eq!(f, &plain.hash(&f.path).unwrap());
    }
}

#[test]
fn round_trip_la_through_a_zip_in_a_folder() {
    let mut builder = AsrBuilder::ec800m_cn_la();
    builder.folder = "EC800MCNLAR01A01M08_OCPU/".into();
    let zip = builder.zip().unwrap();
    let mut pkg = MemoryPackage::from_zip(&builder.file_name, &zip).unwrap();
    let insp = inspect_asr(&mut pkg).unwrap();
    let chips: Vec<&str> = insp.flash_chips.iter().map(|c| c.jedec.as_str()).collect();
    assert_eq!(chips, ["C86017", "EF6017", "F84317", "205017", "204117", "856017", "5E7017"]);
    assert!(insp.flash_chips.iter().any(|c| c.name.as_deref() == Some("XM25QU64C")));
    assert_eq!(insp.name_conflict, None);
    assert!(insp.problems.is_empty(), "{:?}", insp.problems);
    let read = read_asr(&mut pkg).unwrap();
    let info = read.flashinfo.unwrap();
    assert!(info.accepts(&FlashId::parse("20 41 17").unwrap()));
    assert!(!info.accepts(&FlashId::parse("C8 60 16").unwrap()));
    assert_eq!(read.stages.len(), 2);
    assert_eq!(read.recipe.unwrap().chip(), Some("ASR1606"));
}

#[test]
fn a_flash_table_of_other_chips_does_not_accept_the_module() {
    let read = read_asr(&mut AsrBuilder::ec800m_cn_lf().package()).unwrap();
    assert!(!read.flashinfo.unwrap().accepts(&FlashId::parse("20 41 17").unwrap()));
}

#[test]
fn damaged_packages_are_refused() {
    let cases = [
        (AsrDamage::PartitionBadCrc, "CRC-32 mismatch"),
        (AsrDamage::PartitionTruncated, "truncated"),
        (AsrDamage::PartitionWrongMagic, "neither a partition table"),
        (AsrDamage::FlashinfoTruncated, "too small"),
        (AsrDamage::FipTruncated, "truncated"),
        (AsrDamage::FipOverlap, "overlap"),
        (AsrDamage::MissingImage, "missing.bin"),
    ];
    for (damage, text) in cases {
        let mut builder = AsrBuilder::ec800m_cn_lf();
        builder.damage.push(damage);
        let msg = problem_of(inspect(&builder).unwrap_err());
        assert!(msg.contains(text), "{damage:?}: {msg}");
    }
}

#[test]
fn bad_crc_names_both_values() {
    let mut bytes = b::partition_bin(&b::layout(8 << 20));
    let good = PartitionTable::parse(&bytes, "p").unwrap();
    bytes[partition_table::CRC_OFFSET..].copy_from_slice(&0xBD08_3CF7u32.to_le_bytes());
    let msg = problem_of(PartitionTable::parse(&bytes, "p").unwrap_err());
    assert!(msg.contains("0xbd083cf7") && msg.contains(&format!("{:#010x}", good.crc)), "{msg}");
}

#[test]
fn erase_steps_become_sentences() {
    let mut builder = AsrBuilder::ec800m_cn_lf();
    builder.damage = vec![AsrDamage::EraseNv, AsrDamage::EraseAll];
    let insp = inspect(&builder).unwrap();
    assert_eq!(insp.erases.len(), 2, "{:?}", insp.erases);
    assert!(insp.erases[0].contains("nvm") && insp.erases[0].contains("NV"));
    assert!(insp.erases[1].contains("whole flash") && insp.erases[1].contains("production"));
    assert!(insp.partitions.iter().any(|p| p.name == "nvm" && p.erase));
}

#[test]
fn name_and_content_conflicts() {
    let mut builder = AsrBuilder::ec800m_cn_la();
    builder.file_name = "EC800MCNLFR01A01M04_OCPU.zip".into();
    let c = inspect(&builder).unwrap().name_conflict.unwrap();
    assert!(c.contains("EC800MCNLF") && c.contains("EC800MCNLA") && c.contains("8 MB"), "{c}");

    let mut builder = AsrBuilder::ec800m_cn_lf();
    builder.revision_member = None;
    builder.file_name = "EC800KCNLCR07A03M04.zip".into();
    let insp = inspect(&builder).unwrap();
    assert_eq!(insp.revision.as_deref(), Some("EC800KCNLCR07A03M04"), "from the file name");
    let c = insp.name_conflict.unwrap();
    assert!(c.contains("ASR1602") && c.contains("ASR1606"), "{c}");
}

#[test]
fn recipe_forms() {
    let json = br#"{"g": [
        {"instructions": ["require version-bootrom=2020.07.30", "call preboot.img", "flash user_app app.bin"]},
        {"productionOnly": true, "x": [{"cmd": "erase", "args": ["nvm"]}]},
        {"command": "call", "file": "flasher.img", "version-bootrom": "2020.07.30"},
        {"command": "require", "key": "product", "value": "arom|arom-tiny"},
        "QUEC_CRANEL_SS_08MB_OPEN", "not a step"
    ]}"#;
    let r = Recipe::parse(json, "p", &|n: &str| n == "app.bin").unwrap();
    let kinds: Vec<&StepKind> = r.steps.iter().map(|s| &s.kind).collect();
    assert_eq!(kinds[0], &StepKind::Require { key: "version-bootrom".into(), value: "2020.07.30".into() });
    assert_eq!(kinds[2], &StepKind::Flash { image: "app.bin".into(), partition: "user_app".into() });
    assert_eq!(kinds[3], &StepKind::Erase { partition: "nvm".into() });
    assert!(r.steps[3].production_only && !r.steps[2].production_only);
    assert_eq!(r.steps[4].version_bootrom.as_deref(), Some("2020.07.30"));
    assert_eq!(kinds[5], &StepKind::Require { key: "product".into(), value: "arom|arom-tiny".into() });
    assert_eq!(r.variant_flash_mb(), Some(8));
    assert!(Recipe::parse(b"{not json", "p", &|_: &str| false).is_err());
    assert!(!Recipe::parse(b"[]", "p", &|_: &str| false).unwrap().problems.is_empty());
}

#[test]
fn version_specific_stage_sets() {
    let builder = AsrBuilder::ec800m_cn_lf();
    let mut members = builder.members();
    let json = r#"{"steps": [{"command": "call", "image": "preboot.img", "version-bootrom": "2020.07.30"},
        "partition partition.bin", "partition flashinfo.bin"]}"#;
    members[0].1 = json.as_bytes().to_vec();
    let mut bad_stage = members[3].1.clone();
    bad_stage[0] = 0;
    members[3].1 = bad_stage;
    members.push(("2020.07.30/preboot.img".into(), b::stage_image("Preboot")));
    let read = read_asr(&mut MemoryPackage::new("x.zip", members)).unwrap();
    assert_eq!(read.stages[0].0, "2020.07.30/preboot.img");
}

#[test]
fn partition_table_limits() {
    let mut bytes = b::partition_bin(&b::layout(4 << 20));
    bytes[4..8].copy_from_slice(&33u32.to_le_bytes());
    assert!(problem_of(PartitionTable::parse(&bytes, "p").unwrap_err()).contains("33"));
    let mut bytes = b::partition_bin(&b::layout(4 << 20));
    bytes[0..4].copy_from_slice(&partition_table::MAGIC_B.to_le_bytes());
    assert!(problem_of(PartitionTable::parse(&bytes, "p").unwrap_err()).contains("format B"));
    let mut layout = b::layout(4 << 20);
    layout[5].start = 0xFFFF_0000;
    layout[5].size = 0x20000;
    let msg = problem_of(PartitionTable::parse(&b::partition_bin(&layout), "p").unwrap_err());
    assert!(msg.contains("4 GiB"), "{msg}");
    let mut layout = b::layout(4 << 20);
    layout[6].start = layout[5].start;
    let t = PartitionTable::parse(&b::partition_bin(&layout), "p").unwrap();
    assert!(t.problems.iter().any(|p| p.contains("overlap")), "{:?}", t.problems);
    assert_eq!(t.get("external").unwrap().flash_index.as_deref(), Some("0"));
}

#[test]
fn flash_table_checks() {
    let mut table = b::flash_table(8 << 20, &b::chips_8mb());
    table.compatible.push(b::chip(0xEF, 0x6018, "W25Q128JW-IQ"));
    table.compatible.push(b::chip(0x1234, 0x5678, "WIDE"));
    let info = FlashInfo::parse(&b::flashinfo_bin(&table), "p").unwrap();
    assert!(info.problems.iter().any(|p| p.contains("W25Q128JW-IQ")), "{:?}", info.problems);
    assert_eq!(info.compatible.last().unwrap().jedec(), "12345678");
    let mut bytes = b::flashinfo_bin(&table);
    bytes[0x8C..0x90].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(problem_of(FlashInfo::parse(&bytes, "p").unwrap_err()).contains("absurd"));
    assert!(FlashInfo::parse(&bytes[..0x40], "p").is_err());
}

#[test]
fn fip_checks() {
    let img = b::stage_image("Preboot");
    let fip = Fip::parse(&img, "p", "preboot.img").unwrap();
    assert_eq!(fip.entries[0].offset, 0x88);
    assert_eq!(fip.entries[1].offset, 0x3D90);
    assert_eq!(fip.entries[0].name(), "BL2");
    assert_eq!(fip.entries[1].name(), "TRUSTED_BOOT_FW_CERT");
    assert_eq!(img.len(), 16800);
    let mut beyond = img.clone();
    beyond[16 + 24..16 + 32].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(problem_of(Fip::parse(&beyond, "p", "preboot.img").unwrap_err()).contains("beyond"));
    let mut endless = b::fip_image(&[]);
    endless.truncate(16);
    endless.extend(std::iter::repeat_n(0xAB, 40 * 70));
    assert!(Fip::parse(&endless, "p", "x").is_err());
}

#[test]
fn an_unrecognised_recipe_still_reads_the_standard_files() {
    let builder = AsrBuilder::ec800m_cn_lf();
    let mut members = builder.members();
    members[0].1 = br#"{"unknown": {"schema": [1, 2, 3]}}"#.to_vec();
    let mut pkg = MemoryPackage::new("x.zip", members);
    let read = read_asr(&mut pkg).unwrap();
    assert!(read.partitions.is_some() && read.flashinfo.is_some());
    assert_eq!(read.stages.len(), 2);
    let insp = inspect_asr(&mut pkg).unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("no download steps")), "{:?}", insp.problems);
}
