//! Property tests for the engine against the built-in database: it never panics, its verdict
//! follows from its findings, and every finding explains itself.

use std::sync::OnceLock;

use fwguard::db::Database;
use fwguard::engine::{DeviceFacts, ImageFacts, Report, Verdict, judge};
use fwguard::identity::FlashId;
use fwguard::rules::model::Severity;
use proptest::prelude::*;

fn db() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| Database::builtin().expect("built-in rules load"))
}

/// Real-looking strings mixed with noise, so both the parse failures and the deep checks run.
fn revision_text() -> impl Strategy<Value = String> {
    let products = prop_oneof![
        Just("EC25EFA"),
        Just("EC25EUGA"),
        Just("EC200UEUAB"),
        Just("EC200UEUAA"),
        Just("EC800MCNLA"),
        Just("EC800MCNLF"),
        Just("RM520NGLAA"),
        Just("EM05GFA"),
        Just("EG25GGB"),
        Just("XX99ZZ")
    ];
    let mem = prop_oneof![Just("M4G"), Just("M08"), Just("M04"), Just("M2G"), Just("")];
    let app = prop_oneof![
        Just("_20.200.20.200"),
        Just("_01.001.01.001"),
        Just("_01.016.00.000"),
        Just("_OCPU_QPY"),
        Just("")
    ];
    prop_oneof![
        4 => (products, 0u8..12, 0u8..30, mem, app).prop_map(|(p, r, a, m, s)| format!("{p}R{r:02}A{a:02}{m}{s}")),
        1 => ".{0,40}",
        1 => Just("LTE01R06A04_VOLTE_C_SDK_A".to_string()),
    ]
}

fn image_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => revision_text(),
        1 => revision_text().prop_map(|r| format!("8915DM_cat1_open_{r}_merge.pac")),
        1 => prop_oneof![Just("EC800M_CNLE"), Just("EC800M_CNLF"), Just("EC600N_CNLA")].prop_map(|m| format!("QPY_OCPU_V0004_{m}_FW.bin")),
        1 => revision_text().prop_map(|r| format!("{r}-R06A20V01.zip")),
    ]
}

fn check_report(r: &Report) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.verdict, Report::verdict_of(&r.findings));
    for f in &r.findings {
        prop_assert!(!f.message.is_empty() && !f.source.is_empty(), "{:?}", f);
        if f.severity == Severity::Block {
            prop_assert!(!f.hint.is_empty(), "a refusal says what to do: {:?}", f);
        }
    }
    // Fail closed: a side that could not be identified never yields allow.
    if r.device.product.is_none() || r.image.product.is_none() {
        prop_assert_eq!(r.verdict, Verdict::Block);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn engine_is_total_and_explains_itself(
        model in prop_oneof![Just(None), Just(Some("EC25".to_string())), Just(Some("EC800MCN_LA".to_string())), Just(Some("EC200U".to_string())), ".{0,12}".prop_map(Some)],
        revision in revision_text(),
        to in image_name(),
        flash in prop_oneof![Just(None), Just(Some("204117")), Just(Some("C86016")), Just(Some("98AC9026"))],
        secure_boot in prop::option::of(any::<bool>()),
    ) {
        let device = DeviceFacts { model, revision, flash_id: flash.map(|f| FlashId::parse(f).unwrap()), secure_boot, imei: None };
        let image = ImageFacts { name: to, ..ImageFacts::default() };
        check_report(&judge(&device, &image, db()))?;
    }
}

#[test]
fn advice_that_names_no_value_comes_from_the_policy() {
    // One source for "what to do": a finding whose advice does not depend on what was seen
    // carries the policy's hint (what `fwguard explain` prints), not a second wording of it.
    let device = DeviceFacts {
        model: Some("EC25".into()),
        revision: "EC25EFAR06A17M4G_20.200.20.200".into(),
        ..DeviceFacts::default()
    };
    let cases = [
        ("EC25EFAR06A17M4G_20.200.20.200", "reinstall"),
        ("EC25EFAR06A16M4G_20.200.20.200", "downgrade"),
        ("XX99ZZR01A01M4G", "unknown-image"),
        ("not a revision", "malformed-revision"),
    ];
    for (to, rule) in cases {
        let report = judge(&device, &ImageFacts { name: to.into(), ..ImageFacts::default() }, db());
        let finding = report.findings.iter().find(|f| f.rule == rule).unwrap_or_else(|| panic!("{to}: {report:?}"));
        assert_eq!(finding.hint, db().policy(rule).unwrap().hint, "{to}");
    }
}
