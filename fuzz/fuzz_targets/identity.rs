//! Fuzzes every identity parser: revisions, package names, raw AT answers, flash IDs, and the
//! rule-pattern parser, then round-trips what parses.
#![no_main]

use fwguard::identity::{FlashId, ImageName, Revision, revision_from_at_text};
use fwguard::rules::RevisionPattern;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(r) = Revision::parse(text) {
        let printed = r.to_string();
        let again = Revision::parse(&printed).expect("a printed revision parses");
        assert_eq!(again, r);
        assert_eq!(again.to_string(), printed);
    }
    let _ = ImageName::parse(text);
    let _ = revision_from_at_text(text);
    if let Ok(id) = FlashId::parse(text) {
        assert_eq!(FlashId::parse(&id.hex()).expect("hex parses"), id);
    }
    if let Ok(p) = RevisionPattern::parse(text) {
        let _ = p.to_string();
    }
});
