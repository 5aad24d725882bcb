//! ASR over real pseudo-terminals: the host sessions of `fwguard::flash::asr` against
//! `fwguard::sim::spawn`, after `AT+QDOWNLOAD=1` has re-enumerated the module as AROM
//! (2ecc:3004) under a `--root` tree, and back to normal mode after `reboot`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fwguard::device::{self, Mode, SerialTransport, Session, SessionOptions, SysPaths, UsbTable};
use fwguard::flash::asr::{AbootOptions, AbootSession, AsrError, Loaded, Stage};
use fwguard::image::build::asr::AsrBuilder;
use fwguard::sim::{self, Fault, SimOptions};

fn quick_at() -> SessionOptions {
    SessionOptions {
        command_timeout: Duration::from_millis(1500),
        boot_timeout: Duration::from_secs(3),
        deadline: Duration::from_secs(10),
        ..SessionOptions::default()
    }
}

fn paths(root: &Path) -> SysPaths {
    SysPaths { sysfs: root.join("sys"), dev: root.join("dev") }
}

/// Waits (bounded) until discovery shows the module in `mode`; returns its port for that mode
/// (in normal mode the AT port the simulator printed: the USB table does not name the AT
/// interface of the ASR ids yet).
fn wait_for(root: &Path, mode: Mode, at: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let modules = device::discover_in(&paths(root), UsbTable::builtin().unwrap()).unwrap();
        // The tree may be caught half written: wait for the mode's port too.
        let port = modules
            .iter()
            .filter(|m| m.mode == mode)
            .find_map(|m| if mode == Mode::At { m.ports.iter().find(|p| p.path == at) } else { m.download_port() });
        if let Some(port) = port {
            return port.path.clone();
        }
        assert!(Instant::now() < deadline, "the module did not appear in {mode}: {modules:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn member(b: &AsrBuilder, name: &str) -> Vec<u8> {
    b.members().into_iter().find(|(n, _)| n.ends_with(name)).map(|(_, d)| d).unwrap()
}

/// `AT+QDOWNLOAD=1` on the AT port; returns the download port discovery then finds.
fn enter_download(at_port: &Path, root: &Path) -> PathBuf {
    let mut s = Session::open(at_port, &quick_at()).unwrap();
    s.sync().unwrap();
    assert!(s.command("AT+QDOWNLOAD=1").unwrap().result.is_ok());
    drop(s);
    wait_for(root, Mode::Arom, at_port)
}

fn start(profile: &str, root: &Path, state: Option<&Path>, faults: Vec<Fault>) -> sim::SimHandle {
    let opts = SimOptions {
        root: Some(root.to_path_buf()),
        state: state.map(Path::to_path_buf),
        faults,
        ..SimOptions::default()
    };
    sim::spawn(sim::find(profile).unwrap(), opts).unwrap()
}

/// The sequence `check` needs: download mode, the stages, the flash probe, `reboot`, and the
/// module answering AT again, with nothing written.
#[test]
fn flash_probe_and_back_to_normal_mode() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let handle = start("ec800m-cn-la", root.path(), Some(state.path()), Vec::new());
    let la = AsrBuilder::ec800m_cn_la();
    let lf = AsrBuilder::ec800m_cn_lf();
    let before = std::fs::read(state.path().join("flash.bin")).unwrap();

    let started = Instant::now();
    let download = enter_download(handle.port(), root.path());
    assert_eq!(download.file_name().unwrap(), "ttyACM0");
    let entered = started.elapsed();
    let mut port = SerialTransport::open(&download, 115_200).unwrap();
    let mut s = AbootSession::connect(&mut port, &download.display().to_string(), AbootOptions::default()).unwrap();
    let rom = s.identify().unwrap();
    assert_eq!(rom.version_bootrom, "2022.11.06");
    assert_eq!(s.call(&member(&lf, "preboot.img")).unwrap(), Stage::Preboot);
    assert_eq!(s.call(&member(&lf, "flasher.img")).unwrap(), Stage::Flasher);
    // The LF package's table lacks the chip: the probe still names it.
    let probe = s.probe_flash(&member(&lf, "flashinfo.bin")).unwrap();
    assert_eq!(probe.flash_id().hex(), "204117");
    assert!(!probe.accepted && probe.different, "{probe:?}");
    let probed = started.elapsed();
    s.reboot().unwrap();
    drop(port);

    let at = wait_for(root.path(), Mode::At, handle.port());
    let report = device::identify(&at, &quick_at()).unwrap();
    assert_eq!(report.revision, "LTE01R06A04_VOLTE_C_SDK_A");
    let total = started.elapsed();
    eprintln!("check's flash-ID read: download mode {entered:?}, probe at {probed:?}, AT again at {total:?}");
    assert_eq!(std::fs::read(state.path().join("flash.bin")).unwrap(), before, "the probe wrote nothing");

    // The LA package's table has it.
    let download = enter_download(&at, root.path());
    let mut port = SerialTransport::open(&download, 115_200).unwrap();
    let mut s = AbootSession::connect(&mut port, "acm", AbootOptions::default()).unwrap();
    s.call(&member(&la, "preboot.img")).unwrap();
    s.call(&member(&la, "flasher.img")).unwrap();
    let Loaded::FlashInfo(probe) = s.partition(&member(&la, "flashinfo.bin")).unwrap() else { panic!() };
    assert_eq!(probe.known_as.as_deref(), Some("XM25QU64C"));
    s.reboot().unwrap();
    drop(port);
    wait_for(root.path(), Mode::At, handle.port());
    handle.shutdown().unwrap();
}

/// A whole package over the pseudo-terminal into `--state`: every image at its partition's
/// address, the rest untouched.
#[test]
fn a_package_lands_in_flash_bin() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let handle = start("ec800m-cn-la", root.path(), Some(state.path()), Vec::new());
    let mut pkg = AsrBuilder::ec800m_cn_la();
    // One image above the flasher's max-download-size, so it goes in sparse pieces.
    pkg.images[0] = ("cp.bin".into(), "cp".into(), (0..0x1D_0000u32).map(|i| ((i * 13) >> 3) as u8).collect());
    let download = enter_download(handle.port(), root.path());
    let mut port = SerialTransport::open(&download, 115_200).unwrap();
    {
        let mut s = AbootSession::connect(&mut port, "acm", AbootOptions::default()).unwrap();
        s.call(&member(&pkg, "preboot.img")).unwrap();
        s.call(&member(&pkg, "flasher.img")).unwrap();
        s.partition(&member(&pkg, "flashinfo.bin")).unwrap();
        s.partition(&member(&pkg, "partition.bin")).unwrap();
        for (_, part, data) in &pkg.images {
            s.flash(part, &mut data.as_slice(), data.len() as u64, &mut |_| {}).unwrap();
        }
        s.reboot().unwrap();
    }
    drop(port);
    wait_for(root.path(), Mode::At, handle.port());
    handle.shutdown().unwrap();
    let flash = std::fs::read(state.path().join("flash.bin")).unwrap();
    let mut written = 0;
    for (file, part, data) in &pkg.images {
        let e = pkg.partitions.iter().find(|e| &e.name == part).unwrap();
        let at = e.start as usize;
        assert!(flash[at..at + data.len()] == data[..], "{file} is not at {part} ({at:#x})");
        written += data.len();
    }
    let nvm = pkg.partitions.iter().find(|e| e.name == "nvm").unwrap();
    assert!(flash[nvm.start as usize..nvm.end() as usize].iter().all(|b| *b == 0), "nvm untouched");
    assert!(written > 0x1C_0000);
}

/// The link cut in the flasher stage, in the middle of a read-back: a clear error, no hang.
#[test]
fn a_cut_link_in_the_flasher_is_a_disconnect() {
    let root = tempfile::tempdir().unwrap();
    // About 200 bytes of AT, about 500 from the ROM and the stages up to the probe, a
    // kilobyte of partition-table log: byte 4000 is inside the 64 KiB upload.
    let handle = start("ec800m-cn-la", root.path(), None, vec![Fault::DropAt(4000)]);
    let pkg = AsrBuilder::ec800m_cn_la();
    let download = enter_download(handle.port(), root.path());
    let mut port = SerialTransport::open(&download, 115_200).unwrap();
    let started = Instant::now();
    let mut read = Vec::new();
    let result = (|| -> Result<(), AsrError> {
        let mut s = AbootSession::connect(&mut port, "acm", AbootOptions::default())?;
        s.call(&member(&pkg, "preboot.img"))?;
        s.call(&member(&pkg, "flasher.img"))?;
        s.partition(&member(&pkg, "flashinfo.bin"))?;
        s.partition(&member(&pkg, "partition.bin"))?;
        s.read_range(0, 0x1_0000, &mut read)
    })();
    let err = result.unwrap_err();
    assert!(err.is_link_lost(), "{err}");
    assert!(err.to_string().contains("upload:00000000"), "{err}");
    assert!(read.len() < 0x1_0000);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    handle.shutdown().unwrap();
}
