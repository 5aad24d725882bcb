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
    builder.files.push(PacFileSpec::file("APPIMG", "appimg.bin", "CODE", 0x6023_0000, 0x10_0000, big.clone()));
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
    assert!(insp.partitions.iter().any(|p| p.name == "FLASH" && p.erase));
}

#[test]
fn without_xml_the_entries_still_say_what_happens() {
    let mut builder = PacBuilder::ec200u_eu().with_nv_steps();
    builder.xml = false;
    let insp = inspect(&builder.to_bytes(), NAME).unwrap();
    assert!(insp.problems.iter().any(|p| p.contains("no XML")));
    // The erase at 0xFE000001 and the NV write; the PhaseCheck operation (0xFE000002) is
    // pacgen's CODE step, not an erase.
    assert_eq!(insp.erases.len(), 2, "{:?}", insp.erases);
    assert!(!insp.erases.iter().any(|e| e.contains("PhaseCheck")), "{:?}", insp.erases);
}

#[test]
fn the_bytes_are_the_ones_pacgen_writes() {
    // Running waybyte/logicromsdk tools/rda8910/pacgen.py (python3) on the files of these PACs
    // (cfg-init --pname UIX8910_MODEM --palias 8915DM_cat1_open --pversion "8910 MODULE"
    // --version BP_R1.0.0 --flashtype 1; cfg-host-fdl -a 0x8000c0 -s 0xff40; cfg-fdl2 -a
    // 0x810000 -s 0x30000; cfg-image -i BOOT -a 0x60000000 -s 0x10000; cfg-image -i AP -a
    // 0x60010000 -s 0x220000; and for the second cfg-nvitem Calibration 0x100 and IMEI 0x101
    // --continue 1, cfg-clear-nv, cfg-phase-check, cfg-nv -s 0x400) wrote byte-identical
    // files, with these SHA-256s.
    assert_eq!(
        sha256_hex(&PacBuilder::ec200u_eu().to_bytes()),
        "e4e374d4bd6520c4e8e9a96ea106fcce2653045dcc88745ee3ea6e876d70dfeb"
    );
    assert_eq!(
        sha256_hex(&PacBuilder::ec200u_eu().with_nv_steps().to_bytes()),
        "cafd9e060e54aaca7ee37418250189586ed4902537fd652f1e6f9953927209b6"
    );
}

#[test]
fn the_layout_is_the_one_pacgen_writes() {
    // Values read from a PAC written by waybyte/logicromsdk tools/rda8910/pacgen.py (cfg-init
    // --pname UIX8910_MODEM --palias APPIMG --pversion "8910 MODULE" --version BP_R1.0.0
    // --flashtype 1, cfg-host-fdl, cfg-fdl2, cfg-image, cfg-clear-nv, cfg-phase-check):
    // header dwMode 0, dwFlashType 1, dwNandStrategy 1, dwIsNvBackup 0, dwNandPageType 0,
    // dwOmaDmProductFlag 0, dwIsOmaDM 1, dwIsPreload 1; entries (size, flag, check, offset,
    // omit, addr count, addr) = FDLs and images (n, 1, 1, running, 0, 1, addr), the erase and
    // PhaseCheck operations (0, 0, 1, running, 1, 1, 0xFE00000x), the XML (n, 2, 0, running,
    // 0, 1, 0); the XML is CRLF, tab-indented, with <RebootByAT>1 and <Chips enable="0">.
    use crate::image::pac::entry::offsets as o;
    use crate::image::pac::header::offsets as h;
    let word = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut builder = PacBuilder::ec200u_eu();
    builder.files.push(PacFileSpec::operation("FLASH", "EraseFlash", "Erase NV", 0xFE00_0001, 0));
    builder.files.push(PacFileSpec::operation("PhaseCheck", "CODE", "x", 0xFE00_0002, 0x100));
    let bytes = builder.to_bytes();
    let header: Vec<u32> =
        (0..5).map(|k| word(&bytes, h::MODE + 4 * k)).chain((0..3).map(|k| word(&bytes, h::OMA_DM + 4 * k))).collect();
    assert_eq!(header, [0, 1, 1, 0, 0, 0, 1, 1]);
    let count = word(&bytes, h::FILE_COUNT) as usize;
    assert_eq!(count, 7);
    let mut running = (0x84C + 7 * 0xA14) as u32;
    for i in 0..count {
        let e = &bytes[0x84C + i * 0xA14..0x84C + (i + 1) * 0xA14];
        let f = |at| word(e, at);
        let (size, flag, check, offset, omit, n, addr) =
            (f(o::LO_SIZE), f(o::FLAG), f(o::CHECK_FLAG), f(o::LO_OFFSET), f(o::CAN_OMIT), f(o::ADDR_NUM), f(o::ADDR));
        assert_eq!((offset, n), (running, 1), "entry {i}");
        running += size;
        match i {
            0..=3 => assert_eq!((flag, check, omit), (1, 1, 0), "entry {i}"),
            4 | 5 => assert_eq!((size, flag, check, omit, addr), (0, 0, 1, 1, 0xFE00_0001 + i as u32 - 4)),
            _ => assert_eq!((flag, check, omit, addr), (2, 0, 0, 0)),
        }
    }
    assert_eq!(running as usize, bytes.len());
    let xml = builder.xml_text();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<BMAConfig>\r\n\t<ProductList>\r\n"),
        "{xml}"
    );
    for line in [
        "\t\t\t<RebootByAT>1</RebootByAT>\r\n",
        "\t\t\t<NVBackup backup=\"0\"/>\r\n",
        "\t\t\t<Chips enable=\"0\">\r\n\t\t\t\t<ChipItem id=\"0x2222\" name=\"L2\"/>\r\n\t\t\t\t<ChipItem id=\"0x7777\" name=\"L7\"/>\r\n\t\t\t</Chips>\r\n",
        "\t\t\t\t\t<Base>0x8000c0</Base>\r\n\t\t\t\t\t<Size>0xff40</Size>\r\n",
        "\t\t\t\t\t<Size>0x220000</Size>\r\n",
    ] {
        assert!(xml.contains(line), "{line:?} in {xml}");
    }
    assert!(xml.ends_with("\t\t</Scheme>\r\n\t</SchemeList>\r\n</BMAConfig>\r\n"));
    assert!(!xml.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
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
    let mut builder = PacBuilder::ec200u_eu().with_nv_steps();
    builder.files[0].description = "fdl1.img & more".into();
    let s = parse_scheme(builder.xml_text().as_bytes()).unwrap();
    assert_eq!(s.product.as_deref(), Some("UIX8910_MODEM"));
    assert!(s.nv_backup);
    assert_eq!(s.nv_items.len(), 2);
    assert_eq!((s.files[0].base, s.files[0].size), (Some(0x8000C0), Some(0xFF40)));
    assert_eq!(s.files[0].description.as_deref(), Some("fdl1.img & more"));
    assert_eq!((s.files[0].flag.as_deref(), s.files[0].check_flag.as_deref()), (Some("1"), Some("1")));
    assert_eq!(s.files[5].kind, "CODE", "pacgen's PhaseCheck step is CODE");
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
