//! Flash throughput against the simulated UIS8910 over a pseudo-terminal (FDL2 START/MIDST/END
//! of 1 MiB in 0x800-byte frames, every frame acknowledged), beside a raw write of the same bytes
//! to the same pseudo-terminal (the ROM skips bytes that are no packet; one PDL CONNECT round
//! trip afterwards proves they were all read).
//!
//! `cargo bench --bench unisoc_flash`.

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fwguard::device::{Mode, SerialTransport, Session, SessionOptions, SysPaths, Transport, UsbTable, ports};
use fwguard::flash::unisoc::scheme::plan;
use fwguard::flash::unisoc::source::PacSource;
use fwguard::flash::unisoc::wire::pdl::{PdlCommand, PdlRequest};
use fwguard::flash::unisoc::{Loader, Timeouts, connect};
use fwguard::image::build::pac::PacBuilder;
use fwguard::image::pac::read_pac;
use fwguard::sim::{SimHandle, SimOptions, find, spawn};

const SIZE: usize = 1 << 20;

/// A simulated EC200U-CN switched to download mode; its download port.
fn download_port(root: &std::path::Path) -> (SimHandle, std::path::PathBuf) {
    let sim = spawn(find("ec200u-cn").unwrap(), SimOptions { root: Some(root.to_path_buf()), ..SimOptions::default() })
        .expect("the simulator starts");
    let mut at = Session::open(sim.port(), &SessionOptions::default()).unwrap();
    at.sync().unwrap();
    at.command("AT+QDOWNLOAD=1").unwrap();
    drop(at);
    let paths = SysPaths { sysfs: root.join("sys"), dev: root.join("dev") };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let modules = ports::discover_in(&paths, UsbTable::builtin().unwrap()).unwrap();
        if let Some(p) = modules.iter().find(|m| m.mode == Mode::Unisoc).and_then(|m| m.download_port()) {
            return (sim, p.path.clone());
        }
        assert!(Instant::now() < deadline, "no download port");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn flash_vs_raw(c: &mut Criterion) {
    let data: Vec<u8> = (0..SIZE as u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut group = c.benchmark_group("unisoc");
    group.throughput(Throughput::Bytes(SIZE as u64)).sample_size(10).measurement_time(Duration::from_secs(20));

    let dir = tempfile::tempdir().unwrap();
    let (sim, port) = download_port(&dir.path().join("raw"));
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let raw = vec![0u8; SIZE];
    group.bench_function("raw write to the pty, 1 MiB", |b| {
        b.iter(|| {
            link.send(black_box(&raw)).unwrap();
            link.send(&PdlRequest::new(PdlCommand::Connect, 0, 0).encode()).unwrap();
            let mut buf = [0u8; 64];
            let mut got = 0;
            while got < 12 {
                got += link.read_within(&mut buf[got..], Duration::from_secs(5)).unwrap();
            }
        })
    });
    drop(link);
    drop(sim);

    let bytes = PacBuilder::uis8910("EC200UCNAAR03A04M08").to_bytes();
    let pac = read_pac(&mut Cursor::new(&bytes), "bench.pac").unwrap();
    let plan = plan(&pac, "bench.pac").unwrap();
    let mut src = PacSource::new(Cursor::new(bytes.clone()), "bench.pac");
    let fdl1 = src.entry_bytes(&pac.entries[plan.fdl1.entry], 1 << 20).unwrap();
    let fdl2 = src.entry_bytes(&pac.entries[plan.fdl2.entry], 1 << 20).unwrap();
    let (sim, port) = download_port(&dir.path().join("flash"));
    let mut link = SerialTransport::open(&port, 115_200).unwrap();
    let mut session = connect(
        &mut link,
        plan.chip,
        Timeouts::default(),
        Loader { address: plan.fdl1.address, len: plan.fdl1.len, data: &mut fdl1.as_slice() },
        Loader { address: plan.fdl2.address, len: plan.fdl2.len, data: &mut fdl2.as_slice() },
        &mut |_, _| {},
    )
    .unwrap();
    group.bench_function("FDL2 write, 1 MiB", |b| {
        b.iter(|| session.write(0x6010_0000, &mut data.as_slice(), SIZE as u32, "bench", &mut |_, _| {}).unwrap())
    });
    group.finish();
    drop(session);
    drop(link);
    drop(sim);
}

criterion_group!(benches, flash_vs_raw);
criterion_main!(benches);
