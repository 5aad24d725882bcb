//! A station trusts only databases signed by its trusted keys, never rolls back, and refuses a
//! database made for another fwguard: end to end through `check --db`, `db verify` and `db info`.

use std::path::Path;

use tempfile::TempDir;

use crate::db_support::{Publisher, check_json, info_json, trust};
use crate::util::{fwguard, run};

fn copy_signed(db: &Path, to: &Path) {
    std::fs::copy(db, to).unwrap();
    std::fs::copy(format!("{}.minisig", db.display()), format!("{}.minisig", to.display())).unwrap();
}

#[test]
fn a_database_signed_by_a_trusted_key_is_accepted_and_named_in_the_verdict() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let db = support.publish(home.path(), 2);

    let (code, v, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["database"]["version"], 2);
    assert_eq!(v["database"]["trust"], "signed");
    assert_eq!(v["database"]["signer"], support.key_id().as_str());
    assert_eq!(v["database"]["allow_unsigned"], false);

    let (code, out, err) = run(home.path(), &["db", "verify", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("signed by key {}", support.key_id())), "{out}");
    assert!(out.contains("accepted version 2"), "the check recorded it: {out}");

    // The text verdict says who signed it too.
    let mut args = vec!["check", "--db", db.to_str().unwrap()];
    args.extend_from_slice(crate::db_support::ALLOWED);
    let (code, out, _) = run(home.path(), &args);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("signed by key {}", support.key_id())), "{out}");
}

#[test]
fn a_tampered_database_is_refused_naming_both_hashes() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let db = support.publish(home.path(), 2);
    let mut bytes = std::fs::read(&db).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x01;
    std::fs::write(&db, bytes).unwrap();

    let (code, v, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(v["verdict"], serde_json::Value::Null, "no verdict: {v}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("does not match the file")), "{v}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("does not match the file: its SHA-256 is "), "{err}");
    assert!(err.contains("the signature was made over "), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn a_tampered_signature_is_refused() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let db = support.publish(home.path(), 2);
    let sig = format!("{}.minisig", db.display());
    let text = std::fs::read_to_string(&sig).unwrap();
    // The trusted comment is signed: claiming another version breaks the signature.
    let forged = text.replace("version:2", "version:9");
    assert_ne!(text, forged);
    std::fs::write(&sig, forged).unwrap();
    let (code, _, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("signature {sig} is not valid")), "{err}");
    assert!(err.contains(&format!("trusted key {}", support.key_id())), "{err}");
    assert!(err.contains("the signature file was altered"), "{err}");

    // A signature that is not one at all.
    std::fs::write(&sig, "untrusted comment: x\nnot base64 at all\n").unwrap();
    let (code, _, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a minisign signature"), "{err}");
}

#[test]
fn a_database_signed_by_an_unknown_key_is_refused_naming_both_keys() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    let stranger = Publisher::new(home.path(), "stranger");
    trust(home.path(), &support);
    let db = stranger.publish(home.path(), 2);
    let (code, _, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("signed by key {}, which is not a trusted key", stranger.key_id())), "{err}");
    assert!(err.contains(&format!("trusted: {}", support.key_id())), "{err}");

    // FWGUARD_TRUSTED_KEYS adds keys: a file, or the bare key as `minisign -P` takes it.
    let out = fwguard(home.path())
        .env("FWGUARD_TRUSTED_KEYS", &stranger.public)
        .args(["db", "verify", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bare = std::fs::read_to_string(&stranger.public).unwrap().lines().nth(1).unwrap().to_string();
    let out = fwguard(home.path())
        .env("FWGUARD_TRUSTED_KEYS", format!("/nonexistent-dir:{bare}"))
        .args(["db", "verify", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a missing path is no key: {}", String::from_utf8_lossy(&out.stderr));
    let out = fwguard(home.path())
        .env("FWGUARD_TRUSTED_KEYS", &bare)
        .args(["db", "verify", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_unsigned_database_is_refused_unless_allow_unsigned_which_the_verdict_reports() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let db = support.build(home.path(), 2, |_| {});
    let (code, _, err) = check_json(home.path(), &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}: not signed: there is no signature {}.minisig", db.display(), db.display())),
        "{err}"
    );
    assert!(err.contains("--allow-unsigned"), "the hint names the way out: {err}");

    let (code, v, err) = check_json(home.path(), &["--db", db.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["database"]["version"], 2);
    assert_eq!(v["database"]["trust"], "unsigned");
    assert_eq!(v["database"]["allow_unsigned"], true);
    assert!(v["database"]["untrusted_because"].as_str().unwrap().contains("not signed"), "{v}");

    let mut args = vec!["check", "--db", db.to_str().unwrap(), "--allow-unsigned"];
    args.extend_from_slice(crate::db_support::ALLOWED);
    let (_, out, _) = run(home.path(), &args);
    assert!(out.contains("UNSIGNED (--allow-unsigned)"), "{out}");

    // FWGUARD_DB is held to the same rule.
    let out = fwguard(home.path()).env("FWGUARD_DB", &db).args(["db", "info"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_older_signed_database_is_refused_naming_both_versions_and_when() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let v2 = support.publish(home.path(), 2);
    let v3 = support.publish(home.path(), 3);
    let (code, _, err) = check_json(home.path(), &["--db", v3.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    for cmd in [&["check", "--db"][..], &["db", "verify"][..]] {
        let mut args = cmd.to_vec();
        args.push(v2.to_str().unwrap());
        if cmd[0] == "check" {
            args.extend_from_slice(crate::db_support::ALLOWED);
        }
        let (code, _, err) = run(home.path(), &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("database version 2 is older than version 3"), "{err}");
        assert!(err.contains(&format!("from key {} at 20", support.key_id())), "names the key and the time: {err}");
        assert!(
            err.contains(&std::fs::canonicalize(&v3).unwrap().display().to_string()),
            "names where v3 came from: {err}"
        );
    }

    // The same version with other content is refused too: a publisher raises the version.
    let other = support.build(home.path(), 3, |rules| {
        let p = rules.join("database.toml");
        let t = std::fs::read_to_string(&p).unwrap().replace("fwguard built-in rules", "other rules");
        std::fs::write(p, t).unwrap();
    });
    let other_path = home.path().join("other-v3.db");
    std::fs::rename(&other, &other_path).unwrap();
    support.sign(home.path(), &other_path);
    let (code, _, err) = check_json(home.path(), &["--db", other_path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("database version 3 has content SHA-256"), "{err}");

    // A copy of the accepted v3 elsewhere is the same database.
    let copy = home.path().join("copy.db");
    copy_signed(&v3, &copy);
    assert_eq!(check_json(home.path(), &["--db", copy.to_str().unwrap()]).0, 0);
}

#[test]
fn a_built_in_database_older_than_an_accepted_one_warns_database_outdated() {
    let home = TempDir::new().unwrap();
    let (_, v, _) = check_json(home.path(), &[]);
    assert_eq!(v["verdict"], "allow", "no record yet: {v}");
    assert_eq!(v["database"]["trust"], "built-in");
    let builtin = v["database"]["version"].as_u64().unwrap() as u32;

    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let newer = support.publish(home.path(), builtin + 5);
    assert_eq!(check_json(home.path(), &["--db", newer.to_str().unwrap()]).0, 0);

    let (code, v, err) = check_json(home.path(), &[]);
    assert_eq!(code, 0, "a warning still allows: {err}");
    assert_eq!(v["verdict"], "warn");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "database-outdated").expect("finding");
    assert_eq!(f["severity"], "warn");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains(&format!("built-in database is version {builtin}")), "{message}");
    assert!(message.contains(&format!("accepted version {} from key {}", builtin + 5, support.key_id())), "{message}");
    let (_, out, _) = run(home.path(), &["explain", "database-outdated"]);
    assert!(out.contains("database-outdated (warn)"), "{out}");
    assert!(info_json(home.path())["outdated_by"]["version"] == builtin + 5);
}

#[test]
fn a_database_for_a_newer_fwguard_is_refused_naming_both_versions() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let db = support.build(home.path(), 2, |rules| {
        let p = rules.join("database.toml");
        let t = std::fs::read_to_string(&p).unwrap();
        let line = t.lines().find(|l| l.starts_with("requires_fwguard")).unwrap().to_string();
        std::fs::write(p, t.replace(&line, "requires_fwguard = \">=99.0.0\"")).unwrap();
    });
    support.sign(home.path(), &db);
    let want = format!("the database requires fwguard >=99.0.0, and this is fwguard {}", env!("CARGO_PKG_VERSION"));
    for extra in [&[][..], &["--allow-unsigned"][..]] {
        let mut args = vec!["--db", db.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (code, _, err) = check_json(home.path(), &args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&want), "{err}");
    }
    // A requirement that is no semver requirement is a lint error, with its line.
    let rules = crate::database::copy_rules(home.path());
    let p = rules.join("database.toml");
    let t = std::fs::read_to_string(&p).unwrap();
    let line = t.lines().find(|l| l.starts_with("requires_fwguard")).unwrap().to_string();
    std::fs::write(&p, t.replace(&line, "requires_fwguard = \"soon\"")).unwrap();
    let (code, out, _) = run(home.path(), &["rules", "lint", rules.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("database.toml:") && out.contains("requires_fwguard \"soon\""), "{out}");
}

#[test]
fn keys_with_a_password_sign_and_keys_are_never_overwritten() {
    let home = TempDir::new().unwrap();
    let base = home.path().join("team");
    let keygen = |extra: &[&str]| {
        fwguard(home.path())
            .env("FWGUARD_KEY_PASSWORD", "correct horse")
            .args(["db", "keygen", "--out", base.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = keygen(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = std::fs::read_to_string(home.path().join("team.key")).unwrap();
    assert!(secret.starts_with("untrusted comment: minisign encrypted secret key\n"), "{secret}");
    let out = keygen(&["--no-password"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let db = home.path().join("x.db");
    assert_eq!(run(home.path(), &["db", "build", "--out", db.to_str().unwrap()]).0, 0);
    let sign = |pw: &str| {
        fwguard(home.path())
            .env("FWGUARD_KEY_PASSWORD", pw)
            .args(["db", "sign", "--key", home.path().join("team.key").to_str().unwrap(), db.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = sign("wrong");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("team.key"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sign("correct horse").status.success());
    let out = fwguard(home.path())
        .env("FWGUARD_TRUSTED_KEYS", home.path().join("team.pub"))
        .args(["db", "verify", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
