//! `fwguard db update --from URL|PATH` against a local HTTP server: installs atomically, a failed
//! or cut-off update leaves the previous database in effect, and a rollback is refused.

use std::collections::HashMap;
use std::path::Path;

use tempfile::TempDir;

use crate::db_support::{Publisher, check_json, info_json, trust};
use crate::http_server::{Reply, Server};
use crate::util::run;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn sig_of(db: &Path) -> Vec<u8> {
    read(Path::new(&format!("{}.minisig", db.display())))
}

/// Routes `/NAME/fwguard-rules.db` and its `.minisig` for a signed database file.
fn publish_at(routes: &mut HashMap<String, Reply>, name: &str, db: &Path) {
    routes.insert(format!("/{name}/fwguard-rules.db"), Reply::Body(read(db)));
    routes.insert(format!("/{name}/fwguard-rules.db.minisig"), Reply::Body(sig_of(db)));
}

fn update(home: &Path, from: &str) -> (i32, String, String) {
    run(home, &["db", "update", "--from", from])
}

#[test]
fn update_from_a_web_server_installs_the_database_that_check_then_uses() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let v2 = support.publish(home.path(), 2);
    let mut routes = HashMap::new();
    publish_at(&mut routes, "v2", &v2);
    let server = Server::start(routes);
    let url = server.url("/v2/fwguard-rules.db");

    assert_eq!(info_json(home.path())["trust"], "built-in");
    let (code, out, err) = update(home.path(), &url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("installed version 2 from {url}: signed by key {}", support.key_id())), "{out}");
    assert!(out.contains("in effect: version 2"), "{out}");

    let info = info_json(home.path());
    assert_eq!(info["version"], 2);
    assert_eq!(info["trust"], "signed");
    assert_eq!(info["signer"], support.key_id().as_str());
    assert!(
        info["why"].as_str().unwrap().starts_with(&format!("installed by `fwguard db update` from {url} at ")),
        "{info}"
    );
    let (code, v, err) = check_json(home.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["database"]["version"], 2);
    assert_eq!(v["database"]["trust"], "signed");

    let (code, out, _) = update(home.path(), &url);
    assert_eq!(code, 0);
    assert!(out.contains("already installed"), "{out}");

    // The installed database is held to the same rules on every use: untrust its key, and the
    // station refuses to judge with it rather than fall back silently.
    std::fs::remove_dir_all(home.path().join("fwguard/trusted-keys")).unwrap();
    let (code, _, err) = check_json(home.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("which is not a trusted key"), "{err}");
}

#[test]
fn a_failed_or_cut_off_update_leaves_the_previous_database_in_effect() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let v2 = support.publish(home.path(), 2);
    let v3 = support.publish(home.path(), 3);
    // From a path (a share) first.
    let (code, out, err) = update(home.path(), v2.to_str().unwrap());
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(info_json(home.path())["version"], 2);

    let whole = read(&v3);
    let mut routes = HashMap::new();
    routes.insert("/cut/fwguard-rules.db".into(), Reply::CutOff { body: whole.clone(), sent: whole.len() / 2 });
    routes.insert("/cut/fwguard-rules.db.minisig".into(), Reply::Body(sig_of(&v3)));
    routes.insert("/nosig/fwguard-rules.db".into(), Reply::Body(whole.clone()));
    routes.insert("/error/fwguard-rules.db".into(), Reply::Status(500));
    routes.insert("/mixed/fwguard-rules.db".into(), Reply::Body(whole));
    routes.insert("/mixed/fwguard-rules.db.minisig".into(), Reply::Body(sig_of(&v2)));
    let server = Server::start(routes);

    let cases = [
        ("/cut/fwguard-rules.db", "the download failed part way"),
        ("/nosig/fwguard-rules.db", "HTTP 404"),
        ("/error/fwguard-rules.db", "HTTP 500"),
        ("/mixed/fwguard-rules.db", "does not match the file"),
    ];
    for (path, reason) in cases {
        let url = server.url(path);
        let (code, out, err) = update(home.path(), &url);
        assert_eq!(code, 2, "{path}: {out}{err}");
        assert!(err.contains(reason), "{path}: {err}");
        assert!(err.contains("hint:"), "{err}");
        let info = info_json(home.path());
        assert_eq!(info["version"], 2, "{path}: the previous database stays in effect");
        assert_eq!(info["trust"], "signed");
    }
    let left: Vec<String> = std::fs::read_dir(home.path().join("fwguard/database"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".staging"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A missing share file is a failed update too.
    let (code, _, err) = update(home.path(), home.path().join("nowhere.db").to_str().unwrap());
    assert_eq!(code, 2);
    assert!(err.contains("nowhere.db"), "{err}");
    assert_eq!(info_json(home.path())["version"], 2);
}

#[test]
fn a_rollback_through_update_is_refused_naming_both_versions() {
    let home = TempDir::new().unwrap();
    let support = Publisher::new(home.path(), "support");
    trust(home.path(), &support);
    let v2 = support.publish(home.path(), 2);
    let v3 = support.publish(home.path(), 3);
    let mut routes = HashMap::new();
    publish_at(&mut routes, "v2", &v2);
    publish_at(&mut routes, "v3", &v3);
    let server = Server::start(routes);

    assert_eq!(update(home.path(), &server.url("/v3/fwguard-rules.db")).0, 0);
    let old = server.url("/v2/fwguard-rules.db");
    let (code, out, err) = update(home.path(), &old);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("{old}: database version 2 is older than version 3")), "{err}");
    assert!(err.contains(&server.url("/v3/fwguard-rules.db")), "names where v3 came from: {err}");
    let info = info_json(home.path());
    assert_eq!(info["version"], 3);
    assert_eq!(info["installed"]["version"], 3);
}
