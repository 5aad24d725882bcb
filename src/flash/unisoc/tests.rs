//! The host sessions against the simulated module, in process.

use std::io::Cursor;

use super::scheme::{Action, DownloadPlan, plan};
use super::source::PacSource;
use super::wire::bsl::{BslCommand, BslReply};
use super::wire::payload::{LOGICAL_NV, LOGICAL_PHASECHECK, NOR_BASE_8910, StartData};
use super::wire::pdl::{PdlCommand, PdlReply};
use super::*;
use crate::image::build::pac::{PacBuilder, PacFileSpec};
use crate::image::pac::{PacFile, read_pac};
use crate::sim::unisoc::layout::Layout8910;
use crate::sim::{Fault, Faults, FlashStore, Loopback, find};

const NAME: &str = "8915DM_cat1_open_EC200UCNAAR03A04M08_merge.pac";

/// An EC200U-CN in its download mode, its firmware installed (a new `--state` flash).
fn module(faults: &[Fault]) -> Loopback {
    Loopback::with_faults(find("ec200u-cn").unwrap(), faults).unwrap()
}

fn quick() -> Timeouts {
    Timeouts {
        reply: std::time::Duration::from_millis(500),
        erase: std::time::Duration::from_millis(500),
        probe: std::time::Duration::from_millis(50),
        attempts: 3,
    }
}

fn package(builder: &PacBuilder) -> (Vec<u8>, PacFile, DownloadPlan) {
    let bytes = builder.to_bytes();
    let pac = read_pac(&mut Cursor::new(&bytes), NAME).unwrap();
    let plan = plan(&pac, NAME).unwrap();
    (bytes, pac, plan)
}

/// Boots the module to FDL2 with the package's loaders.
fn boot<'t>(
    m: &'t mut Loopback,
    pac: &PacFile,
    plan: &DownloadPlan,
    bytes: &[u8],
) -> Result<Fdl2Session<'t>, UnisocError> {
    let mut src = PacSource::new(Cursor::new(bytes.to_vec()), NAME);
    let fdl1 = src.entry_bytes(&pac.entries[plan.fdl1.entry], 1 << 20).unwrap();
    let fdl2 = src.entry_bytes(&pac.entries[plan.fdl2.entry], 1 << 20).unwrap();
    connect(
        m,
        plan.chip,
        quick(),
        Loader { address: plan.fdl1.address, len: plan.fdl1.len, data: &mut fdl1.as_slice() },
        Loader { address: plan.fdl2.address, len: plan.fdl2.len, data: &mut fdl2.as_slice() },
        &mut |_, _| {},
    )
}

/// The thin loop over the plan, as the flashing core will run it: protected steps are left out
/// unless `allow_protected`, backups kept.
fn run_plan(
    fdl2: &mut Fdl2Session<'_>,
    pac: &PacFile,
    plan: &DownloadPlan,
    bytes: &[u8],
    allow_protected: bool,
) -> Vec<(String, Vec<u8>)> {
    let mut src = PacSource::new(Cursor::new(bytes.to_vec()), NAME);
    let mut backups: Vec<(String, Vec<u8>)> = Vec::new();
    for step in &plan.steps {
        let is_backup = matches!(step.action, Action::Backup { .. });
        if step.protected.is_some() && !is_backup && !allow_protected {
            continue;
        }
        let nv = backups.iter().find(|(id, _)| id == "NV").map(|(_, b)| b.clone());
        match super::run::apply(fdl2, step, pac, &mut src, nv.as_deref(), &mut |_, _| {}).unwrap() {
            super::run::Applied::Read(b) => backups.push((step.id.clone(), b)),
            super::run::Applied::ResetPending => break,
            _ => {}
        }
    }
    backups
}

fn run(fdl2: &mut Fdl2Session<'_>, pac: &PacFile, plan: &DownloadPlan, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    run_plan(fdl2, pac, plan, bytes, false)
}

#[test]
fn a_pac_downloads_file_by_file_and_protected_areas_stay() {
    let mut builder = PacBuilder::uis8910("EC200UCNAAR03A04M08");
    builder = builder.with_nv_steps();
    builder.files.push(PacFileSpec::operation("ERASE_BOOT", "EraseFlash", "ERASE_BOOT", 0x6000_0000, 0));
    builder.files.push(PacFileSpec::file("APPIMG", "appimg.bin", "CODE", 0x6023_0000, 0x1_0000, vec![0xA5; 0x1801]));
    let (bytes, pac, plan) = package(&builder);
    let mut m = module(&[]);
    let layout = Layout8910::new(m.flash().size());
    let nv_before = m.flash().read(layout.nv.offset, layout.nv.len as usize).unwrap();
    let pc_before = m.flash().read(layout.phasecheck.offset, 0x100).unwrap();

    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    let backups = run(&mut fdl2, &pac, &plan, &bytes);
    let log = fdl2.normal_reset().unwrap();
    assert!(log.iter().any(|l| l.contains("VER") || l.contains("INCOMPATIBLE_PARTITION")), "{log:?}");
    assert!(m.reset_requested().is_some(), "NORMAL_RESET resets the module");

    for spec in builder.files.iter().filter(|f| !f.data.is_empty() && (NOR_BASE_8910..0xFE00_0000).contains(&f.address))
    {
        let at = u64::from(spec.address - NOR_BASE_8910);
        assert_eq!(m.flash().read(at, spec.data.len()).unwrap(), spec.data, "{}", spec.id);
    }
    // The odd-sized files were padded by one byte on the wire; nothing was written past them.
    let ap = &builder.files[3];
    assert_eq!(ap.data.len() % 2, 1);
    assert_eq!(m.flash().read(0x10000 + ap.data.len() as u64, 1).unwrap(), [0xFF]);
    assert_eq!(m.flash().read(layout.nv.offset, layout.nv.len as usize).unwrap(), nv_before);
    assert_eq!(m.flash().read(layout.phasecheck.offset, 0x100).unwrap(), pc_before);
    let nv = &backups.iter().find(|(id, _)| id == "NV").unwrap().1;
    assert_eq!(nv[..], nv_before[..0x400]);
    let pc = &backups.iter().find(|(id, _)| id == "PhaseCheck").unwrap().1;
    assert_eq!(pc, &pc_before);
}

#[test]
fn nv_is_taken_sealed_only() {
    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    let mut m = module(&[]);
    let layout = Layout8910::new(m.flash().size());
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    let image = crate::sim::unisoc::layout::module_nv("861234000000999");
    fdl2.write_nv(LOGICAL_NV, image.clone(), &mut |_, _| {}).unwrap();
    let mut back = Vec::new();
    fdl2.read(LOGICAL_NV, 0, image.len() as u32, &mut back, &mut |_, _| {}).unwrap();
    assert_eq!(back[2..], image[2..]);
    drop(fdl2);
    assert_eq!(m.flash().read(layout.nv.offset + 2, image.len() - 2).unwrap(), image[2..]);

    // Without the checksum FDL2 refuses NV.
    let mut m = module(&[]);
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    let err = fdl2
        .bsl()
        .expect(
            BslCommand::StartData,
            StartData::address(LOGICAL_NV, 8, None).encode(),
            &[BslReply::Ack],
            quick().reply,
            &String::new,
        )
        .unwrap_err();
    assert!(matches!(err, UnisocError::Refused { reply: BslReply::NotVerify, .. }), "{err}");
    // Sealed wrongly: refused at END_DATA.
    let start = StartData::address(LOGICAL_NV, 4, Some(1)).encode();
    fdl2.bsl().expect(BslCommand::StartData, start, &[BslReply::Ack], quick().reply, &String::new).unwrap();
    fdl2.bsl().expect(BslCommand::MidstData, vec![0; 4], &[BslReply::Ack], quick().reply, &String::new).unwrap();
    let err =
        fdl2.bsl().expect(BslCommand::EndData, vec![], &[BslReply::Ack], quick().reply, &String::new).unwrap_err();
    assert!(matches!(err, UnisocError::Refused { reply: BslReply::VerifyError, .. }), "{err}");
}

#[test]
fn what_fdl2_refuses_is_named() {
    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    let mut m = module(&[]);
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    let err = fdl2.write(0x6080_0000, &mut [0u8; 4].as_slice(), 4, "beyond", &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(err, UnisocError::Refused { reply: BslReply::DownDestError, command: BslCommand::StartData, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("DOWN_DEST_ERROR") && err.to_string().contains("beyond"), "{err}");
    let err = fdl2.write(0x6001_0000, &mut [0u8; 2].as_slice(), 4, "short", &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, UnisocError::Source { .. }), "{err}");
    let err = fdl2.read(0x2000_0000, 0, 16, &mut Vec::new(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, UnisocError::Refused { reply: BslReply::DownDestError, .. }), "{err}");
    fdl2.erase(0x6023_0000, 0x1000).unwrap();
    fdl2.erase(super::wire::payload::LOGICAL_ERASE_NV, 0).unwrap();
    let mut pc = Vec::new();
    fdl2.read(LOGICAL_PHASECHECK, 0, 0x100, &mut pc, &mut |_, _| {}).unwrap();
    assert!(pc.starts_with(b"SP09"));
}

#[test]
fn the_flash_extent_is_what_the_gate_can_compare() {
    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    let sizes = [1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20];
    let mut m = module(&[]);
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    assert_eq!(fdl2.probe_extent(NOR_BASE_8910, &sizes).unwrap(), FlashExtent::Ends(8 << 20));
    let report = fdl2.storage(NOR_BASE_8910).unwrap();
    assert_eq!((report.flash_id, report.extent), (None, FlashExtent::Ends(8 << 20)));
    let id = crate::identity::FlashId::parse("20 50 16").unwrap();
    let mut m = module(&[Fault::FlashId(id)]);
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    assert_eq!(fdl2.probe_extent(NOR_BASE_8910, &sizes).unwrap(), FlashExtent::Ends(4 << 20));
    assert!(matches!(fdl2.probe_extent(NOR_BASE_8910, &sizes[..2]).unwrap(), FlashExtent::Unknown(_)));
}

#[test]
fn nak_at_refuses_the_nth_packet_at_every_stage() {
    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    // 1: CONNECT; 2: START_DATA; 3: the first MID_DATA.
    let mut m = module(&[Fault::NakAt(3)]);
    let err = boot(&mut m, &pac, &plan, &bytes).err().unwrap();
    assert!(
        matches!(err, UnisocError::RomRefused { command: PdlCommand::MidData, reply: PdlReply::VerifyError }),
        "{err}"
    );
    // FDL1 is 0x900 bytes: CONNECT, START, 2 MID, END, EXEC = 6 packets; then CHANGE_BAUD (7), START (8).
    let mut m = module(&[Fault::NakAt(8)]);
    let err = boot(&mut m, &pac, &plan, &bytes).err().unwrap();
    assert!(
        matches!(
            err,
            UnisocError::Refused { stage: "FDL1", command: BslCommand::StartData, reply: BslReply::VerifyError, .. }
        ),
        "{err}"
    );
    assert!(!err.is_link_failure());
}

#[test]
fn a_cut_link_is_a_link_failure() {
    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    // Replies are 12 bytes in the ROM stage: the link goes away inside the third.
    let mut m = module(&[Fault::DropAt(30)]);
    let err = boot(&mut m, &pac, &plan, &bytes).err().unwrap();
    assert!(err.is_link_failure(), "{err}");
    assert!(matches!(err, UnisocError::Disconnected { .. } | UnisocError::Timeout { .. }), "{err}");
}

/// Over real pseudo-terminals: `AT+QDOWNLOAD=1` re-enumerates the module as 0525:a4a7, discovery
/// finds its download port, the host flashes a PAC through it, and NORMAL_RESET brings the module
/// back with its AT port.
#[test]
fn over_a_pseudo_terminal_after_qdownload() {
    use crate::device::{Mode, SerialTransport, Session, SessionOptions, SysPaths, UsbTable, ports};
    use crate::sim::{SimOptions, spawn};
    use std::time::{Duration, Instant};

    let (bytes, pac, plan) = package(&PacBuilder::uis8910("EC200UCNAAR03A04M08"));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let opts = SimOptions { root: Some(dir.path().join("root")), state: Some(state.clone()), ..SimOptions::default() };
    let sim = spawn(find("ec200u-cn").unwrap(), opts).unwrap();
    let session_opts = SessionOptions { deadline: Duration::from_secs(10), ..SessionOptions::default() };
    let mut at = Session::open(sim.port(), &session_opts).unwrap();
    at.sync().unwrap();
    assert!(at.command("AT+QDOWNLOAD=1").unwrap().result.is_ok());
    drop(at);

    let paths = SysPaths { sysfs: dir.path().join("root/sys"), dev: dir.path().join("root/dev") };
    let find_mode = |mode: Mode| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let modules = ports::discover_in(&paths, UsbTable::builtin().unwrap()).unwrap();
            if let Some(m) = modules.into_iter().find(|m| m.mode == mode) {
                return m;
            }
            assert!(Instant::now() < deadline, "the module did not come back in {mode}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let module = find_mode(Mode::Unisoc);
    let port = module.download_port().expect("a download port").path.clone();
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let mut fdl2 = boot_over(&mut link, &pac, &plan, &bytes).unwrap();
    let backups = run(&mut fdl2, &pac, &plan, &bytes);
    assert_eq!(backups.len(), 1, "PhaseCheck only: this package has no NV");
    fdl2.normal_reset().unwrap();
    drop(link);

    // Back in normal mode (which port is AT is the USB table's to say for 2c7c:0901).
    let back = find_mode(Mode::At);
    assert_eq!(back.usb_id(), crate::device::UsbId::new(0x2c7c, 0x0901));
    sim.shutdown().unwrap();
    let flash = std::fs::read(state.join("flash.bin")).unwrap();
    let ap = &PacBuilder::uis8910("EC200UCNAAR03A04M08").files[3];
    assert_eq!(&flash[0x10000..0x10000 + ap.data.len()], ap.data.as_slice());
}

fn boot_over<'t>(
    link: &'t mut dyn crate::device::Transport,
    pac: &PacFile,
    plan: &DownloadPlan,
    bytes: &[u8],
) -> Result<Fdl2Session<'t>, UnisocError> {
    let mut src = PacSource::new(Cursor::new(bytes.to_vec()), NAME);
    let mut fdl1 = src.entry(&pac.entries[plan.fdl1.entry]).unwrap();
    let mut fdl1_bytes = Vec::new();
    std::io::Read::read_to_end(&mut fdl1, &mut fdl1_bytes).unwrap();
    let fdl2 = src.entry_bytes(&pac.entries[plan.fdl2.entry], 1 << 20).unwrap();
    connect(
        link,
        plan.chip,
        Timeouts::default(),
        Loader { address: plan.fdl1.address, len: plan.fdl1.len, data: &mut fdl1_bytes.as_slice() },
        Loader { address: plan.fdl2.address, len: plan.fdl2.len, data: &mut fdl2.as_slice() },
        &mut |_, _| {},
    )
}

#[test]
fn nv_is_rewritten_keeping_the_module_items_only_when_allowed() {
    use crate::sim::unisoc::layout::{imei_bcd, nv_image};
    let mut builder = PacBuilder::uis8910("EC200UCNAAR03A04M08").with_nv_steps();
    let package_nv = nv_image(&[(5, imei_bcd("999999999999999")), (0x100, vec![0xCA; 64]), (2, vec![0xCB; 16])]);
    builder.files.iter_mut().filter(|f| f.id == "NV").for_each(|f| f.data = package_nv.clone());
    let (bytes, pac, plan) = package(&builder);
    let nv_step = plan.steps.iter().find(|s| matches!(s.action, Action::WriteNv { .. })).unwrap();
    assert_eq!(nv_step.protected, Some(crate::image::protected::Area::Nv));
    let mut m = module(&[]);
    let layout = Layout8910::new(m.flash().size());
    let mut fdl2 = boot(&mut m, &pac, &plan, &bytes).unwrap();
    run_plan(&mut fdl2, &pac, &plan, &bytes, true);
    drop(fdl2);
    let nv = m.flash().read(layout.nv.offset, package_nv.len()).unwrap();
    let items = &super::nv::parse(&nv, "x").unwrap().lists[0];
    let imei = items.iter().find(|i| i.id == 5).unwrap();
    assert_eq!(&nv[imei.data..imei.data + imei.len], imei_bcd("861234000000052").as_slice(), "the IMEI is kept");
    let cal = items.iter().find(|i| i.id == 0x100).unwrap();
    let module_cal = crate::sim::unisoc::layout::module_nv("861234000000052");
    assert_eq!(&nv[cal.data..cal.data + cal.len], &module_cal[20..84], "the backed-up calibration is kept");
    let other = items.iter().find(|i| i.id == 2).unwrap();
    assert_eq!(&nv[other.data..other.data + other.len], &[0xCB; 16], "the rest is the package's");
}

#[test]
fn plans_follow_the_scheme() {
    let mut builder = PacBuilder::uis8910("EC200UCNAAR03A04M08").with_nv_steps();
    builder.files.push(PacFileSpec::operation("FMT_FSSYS", "EraseFlash", "FMT_FSSYS", 0xFE00_0006, 0));
    builder.files.push(PacFileSpec::operation("ERASE_BOOT", "EraseFlash", "ERASE_BOOT", 0x6000_0000, 0));
    let (_, _, plan) = package(&builder);
    let ids: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .map(|s| {
            let kind = match &s.action {
                Action::Backup { .. } => "backup",
                Action::Erase { .. } => "erase",
                Action::Write { .. } => "write",
                Action::WriteNv { .. } => "write-nv",
                Action::Skip { .. } => "skip",
                Action::Reset => "reset",
            };
            (s.id.as_str(), kind)
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("NV", "backup"),
            ("PhaseCheck", "backup"),
            ("BOOT", "write"),
            ("AP", "write"),
            ("FLASH", "skip"),
            ("PhaseCheck", "skip"),
            ("NV", "write-nv"),
            ("FMT_FSSYS", "skip"),
            ("ERASE_BOOT", "erase"),
            ("RESET", "reset"),
        ]
    );
    assert_eq!(plan.fdl1.address, 0x8000C0);
    assert_eq!(plan.fdl2.address, 0x81_0000);
    let protected: Vec<&str> = plan.steps.iter().filter(|s| s.protected.is_some()).map(|s| s.id.as_str()).collect();
    assert_eq!(protected, ["NV", "PhaseCheck", "FLASH", "PhaseCheck", "NV"]);
}

#[test]
fn uis8850_plans_erase_the_boot_loader_first_and_write_it_last() {
    let mut builder = PacBuilder::uis8910("EC800GCNLDR01A01M04");
    builder.product_name = "UIS8850_MODEM".into();
    builder.product_version = "8850 MODULE".into();
    builder.files = vec![
        PacFileSpec::file("FDL", "fdl1.img", "FDL", 0x0080_0000, 0x1_0000, vec![1; 0x400]),
        PacFileSpec::file("FDL2", "fdl2.img", "FDL2", 0x0081_0000, 0x1_0000, vec![2; 0x400]),
        PacFileSpec::file("SPL", "spl.img", "CODE", 0x6000_0000, 0x1_0000, vec![3; 0x400]),
        PacFileSpec::file("AP", "ap.img", "CODE", 0x6001_0000, 0x1_0000, vec![4; 0x400]),
        PacFileSpec::operation("ERASE_SPL", "EraseFlash", "ERASE_SPL", 0x6000_0000, 0),
        PacFileSpec::operation("BOOT", "EraseFlash", "BOOT", 0x6000_0000, 0),
    ];
    let (_, _, plan) = package(&builder);
    assert_eq!(plan.chip, Chip::Uis8850);
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ERASE_SPL", "AP", "BOOT", "SPL", "RESET"]);
    builder.files.push(PacFileSpec::operation("MYSTERY", "Whatever", "MYSTERY", 0x6040_0000, 0));
    let bytes = builder.to_bytes();
    let pac = read_pac(&mut Cursor::new(&bytes), NAME).unwrap();
    let err = plan_of(&pac).unwrap_err();
    assert!(matches!(err, UnisocError::NotSupported { .. }) && err.to_string().contains("MYSTERY"), "{err}");
    builder.product_name = "UDX710_MODEM".into();
    builder.product_version = "udx710-module".into();
    let bytes = builder.to_bytes();
    let pac = read_pac(&mut Cursor::new(&bytes), NAME).unwrap();
    let err = plan_of(&pac).unwrap_err();
    assert!(matches!(err, UnisocError::NotSupported { .. }) && err.to_string().contains("UIS710"), "{err}");
}

fn plan_of(pac: &PacFile) -> Result<DownloadPlan, UnisocError> {
    plan(pac, NAME)
}

/// A stand-in for a BSL boot ROM (CRC-16 frames, as the UIS8850's), for the host's 8850 path:
/// check-baud, CONNECT and a START/MIDST/END/EXEC of FDL1, then the simulated FDL1 and FDL2.
/// The 8850 itself is not simulated (its ROM's answers are not recorded); this checks the
/// host's side of the published sequence only.
struct BslRomDouble {
    port: crate::sim::unisoc::bsl::BslPort,
    fdl: Option<crate::sim::unisoc::fdl::Fdl>,
    image: Vec<u8>,
    seen: Vec<BslCommand>,
}

impl crate::sim::download::DownloadMode for BslRomDouble {
    fn mode(&self) -> crate::device::Mode {
        crate::device::Mode::Unisoc
    }

    fn start(&mut self, _ctx: &mut crate::sim::download::DownloadContext<'_>) -> Vec<u8> {
        Vec::new()
    }

    fn feed(
        &mut self,
        input: &[u8],
        ctx: &mut crate::sim::download::DownloadContext<'_>,
    ) -> crate::sim::download::DownloadStep {
        use crate::sim::unisoc::bsl::{BslPort, Incoming};
        use crate::sim::unisoc::fdl::FdlOutcome;
        let mut output = Vec::new();
        for item in self.port.receive(input) {
            let (code, payload) = match item {
                Incoming::CheckBaud if self.fdl.is_none() => (BslReply::Ver, b"SPRD3\0".to_vec()),
                Incoming::CheckBaud => (BslReply::Ver, b"Spreadtrum Boot Block version 1.2\0".to_vec()),
                Incoming::Frame(frame) => {
                    self.seen.push(frame.command());
                    match self.fdl.as_mut() {
                        Some(fdl) => match fdl.handle(&frame, ctx) {
                            FdlOutcome::Reply(c, p) => (c, p),
                            FdlOutcome::StartFdl2(c) | FdlOutcome::Reset(c) => (c, Vec::new()),
                        },
                        None => match frame.command() {
                            BslCommand::MidstData => {
                                self.image.extend_from_slice(&frame.payload);
                                (BslReply::Ack, Vec::new())
                            }
                            BslCommand::ExecData => {
                                let ack = self.port.reply(BslReply::Ack, Vec::new());
                                output.extend(ack);
                                self.fdl = Some(crate::sim::unisoc::fdl::Fdl::new());
                                self.port = BslPort::new(wire::check::Check::Sum);
                                continue;
                            }
                            _ => (BslReply::Ack, Vec::new()),
                        },
                    }
                }
                _ => (BslReply::VerifyError, Vec::new()),
            };
            output.extend(self.port.reply(code, payload));
        }
        crate::sim::download::DownloadStep { output, ..Default::default() }
    }
}

#[test]
fn the_uis8850_path_follows_the_published_sequence() {
    let profile = find("ec200u-cn").unwrap();
    let double = BslRomDouble {
        port: crate::sim::unisoc::bsl::BslPort::new(wire::check::Check::Crc16),
        fdl: None,
        image: Vec::new(),
        seen: Vec::new(),
    };
    let flash = FlashStore::in_memory(profile.flash.size);
    let mut m = Loopback::new(profile, Box::new(double), flash, Faults::default());
    let fdl1: Vec<u8> = (0..0x455u32).map(|i| i as u8).collect();
    let mut fdl2 = crate::flash::unisoc::wire::payload::UIMAGE_MAGIC.to_vec();
    fdl2.resize(0x901, 0x22);
    let session = connect(
        &mut m,
        Chip::Uis8850,
        quick(),
        Loader { address: 0x5000, len: fdl1.len() as u32, data: &mut fdl1.as_slice() },
        Loader { address: 0x81_0000, len: fdl2.len() as u32, data: &mut fdl2.as_slice() },
        &mut |_, _| {},
    )
    .unwrap();
    let log = session.log().join("\n");
    assert!(log.contains("the boot ROM: VER \"SPRD3\"") && log.contains("FDL1: VER"), "{log}");
    assert!(log.contains("FDL1: EXEC_DATA answered INCOMPATIBLE_PARTITION"), "{log}");
}
