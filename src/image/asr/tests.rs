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
fn a_stale_crc_is_a_problem_naming_both_values_not_a_refusal() {
    // waybyte/logicromsdk lib/asr160x/pack/partition_16M.bin stores 0xBD083CF7; its bytes give
    // 0x338F6331. The vendor's release script recomputes it; the table is read as it is.
    let mut bytes = b::partition_bin(&b::layout(8 << 20));
    let good = PartitionTable::parse(&bytes, "p").unwrap();
    assert_eq!(good.crc, good.computed_crc);
    bytes[partition_table::CRC_OFFSET..].copy_from_slice(&0xBD08_3CF7u32.to_le_bytes());
    let t = PartitionTable::parse(&bytes, "p").unwrap();
    assert_eq!((t.crc, t.computed_crc), (0xBD08_3CF7, good.crc));
    assert_eq!(t.entries, good.entries);
    let p = t.problems.iter().find(|p| p.contains("stale CRC-32")).unwrap();
    assert!(p.contains("0xbd083cf7") && p.contains(&format!("{:#010x}", good.crc)), "{p}");

    let mut builder = AsrBuilder::ec800m_cn_lf();
    builder.damage.push(AsrDamage::PartitionBadCrc);
    let insp = inspect(&builder).unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("stale CRC-32")), "{:?}", insp.problems);
}

#[test]
fn the_8mb_table_and_flash_table_are_the_sdks_byte_for_byte() {
    // waybyte/logicromsdk lib/asr160x/pack/partition_8M.bin: 2188 bytes, 22 entries, CRC
    // 0xF5076037 (it matches its bytes), SHA-256 2066c133…f1101c. The builder's table has
    // the same entries, types, nesting and vsize values, so the same bytes and CRC.
    let bytes = b::partition_bin(&b::layout_8mb());
    let t = PartitionTable::parse(&bytes, "p").unwrap();
    assert_eq!((bytes.len(), t.entries.len(), t.crc, t.computed_crc), (2188, 22, 0xF507_6037, 0xF507_6037));
    assert_eq!(
        crate::image::fields::sha256_hex(&bytes),
        "2066c1333af4a3807a5932cd663302d7489fab6a00295ad3b399bc0a1ef1101c"
    );
    // Field values recorded from the real table: cp at 0x40000 size 0x359000; ptable vsize 0x88C;
    // user_app's vsize (0x1000) at 0x3B8, where waybyte's release script writes the app size.
    let cp = t.get("cp").unwrap();
    assert_eq!((cp.start, cp.size, cp.depth), (0x40000, 0x35_9000, 3));
    assert_eq!(t.get("ptable").unwrap().vsize, 0x88C);
    assert_eq!(bytes[0x3B8..0x3BC], 0x1000u32.to_le_bytes());
    assert_eq!(t.get("system").unwrap().kind, "part");
    assert_eq!(t.get("all").unwrap().vstart, u32::MAX);
    assert_eq!(t.flash_size(), Some(8 << 20));
    assert!(t.problems.is_empty(), "{:?}", t.problems);

    // flashinfo_8M.bin: 648 bytes, SHA-256 0bfdcd20…f10894: GD25LQ64C (C8 / 6017), QSPI_NOR,
    // min_io 1, peb 0x1000, page 0x100, sector 0x1000, block 0x10000, 8 MiB, erased 0xFF, 7 chips.
    let info = b::flashinfo_bin(&b::flash_table(8 << 20, &b::chips_8mb()));
    assert_eq!(info.len(), 648);
    assert_eq!(info[0x68..0x80], [1, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(info[0x88..0x90], [0xFF, 0, 0, 0, 7, 0, 0, 0]);
    assert_eq!(
        crate::image::fields::sha256_hex(&info),
        "0bfdcd2085279e6b14edd1e10808cce429c7f12f8523e071b2922ae641f10894"
    );
}

#[test]
fn download_json_has_the_structure_of_the_sdks() {
    // waybyte/logicromsdk lib/asr160x/pack/download.json: a top-level array of nine flat
    // objects: require product/version/version-bootrom (group "0", name, value), progress
    // (name "weight", value), call preboot.img and flasher.img, partition flashinfo.bin and
    // partition.bin (group "0", image), flash app.bin -> user_app (group "1", image,
    // partition, weight).
    let sdk: [(&str, &str, &[&str]); 9] = [
        ("require", "0", &["command", "group", "name", "value"]),
        ("require", "0", &["command", "group", "name", "value"]),
        ("require", "0", &["command", "group", "name", "value"]),
        ("progress", "0", &["command", "group", "name", "value"]),
        ("call", "0", &["command", "group", "image"]),
        ("call", "0", &["command", "group", "image"]),
        ("partition", "0", &["command", "group", "image"]),
        ("partition", "0", &["command", "group", "image"]),
        ("flash", "1", &["command", "group", "image", "partition", "weight"]),
    ];
    let mut builder = AsrBuilder::ec800m_cn_lf();
    builder.images.retain(|(f, ..)| f == "app.bin");
    let text = builder.download_json();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = v.as_array().expect("a top-level array");
    assert_eq!(steps.len(), sdk.len());
    for (step, (command, group, keys)) in steps.iter().zip(sdk) {
        let obj = step.as_object().unwrap();
        assert_eq!(obj.keys().map(String::as_str).collect::<Vec<_>>(), keys, "{step}");
        assert_eq!((obj["command"].as_str(), obj["group"].as_str()), (Some(command), Some(group)));
        assert!(obj.values().all(|v| v.is_string() || v.is_u64()), "flat: {step}");
    }
    assert_eq!(steps[0]["value"], "arom-tiny");
    assert_eq!(steps[1]["value"], "0.6");
    assert_eq!(steps[2]["value"], "2022.11.06");
    assert_eq!(steps[3]["name"], "weight");
    assert_eq!((steps[8]["image"].as_str(), steps[8]["partition"].as_str()), (Some("app.bin"), Some("user_app")));
    assert_eq!(steps[8]["weight"], 2048);
    assert!(text.starts_with("[\n   {\n      \"command\" : \"require\",\n"), "{text}");
    let recipe = Recipe::parse(text.as_bytes(), "p", &|n: &str| n == "app.bin").unwrap();
    assert_eq!(recipe.steps.len(), 9);
    assert!(recipe.problems.is_empty(), "{:?}", recipe.problems);
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
    builder.revision_member = Some("release.json".into());
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
    let preboot = members.iter().position(|(n, _)| n == "preboot.img").unwrap();
    members[preboot].1[0] = 0;
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
    let t = PartitionTable::parse(&b::partition_bin(&b::layout(4 << 20)), "p").unwrap();
    assert_eq!(t.get("external").unwrap().flash_index.as_deref(), Some("0"));
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.flash_size(), Some(4 << 20));
    // Partitions of one level that overlap: refused, naming both.
    let mut layout = b::layout(4 << 20);
    let rd = layout.iter().position(|e| e.name == "rd").unwrap();
    layout[rd].start = layout[rd - 1].start;
    let msg = problem_of(PartitionTable::parse(&b::partition_bin(&layout), "p").unwrap_err());
    assert!(msg.contains("overlap") && msg.contains("\"rd\"") && msg.contains("\"fwcerts\""), "{msg}");
    // A partition past the end of the flash: refused.
    let mut layout = b::layout(4 << 20);
    let nvm = layout.iter().position(|e| e.name == "nvm").unwrap();
    layout[nvm].size += 0x10_0000;
    layout.retain(|e| !e.name.starts_with("factory"));
    let msg = problem_of(PartitionTable::parse(&b::partition_bin(&layout), "p").unwrap_err());
    assert!(msg.contains("runs past the flash") && msg.contains("\"nvm\""), "{msg}");
    // A sub-partition outside every top-level partition: noted.
    let mut layout = b::layout(4 << 20);
    let system = layout.iter().position(|e| e.name == "system").unwrap();
    layout[system].size = 0x1000;
    let t = PartitionTable::parse(&b::partition_bin(&layout), "p").unwrap();
    assert!(t.problems.iter().any(|p| p.contains("sub-partition \"fwcerts\"")), "{:?}", t.problems);
}

#[test]
fn a_table_for_a_larger_flash_than_the_flash_table_is_refused() {
    let mut builder = AsrBuilder::ec800m_cn_lf();
    builder.partitions = b::layout(16 << 20);
    let msg = problem_of(inspect(&builder).unwrap_err());
    assert!(msg.contains("0x1000000") && msg.contains("0x400000") && msg.contains("run past the flash"), "{msg}");
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
    // Bytes 8..16 of every real ASR stage: 00 00 00 00 01 00 00 00.
    assert_eq!((fip.toc_flags, &img[8..16]), (fip::ASR_TOC_FLAGS, &[0, 0, 0, 0, 1, 0, 0, 0][..]));
    assert!(fip.entries.iter().all(|e| e.flags == 0));
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
