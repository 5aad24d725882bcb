//! ASR against the simulator over a real pseudo-terminal: the flasher's `flash:` throughput and
//! the driver's write (what `fwguard flash` runs for each step) next to a raw write of the same
//! bytes to the same port; a whole `fwguard flash` of a package (flash-ID read, backup, writes,
//! read-back, reboot, AT again); and the time `check` spends reading the flash ID (AT+QDOWNLOAD=1,
//! the stages, the probe, reboot, AT again), by hand and through the library's
//! `acquire::flash_id::complete`.
//!
//! `cargo bench --bench asr`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fwguard::acquire::flash_id::{self, FlashIdRequest};
use fwguard::acquire::{AcquireOptions, ModuleSource, acquire};
use fwguard::db::Database;
use fwguard::device::{self, Mode, SerialTransport, Session, SessionOptions, SysPaths, Transport, UsbTable};
use fwguard::flash::asr::recipe::FlashRecipe;
use fwguard::flash::asr::{AbootOptions, AbootSession, AsrConnection};
use fwguard::flash::{Connection, Region, Registry, Request, Silent};
use fwguard::image::build::asr::{AsrBuilder, firmware_image};
use fwguard::sim::{self, SimHandle, SimOptions};

/// The image: a mebibyte without `7E`/`7D`, so that written raw it is one oversized frame the
/// module drops, not commands.
const IMAGE: usize = 1 << 20;

fn member(b: &AsrBuilder, name: &str) -> Vec<u8> {
    b.members().into_iter().find(|(n, _)| n.ends_with(name)).map(|(_, d)| d).expect("member")
}

fn wait_for(root: &Path, mode: Mode, at: &Path) -> PathBuf {
    let paths = SysPaths { sysfs: root.join("sys"), dev: root.join("dev") };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let modules = device::discover_in(&paths, UsbTable::builtin().expect("table")).expect("discovery");
        let port = modules
            .iter()
            .filter(|m| m.mode == mode)
            .find_map(|m| if mode == Mode::At { m.ports.iter().find(|p| p.path == at) } else { m.download_port() });
        if let Some(p) = port {
            return p.path.clone();
        }
        assert!(Instant::now() < deadline, "the module did not appear in {mode}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn enter_download(at: &Path, root: &Path) -> PathBuf {
    let opts = SessionOptions { command_timeout: Duration::from_secs(2), ..SessionOptions::default() };
    let mut s = Session::open(at, &opts).expect("AT port");
    s.sync().expect("AT");
    s.command("AT+QDOWNLOAD=1").expect("AT+QDOWNLOAD=1");
    drop(s);
    wait_for(root, Mode::Arom, at)
}

fn start(root: &Path) -> SimHandle {
    let opts = SimOptions { root: Some(root.to_path_buf()), ..SimOptions::default() };
    sim::spawn(sim::find("ec800m-cn-la").expect("profile"), opts).expect("sim")
}

/// A modem image the module boots from afterwards (a benchmark's images carry no revision).
fn bootable() -> Vec<u8> {
    firmware_image("EC800MCNLAR01A02M08", 0x1000)
}

/// The floor: the same bytes through a bare pseudo-terminal pair, the far end drained by a thread
/// that does nothing with them.
fn bare_pty(c: &mut Criterion, image: &[u8]) {
    use std::io::Read;
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let path = nix::unistd::ttyname(&pty.slave).expect("its name");
    let mut port = SerialTransport::open(&path, 115_200).expect("the pty");
    let mut master = std::fs::File::from(pty.master);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while matches!(master.read(&mut buf), Ok(n) if n > 0) {}
    });
    let mut group = c.benchmark_group("asr");
    group.sample_size(10).throughput(Throughput::Bytes(IMAGE as u64));
    group.bench_function("raw write of 1 MiB to a bare pty drained by a thread", |b| {
        b.iter(|| port.send(black_box(image)).expect("write"))
    });
    group.finish();
}

fn image() -> Vec<u8> {
    (0..IMAGE as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x7B).collect()
}

fn throughput(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("root");
    let handle = start(root.path());
    let pkg = AsrBuilder::ec800m_cn_la();
    let download = enter_download(handle.port(), root.path());
    let mut port = SerialTransport::open(&download, 115_200).expect("download port");
    let image = image();
    let mut group = c.benchmark_group("asr");
    group.sample_size(10).throughput(Throughput::Bytes(IMAGE as u64));
    // The same bytes written raw first: the module reads them and drops them as one oversized
    // frame (a write returns once all but the last pty buffer is read).
    group.bench_function("raw write of 1 MiB to the download pty", |b| {
        b.iter(|| port.send(black_box(&image)).expect("write"))
    });
    let mut s = AbootSession::connect(&mut port, "bench", AbootOptions::default()).expect("connect");
    s.call(&member(&pkg, "preboot.img")).expect("preboot");
    s.call(&member(&pkg, "flasher.img")).expect("flasher");
    s.partition(&member(&pkg, "flashinfo.bin")).expect("probe");
    s.partition(&member(&pkg, "partition.bin")).expect("table");
    group.bench_function("flash:cp of 1 MiB (download, OKAY, flash:cp, OKAY)", |b| {
        b.iter(|| s.flash("cp", &mut black_box(image.as_slice()), IMAGE as u64, &mut |_| {}).expect("flash"))
    });
    let boot = bootable();
    s.flash("cp", &mut boot.as_slice(), boot.len() as u64, &mut |_| {}).expect("a bootable cp");
    s.reboot().expect("reboot");
    drop(port);
    group.finish();
    driver_write(c, &handle, root.path(), &pkg, &image);
    bare_pty(c, &image);
}

/// The driver's write of a step, as `fwguard flash` runs it: `AsrConnection::write` of 1 MiB
/// over the `cp` partition, beside a raw write of the same bytes on the same port.
fn driver_write(c: &mut Criterion, handle: &SimHandle, root: &Path, pkg: &AsrBuilder, image: &[u8]) {
    let at = wait_for(root, Mode::At, handle.port());
    let download = enter_download(&at, root);
    let mut port = SerialTransport::open(&download, 115_200).expect("download port");
    let mut group = c.benchmark_group("asr-driver");
    group.sample_size(10).throughput(Throughput::Bytes(IMAGE as u64));
    group.bench_function("raw write of 1 MiB to the download pty", |b| {
        b.iter(|| port.send(black_box(image)).expect("write"))
    });
    let mut package = pkg.package();
    let recipe = FlashRecipe::read(&mut package).expect("recipe");
    let mut conn =
        AsrConnection::over(Box::new(port), "bench", &mut package, &recipe, AbootOptions::default()).expect("connect");
    let cp = recipe.partition("cp").expect("cp");
    let region = Region::new("cp", u64::from(cp.start), IMAGE as u64);
    group.bench_function("AsrConnection::write of 1 MiB (a flash step)", |b| {
        b.iter(|| conn.write(&region, &mut black_box(image), &mut |_| {}).expect("write"))
    });
    let boot = bootable();
    let head = Region::new("cp", u64::from(cp.start), boot.len() as u64);
    conn.write(&head, &mut boot.as_slice(), &mut |_| {}).expect("a bootable cp");
    conn.reset().expect("reboot");
    group.finish();
}

/// A whole `fwguard flash` of a package with a 1 MiB modem image onto a module found through
/// discovery: the flash-ID read, the plan, the backup of the NV areas, both writes and their
/// read-back, reboot and AT again. The first run installs it, later ones reinstall it.
fn whole_flash(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("root");
    let home = tempfile::tempdir().expect("home");
    let handle = start(root.path());
    let mut b = AsrBuilder::ec800m_cn_la().revised("EC800MCNLAR01A02M08");
    b.images[0].2 = firmware_image("EC800MCNLAR01A02M08", IMAGE);
    let package = home.path().join(&b.file_name);
    std::fs::write(&package, b.zip().expect("zip")).expect("package");
    let db = Database::builtin();
    let sys = SysPaths { sysfs: root.path().join("sys"), dev: root.path().join("dev") };
    let options = AcquireOptions { sys, ..AcquireOptions::default() };
    let bytes: u64 = b.images.iter().map(|(_, _, d)| d.len() as u64).sum();
    let mut group = c.benchmark_group("asr-flash-command");
    group.sample_size(10).throughput(Throughput::Bytes(bytes));
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("fwguard flash of a 1 MiB-modem package (library)", |bench| {
        bench.iter(|| {
            let at = wait_for(root.path(), Mode::At, handle.port());
            let module = acquire(&ModuleSource::Port(at), &db, &options).expect("acquire");
            let request = Request::new(&package, home.path());
            fwguard::flash::flash(&module, &request, &db, &Registry::builtin(), &mut Silent).expect("flash")
        })
    });
    group.finish();
}

/// `check`'s flash-ID read through the library (`acquire::flash_id::complete`), as the command
/// runs it: discovery, AT+QDOWNLOAD=1, the candidate's stages, the probe, reboot, AT again.
fn check_flash_id(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("root");
    let home = tempfile::tempdir().expect("home");
    let handle = start(root.path());
    let lf = AsrBuilder::ec800m_cn_lf();
    let package = home.path().join(&lf.file_name);
    std::fs::write(&package, lf.zip().expect("zip")).expect("package");
    let db = Database::builtin();
    let sys = SysPaths { sysfs: root.path().join("sys"), dev: root.path().join("dev") };
    let options = AcquireOptions { sys, ..AcquireOptions::default() };
    let registry = Registry::builtin();
    let mut group = c.benchmark_group("asr");
    group.sample_size(10);
    group.bench_function("check's flash-ID read (acquire::flash_id::complete)", |bench| {
        bench.iter(|| {
            let at = wait_for(root.path(), Mode::At, handle.port());
            let module = acquire(&ModuleSource::Port(at), &db, &options).expect("acquire");
            let request = FlashIdRequest { loaders: Some(&package), ..FlashIdRequest::default() };
            let outcome = flash_id::complete(&module, &db, &registry, &request);
            assert!(outcome.flash_id().is_some(), "{outcome:?}");
            black_box(outcome)
        })
    });
    group.finish();
}

fn probe_sequence(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("root");
    let handle = start(root.path());
    let lf = AsrBuilder::ec800m_cn_lf();
    let mut group = c.benchmark_group("asr");
    group.sample_size(10);
    group.bench_function("check's flash-ID read (AT -> probe -> AT)", |b| {
        b.iter(|| {
            let download = enter_download(handle.port(), root.path());
            let mut port = SerialTransport::open(&download, 115_200).expect("download port");
            let mut s = AbootSession::connect(&mut port, "bench", AbootOptions::default()).expect("connect");
            s.call(&member(&lf, "preboot.img")).expect("preboot");
            s.call(&member(&lf, "flasher.img")).expect("flasher");
            let probe = s.probe_flash(&member(&lf, "flashinfo.bin")).expect("probe");
            s.reboot().expect("reboot");
            drop(port);
            let at = wait_for(root.path(), Mode::At, handle.port());
            let mut at = SerialTransport::open(&at, 115_200).expect("AT port");
            at.send(b"AT\r").expect("AT");
            black_box(probe)
        })
    });
    group.finish();
}

criterion_group!(benches, throughput, probe_sequence, check_flash_id, whole_flash);
criterion_main!(benches);
