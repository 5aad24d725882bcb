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
    DB.get_or_init(Database::builtin)
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

/// A build of a product the built-in rules list, with every field set: (product, memory, app
/// stream head, baseline range). The app streams are ones each family's builds use.
fn full_build() -> impl Strategy<Value = (String, u8, u8, Option<u8>, Option<(String, u16)>)> {
    let product = prop_oneof![
        Just(("EC25EFA", "M4G", "20", 1u8..9)),
        Just(("EC25EUGA", "M4G", "01", 1..9)),
        Just(("EM12GPA", "M4G", "01", 1..3)),
        Just(("EG25GGB", "M2G", "01", 1..8)),
        Just(("RM520NGLAA", "M4G", "01", 1..4)),
        Just(("EC200UCNAA", "M08", "", 1..4)),
        Just(("BG95M3LA", "", "01", 1..3)),
        Just(("EM120RGLAP", "M4G", "20", 1..3)),
    ];
    product.prop_flat_map(|(p, m, app, baselines)| {
        let app = if app.is_empty() {
            Just(None).boxed()
        } else {
            (1u16..100).prop_map(move |n| Some((app.to_string(), n))).boxed()
        };
        (Just(format!("{p}|{m}")), baselines, 2u8..30, prop::option::of(2u8..9), app)
    })
}

fn build_text(pm: &str, baseline: u8, minor: u8, infix: Option<u8>, app: Option<&(String, u16)>) -> String {
    let (p, m) = pm.split_once('|').unwrap();
    let mut s = format!("{p}R{baseline:02}A{minor:02}");
    if let Some(v) = infix {
        s.push_str(&format!("V{v:02}"));
    }
    s.push_str(m);
    if let Some((head, n)) = app {
        s.push_str(&format!("_{head}.{n:03}.{head}.{n:03}"));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Issue 13, item 6: a candidate lower than the installed build in any one field (baseline,
    /// minor, `V<nn>`, app version), or missing a field the installed build names, is never allowed.
    #[test]
    fn a_lower_candidate_never_passes_silently((pm, baseline, minor, infix, app) in full_build(), field in 0usize..6) {
        let installed = build_text(&pm, baseline, minor, infix, app.as_ref());
        let lower = match field {
            0 => build_text(&pm, baseline - 1, minor, infix, app.as_ref()),
            1 => build_text(&pm, baseline, minor - 1, infix, app.as_ref()),
            2 => match infix {
                Some(v) => build_text(&pm, baseline, minor, Some(v - 1), app.as_ref()),
                None => build_text(&pm, baseline, minor - 1, None, app.as_ref()),
            },
            3 => match &app {
                Some((head, n)) => build_text(&pm, baseline, minor, infix, Some(&(head.clone(), n - 1))),
                None => build_text(&pm, baseline, minor - 1, infix, None),
            },
            // A field the installed build names and the candidate does not.
            4 if app.is_some() => build_text(&pm, baseline, minor, infix, None),
            4 | 5 if infix.is_some() => build_text(&pm, baseline, minor, None, app.as_ref()),
            _ => build_text(&pm, baseline, minor - 1, infix, None),
        };
        let device = DeviceFacts { revision: installed.clone(), ..DeviceFacts::default() };
        let image = ImageFacts { name: lower.clone(), ..ImageFacts::default() };
        let r = judge(&device, &image, db());
        check_report(&r)?;
        prop_assert!(r.verdict != Verdict::Allow, "{installed} -> {lower} passed: {:?}", r.findings);
        prop_assert!(r.findings.iter().any(|f| f.severity >= Severity::Warn), "{installed} -> {lower}: {:?}", r.findings);
    }

    /// A DFOTA delta applies only to the build it was made from: a source that differs from the
    /// installed build in any field is refused.
    #[test]
    fn a_delta_from_another_build_is_refused((pm, baseline, minor, infix, app) in full_build(), field in 0usize..3) {
        let installed = build_text(&pm, baseline, minor, infix, app.as_ref());
        let source = match (field, &app) {
            (0, _) => build_text(&pm, baseline, minor - 1, infix, app.as_ref()),
            (1, Some((head, n))) => build_text(&pm, baseline, minor, infix, Some(&(head.clone(), n - 1))),
            _ => build_text(&pm, baseline, minor, infix.map(|v| v + 1).or(Some(1)), app.as_ref()),
        };
        let target = build_text(&pm, baseline, minor + 1, infix, app.as_ref());
        let device = DeviceFacts { revision: installed.clone(), ..DeviceFacts::default() };
        let image = ImageFacts { name: format!("{source}-{target}.zip"), ..ImageFacts::default() };
        let r = judge(&device, &image, db());
        check_report(&r)?;
        prop_assert_eq!(r.verdict, Verdict::Block, "{} on {}: {:?}", image.name, installed, r.findings);
        prop_assert!(r.findings.iter().any(|f| f.rule == "delta-source-mismatch"), "{:?}", r.findings);
    }

    /// Switching between a tagged and an untagged build, or between tags, is refused; switching
    /// between a test build and a release warns.
    #[test]
    fn tags_and_test_builds_are_judged((pm, baseline, minor, infix, app) in full_build(),
        tag in prop_oneof![Just("LNV"), Just("JP"), Just("MSFT"), Just("SKT")],
        test in prop_oneof![Just("TP"), Just("BETA0308"), Just("BETA_20240624A")]) {
        let plain = build_text(&pm, baseline, minor, infix, None);
        let app_suffix = app.as_ref().map(|(h, n)| format!("_{h}.{n:03}.{h}.{n:03}")).unwrap_or_default();
        let device = DeviceFacts { revision: format!("{plain}_{tag}{app_suffix}"), ..DeviceFacts::default() };
        let untagged = ImageFacts { name: format!("{plain}{app_suffix}"), ..ImageFacts::default() };
        let r = judge(&device, &untagged, db());
        check_report(&r)?;
        prop_assert_eq!(r.verdict, Verdict::Block, "{:?}", r.findings);
        prop_assert!(r.findings.iter().any(|f| f.rule == "build-tag-change"), "{:?}", r.findings);

        let device = DeviceFacts { revision: format!("{plain}{app_suffix}"), ..DeviceFacts::default() };
        let beta = ImageFacts { name: format!("{plain}_{test}{app_suffix}"), ..ImageFacts::default() };
        let r = judge(&device, &beta, db());
        check_report(&r)?;
        prop_assert!(r.verdict != Verdict::Allow, "{:?}", r.findings);
        prop_assert!(r.findings.iter().any(|f| f.rule == "flavour-switch"), "{:?}", r.findings);
        prop_assert!(!r.findings.iter().any(|f| f.rule == "reinstall"), "a test build is not the release: {:?}", r.findings);
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
