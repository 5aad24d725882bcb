//! Full runs: the journal, verification, re-identification, what a failure leaves.

use super::*;

#[test]
fn a_full_flash_gates_backs_up_writes_verifies_and_reidentifies() {
    let h = Harness::new();
    let efs_before = h.storage(EFS2);
    let (result, events, ops) = h.flash(&h.request());
    let outcome = result.unwrap();
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    assert_eq!(outcome.revision_before.as_deref(), Some(FROM));
    assert_eq!((outcome.steps_done, outcome.steps_skipped), (7, 0));
    // Every image at its offset, calibration untouched.
    assert_eq!(h.storage((MODEM.0, 64 * KIB)), padded(h.member("update/NON-HLOS.ubi"), 64 * KIB));
    assert_eq!(h.storage((SBL.0, 64 * KIB)), padded(h.member("update/sbl1.mbn"), 64 * KIB));
    assert_eq!(h.storage(EFS2), efs_before);
    // The protected area was read into the backup before the first erase.
    let read_efs = ops.iter().position(|o| o.starts_with("read efs2")).unwrap();
    assert!(read_efs < first_change(&ops), "{ops:?}");
    let dir = PathBuf::from(outcome.backup_dir.unwrap());
    assert!(dir.starts_with(h.home.path().join("fwguard/backups").join(IMEI)), "{}", dir.display());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let file = manifest["areas"][0]["file"].as_str().unwrap();
    assert_eq!(std::fs::read(dir.join(file)).unwrap(), efs_before);
    assert_eq!(
        manifest["areas"][0]["sha256"],
        crate::image::archive::hex(&<sha2::Sha256 as sha2::Digest>::digest(&efs_before))
    );
    // The journal: every operation has a row, each ended done.
    let j = h.journal();
    let run = outcome.run.unwrap();
    let entries = j.entries(run).unwrap();
    let kinds_done: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds_done,
        [
            "enter",
            "connect",
            "gate",
            "backup",
            "erase",
            "erase",
            "write",
            "verify",
            "write",
            "verify",
            "erase",
            "write",
            "verify",
            "write",
            "verify",
            "reset",
            "reidentify"
        ]
    );
    assert!(entries.iter().all(|e| e.outcome.as_deref() == Some("done") && e.finished.is_some()), "{entries:?}");
    assert_eq!(j.run(run).unwrap().unwrap().status, "done");
    assert_eq!(j.run(run).unwrap().unwrap().serial.as_deref(), Some("0x0c1e5e2d"));
    // The history holds the outcome.
    let hist = crate::history::History::open(&h.home.path().join("fwguard/history.db")).unwrap();
    let f = &hist.list_flashes(1).unwrap()[0];
    assert_eq!((f.outcome.as_str(), f.exit_code, f.run), ("flashed", 0, Some(run)));
    assert_eq!((f.revision_before.as_deref(), f.revision_after.as_deref()), (Some(FROM), Some(TO)));
    assert_eq!(f.backup_dir.as_deref(), Some(dir.to_str().unwrap()));
    assert_eq!(f.db_version, Some(i64::from(h.db.version())));
    // One typed event stream.
    let k = kinds(&events);
    assert_eq!(k.first().map(String::as_str), Some("plan"));
    assert_eq!(k.last().map(String::as_str), Some("result"));
    assert_eq!(k.iter().filter(|e| *e == "verify").count(), 4);
    let end = events.iter().find(|e| e["event"] == "step_end" && e["index"] == 2).unwrap();
    assert_eq!(end["bytes"], 64 * KIB);
    assert_eq!(events.last().unwrap()["exit_code"], 0);
}

#[test]
fn each_journal_row_is_committed_before_its_erase_or_write() {
    let h = Harness::new();
    let db = h.home.path().join("fwguard/history.db");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    h.device.lock().unwrap().probe = Some(Box::new(move |what: &str| {
        // Another connection, as after a crash: the row must already be on disk.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (kind, outcome, partition): (String, Option<String>, String) = conn
            .query_row("SELECT kind, outcome, partition FROM flash_steps ORDER BY id DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        log.lock().unwrap().push((what.to_string(), kind, outcome, partition));
    }));
    h.flash(&h.request()).0.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 7);
    for (what, kind, outcome, partition) in seen.iter() {
        assert!(what.starts_with(kind.as_str()), "{what}: the last row is a {kind}");
        assert!(what.contains(partition.as_str()), "{what} {partition}");
        assert_eq!(outcome, &None, "{what}: the row is open while the operation runs");
    }
}

#[test]
fn a_write_that_does_not_verify_is_exit_3() {
    let h = Harness::new();
    h.device.lock().unwrap().corrupt_write = Some(2);
    let (result, events, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { run, source } = &err else { panic!("{err}") };
    assert!(matches!(**source, FlashError::Verify { .. }), "{source}");
    assert!(err.to_string().contains("expected SHA-256"), "{err}");
    let verify = events.iter().find(|e| e["event"] == "verify" && e["ok"] == false).unwrap();
    assert_eq!(verify["method"], "read-back");
    let j = h.journal();
    assert_eq!(j.run(*run).unwrap().unwrap().status, "failed");
    let failed = j.entries(*run).unwrap().into_iter().find(|e| e.outcome.as_deref() == Some("failed")).unwrap();
    assert_eq!((failed.kind.as_str(), failed.step), ("verify", Some(3)));
    assert_eq!(events.last().unwrap()["exit_code"], 3);
}

#[test]
fn a_module_that_comes_back_with_another_revision_is_exit_3() {
    // The package's firmware reports another revision than the package names.
    let h = Harness::with_package(builder(TO, "EC25EFAR06A17M4G_20.200.20.200"));
    let (result, _, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(
        err.to_string().contains(TO) && err.to_string().contains("reports EC25EFAR06A17M4G_20.200.20.200"),
        "{err}"
    );
}

#[test]
fn same_build_accepts_a_package_without_app_version() {
    assert!(same_build(TO, TO));
    assert!(same_build("EC25EFAR06A18M4G_20.201.20.201", "EC25EFAR06A18M4G"));
    assert!(!same_build("EC25EFAR06A17M4G_20.200.20.200", "EC25EFAR06A18M4G"));
    assert!(!same_build("EC25EFAR06A18M4G_20.201.20.201", "EC25EFAR06A18M4G_20.202.20.202"));
}

#[test]
fn a_package_that_changes_under_the_flash_is_caught_before_it_is_trusted() {
    let h = Harness::new();
    let modem = walk(&h.package).into_iter().find(|p| p.to_string_lossy().ends_with("NON-HLOS.ubi")).unwrap();
    let mut once = Some(modem);
    h.device.lock().unwrap().probe = Some(Box::new(move |_: &str| {
        if let Some(path) = once.take() {
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[0] ^= 0xFF;
            std::fs::write(&path, bytes).unwrap();
        }
    }));
    let err = h.flash(&h.request()).0.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { source, .. } = &err else { panic!("{err}") };
    assert!(matches!(**source, FlashError::PackageChanged { .. }), "{source}");
    assert!(err.to_string().contains("NON-HLOS.ubi"), "{err}");
}
