//! Inspection and hashing of a generated 256 MB Qualcomm package (folder and stored zip), with
//! `sha256sum` over the same bytes for comparison where it is installed.
//!
//! `cargo bench --bench inspect`. Set `FWGUARD_BENCH_KEEP=1` to keep the package and compare by
//! hand with the command printed at the start.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fwguard::image::build::qualcomm::QualcommBuilder;
use fwguard::image::inspect;

const REV: &str = "EC25EFAR06A17M4G_20.200.20.200";
const TOTAL: u64 = 256 << 20;

fn has(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn hash_all_with(tool: &str, folder: &Path) -> bool {
    let script = format!("find '{}' -type f -print0 | xargs -0 {tool} > /dev/null", folder.display());
    Command::new("sh").args(["-c", &script]).status().is_ok_and(|s| s.success())
}

fn inspect_256mb(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut b = QualcommBuilder::ec25(REV).total_size(TOTAL);
    b.deflate = false;
    let folder = b.write_folder(&dir.path().join("folder")).expect("package folder written");
    let zip = dir.path().join(b.file_name(".zip"));
    b.write_zip(&zip).expect("package zip written");
    let bytes: u64 = b.files().expect("file list").iter().map(|(_, c)| c.len()).sum();
    eprintln!(
        "package: {} bytes in {} (folder) and {} (stored zip)\n\
         compare with: time (find '{}' -type f -print0 | xargs -0 sha256sum >/dev/null)\n\
         fwguard hashes SHA-256 and MD5 (for md5.txt) in one pass; md5sum the same way for the other half",
        bytes,
        folder.display(),
        zip.display(),
        folder.display()
    );
    let mut g = c.benchmark_group("inspect-256MB");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(25));
    g.bench_function("fwguard-folder", |bch| bch.iter(|| black_box(inspect(&folder).expect("inspects"))));
    g.bench_function("fwguard-zip-stored", |bch| bch.iter(|| black_box(inspect(&zip).expect("inspects"))));
    if has("sha256sum") {
        g.bench_function("sha256sum-folder", |bch| bch.iter(|| black_box(hash_all_with("sha256sum", &folder))));
    }
    if has("md5sum") {
        g.bench_function("md5sum-folder", |bch| bch.iter(|| black_box(hash_all_with("md5sum", &folder))));
    }
    g.finish();
    if std::env::var_os("FWGUARD_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        eprintln!("kept {}", kept.display());
    }
}

criterion_group!(benches, inspect_256mb);
criterion_main!(benches);
