//! Flash throughput to the simulated module over a pseudo-terminal: a Firehose `<program>`
//! through the host session, and through the Qualcomm driver's connection as `fwguard flash`
//! drives it (the bytes hashed with SHA-256 as they are sent, as the flashing core checks them
//! against the plan), against a raw write of the same bytes to the same pseudo-terminal (the
//! same `<program>` command, then the data written straight to the port). All erase the range
//! first, as the simulated NAND needs. The ratios show what the session and the driver cost on
//! top of the link.
//!
//! `cargo bench --bench flash`.

use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fwguard::device::{self, SerialTransport, SysPaths, UsbTable};
use fwguard::flash::qualcomm::connection::EdlConnection;
use fwguard::flash::qualcomm::diag::DiagOptions;
use fwguard::flash::qualcomm::edl;
use fwguard::flash::qualcomm::firehose::{Extent, FirehoseOptions, FirehoseSession};
use fwguard::flash::qualcomm::link::Link;
use fwguard::flash::qualcomm::sahara::{SaharaOptions, SaharaSession};
use fwguard::flash::qualcomm::wire::firehose::{self, Message, Splitter};
use fwguard::flash::{Connection, Region, TargetInfo};
use fwguard::image::build::programmer::{Target, programmer};
use fwguard::sim::{self, SimOptions};
use sha2::{Digest, Sha256};

const BYTES: u64 = 8 << 20;
const PAGE: u32 = 4096;
/// The modem partition of the EC25-E layout: 62 MiB from sector 24000 (block-aligned).
const START: u64 = 24000;

fn options() -> FirehoseOptions {
    FirehoseOptions {
        banner_wait: Duration::from_millis(1500),
        banner_quiet: Duration::from_millis(100),
        ..FirehoseOptions::default()
    }
}

/// Reads target messages until a response; panics on a NAK.
fn response(link: &mut Link<'_>, splitter: &mut Splitter) -> firehose::Response {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        splitter.push(&link.take_all());
        while let Some(m) = splitter.next_message() {
            if let Message::Response(r) = firehose::parse_message(&m.expect("a message")).expect("readable") {
                assert!(r.ack, "NAK: {:?}", r.element);
                return r;
            }
        }
        assert!(Instant::now() < deadline, "no response");
        link.fill(Duration::from_millis(200), "bench").expect("reads");
    }
}

fn raw_program(link: &mut Link<'_>, data: &[u8]) {
    let sectors = (data.len() as u64).div_ceil(u64::from(PAGE));
    let io = |tag: &str| {
        firehose::command(
            tag,
            &[
                ("SECTOR_SIZE_IN_BYTES", PAGE.to_string()),
                ("num_partition_sectors", sectors.to_string()),
                ("physical_partition_number", "0".into()),
                ("start_sector", START.to_string()),
            ],
        )
    };
    let mut splitter = Splitter::new(4096);
    link.send(&io("erase"), Duration::from_secs(5), "erase").expect("sent");
    response(link, &mut splitter);
    link.send(&io("program"), Duration::from_secs(5), "program").expect("sent");
    assert_eq!(response(link, &mut splitter).rawmode, Some(true));
    link.send(data, Duration::from_secs(10), "data").expect("sent");
    response(link, &mut splitter);
}

/// The bytes of a write, hashed as they are read (the flashing core's check of what it sent).
struct Hashing<'a> {
    data: &'a [u8],
    sha: Sha256,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

fn program_throughput(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let opts = SimOptions { root: Some(dir.path().to_path_buf()), ..SimOptions::default() };
    let sim = sim::spawn(sim::find("ec25-e").expect("profile"), opts).expect("simulator");
    let paths = SysPaths { sysfs: dir.path().join("sys"), dev: dir.path().join("dev") };
    let table = UsbTable::builtin().expect("USB table");
    let module = device::discover_in(&paths, table).expect("discovery").remove(0);
    let entry = edl::enter_edl(&paths, table, &module, DiagOptions::default(), Duration::from_secs(10)).expect("EDL");
    let port = SerialTransport::open(&entry.edl.port.path, 115_200).expect("EDL port");
    let mut sahara = SaharaSession::connect(Link::new(port), SaharaOptions::default()).expect("HELLO");
    sahara.upload(&programmer(Target::MDM9607, 64 << 10), &mut |_, _| {}).expect("upload");
    let mut link = FirehoseSession::connect(sahara.into_link(), options()).expect("configure").into_link();

    let data: Vec<u8> = (0..BYTES).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let extent = Extent::new(START, BYTES.div_ceil(u64::from(PAGE)), PAGE).with_pages_per_block(64);
    let mut g = c.benchmark_group("qualcomm-program-8MiB-pty");
    g.throughput(Throughput::Bytes(BYTES));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function("raw-write", |b| b.iter(|| raw_program(&mut link, black_box(&data))));
    let mut fh = FirehoseSession::connect(link, options()).expect("configure");
    g.bench_function("firehose-session", |b| {
        b.iter(|| {
            fh.erase(&extent).expect("erase");
            fh.program(&extent, &mut black_box(data.as_slice()), BYTES, &mut |_| {}).expect("program")
        })
    });
    let mut conn = EdlConnection::new(fh, TargetInfo::default(), None, Vec::new()).expect("getstorageinfo");
    let region = Region::new("modem", START * u64::from(PAGE), BYTES);
    g.bench_function("fwguard-driver", |b| {
        b.iter(|| {
            conn.erase(&region).expect("erase");
            let mut reader = Hashing { data: black_box(data.as_slice()), sha: Sha256::new() };
            conn.write(&region, &mut reader, &mut |_| {}).expect("write");
            black_box(reader.sha.finalize())
        })
    });
    g.finish();
    drop(conn);
    sim.shutdown().expect("the simulator stops cleanly");
}

criterion_group!(benches, program_throughput);
criterion_main!(benches);
