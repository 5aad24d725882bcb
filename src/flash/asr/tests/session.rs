//! The aboot session and the flasher layer against the simulated module, in process.

use std::time::{Duration, Instant};

use super::super::*;
use super::quick;
use crate::image::build::asr::AsrBuilder;
use crate::sim::in_process::InProcess;
use crate::sim::{Fault, Faults, FlashStore, Profile, find};

/// A module whose flash is a file (the in-memory store is slow for megabytes in debug builds).
fn module(profile: &str, faults: &[Fault]) -> InProcess {
    let p = find(profile).unwrap();
    InProcess::new(p.clone(), store(&p), Faults::from_list(faults))
}

fn store(p: &Profile) -> FlashStore {
    let dir = tempfile::tempdir().unwrap();
    let flash = FlashStore::open_state(dir.path(), p.flash.size).unwrap();
    // The open file keeps the data after the directory entry goes.
    drop(dir);
    flash
}

fn member(b: &AsrBuilder, name: &str) -> Vec<u8> {
    b.members().into_iter().find(|(n, _)| n.ends_with(name)).map(|(_, d)| d).unwrap()
}

/// ROM -> preboot -> flasher.
fn to_flasher<'a>(io: &'a mut InProcess, pkg: &AsrBuilder) -> AbootSession<'a> {
    let mut s = AbootSession::connect(io, "sim", quick()).unwrap();
    assert_eq!(s.call(&member(pkg, "preboot.img")).unwrap(), Stage::Preboot);
    assert_eq!(s.call(&member(pkg, "flasher.img")).unwrap(), Stage::Flasher);
    s
}

#[test]
fn rom_identity_and_requirements() {
    let mut io = module("ec800m-cn-la", &[]);
    let mut s = AbootSession::connect(&mut io, "sim", quick()).unwrap();
    let id = s.identify().unwrap();
    assert_eq!(
        (id.version.as_str(), id.version_bootrom.as_str(), id.product.as_str()),
        ("0.6", "2022.11.06", "arom-tiny")
    );
    assert_eq!(id.max_download_size, Some(0x4_0000));
    assert_eq!(s.mtu(), 1024);
    s.require("product", "arom|arom-tiny").unwrap();
    s.require("max-download-size", "0x10000").unwrap();
    // logicrom's ASR1603 recipe on a CraneL ROM.
    let err = s.require("version-bootrom", "2020.07.30").unwrap_err();
    assert!(matches!(err, AsrError::Requirement { .. }), "{err}");
    assert!(err.to_string().contains("2022.11.06") && err.to_string().contains("2020.07.30"), "{err}");
    let err = s.getvar("no-such-thing").unwrap_err();
    assert!(matches!(err, AsrError::Refused { .. }), "{err}");
    assert!(s.transcript().iter().any(|e| e.command == "getvar:version-bootrom" && e.reply == "OKAY2022.11.06"));
}

#[test]
fn full_flash_of_an_la_package() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[]);
    {
        let mut s = to_flasher(&mut io, &pkg);
        let Loaded::FlashInfo(probe) = s.partition(&member(&pkg, "flashinfo.bin")).unwrap() else { panic!() };
        assert_eq!(probe.flash_id().hex(), "204117");
        assert_eq!(probe.known_as.as_deref(), Some("XM25QU64C"));
        assert_eq!(s.partition(&member(&pkg, "partition.bin")).unwrap(), Loaded::PartitionTable);
        for (file, part, data) in &pkg.images {
            let mut seen = 0;
            s.flash(part, &mut data.as_slice(), data.len() as u64, &mut |n| seen = n).unwrap();
            assert_eq!(seen, data.len() as u64, "{file}");
        }
        assert!(s.device_log().lines().any(|l| l.text.contains("written successfully")));
        s.reboot().unwrap();
    }
    assert!(io.was_reset());
    for (_, part, data) in &pkg.images {
        let e = pkg.partitions.iter().find(|e| &e.name == part).unwrap();
        assert_eq!(&io.flash().read(u64::from(e.start), data.len()).unwrap(), data, "{part}");
    }
}

#[test]
fn an_lf_table_is_refused_for_the_la_chip_with_the_chip_named() {
    let la = AsrBuilder::ec800m_cn_la();
    let lf = AsrBuilder::ec800m_cn_lf();
    let mut io = module("ec800m-cn-la", &[]);
    let mut s = to_flasher(&mut io, &la);
    let probe = s.probe_flash(&member(&lf, "flashinfo.bin")).unwrap();
    assert!(!probe.accepted && probe.different);
    assert_eq!(probe.flash_id().hex(), "204117");
    assert_eq!(probe.reply, "FAILparse flash information table failed");
    let err = s.partition(&member(&lf, "flashinfo.bin")).unwrap_err();
    assert!(matches!(err, AsrError::ChipRejected { .. }), "{err}");
    assert!(err.to_string().contains("20 41 17"), "{err}");
    assert!(s.device_log().lines().any(|l| l.text == "[ERR : QspiNor   ] Flash device is different with specified!"));
    // Nothing can be written without an accepted chip.
    let err = s.load_partition_table(&member(&la, "partition.bin")).unwrap_err();
    assert!(matches!(err, AsrError::Refused { .. }), "{err}");
}

#[test]
fn the_flash_id_fault_is_the_chip_probed() {
    let lf = AsrBuilder::ec800m_cn_lf();
    let id = crate::identity::FlashId::parse("C8 60 16").unwrap();
    let mut io = module("ec800m-cn-la", &[Fault::FlashId(id)]);
    let mut s = to_flasher(&mut io, &lf);
    let probe = s.probe_flash(&member(&lf, "flashinfo.bin")).unwrap();
    assert!(probe.accepted, "{probe:?}");
    assert_eq!(probe.flash_id().hex(), "C86016");
}

#[test]
fn images_above_max_download_size_go_in_sparse_pieces() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let image: Vec<u8> = (0..0x30_0123u32).map(|i| (i ^ (i >> 11)) as u8).collect();
    let mut io = module("ec800m-cn-la", &[]);
    {
        let mut s = to_flasher(&mut io, &pkg);
        s.partition(&member(&pkg, "flashinfo.bin")).unwrap();
        s.partition(&member(&pkg, "partition.bin")).unwrap();
        assert_eq!(s.max_download_size().unwrap(), 0x1C_0000);
        let mut calls = 0;
        s.flash("cp", &mut image.as_slice(), image.len() as u64, &mut |_| calls += 1).unwrap();
        assert_eq!(calls, 2);
        assert_eq!(s.transcript().iter().filter(|e| e.command == "flash:cp").count(), 2);
        // Read back through the upload commands.
        let cp = pkg.partitions.iter().find(|e| e.name == "cp").unwrap();
        let mut back = Vec::new();
        s.read_range(cp.start, image.len() as u32, &mut back).unwrap();
        assert!(back == image, "read-back differs");
    }
    let cp = pkg.partitions.iter().find(|e| e.name == "cp").unwrap();
    assert!(io.flash().read(u64::from(cp.start), image.len()).unwrap() == image);
}

#[test]
fn the_module_table_and_nvm_are_read_back_before_anything_is_written() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let la = find("ec800m-cn-la").unwrap();
    let layout = crate::sim::asr::layout::layout(&la).unwrap();
    let mut io = module("ec800m-cn-la", &[]);
    let nvm = layout.nvm().unwrap().clone();
    let nv: Vec<u8> = (0..nvm.size).map(|i| (i % 251) as u8).collect();
    io.flash_mut().write(u64::from(layout.ptable().unwrap().start), &layout.partition_bin()).unwrap();
    io.flash_mut().write(u64::from(nvm.start), &nv).unwrap();
    let mut s = to_flasher(&mut io, &pkg);
    s.partition(&member(&pkg, "flashinfo.bin")).unwrap();
    let table = s.module_partition_table().unwrap();
    assert_eq!(table.get("nvm"), Some(&nvm));
    let mut back = Vec::new();
    assert_eq!(s.read_partition("nvm", &mut back).unwrap(), u64::from(nvm.size));
    assert!(back == nv);
    assert_eq!(s.partition_size("nvm").unwrap(), u64::from(nvm.size));
}

#[test]
fn erase_leaves_ff() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[]);
    let app = pkg.partitions.iter().find(|e| e.name == "user_app").unwrap().clone();
    io.flash_mut().write(u64::from(app.start), &[0u8; 100]).unwrap();
    {
        let mut s = to_flasher(&mut io, &pkg);
        s.partition(&member(&pkg, "flashinfo.bin")).unwrap();
        s.partition(&member(&pkg, "partition.bin")).unwrap();
        s.erase("user_app").unwrap();
        let err = s.erase("nosuch").unwrap_err();
        assert!(err.to_string().contains("erasing partition \"nosuch\" not found"), "{err}");
    }
    assert!(io.flash().read(u64::from(app.start), 100).unwrap().iter().all(|b| *b == 0xFF));
}

#[test]
fn the_crane_rom_gets_nop_instead_of_call() {
    let mut p: Profile = find("ec800m-cn-la").unwrap();
    p.chipset = "ASR1601".into();
    let mut io = InProcess::new(p.clone(), store(&p), Faults::default());
    let pkg = AsrBuilder::ec800m_cn_la();
    let s = to_flasher(&mut io, &pkg);
    let commands: Vec<&str> = s.transcript().iter().map(|e| e.command.as_str()).collect();
    assert!(commands.contains(&"nop") && !commands.contains(&"call"), "{commands:?}");
}

#[test]
fn nak_at_makes_that_command_fail() {
    // Command 1 is getvar:version-bootrom (asked before the first call), 2 the download.
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[Fault::NakAt(2)]);
    let mut s = AbootSession::connect(&mut io, "sim", quick()).unwrap();
    let err = s.call(&member(&pkg, "preboot.img")).unwrap_err();
    assert!(matches!(err, AsrError::Refused { ref command, .. } if command.starts_with("download:")), "{err}");
    assert!(err.to_string().contains("nak-at=2"), "{err}");
}

#[test]
fn a_cut_link_is_disconnected_not_hung() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[Fault::DropAt(40)]);
    let started = Instant::now();
    let err = match AbootSession::connect(&mut io, "sim", quick()) {
        Ok(mut s) => s.call(&member(&pkg, "preboot.img")).unwrap_err(),
        Err(e) => e,
    };
    assert!(err.is_link_lost(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_silent_port_gives_no_sync_in_bounded_time() {
    let mut io = module("ec200a-eu", &[]); // WTPTP: not simulated, answers nothing
    let started = Instant::now();
    let err = AbootSession::connect(&mut io, "sim", quick()).err().unwrap();
    assert!(matches!(err, AsrError::NoSync { sent, .. } if sent >= 3), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.hint().contains("AROM"));
}

#[test]
fn heartbeats_are_skipped_and_do_not_keep_a_wait_alive() {
    let mut io = module("ec800m-cn-la", &[]);
    let mut s = AbootSession::connect(&mut io, "sim", quick()).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(s.getvar("version").unwrap(), "0.6");
    assert!(s.heartbeats() >= 1, "no heartbeat in 700 ms");
}

#[test]
fn flasher_operations_need_the_flasher() {
    let mut io = module("ec800m-cn-la", &[]);
    let mut s = AbootSession::connect(&mut io, "sim", quick()).unwrap();
    let err = s.erase("nvm").unwrap_err();
    assert!(matches!(err, AsrError::WrongStage { needed: "flasher", current: "rom", .. }), "{err}");
    let err = s.download_bytes(&vec![0; 0x4_0001]).unwrap_err();
    assert!(matches!(err, AsrError::Refused { .. }), "{err}");
    s.max_download_size().unwrap();
    let err = s.download_bytes(&vec![0; 0x4_0001]).unwrap_err();
    assert!(matches!(err, AsrError::Invalid { .. }), "refused before sending once the limit is known: {err}");
}

/// The steps of waybyte/logicromsdk `lib/asr160x/pack/download.json` (a top-level array of flat
/// step objects), run as a thin loop over the session's operations.
#[test]
fn a_download_json_recipe_is_a_thin_loop() {
    let recipe = serde_json::json!([
        {"command": "require", "group": "0", "name": "product", "value": "arom-tiny"},
        {"command": "require", "group": "0", "name": "version", "value": "0.6"},
        {"command": "require", "group": "0", "name": "version-bootrom", "value": "2022.11.06"},
        {"command": "progress", "group": "0", "name": "weight", "value": 0},
        {"command": "call", "group": "0", "image": "preboot.img"},
        {"command": "call", "group": "0", "image": "flasher.img"},
        {"command": "partition", "group": "0", "image": "flashinfo.bin"},
        {"command": "partition", "group": "0", "image": "partition.bin"},
        {"command": "flash", "group": "1", "image": "app.bin", "partition": "user_app", "weight": 0}
    ]);
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[]);
    let mut s = AbootSession::connect(&mut io, "sim", quick()).unwrap();
    for step in recipe.as_array().unwrap() {
        let field = |k: &str| step.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        let image = || member(&pkg, &field("image").unwrap());
        match field("command").unwrap().as_str() {
            "require" => drop(s.require(&field("name").unwrap(), &field("value").unwrap()).unwrap()),
            "progress" => s.progress(&field("value").unwrap()).unwrap(),
            "call" => drop(s.call(&image()).unwrap()),
            "partition" => drop(s.partition(&image()).unwrap()),
            "flash" => s.flash_bytes(&field("partition").unwrap(), &image()).unwrap(),
            "erase" => s.erase(&field("partition").unwrap()).unwrap(),
            other => panic!("{other}"),
        }
    }
    assert_eq!(s.stage(), Stage::Flasher);
}

#[test]
fn a_smaller_mtu_is_agreed_and_kept_to() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let mut io = module("ec800m-cn-la", &[]);
    let mut options = quick();
    options.link.mtu = 256;
    let mut s = AbootSession::connect(&mut io, "sim", options).unwrap();
    assert_eq!(s.mtu(), 256);
    assert_eq!(s.call(&member(&pkg, "preboot.img")).unwrap(), Stage::Preboot);
    assert_eq!(s.mtu(), 256, "the next stage agrees the same");
}
