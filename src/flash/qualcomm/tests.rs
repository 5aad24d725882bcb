//! The host sessions against the simulated module's device side, in-process.

use std::time::Duration;

use super::QualcommError;
use super::diag::{DiagOptions, DiagSession};
use super::firehose::{Extent, FirehoseOptions, FirehoseSession, Power};
use super::link::Link;
use super::sahara::{SaharaOptions, SaharaSession};
use super::wire::patch::{Patch, parse_patches};
use super::wire::sahara::Status;
use crate::device::Transport;
use crate::identity::FlashId;
use crate::image::build::programmer::{self, MbnBuilder, PROGRAMMER_IMAGE_ID, Target};
use crate::sim::qualcomm::{DiagPort, identity};
use crate::sim::{Fault, Loopback, find};

fn quick_sahara() -> SaharaOptions {
    SaharaOptions { hello_timeout: Duration::from_secs(2), timeout: Duration::from_secs(2), nudge: false }
}

fn quick_firehose() -> FirehoseOptions {
    FirehoseOptions {
        banner_wait: Duration::from_secs(2),
        banner_quiet: Duration::from_millis(200),
        ..FirehoseOptions::default()
    }
}

fn prog() -> Vec<u8> {
    programmer::programmer(Target::MDM9607, 40 * 1024)
}

/// Uploads the programmer and opens Firehose on `module`.
fn firehose(module: &mut Loopback) -> FirehoseSession<'_> {
    let mut sahara = SaharaSession::connect(Link::new(module), quick_sahara()).unwrap();
    sahara.upload(&prog(), &mut |_, _| {}).unwrap();
    FirehoseSession::connect(sahara.into_link(), quick_firehose()).unwrap()
}

#[test]
fn sahara_reads_the_chip_and_uploads_the_programmer() {
    let profile = find("ec25-e").unwrap();
    let expected = identity(&profile);
    let mut module = Loopback::for_profile(profile).unwrap();
    let mut sahara = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
    assert_eq!((sahara.hello().version, sahara.hello().compatible, sahara.version()), (2, 1, 2));
    let chip = sahara.read_chip_info().unwrap();
    assert_eq!(chip.serial, Some(expected.serial));
    assert_eq!(chip.hw_id.unwrap().as_u64(), 0x0004_80E1_0000_0000);
    assert_eq!(chip.pk_hash.as_deref(), Some(&expected.pk_hash[..]), "the doubled answer is trimmed");
    let image = prog();
    let mut last = (0, 0);
    let up = sahara.upload(&image, &mut |done, total| last = (done, total)).unwrap();
    assert_eq!((up.image_id, up.read64, up.done_status), (u64::from(PROGRAMMER_IMAGE_ID), false, 1));
    assert!(up.requests > 10, "pieces of at most 0x1000 bytes: {}", up.requests);
    assert_eq!(last.1, image.len() as u64);

    let fh = FirehoseSession::connect(sahara.into_link(), quick_firehose()).unwrap();
    assert_eq!(fh.config().max_payload, 8192, "1 MiB was NAKed and 8192 taken");
    assert_eq!(fh.config().target_name.as_deref(), Some("9x07"));
    assert!(fh.supports("getsha256digest") && fh.supports("erase"));
    assert!(fh.log().iter().any(|l| l.text.contains("larger than supported")), "{:?}", fh.log());
}

#[test]
fn no_common_sahara_version_is_refused_naming_both() {
    use super::link::tests::Stingy;
    use super::wire::sahara::{Mode, Packet};
    let hello = Packet::Hello { version: 5, compatible: 4, max_command_len: 0x400, mode: Mode(0) }.encode();
    let mut t = Stingy::new(&hello, 64);
    let err = SaharaSession::connect(Link::new(&mut t), quick_sahara()).err().unwrap();
    assert!(matches!(err, QualcommError::SaharaVersion { device_version: 5, device_compatible: 4, .. }), "{err}");
    assert!(err.to_string().contains("versions 4 to 5") && err.to_string().contains("1 to 3"), "{err}");
    // A newer target that still speaks an older version is answered in the newest both speak.
    let hello = Packet::Hello { version: 5, compatible: 2, max_command_len: 0x400, mode: Mode(0) }.encode();
    let mut t = Stingy::new(&hello, 64);
    assert_eq!(SaharaSession::connect(Link::new(&mut t), quick_sahara()).unwrap().version(), 3);
}

#[test]
fn the_boot_rom_refuses_programmers_for_other_chips_by_status() {
    let cases: [(Vec<u8>, Status); 4] = [
        (programmer::programmer(Target::AARCH64_OTHER, 8192), Status::INVALID_ELF_HDR),
        (
            programmer::programmer(Target { load_address: 0x8000_0000, ..Target::MDM9607 }, 8192),
            Status::INVALID_DEST_ADDR,
        ),
        (
            {
                let mut p = prog();
                let n = p.len() - 10;
                p[n] ^= 0xFF;
                p
            },
            Status::HASH_VERIFICATION_FAILURE,
        ),
        (
            {
                let mut p = prog();
                p[0x54 + 0x18 + 3] = 0; // the hash segment's type byte
                p
            },
            Status::HASH_TABLE_NOT_FOUND,
        ),
    ];
    for (image, want) in cases {
        let mut module = Loopback::for_profile(find("ec25-e").unwrap()).unwrap();
        let mut sahara = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
        match sahara.upload(&image, &mut |_, _| {}) {
            Err(e @ QualcommError::SaharaRefused { status, .. }) => {
                assert_eq!(status, want, "{e}");
                assert!(e.to_string().contains(want.name().unwrap()), "{e}");
            }
            other => panic!("{want}: {:?}", other.map(|_| ())),
        }
    }
    // Not an ELF at all: refused here, before anything is sent.
    let mut module = Loopback::for_profile(find("ec25-e").unwrap()).unwrap();
    let mut sahara = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
    assert!(matches!(sahara.upload(b"MZ not an ELF", &mut |_, _| {}), Err(QualcommError::Programmer(_))));
}

#[test]
fn secure_boot_needs_a_signed_programmer() {
    let mut profile = find("ec25-e").unwrap();
    profile.secure_boot = true;
    let mut module = Loopback::for_profile(profile.clone()).unwrap();
    let mut s = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
    let err = s.upload(&prog(), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, QualcommError::SaharaRefused { status: Status::IMAGE_AUTH_FAILURE, .. }), "{err}");
    let signed = MbnBuilder::new(Target::MDM9607, 13).signature(256).build();
    let mut module = Loopback::for_profile(profile).unwrap();
    let mut s = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
    s.upload(&signed, &mut |_, _| {}).unwrap();
}

#[test]
fn program_read_digest_erase_with_exact_sectors() {
    let mut module = Loopback::for_profile(find("ec25-e").unwrap()).unwrap();
    let mut fh = firehose(&mut module);
    let info = fh.storage_info(0).unwrap();
    assert_eq!((info.page_size, info.pages_per_block(), info.total_blocks), (4096, Some(64), 2048));
    assert_eq!(info.nand_id().unwrap().hex(), "98AC9026");
    assert_eq!(info.mem_type, "NAND");

    // rpm: 384 sectors at 9280 (block-aligned: the programmer erases what it writes).
    let rpm = Extent::new(9280, 384, 4096).with_pages_per_block(64);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let mut sent = 0;
    let r = fh.program(&rpm, &mut data.as_slice(), data.len() as u64, &mut |n| sent = n).unwrap();
    assert_eq!((r.sectors, r.padding, sent), (3, 3 * 4096 - 10_000, 10_000));
    let mut back = Vec::new();
    fh.read_bytes(&Extent::new(9280, 3, 4096), 10_000, &mut back, &mut |_| {}).unwrap();
    assert_eq!(back, data);
    let mut whole = Vec::new();
    fh.read(&Extent::new(9280, 4, 4096), &mut whole, &mut |_| {}).unwrap();
    assert!(whole[10_000..].iter().all(|b| *b == 0xFF), "padding and the next page read erased");
    let mut padded = data.clone();
    padded.resize(3 * 4096, 0xFF);
    use sha2::Digest;
    assert_eq!(fh.sha256(&Extent::new(9280, 3, 4096)).unwrap(), <[u8; 32]>::from(sha2::Sha256::digest(&padded)));

    // Too large for the partition: refused before anything is sent.
    let small = Extent::new(9280, 2, 4096);
    assert!(matches!(fh.program(&small, &mut data.as_slice(), 10_000, &mut |_| {}), Err(QualcommError::Invalid(_))));

    fh.erase(&Extent::new(9280, 64, 4096).with_pages_per_block(64)).unwrap();
    let mut erased = Vec::new();
    fh.read(&Extent::new(9280, 3, 4096), &mut erased, &mut |_| {}).unwrap();
    assert!(erased.iter().all(|b| *b == 0xFF));
    assert!(fh.log().iter().any(|l| l.text.contains("Erasing start sector 9280, num sectors 64")));
}

#[test]
fn nand_rules_are_enforced_and_named() {
    let mut module = Loopback::for_profile(find("ec25-e").unwrap()).unwrap();
    let mut fh = firehose(&mut module);
    let nak = |r: Result<(), QualcommError>| match r {
        Err(QualcommError::Nak { log, .. }) => log.join(" | "),
        other => panic!("{:?}", other.map(|_| ())),
    };
    let page = vec![0x11u8; 4096];
    // The first write in a block must start on its first page.
    let inside = Extent::new(9281, 1, 4096);
    let why = nak(fh.program(&inside, &mut page.as_slice(), 4096, &mut |_| {}).map(|_| ()));
    assert!(why.contains("first write on a block should start with first page"), "{why}");
    // Erase must be aligned and on the chip; sectors must be pages.
    assert!(nak(fh.erase(&Extent::new(13952 + 32, 64, 4096))).contains("start_sector unaligned"));
    assert!(nak(fh.erase(&Extent::new(2047 * 64, 128, 4096))).contains("exceeding total number of blocks"));
    assert!(nak(fh.erase(&Extent::new(0, 128, 2048))).contains("different from device sector size"));
    // Programming a page that is not erased fails, as NAND does.
    let block = Extent::new(64 * 300, 64, 4096);
    fh.erase(&block).unwrap();
    fh.program(&block, &mut page.as_slice(), 4096, &mut |_| {}).unwrap();
    let why = nak(fh.program(&block, &mut page.as_slice(), 4096, &mut |_| {}).map(|_| ()));
    assert!(why.contains("is not erased"), "{why}");
    // The session goes on after every NAK.
    fh.nop().unwrap();
}

#[test]
fn patches_are_evaluated_as_a_programmer_does() {
    let mut module = Loopback::for_profile(find("eg25-g").unwrap()).unwrap();
    let mut fh = firehose(&mut module);
    // Write a MIBIB-like file at sector 640, then send the EG25-G package's patches as disk
    // patches for it.
    let mibib: Vec<u8> = (0..4 * 2048u32).map(|i| (i % 251) as u8).collect();
    let at = Extent::new(640, 640, 2048).with_pages_per_block(64);
    fh.program(&at, &mut mibib.as_slice(), mibib.len() as u64, &mut |_| {}).unwrap();
    let patches = parse_patches(
        r#"<patches><patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="484" filename="partition_complete_p2K_b128K.mbn" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="NUM_DISK_BLOCKS-1458."/>
        <patch SECTOR_SIZE_IN_BYTES="2048" byte_offset="12" filename="partition_complete_p2K_b128K.mbn" physical_partition_number="0" size_in_bytes="4" start_sector="3" value="CRC32(0,4096)"/></patches>"#,
    )
    .unwrap();
    assert!(matches!(fh.patch(&patches[0]), Err(QualcommError::Invalid(_))), "file patches are not sent as they are");
    for p in &patches {
        fh.patch(&p.to_disk(640)).unwrap();
    }
    let mut back = Vec::new();
    fh.read(&Extent::new(640, 4, 2048), &mut back, &mut |_| {}).unwrap();
    assert_eq!(back[2048 + 484..2048 + 488], 590u32.to_le_bytes(), "2048 blocks - 1458");
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&back[..4096]);
    assert_eq!(back[3 * 2048 + 12..3 * 2048 + 16], crc.to_le_bytes());
    assert_eq!(back[..2048], mibib[..2048], "other sectors kept");
    let p = Patch { start_sector: super::wire::patch::SectorExpr::SectorsFromEnd(1), ..patches[0].to_disk(0) };
    fh.patch(&p).unwrap();
}

#[test]
fn nak_at_is_retried_once_and_then_named() {
    // Command 1 is the first configure (NAKed for its size anyway), 2 its renegotiation, 3 the nop.
    let profile = find("ec25-e").unwrap();
    let mut module = Loopback::with_faults(profile.clone(), &[Fault::NakAt(3)]).unwrap();
    let mut fh = firehose(&mut module);
    fh.nop().unwrap();
    assert!(fh.log().iter().any(|l| l.text.contains("simulated fault nak-at")));
    assert!(fh.log().iter().any(|l| l.text.contains("nop NAKed; sending it again")));

    let mut module = Loopback::with_faults(profile, &[Fault::NakAt(3)]).unwrap();
    let mut sahara = SaharaSession::connect(Link::new(&mut module), quick_sahara()).unwrap();
    sahara.upload(&prog(), &mut |_, _| {}).unwrap();
    let options = FirehoseOptions { nak_retries: 0, ..quick_firehose() };
    let mut fh = FirehoseSession::connect(sahara.into_link(), options).unwrap();
    let err = fh.erase(&Extent::new(0, 64, 4096)).unwrap_err();
    assert!(matches!(&err, QualcommError::Nak { command, .. } if command.contains("erase")), "{err}");
    assert!(err.to_string().contains("nak-at"), "{err}");
}

#[test]
fn flash_id_fault_and_power_reset() {
    let other = FlashId::parse("2C AC 90 15").unwrap();
    let mut module = Loopback::with_faults(find("ec25-e").unwrap(), &[Fault::FlashId(other.clone())]).unwrap();
    {
        let mut fh = firehose(&mut module);
        assert_eq!(fh.storage_info(0).unwrap().nand_id(), Some(other));
        fh.power(Power::Reset, 0).unwrap();
    }
    let reset = module.reset_requested().unwrap();
    assert_eq!((reset.delay, reset.to_download), (Duration::ZERO, false));
}

#[test]
fn short_writes_do_not_break_uploads_or_programs() {
    let mut module = Loopback::for_profile(find("ec25-e").unwrap()).unwrap().with_max_write(100);
    let mut fh = firehose(&mut module);
    let data = vec![0x42u8; 3 * 4096 + 1];
    let r = fh.program(&Extent::new(9280, 384, 4096), &mut data.as_slice(), data.len() as u64, &mut |_| {}).unwrap();
    assert_eq!(r.sectors, 4);
    let mut back = Vec::new();
    fh.read_bytes(&Extent::new(9280, 4, 4096), data.len() as u64, &mut back, &mut |_| {}).unwrap();
    assert_eq!(back, data);
}

/// The DIAG port's device side behind a transport.
struct DiagModule {
    port: DiagPort,
    profile: crate::sim::Profile,
    out: Vec<u8>,
    switched: bool,
}

impl Transport for DiagModule {
    fn read_within(&mut self, buf: &mut [u8], _timeout: Duration) -> std::io::Result<usize> {
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        Ok(n)
    }
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let reply = self.port.feed(bytes, &self.profile);
        self.out.extend(reply.output);
        self.switched |= reply.enter_download;
        Ok(())
    }
}

#[test]
fn diag_build_id_and_switch() {
    let profile = find("ec25-e").unwrap();
    let mut module =
        DiagModule { port: DiagPort::default(), profile: profile.clone(), out: vec![0x7E], switched: false };
    let mut diag = DiagSession::new(&mut module, DiagOptions::default());
    let id = diag.build_id().unwrap();
    assert_eq!((id.software_revision.as_str(), id.msm), (profile.ati_revision.as_str(), 0x0004_80E1));
    diag.switch_to_edl().unwrap();
    assert!(module.switched);
}

#[test]
fn a_silent_diag_port_times_out_naming_the_wait() {
    let mut module =
        DiagModule { port: DiagPort::default(), profile: find("ec25-e").unwrap(), out: Vec::new(), switched: false };
    module.profile.chipset = "MDM9607".into();
    struct Mute;
    impl Transport for Mute {
        fn read_within(&mut self, _: &mut [u8], t: Duration) -> std::io::Result<usize> {
            std::thread::sleep(t.min(Duration::from_millis(10)));
            Ok(0)
        }
        fn send(&mut self, _: &[u8]) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut mute = Mute;
    let options = DiagOptions { timeout: Duration::from_millis(100) };
    let err = DiagSession::new(&mut mute, options).switch_to_edl().unwrap_err();
    assert!(err.to_string().contains("waiting for the echo of the download switch"), "{err}");
    drop(module);
}

mod robustness {
    use proptest::prelude::*;

    use super::super::firehose::StorageInfo;
    use super::super::wire::firehose::{Message, Splitter, parse_message};
    use super::super::wire::hdlc::Decoder;
    use super::super::wire::mbn::Mbn;
    use super::super::wire::patch::parse_patches;
    use super::super::wire::sahara::Packet;
    use crate::sim::qualcomm::firehose::FirehoseTarget;
    use crate::sim::qualcomm::firmware::Geometry;
    use crate::sim::qualcomm::nand::Nand;
    use crate::sim::qualcomm::sahara::SaharaTarget;
    use crate::sim::qualcomm::{DiagPort, chip, identity};
    use crate::sim::{Faults, FlashStore, find};

    /// Bytes that look like the protocols often enough to go deep: protocol fragments mixed
    /// with noise.
    fn wire() -> impl Strategy<Value = Vec<u8>> {
        let fragments = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            Just(b"<?xml version=\"1.0\" ?><data><program SECTOR_SIZE_IN_BYTES=\"2048\" num_partition_sectors=\"2\" start_sector=\"0\"/></data>".to_vec()),
            Just(b"<data><erase SECTOR_SIZE_IN_BYTES=\"2048\" num_partition_sectors=\"64\" start_sector=\"64\"/></data>".to_vec()),
            Just(b"<data><patch SECTOR_SIZE_IN_BYTES=\"2048\" byte_offset=\"2047\" filename=\"DISK\" size_in_bytes=\"8\" start_sector=\"NUM_DISK_SECTORS-1.\" value=\"CRC32(0,99999999)\"/></data>".to_vec()),
            Just(Packet::HelloResp { version: 2, compatible: 1, status: super::Status::SUCCESS, mode: crate::flash::qualcomm::wire::sahara::Mode(0) }.encode()),
            Just(Packet::Execute { command: crate::flash::qualcomm::wire::sahara::ClientCommand(3) }.encode()),
            Just(vec![0x7E, 0x7C, 0x93, 0x49, 0x7E]),
        ];
        proptest::collection::vec(fragments, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn no_parser_on_either_side_panics(data in wire()) {
            let profile = find("ec25-e").unwrap();
            let _ = Decoder::default().feed(&data);
            let _ = DiagPort::default().feed(&data, &profile);
            let _ = Packet::decode(&data);
            let mut rom = SaharaTarget::new(chip::MDM9607, identity(&profile));
            rom.hello();
            for piece in data.chunks(13) {
                rom.feed(piece);
            }
            let mut s = Splitter::new(4096);
            s.push(&data);
            while let Some(Ok(m)) = s.next_message() {
                if let Ok(Message::Log(t)) = parse_message(&m) {
                    let _ = StorageInfo::from_log([t.as_str()]);
                }
            }
            let _ = parse_patches(&String::from_utf8_lossy(&data));
            let _ = Mbn::parse(&data).map(|m| m.verify(&data));
            let geometry = Geometry { page: 2048, pages_per_block: 64, pages: 64 * 8 };
            let mut flash = FlashStore::in_memory(geometry.page * geometry.pages);
            let mut programmer = FirehoseTarget::new(chip::MDM9607, Nand { geometry }, None, 1);
            for piece in data.chunks(31) {
                programmer.feed(piece, &mut flash, &Faults::default());
            }
        }
    }
}

/// A boot ROM alone behind a transport (to play chips no profile has).
struct Rom {
    rom: crate::sim::qualcomm::sahara::SaharaTarget,
    out: Vec<u8>,
}

impl Transport for Rom {
    fn read_within(&mut self, buf: &mut [u8], _timeout: Duration) -> std::io::Result<usize> {
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        Ok(n)
    }
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let step = self.rom.feed(bytes);
        self.out.extend(step.output);
        Ok(())
    }
}

#[test]
fn newer_parts_ask_with_read_data_64_and_read_chip_id_v3() {
    use crate::sim::qualcomm::chip::MDM9607;
    use crate::sim::qualcomm::sahara::SaharaTarget;
    let chip = crate::sim::qualcomm::chip::Chip {
        name: "test part",
        msm_id: 0x0012_34E1,
        sahara_version: 3,
        read64: true,
        elf64: true,
        machine: crate::flash::qualcomm::wire::mbn::EM_AARCH64,
        load_region: 0x1460_0000..0x1480_0000,
        ..MDM9607
    };
    let identity = identity(&find("ec25-e").unwrap());
    let mut rom = SaharaTarget::new(chip, identity.clone());
    let out = rom.hello();
    let mut sahara = SaharaSession::connect(Link::new(Rom { rom, out }), quick_sahara()).unwrap();
    assert_eq!(sahara.version(), 3);
    let info = sahara.read_chip_info().unwrap();
    assert_eq!(info.hw_id.unwrap().msm_id, 0x0012_34E1, "read the version-3 way");
    assert_eq!(info.serial, Some(identity.serial));
    let up = sahara.upload(&programmer::programmer(Target::AARCH64_OTHER, 20_000), &mut |_, _| {}).unwrap();
    assert!(up.read64 && up.done_status == 1, "{up:?}");
}
