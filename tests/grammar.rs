//! Property tests for the revision grammar: parse then print gives the same string, the order of
//! builds is total and consistent, and the identity forms real builds use (short app versions,
//! `BETA_<date>` and `TP` test builds, customer tags, QuecPython names without a version, two
//! revisions in one name, factory layouts) are read as what they are.

use std::cmp::Ordering;

use fwguard::identity::{ImageName, Revision};
use proptest::prelude::*;

fn app_version() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..100, 0u16..1000).prop_map(|(a, b)| format!("{a:02}.{b:03}.{a:02}.{b:03}")),
        (0u8..100, 0u16..1000, 0u8..100).prop_map(|(a, b, c)| format!("{a:02}.{b:03}.{c:02}")),
        (0u16..1000, 0u8..100).prop_map(|(b, v)| format!("01.{b:03}V{v:02}.01.{b:03}V{v:02}")),
        (0u16..1000).prop_map(|b| format!("A0.{b:03}.A0.{b:03}")),
        // The short form LVFS/fwupd report for data cards: `EM05GFAR07A03M1G_01.004`.
        (0u8..100, 0u16..1000).prop_map(|(a, b)| format!("{a:02}.{b:03}")),
    ]
}

/// A customer, carrier or OEM code: part of a build's identity.
fn customer_tag() -> impl Strategy<Value = String> {
    prop_oneof![Just("LNV"), Just("MSFT"), Just("JP"), Just("SKT"), Just("BT"), Just("XBND")].prop_map(String::from)
}

/// A test-build tag: `BETA<mmdd>`, `BETA_<yyyymmdd>[letter]`, `TP`, `TP<n>`.
fn test_tag() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u16..10000).prop_map(|d| format!("BETA{d:04}")),
        (2018u16..2030, 1u8..13, 1u8..29, prop::option::of(prop::char::range('A', 'F')))
            .prop_map(|(y, m, d, l)| format!("BETA_{y}{m:02}{d:02}{}", l.map(String::from).unwrap_or_default())),
        Just("TP".to_string()),
        (1u8..10).prop_map(|n| format!("TP{n}")),
    ]
}

fn revision() -> impl Strategy<Value = String> {
    let product = prop_oneof![
        Just("EC25EFA"),
        Just("EC25EUGA"),
        Just("EC25EUXGA"),
        Just("EC200UEUAB"),
        Just("BG95M3LA"),
        Just("RM500QGLAB"),
        Just("EC800MCNLA")
    ];
    let memory = prop_oneof![
        Just(""),
        Just("M4G"),
        Just("M1G"),
        Just("M08"),
        Just("M16"),
        Just("E2G"),
        Just("T4G"),
        Just("M2GA")
    ];
    let infix = prop_oneof![Just(String::new()), (0u8..100).prop_map(|v| format!("V{v:02}"))];
    let tag = prop_oneof![
        Just("OCPU".to_string()),
        Just("QPY".to_string()),
        Just("OCPY".to_string()),
        Just("BT".to_string()),
        customer_tag(),
        test_tag()
    ];
    (product, 0u8..100, 0u8..100, infix, memory, prop::collection::vec(tag, 0..3), prop::option::of(app_version()))
        .prop_map(|(p, r, a, v, m, tags, app)| {
            let mut s = format!("{p}R{r:02}A{a:02}{v}{m}");
            for t in tags {
                s.push('_');
                s.push_str(&t);
            }
            if let Some(app) = app {
                s.push('_');
                s.push_str(&app);
            }
            s
        })
}

proptest! {
    #[test]
    fn parse_then_print_is_identity(s in revision()) {
        let r = Revision::parse(&s).expect("generated revisions parse");
        prop_assert_eq!(r.to_string(), s.clone());
        let again = Revision::parse(&r.to_string()).expect("printed revisions parse");
        prop_assert_eq!(again, r);
    }

    #[test]
    fn order_is_total_and_consistent(a in revision(), b in revision(), c in revision()) {
        let (a, b, c) = (Revision::parse(&a).unwrap(), Revision::parse(&b).unwrap(), Revision::parse(&c).unwrap());
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn test_builds_are_test_builds(base in revision(), t in test_tag()) {
        let core = Revision::parse(&base).unwrap().base();
        let r = Revision::parse(&format!("{core}_{t}")).expect("a test tag parses");
        prop_assert!(r.is_beta(), "{} is a test build", r);
        prop_assert!(r.identity_tags().is_empty(), "a test tag is no customer code: {:?}", r.identity_tags());
        prop_assert_eq!(r.to_string(), format!("{core}_{t}"));
    }

    #[test]
    fn customer_tags_are_identity(base in revision(), t in customer_tag()) {
        let core = Revision::parse(&base).unwrap().base();
        let tagged = Revision::parse(&format!("{core}_{t}")).unwrap();
        let plain = Revision::parse(&core).unwrap();
        prop_assert_eq!(tagged.identity_tags(), vec![t.as_str()]);
        prop_assert!(plain.identity_tags().is_empty());
        prop_assert_eq!(tagged.base(), plain.base(), "the tag is not part of the core");
    }

    #[test]
    fn short_app_versions_compare_on_shared_fields(a in 0u8..100, b in 0u16..1000, c in 0u16..1000) {
        let short = fwguard::identity::AppVersion::parse(&format!("{a:02}.{b:03}")).expect("two fields parse");
        let full = fwguard::identity::AppVersion::parse(&format!("{a:02}.{c:03}.{a:02}.{c:03}")).unwrap();
        prop_assert_eq!(short.cmp_shared(&full), b.cmp(&c));
        prop_assert_eq!(short.stream(), format!("{a:02}.{}xx", b / 100));
        prop_assert_eq!(full.stream(), format!("{a:02}.{}xx", c / 100));
    }

    #[test]
    fn quecpython_names_without_a_version(model in prop_oneof![Just("EC800M"), Just("EC600N"), Just("EG912U")], suffix in "[A-Z]{2}[A-Z0-9]{2}", beta in prop::option::of(0u16..10000)) {
        let release = beta.map(|d| format!("BETA{d:04}_")).unwrap_or_default();
        let n = ImageName::parse(&format!("QPY_OCPU_{release}{model}_{suffix}_FW.bin")).expect("QuecPython names parse");
        prop_assert_eq!(n.product(), format!("{model}{suffix}"));
        prop_assert!(n.revision().is_none());
        prop_assert_eq!(n.is_test_build(), beta.is_some());
    }

    #[test]
    fn two_revisions_in_one_name_conflict(a in revision(), b in revision()) {
        let n = ImageName::parse(&format!("{a}/update/{b}.zip")).unwrap();
        let (ra, rb) = (Revision::parse(&a).unwrap(), Revision::parse(&b).unwrap());
        let same = ra.base() == rb.base() && ra.flavour() == rb.flavour()
            && match (ra.app_version(), rb.app_version()) { (Some(x), Some(y)) => x.same_as(y), _ => true };
        prop_assert_eq!(n.conflict.is_some(), !same, "{:?}", n.conflict);
        prop_assert_eq!(n.revision().unwrap().to_string(), a);
    }

    #[test]
    fn factory_layouts_are_named(a in revision(), geometry in prop_oneof![Just("p4K_b256K"), Just("p2K_b128K")]) {
        let update = ImageName::parse(&format!("{a}/update/firehose/rawprogram_nand_{geometry}_update.xml")).unwrap();
        prop_assert!(update.factory.is_none());
        let factory = ImageName::parse(&format!("{a}/update/firehose/rawprogram_nand_{geometry}_factory.xml")).unwrap();
        prop_assert!(factory.factory.is_some());
        let package = ImageName::parse(&format!("{a}_factory/update/firehose/rawprogram_nand_{geometry}_update.xml")).unwrap();
        prop_assert!(package.factory.is_some());
        prop_assert_eq!(package.revision().unwrap().to_string(), a, "the _factory suffix is not part of the build");
    }

    #[test]
    fn any_text_parses_or_errors_without_panic(s in ".{0,80}") {
        let _ = Revision::parse(&s);
        let _ = ImageName::parse(&s);
        let _ = fwguard::identity::revision_from_at_text(&s);
        let _ = fwguard::identity::FlashId::parse(&s);
    }
}

/// Every fuzz seed and regression input (fuzz/seeds/*/*) through every identity parser, on stable.
#[test]
fn fuzz_seeds_never_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut n = 0;
    for dir in std::fs::read_dir(&root).expect("fuzz/seeds exists") {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let _ = Revision::parse(&text);
            let _ = ImageName::parse(&text);
            let _ = fwguard::identity::revision_from_at_text(&text);
            let _ = fwguard::identity::FlashId::parse(&text);
            let _ = fwguard::rules::RevisionPattern::parse(&text);
            let _ = fwguard::device::at::parse_response(&bytes, "AT+QGMR");
            n += 1;
        }
    }
    assert!(n > 0);
}
