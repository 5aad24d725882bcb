use std::io::Cursor;

use super::header::PacVersion;
use super::scheme::parse_scheme;
use super::*;
use crate::image::build::pac::{PacBuilder, PacDamage, PacFileSpec};
use crate::image::fields::sha256_hex;

const NAME: &str = "8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac";

fn inspect(bytes: &[u8], name: &str) -> Result<Inspection, ImageError> {
    inspect_pac_reader(&mut Cursor::new(bytes), name)
}

fn problem_of(err: ImageError) -> String {
    match err {
        ImageError::Malformed { part, problem, .. } => format!("{part}: {problem}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn round_trip_both_versions() {
    for version in [PacVersion::R1, PacVersion::R2] {
        let mut builder = PacBuilder::ec200u_eu();
        builder.version = version;
        let bytes = builder.to_bytes();
        assert!(is_pac(&bytes[..64]));
        let insp = inspect(&bytes, NAME).unwrap();
        assert_eq!(insp.format, "unisoc-pac");
        assert_eq!(insp.platform, Some(crate::platform::Platform::Unisoc));
        assert_eq!(insp.revision.as_deref(), Some("EC200UEUAAR02A02M08_OCPU"), "{version:?}");
        assert_eq!(insp.product.as_deref(), Some("EC200UEUAA"));
        assert_eq!(insp.name_conflict, None);
        assert!(insp.problems.is_empty(), "{version:?}: {:?}", insp.problems);
        assert!(insp.erases.is_empty());
        assert_eq!(insp.files.len(), 5);
        let ap = &builder.files[3];
        let f = insp.files.iter().find(|f| f.path == ap.name).unwrap();
        assert_eq!((f.size, f.sha256.as_str()), (ap.data.len() as u64, sha256_hex(&ap.data).as_str()));
        let fdl = insp.partitions.iter().find(|p| p.name == "HOST_FDL").unwrap();
        assert_eq!(fdl.start, Some(0x8000C0));
        let pac = read_pac(&mut Cursor::new(&bytes), NAME).unwrap();
        assert_eq!(pac.header.version, version);
        assert_eq!(pac.header.product_alias, "8915DM_cat1_open");
        assert_eq!(pac.scheme.as_ref().unwrap().files.len(), 4);
    }
}

#[test]
fn large_entries_stream_across_buffers() {
    let mut builder = PacBuilder::ec200u_eu();
    let big: Vec<u8> = (0..300_001u32).map(|i| (i % 251) as u8).collect();
    builder.files.push(PacFileSpec::file("APPIMG", "appimg.bin", "CODE", 0x6023_0000, big.clone()));
    let insp = inspect(&builder.to_bytes(), NAME).unwrap();
    let f = insp.files.iter().find(|f| f.path == "appimg.bin").unwrap();
    assert_eq!(f.sha256, sha256_hex(&big));
}

#[test]
fn damaged_pacs_are_refused() {
    let cases = [
        (PacDamage::HeaderCrc, "header CRC-16 mismatch"),
        (PacDamage::DataCrc, "CRC2"),
        (PacDamage::Truncated, "truncated"),
        (PacDamage::WrongMagic, "wrong magic"),
        (PacDamage::SizeBeyondFile, "beyond the end"),
        (PacDamage::Overlap, "overlaps"),
        (PacDamage::AbsurdCount, "absurd"),
        (PacDamage::BadXml, "XML"),
    ];
    for (damage, text) in cases {
        let mut builder = PacBuilder::ec200u_eu();
        builder.damage.push(damage);
        let msg = problem_of(inspect(&builder.to_bytes(), NAME).unwrap_err());
        assert!(msg.contains(text), "{damage:?}: {msg}");
    }
}

#[test]
fn crc_errors_name_both_values() {
    let mut builder = PacBuilder::ec200u_eu();
    builder.damage.push(PacDamage::HeaderCrc);
    let bytes = builder.to_bytes();
    let stored = u16::from_le_bytes([bytes[0x848], bytes[0x849]]);
    let msg = problem_of(inspect(&bytes, NAME).unwrap_err());
    assert!(msg.contains(&format!("{stored:#06x}")), "{msg}");
}

#[test]
fn short_and_foreign_files() {
    let bytes = PacBuilder::ec200u_eu().to_bytes();
    for n in [0, 10, 100, 0x84B, 0x84C + 10] {
        assert!(inspect(&bytes[..n], NAME).is_err(), "{n}");
    }
    assert!(!is_pac(b"PK\x03\x04"));
    assert!(!is_pac(&[]));
}

#[test]
fn nv_steps_become_erases() {
    let builder = PacBuilder::ec200u_eu().with_nv_steps();
    let insp = inspect(&builder.to_bytes(), NAME).unwrap();
    assert_eq!(insp.erases.len(), 2, "{:?}", insp.erases);
    assert!(insp.erases[0].starts_with("erases NV"), "{}", insp.erases[0]);
    assert!(
        insp.erases[1].contains("nvitem.bin") && insp.erases[1].contains("Calibration, IMEI"),
        "{}",
        insp.erases[1]
    );
    assert!(insp.partitions.iter().any(|p| p.name == "ERASE_NV" && p.erase));
}

#[test]
fn without_xml_the_entries_still_say_what_happens() {
    let mut builder = PacBuilder::ec200u_eu().with_nv_steps();
    builder.xml = false;
    let insp = inspect(&builder.to_bytes(), NAME).unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("no XML")));
    assert_eq!(insp.erases.len(), 2, "{:?}", insp.erases);
}

#[test]
fn name_conflicts_and_chip_mismatch() {
    let insp = inspect(&PacBuilder::ec200u_eu().to_bytes(), "8915DM_cat1_open_EC200UCNAAR03A03M08_merge.pac").unwrap();
    let c = insp.name_conflict.unwrap();
    assert!(c.contains("EC200UCNAA") && c.contains("EC200UEUAA"), "{c}");
    let mut builder = PacBuilder::uis8910("EC200UCNAAR03A03M08");
    builder.product_name = "UIS8850_MODEM".into();
    builder.product_version = "8850 MODULE".into();
    let insp = inspect(&builder.to_bytes(), "x.pac").unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("8850") && p.contains("UIS8910")), "{:?}", insp.problems);
}

#[test]
fn missing_fdl_is_a_problem() {
    let mut builder = PacBuilder::ec200u_eu();
    builder.files.remove(1);
    let insp = inspect(&builder.to_bytes(), NAME).unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("FDL2")), "{:?}", insp.problems);
}

#[test]
fn scheme_parsing() {
    let s = parse_scheme(PacBuilder::ec200u_eu().with_nv_steps().xml_text().as_bytes()).unwrap();
    assert_eq!(s.product.as_deref(), Some("UIX8910_MODEM"));
    assert!(s.nv_backup);
    assert_eq!(s.nv_items.len(), 2);
    assert_eq!(s.files[0].base, Some(0x8000C0));
    assert_eq!(s.files[0].description.as_deref(), Some("fdl1.img & more"));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("<BMAConfig><SchemeList><Scheme><File><ID>A</ID><Block><Base>16</Base></Block></File></Scheme></SchemeList></BMAConfig>".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(parse_scheme(&utf16).unwrap().files[0].base, Some(16));
    for bad in [
        "",
        "<a>",
        "<BMAConfig><File>",
        "<x/>",
        "<BMAConfig><SchemeList><Scheme><File><Block><Base>zz</Base></Block></File></Scheme></SchemeList></BMAConfig>",
        "<BMAConfig>&bogus;</BMAConfig>",
    ] {
        assert!(parse_scheme(bad.as_bytes()).is_err(), "{bad}");
    }
    let deep = "<a>".repeat(100);
    assert!(parse_scheme(deep.as_bytes()).unwrap_err().contains("deeper"));
}
