//! Property tests for the revision grammar: parse then print gives the same string, and the
//! order of builds is total and consistent.

use std::cmp::Ordering;

use fwguard::identity::{ImageName, Revision};
use proptest::prelude::*;

fn app_version() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..100, 0u16..1000).prop_map(|(a, b)| format!("{a:02}.{b:03}.{a:02}.{b:03}")),
        (0u8..100, 0u16..1000, 0u8..100).prop_map(|(a, b, c)| format!("{a:02}.{b:03}.{c:02}")),
        (0u16..1000, 0u8..100).prop_map(|(b, v)| format!("01.{b:03}V{v:02}.01.{b:03}V{v:02}")),
        (0u16..1000).prop_map(|b| format!("A0.{b:03}.A0.{b:03}")),
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
        Just("LNV".to_string()),
        (0u16..10000).prop_map(|d| format!("BETA{d:04}"))
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
