//! End-to-end over pseudo-terminals: the real `fwguard sim` binary, found through `--root`
//! discovery, driven by the library's Qualcomm host sessions: DIAG switch, EDL re-enumeration,
//! Sahara, Firehose, reset, and the module booting what was written.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use fwguard::device::{self, Mode, Module, SerialTransport, SessionOptions, SysPaths, UsbTable};
use fwguard::flash::qualcomm::diag::DiagOptions;
use fwguard::flash::qualcomm::edl::{self, EdlPort};
use fwguard::flash::qualcomm::firehose::{Extent, FirehoseOptions, FirehoseSession, Power};
use fwguard::flash::qualcomm::link::Link;
use fwguard::flash::qualcomm::nand_order::{Phase, quectel_nand_order};
use fwguard::flash::qualcomm::sahara::{SaharaOptions, SaharaSession};
use fwguard::image::build::qualcomm::QualcommBuilder;
use fwguard::image::qualcomm::rawprogram::{Step, parse_steps, resolve};
use fwguard::sim::FlashStore;
use fwguard::sim::qualcomm::firmware::calibration;

use super::sim::Sim;

const SIZE: u64 = 512 << 20;

fn paths(root: &Path) -> SysPaths {
    SysPaths { sysfs: root.join("sys"), dev: root.join("dev") }
}

/// Waits until discovery shows exactly one module, in `mode`, with the port that mode speaks on
/// (the tree is rewritten when the module re-enumerates; a look in the middle sees part of it).
fn wait_for(root: &Path, mode: Mode) -> Module {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let modules = device::discover_in(&paths(root), UsbTable::builtin().unwrap()).unwrap();
        if let [m] = modules.as_slice()
            && m.mode == mode
            && (m.at_port().is_some() || m.download_port().is_some())
        {
            return m.clone();
        }
        assert!(Instant::now() < deadline, "no module in {mode}: {modules:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn extent(step: &Step) -> Extent {
    let e = Extent::new(step.start_sector.unwrap(), step.num_sectors.unwrap(), step.sector_size.unwrap() as u32);
    match step.pages_per_block {
        Some(p) => e.with_pages_per_block(p as u32),
        None => e,
    }
}

/// Flashes the rawprogram of the package at `pkg` in Quectel's NAND order.
fn flash_package(fh: &mut FirehoseSession<'_>, pkg: &Path, rawprogram: &str) -> Vec<(u64, String)> {
    let firehose = pkg.join("update/firehose");
    let steps = parse_steps(&std::fs::read_to_string(firehose.join(rawprogram)).unwrap()).unwrap();
    let mut written = Vec::new();
    for o in quectel_nand_order(&steps) {
        match o.phase {
            Phase::EraseBootLoader | Phase::Erase => fh.erase(&extent(o.step)).unwrap(),
            Phase::Program | Phase::ProgramBootLoader => {
                let name = o.step.filename.as_deref().unwrap();
                let file = resolve("update/firehose", name, "").unwrap();
                let path = pkg.join(&file);
                let len = std::fs::metadata(&path).unwrap().len();
                let mut f = File::open(&path).unwrap();
                fh.program(&extent(o.step), &mut f, len, &mut |_| {}).unwrap();
                written.push((o.step.start_byte().unwrap(), file));
            }
            _ => {}
        }
    }
    written
}

#[test]
fn flash_over_pseudo_terminals_found_through_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("root"), dir.path().join("state"));
    let revision = "EC25EFAR06A18M4G_20.200.20.200";
    let builder = QualcommBuilder::ec25(revision);
    let pkg = builder.write_folder(&dir.path().join("pkg")).unwrap();
    let sim = Sim::start(&["ec25-e", "--root", &root.display().to_string(), "--state", &state.display().to_string()]);

    // Normal mode, found through discovery; DIAG switch; back as 05c6:9008 on the same bus.
    let module = wait_for(&root, Mode::At);
    let table = UsbTable::builtin().unwrap();
    let not_yet = edl::wait_for_edl(&paths(&root), table, None, Duration::from_millis(300)).unwrap_err();
    assert!(not_yet.to_string().contains("1-1 2c7c:0125 at [ttyUSB0 ttyUSB1 ttyUSB2 ttyUSB3]"), "{not_yet}");
    let entry = edl::enter_edl(&paths(&root), table, &module, DiagOptions::default(), Duration::from_secs(10)).unwrap();
    assert_eq!(entry.build_id.unwrap().software_revision, "EC25EFAR06A17M4G");
    let EdlPort { module: edl_module, port } = entry.edl;
    assert_eq!((edl_module.usb_id().to_string(), edl_module.bus_id), ("05c6:9008".to_string(), module.bus_id.clone()));

    // Sahara, then Firehose, on the EDL port.
    let transport = SerialTransport::open(&port.path, 115_200).unwrap();
    let mut sahara = SaharaSession::connect(Link::new(transport), SaharaOptions::default()).unwrap();
    let chip = sahara.read_chip_info().unwrap();
    assert_eq!(chip.hw_id.unwrap().msm_id, 0x0004_80E1);
    let programmer = std::fs::read(pkg.join("update/firehose/prog_nand_firehose_9x07.mbn")).unwrap();
    sahara.upload(&programmer, &mut |_, _| {}).unwrap();
    let mut fh = FirehoseSession::connect(sahara.into_link(), FirehoseOptions::default()).unwrap();
    let info = fh.storage_info(0).unwrap();
    assert_eq!(
        (info.nand_id().unwrap().hex(), info.page_size, info.pages_per_block()),
        ("98AC9026".into(), 4096, Some(64))
    );

    // Read back the calibration first (a backup), then flash.
    let efs2 = Extent::new(1280, 16, 4096);
    let mut backup = Vec::new();
    fh.read(&efs2, &mut backup, &mut |_| {}).unwrap();
    assert_eq!(&backup[..64 * 1024], calibration("861234000000011"));
    let written = flash_package(&mut fh, &pkg, &builder.rawprogram_name());
    assert_eq!(written.last().map(|(at, _)| *at), Some(0), "the boot loader is written last");
    fh.power(Power::Reset, 0).unwrap();
    drop(fh);

    // The module boots what was written: normal mode, the package's revision.
    let module = wait_for(&root, Mode::At);
    let at = module.at_port().unwrap().path.clone();
    let report = device::identify(&at, &SessionOptions::default()).unwrap();
    assert_eq!(report.revision, revision);
    sim.finish();

    // flash.bin: every image at its partition's offset, efs2 untouched.
    let store = FlashStore::open_state(&state, SIZE).unwrap();
    for (offset, file) in written {
        let bytes = std::fs::read(pkg.join(&file)).unwrap();
        assert_eq!(store.read(offset, bytes.len()).unwrap(), bytes, "{file} at {offset:#x}");
    }
    assert_eq!(store.read(1280 * 4096, 16 * 4096).unwrap(), backup, "efs2 byte-identical");
}

#[test]
fn an_erased_boot_loader_comes_back_in_edl_also_after_a_power_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("root"), dir.path().join("state"));
    let args = ["ec25-e", "--root", &root.display().to_string(), "--state", &state.display().to_string()];
    let sim = Sim::start(&args);
    let module = wait_for(&root, Mode::At);
    let table = UsbTable::builtin().unwrap();
    let entry = edl::enter_edl(&paths(&root), table, &module, DiagOptions::default(), Duration::from_secs(10)).unwrap();
    {
        let transport = SerialTransport::open(&entry.edl.port.path, 115_200).unwrap();
        let mut sahara = SaharaSession::connect(Link::new(transport), SaharaOptions::default()).unwrap();
        let programmer = fwguard::image::build::programmer::programmer(
            fwguard::image::build::programmer::Target::MDM9607,
            16 * 1024,
        );
        sahara.upload(&programmer, &mut |_, _| {}).unwrap();
        let mut fh = FirehoseSession::connect(sahara.into_link(), FirehoseOptions::default()).unwrap();
        fh.erase(&Extent::new(0, 640, 4096).with_pages_per_block(64)).unwrap();
        fh.power(Power::Reset, 0).unwrap();
    }
    let again = wait_for(&root, Mode::Edl);
    assert_eq!(again.usb_id().to_string(), "05c6:9008");
    sim.finish();

    // The same module after a power cycle: still in EDL, and its port is the one printed.
    let sim = Sim::start(&args);
    let module = wait_for(&root, Mode::Edl);
    assert_eq!(Some(sim.port.clone()), module.download_port().map(|p| p.path.clone()));
    let transport = SerialTransport::open(&sim.port, 115_200).unwrap();
    drop(SaharaSession::connect(Link::new(transport), SaharaOptions::default()).unwrap());
    sim.finish();
}

/// Every Qualcomm fuzz seed (fuzz/seeds/qc_*/*) through the parsers its target exercises, on
/// stable, host and device side.
#[test]
fn fuzz_seeds_never_panic_in_the_qualcomm_parsers() {
    use fwguard::flash::qualcomm::firehose::StorageInfo;
    use fwguard::flash::qualcomm::sahara::trim_pk_hash;
    use fwguard::flash::qualcomm::wire::diag::BuildId;
    use fwguard::flash::qualcomm::wire::firehose::{Message, Splitter, parse_message};
    use fwguard::flash::qualcomm::wire::hdlc::{Decoder, Frame};
    use fwguard::flash::qualcomm::wire::mbn::Mbn;
    use fwguard::flash::qualcomm::wire::patch::parse_patches;
    use fwguard::flash::qualcomm::wire::sahara::Packet;
    use fwguard::sim::Faults;
    use fwguard::sim::qualcomm::firehose::FirehoseTarget;
    use fwguard::sim::qualcomm::firmware::Geometry;
    use fwguard::sim::qualcomm::nand::Nand;
    use fwguard::sim::qualcomm::sahara::SaharaTarget;
    use fwguard::sim::qualcomm::{DiagPort, chip, identity};

    let profile = fwguard::sim::find("ec25-e").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut n = 0;
    for dir in
        std::fs::read_dir(&root).unwrap().flatten().filter(|d| d.file_name().to_string_lossy().starts_with("qc_"))
    {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let data = std::fs::read(file.path()).unwrap();
            let mut d = Decoder::default();
            for f in d.feed(&data) {
                if let Frame::Good(p) = f {
                    let _ = BuildId::decode(&p);
                }
            }
            let _ = DiagPort::default().feed(&data, &profile);
            let _ = (Packet::decode(&data), trim_pk_hash(&data));
            let mut rom = SaharaTarget::new(chip::MDM9607, identity(&profile));
            rom.hello();
            for piece in data.chunks(23) {
                rom.feed(piece);
            }
            let mut s = Splitter::new(4096);
            s.push(&data);
            let mut logs = Vec::new();
            while let Some(Ok(m)) = s.next_message() {
                if let Ok(Message::Log(t)) = parse_message(&m) {
                    logs.push(t);
                }
            }
            let _ = StorageInfo::from_log(logs.iter().map(String::as_str)).map(|i| i.nand_id());
            let _ = parse_patches(&String::from_utf8_lossy(&data));
            let geometry = Geometry { page: 2048, pages_per_block: 64, pages: 64 * 16 };
            let mut flash = FlashStore::in_memory(geometry.page * geometry.pages);
            let mut programmer = FirehoseTarget::new(chip::MDM9607, Nand { geometry }, None, 1);
            for piece in data.chunks(97) {
                programmer.feed(piece, &mut flash, &Faults::default());
            }
            if let Ok(m) = Mbn::parse(&data) {
                let _ = m.verify(&data);
            }
            n += 1;
        }
    }
    assert!(n >= 20, "{n} seeds");
}
