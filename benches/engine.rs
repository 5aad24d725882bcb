//! Rule evaluation against a database of 10,000 generated families (plus the built-in ones),
//! and the cost of loading the built-in database, which every offline `check` pays.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fwguard::db::Database;
use fwguard::engine::{DeviceFacts, ImageFacts, judge};
use fwguard::identity::FlashId;
use fwguard::rules::model::{Family, FamilyFile, Product, Step};

/// A family shaped like a real one: four products, a step, NOR chips.
fn generated_family(n: usize) -> FamilyFile {
    let model = format!("GX{n:05}");
    let product = |variant: &str, feature: &str, memory: &str| Product {
        code: format!("{model}{variant}{feature}"),
        variant: variant.into(),
        feature: feature.into(),
        memory: Some(memory.into()),
        nand: None,
        flash_chips: vec!["204117".into(), "C86017".into()],
        chip_list: Some("vendor".into()),
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
        products: vec![
            product("CN", "LA", "M08"),
            product("CN", "LE", "M08"),
            product("EU", "AB", "M08"),
            product("EU", "AA", "M08"),
        ],
        shared_images: vec![],
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
        streams: vec![],
    }
}

fn big_database() -> Database {
    let mut rules = Database::builtin().rules().clone();
    rules.families.extend((0..10_000).map(generated_family));
    Database::from_rules(rules, "generated")
}

fn bench(c: &mut Criterion) {
    let db = big_database();
    let ec25 = DeviceFacts {
        model: Some("EC25".into()),
        revision: "EC25EFAR06A17M4G_20.200.20.200".into(),
        ..DeviceFacts::default()
    };
    let to_r08 = ImageFacts { name: "EC25EFAR08A01M4G_01.001.01.001".into(), ..ImageFacts::default() };
    c.bench_function("judge EC25 R06->R08 (10k families)", |b| {
        b.iter(|| judge(black_box(&ec25), black_box(&to_r08), &db))
    });

    let gen_dev = DeviceFacts {
        model: Some("GX09999".into()),
        revision: "AT+QGMR\r\r\nGX09999CNLAR02A05M08_01.001.01.001\r\n\r\nOK\r\n".into(),
        flash_id: Some(FlashId::parse("20 41 17").expect("valid id")),
        ..DeviceFacts::default()
    };
    let gen_img = ImageFacts { name: "GX09999CNLAR03A01M08_01.001.01.001.zip".into(), ..ImageFacts::default() };
    c.bench_function("judge generated family with step (10k families)", |b| {
        b.iter(|| judge(black_box(&gen_dev), black_box(&gen_img), &db))
    });

    c.bench_function("load built-in database", |b| b.iter(Database::builtin));
    c.bench_function("compile 10k-family database", |b| {
        b.iter_with_large_drop(|| Database::from_rules(db.rules().clone(), "bench"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
