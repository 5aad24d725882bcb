//! Property tests: random and mutated bytes never make a package reader panic. Mutated PACs and
//! partition tables get their CRCs recomputed, so the checks behind the CRCs are reached too.

use std::io::Cursor;

use proptest::prelude::*;

use super::asr::download_json::Recipe;
use super::asr::fip::Fip;
use super::asr::flashinfo::FlashInfo;
use super::asr::partition_table::{self, PartitionTable};
use super::build::asr::{self as asr_build, AsrBuilder};
use super::build::binpkg::BinpkgBuilder;
use super::build::pac::{PacBuilder, seal};
use super::pac::scheme::parse_scheme;
use super::{asr, binpkg, pac};

/// Applies `(position, value)` overwrites and an optional cut to `base`.
fn mutate(base: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut b = base.to_vec();
    if b.is_empty() {
        return b;
    }
    for &(at, v) in edits {
        let i = at % b.len();
        b[i] = v;
    }
    if let Some(c) = cut {
        b.truncate(c % (b.len() + 1));
    }
    b
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 0..12)
}

fn reseal_ptable(b: &mut [u8]) {
    if b.len() >= partition_table::TABLE_SIZE {
        let crc = partition_table::CRC32.checksum(&b[..partition_table::CRC_OFFSET]);
        b[partition_table::CRC_OFFSET..partition_table::TABLE_SIZE].copy_from_slice(&crc.to_le_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = pac::read_pac(&mut Cursor::new(&bytes), "r");
        let _ = binpkg::read_binpkg(&mut Cursor::new(&bytes), "r");
        let _ = PartitionTable::parse(&bytes, "r");
        let _ = FlashInfo::parse(&bytes, "r");
        let _ = Fip::parse(&bytes, "r", "f");
        let _ = parse_scheme(&bytes);
        let _ = Recipe::parse(&bytes, "r", &|_: &str| false);
        let _ = pac::is_pac(&bytes);
        let _ = binpkg::is_binpkg(&bytes);
    }

    #[test]
    fn mutated_pac(e in edits(), cut in proptest::option::of(any::<usize>()), reseal in any::<bool>()) {
        let base = PacBuilder::ec200u_eu().with_nv_steps().to_bytes();
        let mut b = mutate(&base, &e, cut);
        if reseal {
            seal(&mut b);
        }
        if let Ok(insp) = pac::inspect_pac_reader(&mut Cursor::new(&b), "m.pac") {
            prop_assert!(insp.files.iter().all(|f| f.size <= b.len() as u64));
        }
    }

    #[test]
    fn mutated_pac_header_fields(field in 0usize..0x84C, value in any::<u32>()) {
        let mut b = PacBuilder::ec200u_eu().to_bytes();
        let at = field & !3;
        b[at..at + 4].copy_from_slice(&value.to_le_bytes());
        seal(&mut b);
        let _ = pac::read_pac(&mut Cursor::new(&b), "m.pac");
    }

    #[test]
    fn mutated_tables(e in edits(), cut in proptest::option::of(any::<usize>())) {
        let mut p = mutate(&asr_build::partition_bin(&asr_build::layout(8 << 20)), &e, cut);
        reseal_ptable(&mut p);
        let _ = PartitionTable::parse(&p, "m");
        let f = mutate(&asr_build::flashinfo_bin(&asr_build::flash_table(8 << 20, &asr_build::chips_8mb())), &e, cut);
        let _ = FlashInfo::parse(&f, "m");
        let s = mutate(&asr_build::stage_image("Preboot"), &e, cut);
        let _ = Fip::parse(&s, "m", "preboot.img");
    }

    #[test]
    fn mutated_binpkg(e in edits(), cut in proptest::option::of(any::<usize>())) {
        let b = mutate(&BinpkgBuilder::ec600e_cn_lc().to_bytes(), &e, cut);
        let _ = binpkg::inspect_binpkg_reader(&mut Cursor::new(&b), "m.binpkg");
    }

    #[test]
    fn mutated_xml_and_json(e in edits(), cut in proptest::option::of(any::<usize>())) {
        let x = mutate(PacBuilder::ec200u_eu().with_nv_steps().xml_text().as_bytes(), &e, cut);
        let _ = parse_scheme(&x);
        let j = mutate(AsrBuilder::ec800m_cn_lf().download_json().as_bytes(), &e, cut);
        let _ = Recipe::parse(&j, "m", &|_: &str| true);
    }

    #[test]
    fn mutated_asr_members(member in 0usize..5, e in edits(), cut in proptest::option::of(any::<usize>())) {
        let builder = AsrBuilder::ec800m_cn_lf();
        let mut members = builder.members();
        let m = &mut members[member];
        m.1 = mutate(&m.1, &e, cut);
        if member == 1 {
            reseal_ptable(&mut m.1);
        }
        let mut pkg = super::build::memory::MemoryPackage::new("m.zip", members);
        let _ = asr::inspect_asr(&mut pkg);
    }
}
