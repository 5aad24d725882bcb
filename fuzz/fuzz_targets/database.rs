//! Fuzzes what fwguard reads from a database someone else published: the database file itself
//! (SQLite, then JSON records), its `.minisig` signature and a trusted key's text.
#![no_main]

use std::path::Path;

use fwguard::db::Database;
use fwguard::db::signature::{NamedKey, SignedFacts, verify_bytes};
use libfuzzer_sys::fuzz_target;

/// A fixed trusted key (made once with `minisign -G`), so signatures with its id reach verification.
const KEY: &str = "untrusted comment: minisign public key 9176122637864327\nRWQnQ4Y3JhJ2kXpK7PaKE3i7bMI+BoITwCZvCiEXrzmMkjEyB60c9G6S\n";

fuzz_target!(|data: &[u8]| {
    let _ = Database::from_bytes(data, "fuzz.db");
    let text = String::from_utf8_lossy(data);
    let _ = NamedKey::parse(&text, "fuzz.pub");
    let _ = SignedFacts::parse(&text);
    let key = NamedKey::parse(KEY, "key.pub").expect("the fixed key parses");
    let _ = verify_bytes(Path::new("fuzz.db"), b"content", Path::new("fuzz.db.minisig"), &text, &[key], "fuzz");
});
