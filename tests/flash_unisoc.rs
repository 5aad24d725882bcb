//! Unisoc download protocols end to end: the host sessions against the real `fwguard sim`
//! binary over its pseudo-terminals, faults from its command line, and the fuzz seeds replayed.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use fwguard::device::{Mode, SerialTransport, Session, SessionOptions, SysPaths, UsbTable, ports};
use fwguard::flash::unisoc::scheme::{DownloadPlan, plan};
use fwguard::flash::unisoc::source::PacSource;
use fwguard::flash::unisoc::wire::bsl::{BslReply, Deframer, Raw, decode};
use fwguard::flash::unisoc::wire::check::Check;
use fwguard::flash::unisoc::wire::pdl::{PdlCommand, PdlDecoder, PdlEvent, PdlReply, PdlRequest, parse_reply};
use fwguard::flash::unisoc::{Fdl2Session, FlashExtent, Loader, Timeouts, UnisocError, connect, nv};
use fwguard::image::build::pac::PacBuilder;
use fwguard::image::pac::{PacFile, read_pac};

use crate::sim::Sim;

const NAME: &str = "8915DM_cat1_open_EC200UCNAAR03A04M08_merge.pac";

/// `fwguard sim ec200u-cn` with `extra` arguments, switched to download mode; returns the sim
/// and its download port.
fn in_download_mode(root: &Path, extra: &[&str]) -> (Sim, std::path::PathBuf) {
    let mut args = vec!["ec200u-cn", "--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    let sim = Sim::start(&args);
    let opts = SessionOptions { deadline: Duration::from_secs(10), ..SessionOptions::default() };
    let mut at = Session::open(&sim.port, &opts).unwrap();
    at.sync().unwrap();
    assert!(at.command("AT+QDOWNLOAD=1").unwrap().result.is_ok());
    drop(at);
    let paths = SysPaths { sysfs: root.join("sys"), dev: root.join("dev") };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let modules = ports::discover_in(&paths, UsbTable::builtin().unwrap()).unwrap();
        if let Some(port) = modules.iter().find(|m| m.mode == Mode::Unisoc).and_then(|m| m.download_port()) {
            return (sim, port.path.clone());
        }
        assert!(Instant::now() < deadline, "no Unisoc download port appeared: {modules:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn package() -> (Vec<u8>, PacFile, DownloadPlan) {
    let bytes = PacBuilder::uis8910("EC200UCNAAR03A04M08").to_bytes();
    let pac = read_pac(&mut Cursor::new(&bytes), NAME).unwrap();
    let plan = plan(&pac, NAME).unwrap();
    (bytes, pac, plan)
}

fn boot<'t>(
    link: &'t mut SerialTransport,
    pac: &PacFile,
    plan: &DownloadPlan,
    bytes: &[u8],
) -> Result<Fdl2Session<'t>, UnisocError> {
    let mut src = PacSource::new(Cursor::new(bytes.to_vec()), NAME);
    let fdl1 = src.entry_bytes(&pac.entries[plan.fdl1.entry], 1 << 20).unwrap();
    let mut fdl2 = src.entry(&pac.entries[plan.fdl2.entry]).unwrap();
    connect(
        link,
        plan.chip,
        Timeouts { reply: Duration::from_secs(3), ..Timeouts::default() },
        Loader { address: plan.fdl1.address, len: plan.fdl1.len, data: &mut fdl1.as_slice() },
        Loader { address: plan.fdl2.address, len: plan.fdl2.len, data: &mut fdl2 },
        &mut |_, _| {},
    )
}

#[test]
fn unisoc_flash_through_the_sim_binary() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (sim, port) = in_download_mode(&dir.path().join("root"), &["--state", state.to_str().unwrap()]);
    let (bytes, pac, plan) = package();
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let mut fdl2 = boot(&mut link, &pac, &plan, &bytes).unwrap();
    let ap = pac.entries.iter().find(|e| e.file_id == "AP").unwrap();
    let mut data = PacSource::new(Cursor::new(bytes.clone()), NAME);
    let mut reader = data.entry(ap).unwrap();
    let mut seen = 0;
    fdl2.write(0x6001_0000, &mut reader, ap.size as u32, "AP", &mut |done, _| seen = done).unwrap();
    assert_eq!(seen, ap.size);
    let sizes = [4 << 20, 8 << 20, 16 << 20];
    assert_eq!(fdl2.probe_extent(0x6000_0000, &sizes).unwrap(), FlashExtent::Ends(8 << 20));
    fdl2.normal_reset().unwrap();
    drop(link);
    sim.finish();
    let flash = std::fs::read(state.join("flash.bin")).unwrap();
    let ap_bytes = &bytes[ap.offset as usize..(ap.offset + ap.size) as usize];
    assert_eq!(&flash[0x10000..0x10000 + ap_bytes.len()], ap_bytes);
}

#[test]
fn unisoc_faults_from_the_command_line() {
    let (bytes, pac, plan) = package();
    let dir = tempfile::tempdir().unwrap();
    let (sim, port) = in_download_mode(&dir.path().join("a"), &["--fault", "flash-id=20 50 16"]);
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let mut fdl2 = boot(&mut link, &pac, &plan, &bytes).unwrap();
    assert_eq!(fdl2.probe_extent(0x6000_0000, &[4 << 20, 8 << 20]).unwrap(), FlashExtent::Ends(4 << 20));
    drop(fdl2);
    drop(link);
    sim.finish();

    let (sim, port) = in_download_mode(&dir.path().join("b"), &["--fault", "nak-at=2"]);
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let err = boot(&mut link, &pac, &plan, &bytes).err().expect("refused");
    assert!(
        matches!(err, UnisocError::RomRefused { command: PdlCommand::StartData, reply: PdlReply::VerifyError }),
        "{err}"
    );
    assert!(err.to_string().contains("START_DATA") && err.to_string().contains("VERIFY_ERROR"), "{err}");
    drop(link);
    sim.finish();

    // The link goes away in the middle of a 64 KiB read: the module sends well under 32 KiB
    // before it (boot output and the AT session, the ROM and FDL answers), whatever their exact
    // bytes, and 64 KiB in it.
    let (sim, port) = in_download_mode(&dir.path().join("c"), &["--fault", "drop-at=32768"]);
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let mut fdl2 = boot(&mut link, &pac, &plan, &bytes).unwrap();
    let mut got = Vec::new();
    let err = fdl2.read(0x6000_0000, 0, 0x1_0000, &mut got, &mut |_, _| {}).expect_err("cut");
    assert!(err.is_link_failure(), "{err}");
    assert!(!got.is_empty() && got.len() < 0x1_0000, "{} bytes read before the cut", got.len());
    drop(fdl2);
    drop(link);
    drop(sim);
}

/// Every seed of the Unisoc fuzz targets through the parsers they fuzz, on stable.
#[test]
fn unisoc_fuzz_seeds_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut n = 0;
    let files = |name: &str| {
        std::fs::read_dir(root.join(name))
            .unwrap()
            .map(|f| std::fs::read(f.unwrap().path()).unwrap())
            .collect::<Vec<_>>()
    };
    for data in files("unisoc_pdl") {
        let mut d = PdlDecoder::new();
        for event in d.push(&data) {
            if let PdlEvent::Packet(body) = event {
                let _ = parse_reply(&body);
                let _ = PdlRequest::parse(&body);
                n += 1;
            }
        }
    }
    let mut frames = 0;
    for data in files("unisoc_bsl") {
        for raw in Deframer::new().push(&data) {
            let Raw::Frame(raw) = raw else { continue };
            if [Check::Sum, Check::Crc16].iter().any(|c| decode(&raw, *c).is_ok()) {
                frames += 1;
            }
        }
    }
    for data in files("unisoc_nv") {
        let _ = nv::parse(&data, "seed");
        assert!(nv::image_len(&data).is_none_or(|len| len <= data.len()));
        let (a, b) = data.split_at(data.len() / 2);
        let _ = nv::merge(a, &mut b.to_vec(), &[5]);
    }
    for data in files("unisoc_device") {
        use fwguard::device::Transport;
        let profile = fwguard::sim::find("ec200u-cn").unwrap();
        let flash = fwguard::sim::FlashStore::in_memory(profile.flash.size);
        let mut m = fwguard::sim::Loopback::new(
            profile,
            Box::new(fwguard::sim::unisoc::Uis8910Download::new()),
            flash,
            fwguard::sim::Faults::default(),
        );
        m.send(&data).unwrap();
        let mut out = vec![0u8; 1 << 16];
        let got = m.read_within(&mut out, Duration::ZERO).unwrap();
        let replies = Deframer::new().push(&out[..got]);
        assert!(
            replies
                .iter()
                .any(|r| matches!(r, Raw::Frame(f) if decode(f, Check::Sum).is_ok_and(|f| f.reply() == BslReply::Ack)))
        );
    }
    assert!(n > 10 && frames > 10, "{n} packets, {frames} frames");
}
