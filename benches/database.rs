//! Loading databases: the built-in one (compiled at build time; every offline `check` pays it),
//! the same rules from their TOML (what loading cost before), and a database file of 10,000
//! generated families read and verified the way `check --db` reads it.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fwguard::db::signature::{NamedKey, SecretKeyFile, keygen, sign_bytes, verify_bytes};
use fwguard::db::{Database, Trust};
use fwguard::rules::model::{Family, FamilyFile, Product, Step};

/// A family shaped like a real one: four products, a step, NOR chips.
fn generated_family(n: usize) -> FamilyFile {
    let model = format!("GX{n:05}");
    let product = |variant: &str, feature: &str| Product {
        code: format!("{model}{variant}{feature}"),
        variant: variant.into(),
        feature: feature.into(),
        memory: Some("M08".into()),
        nand: None,
        flash_chips: vec!["204117".into(), "C86017".into()],
        chip_list: None,
        source: "generated".into(),
    };
    FamilyFile {
        family: Family {
            id: format!("gx{n:05}"),
            name: model.clone(),
            platform: "asr".into(),
            chipset: "ASR1603".into(),
            models: vec![model.clone()],
            anti_rollback: n.is_multiple_of(7),
            flash_id_distinguishes: true,
            source: "generated".into(),
        },
        products: vec![product("CN", "LA"), product("CN", "LE"), product("EU", "AB"), product("EU", "AA")],
        shared_images: vec![],
        streams: vec![],
        steps: vec![Step {
            id: format!("gx{n:05}-r02-r03"),
            from: format!("{model}CNLAR02Axx"),
            to: format!("{model}CNLAR03Axx"),
            allows: vec!["cross-baseline".into()],
            note: None,
            floor: None,
            hazard: None,
            source: "generated".into(),
        }],
        known_bad: vec![],
        anti_rollback: vec![],
        signed: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let builtin = Database::builtin();
    assert_eq!(builtin.provenance().trust, Trust::BuiltIn);
    c.bench_function("load built-in database (compiled at build time)", |b| b.iter(Database::builtin));
    c.bench_function("load built-in database and read what a check reads (policy, chips, one family)", |b| {
        b.iter(|| {
            let db = Database::builtin();
            assert!(db.product(black_box("EC25EFA")).is_some() && db.policy("cross-baseline").is_some());
            black_box(db.chip("204117"));
        })
    });
    c.bench_function("load built-in database and decode all of it (db build, db diff)", |b| {
        b.iter(|| black_box(Database::builtin().rules().families.len()))
    });
    c.bench_function("load built-in rules from TOML (parse and lint)", |b| {
        b.iter(|| fwguard::rules::load_embedded().expect("loads"))
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let mut rules = builtin.rules().clone();
    rules.families.extend((0..10_000).map(generated_family));
    let path = dir.path().join("big.db");
    Database::from_rules(rules, "generated").write(&path).expect("write the 10k-family database");
    let bytes = std::fs::read(&path).expect("read it back");
    eprintln!("10k-family database: {} bytes", bytes.len());
    let key = keygen(&dir.path().join("bench"), None).expect("keygen");
    let sk = SecretKeyFile::read(&key.secret).and_then(|k| k.unlock(None)).expect("secret key");
    let (sig, _) = sign_bytes(&sk, &bytes, "big.db", 1).expect("sign");
    let trusted = [NamedKey::read(&key.public).expect("public key")];

    let mut group = c.benchmark_group("10k-family database file");
    group.sample_size(10);
    group.bench_function("open (read, decode, index)", |b| {
        b.iter_with_large_drop(|| Database::open(black_box(&path)).expect("opens"))
    });
    group.bench_function("verify signature", |b| {
        b.iter(|| verify_bytes(&path, black_box(&bytes), &path, &sig, &trusted, "bench").expect("verifies"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
