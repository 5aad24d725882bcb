//! What an offline check costs as a whole process, beside a bare `fwguard --version` (the floor:
//! loading the binary and parsing the command line): `check --model --revision --to` with its
//! history write, the same with `--no-history`, and the parts the history write is made of (one
//! line appended to the pending log, against opening SQLite and inserting, as checks did before).
//! The target: a check costs at most 1.5 times `--version`.

use std::hint::black_box;
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};
use fwguard::history::{CheckRecord, History, append_check};

const CHECK: [&str; 7] = [
    "check",
    "--model",
    "EC25-E",
    "--revision",
    "EC25EFAR06A17M4G_01.001.01.001",
    "--to",
    "EC25EFAR06A18M4G_01.002.01.002",
];

fn run(home: &std::path::Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_fwguard"))
        .args(args)
        .env("FWGUARD_HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("fwguard runs");
    assert!(status.success(), "fwguard {args:?}: {status}");
}

fn whole_processes(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("whole process");
    group.bench_function("fwguard --version (baseline)", |b| b.iter(|| run(home.path(), &["--version"])));
    group.bench_function("fwguard check (offline, with its history write)", |b| b.iter(|| run(home.path(), &CHECK)));
    let mut no_history = CHECK.to_vec();
    no_history.push("--no-history");
    group.bench_function("fwguard check --no-history", |b| b.iter(|| run(home.path(), &no_history)));
    group.finish();
}

fn record() -> CheckRecord {
    let mut r = CheckRecord::new("manual", CHECK[4], CHECK[6], "allow");
    r.model = Some("EC25-E".into());
    r.db_version = Some(2);
    r.db_sha256 = Some("ab".repeat(32));
    r
}

fn history_write(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let db = home.path().join("history.db");
    let r = record();
    let mut group = c.benchmark_group("history write");
    group.bench_function("append to the pending log (what check does)", |b| {
        b.iter(|| append_check(black_box(&db), black_box(&r)).expect("appends"))
    });
    group.bench_function("open history.db and insert (what check did)", |b| {
        b.iter(|| History::open(black_box(&db)).and_then(|h| h.record_check(black_box(&r))).expect("records"))
    });
    group.finish();
}

criterion_group!(benches, whole_processes, history_write);
criterion_main!(benches);
