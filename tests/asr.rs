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

/// Opens the download port discovery found. Under load the simulator may still be rewriting its
/// `--root` tree when discovery first sees the port, so a missing node is tried again for a while.
fn open_download(path: &Path) -> SerialTransport {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match SerialTransport::open(path, 115_200) {
            Ok(port) => return port,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
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
    let mut port = open_download(&download);
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
    let mut port = open_download(&download);
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
    // One image above the flasher's max-download-size, so it goes in sparse pieces; it carries
    // its revision, which the module boots into.
    let modem = fwguard::image::build::asr::firmware_image("EC800MCNLAR01A02M08", 0x1D_0000);
    pkg.images[0] = ("cp.bin".into(), "cp".into(), modem);
    let before = std::fs::read(state.path().join("flash.bin")).unwrap();
    let download = enter_download(handle.port(), root.path());
    let mut port = open_download(&download);
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
    let nvm = nvm.start as usize..nvm.end() as usize;
    assert!(flash[nvm.clone()] == before[nvm], "nvm untouched");
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
    let mut port = open_download(&download);
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

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    all.sort();
    assert!(!all.is_empty(), "{target}: no seeds");
    all
}

/// The fuzz seeds (byte strings written by hand from the published formats, not by fwguard)
/// through the parsers the fuzz targets exercise, on stable, with what each one must give.
#[test]
fn fuzz_seeds_replay() {
    use fwguard::flash::asr::wire::aboot::Reply;
    use fwguard::flash::asr::wire::probe::FlashProbe;
    use fwguard::flash::asr::wire::smux::{self, Event, FrameType};
    use fwguard::flash::asr::wire::sparse::Sparse;

    for (name, bytes) in seeds("asr_smux") {
        let events = smux::decode_all(&bytes);
        let texts: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) if f.kind == FrameType::Stdio => Some(f.text()),
                _ => None,
            })
            .collect();
        let last = events.iter().rev().find_map(|e| match e {
            Event::Frame(f) if f.kind == FrameType::AbootCmd => Some(Reply::parse(&f.payload)),
            _ => None,
        });
        let probe = FlashProbe::from_log(texts.iter().map(String::as_str), "", false);
        match name.as_str() {
            "probe_refused" => {
                let p = probe.unwrap();
                assert!(p.different && p.flash_id().hex() == "204117", "{p:?}");
                assert_eq!(last, Some(Reply::Fail("parse flash information table failed".into())));
            }
            "probe_known" => assert_eq!(probe.unwrap().known_as.as_deref(), Some("GD25LQ64C")),
            "upload" => assert!(events.contains(&Event::Frame(smux::Frame::new(FrameType::AbootData, *b"ab~}cd")))),
            "ethos" => assert_eq!(events, vec![Event::Preamble]),
            "malformed" => assert!(events.iter().all(|e| matches!(e, Event::Malformed(_)))),
            "rom_handshake" => assert_eq!(last, Some(Reply::Okay(String::new()))),
            other => panic!("a seed without an expectation: {other}"),
        }
    }
    for (name, bytes) in seeds("asr_sparse") {
        let s = Sparse::parse(&bytes, 1 << 20).unwrap_or_else(|e| panic!("{name}: {e}"));
        s.check_crc().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.output_len(), 3 * 4096, "{name}");
    }
    replay_device_seeds();
    replay_host_seeds();
}

fn replay_device_seeds() {
    use fwguard::sim::asr::AsrDownload;
    use fwguard::sim::download::{DownloadContext, DownloadMode};
    use fwguard::sim::{Faults, FlashStore};

    for (name, bytes) in seeds("asr_device") {
        let profile = sim::find("ec800m-cn-la").unwrap();
        let mut flash = FlashStore::in_memory(profile.flash.size);
        let faults = Faults::default();
        let mut mode = AsrDownload::new(&profile);
        let mut ctx = DownloadContext {
            profile: &profile,
            flash: &mut flash,
            flash_id: profile.flash_id.as_ref(),
            faults: &faults,
        };
        let mut out = Vec::new();
        let mut reset = false;
        for chunk in bytes.chunks(64) {
            let step = mode.feed(chunk, &mut ctx);
            out.extend(step.output);
            reset |= step.reset;
        }
        let text = String::from_utf8_lossy(&out);
        match name.as_str() {
            "asr_aboot" => {
                assert!(
                    text.starts_with("~UABT~~UABT~~UABT~~}\"\x04\x00~~}#OKAY2022.11.06~~}#DATA00000014~~}#OKAY~"),
                    "{text}"
                );
                assert!(reset, "disconnect after reboot resets");
            }
            "full_session" => {
                for want in
                    ["Found a known spi flash device \"XM25QU64C\"", "partition \"cp\" written successfully.", {
                        "}#DATA00000010~"
                    }]
                {
                    assert!(text.contains(want), "{want}: {text}");
                }
                assert!(reset);
                assert_eq!(flash.read(0x41000, 100).unwrap(), vec![b'z'; 100]);
                assert_eq!(flash.read(0x40000, 4).unwrap(), vec![0xFF; 4], "DONT_CARE leaves the first block");
            }
            other => panic!("a seed without an expectation: {other}"),
        }
    }
}

fn replay_host_seeds() {
    use fwguard::device::Transport;
    use fwguard::flash::asr::{LinkOptions, Timeouts};

    struct Replay<'a>(&'a [u8]);
    impl Transport for Replay<'_> {
        fn read_within(&mut self, buf: &mut [u8], _: Duration) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(37);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
        fn send(&mut self, _: &[u8]) -> std::io::Result<()> {
            Ok(())
        }
    }
    let ms = Duration::from_millis(20);
    let options = AbootOptions {
        link: LinkOptions { retry_interval: ms, step_timeout: ms * 3, stage_start: ms * 3, ..LinkOptions::default() },
        timeouts: Timeouts { first: ms, reply: ms, after_data: ms, call: ms },
    };
    for (name, bytes) in seeds("asr_host") {
        let mut io = Replay(&bytes);
        let mut s = AbootSession::connect(&mut io, "seed", options.clone()).unwrap();
        match name.as_str() {
            "identify" => {
                let id = s.identify().unwrap();
                assert_eq!(
                    (id.version.as_str(), id.product.as_str(), id.max_download_size),
                    ("0.6", "arom-tiny", Some(0x4_0000))
                );
                s.download_bytes(b"0123456789").unwrap();
                assert_eq!(s.device_log().lines().next().unwrap().text, "wait");
            }
            "upload" => {
                let err = s.read_partition("nvm", &mut Vec::new()).unwrap_err();
                assert!(matches!(err, AsrError::WrongStage { .. }), "{err}");
                assert_eq!(s.getvar("x").unwrap(), "");
            }
            other => panic!("a seed without an expectation: {other}"),
        }
    }
}

/// `fwguard sim` takes the download faults for an ASR module in AROM, and the module acts on them:
/// `flash-id` is the chip the flasher probes, `nak-at=1` fails the first aboot command.
#[test]
fn sim_cli_takes_asr_download_faults() {
    let root = tempfile::tempdir().unwrap();
    let root_arg = root.path().to_str().unwrap();
    let sim = crate::sim::Sim::start(&[
        "ec800m-cn-la",
        "--root",
        root_arg,
        "--fault",
        "flash-id=C8 60 16",
        "--fault",
        "nak-at=1",
    ]);
    let download = enter_download(&sim.port, root.path());
    let mut port = open_download(&download);
    let mut s = AbootSession::connect(&mut port, "acm", AbootOptions::default()).unwrap();
    let err = s.getvar("version").unwrap_err();
    assert!(err.to_string().contains("nak-at=1"), "{err}");
    let lf = AsrBuilder::ec800m_cn_lf();
    s.call(&member(&lf, "preboot.img")).unwrap();
    s.call(&member(&lf, "flasher.img")).unwrap();
    let probe = s.probe_flash(&member(&lf, "flashinfo.bin")).unwrap();
    assert!(probe.accepted && probe.flash_id().hex() == "C86016", "{probe:?}");
    drop(s);
    drop(port);
    sim.finish();
}
