//! `--resume`: the same module and package only, skipping what already verifies.

use super::*;

#[test]
fn a_cut_write_resumes_skipping_the_ranges_that_verify() {
    let h = Harness::new();
    // The link goes away 1000 bytes into the third write (system).
    h.fail(Op::Write, 3, 1000);
    let (result, _, _) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let FlashError::AfterWrite { run, .. } = err else { panic!() };
    let j = h.journal();
    let entries = j.entries(run).unwrap();
    let write = entries.iter().find(|e| e.kind == "write" && e.step == Some(5)).unwrap();
    assert_eq!(write.outcome.as_deref(), Some("failed"), "the journal says which write broke: {entries:?}");
    assert!(write.detail.as_deref().unwrap_or_default().contains("went away"), "{write:?}");

    h.power_cycle();
    h.device.lock().unwrap().digest = true;
    let (result, events, ops) = h.flash(&Request { resume: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(outcome.resumed && outcome.run == Some(run));
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    // The modem writes verified already and were skipped; the system partition was erased and
    // written again, and the boot loader last.
    assert!(!ops.iter().any(|o| o.starts_with("write modem") || o.starts_with("erase modem")), "{ops:?}");
    let system: Vec<&String> = ops.iter().filter(|o| o.contains("system")).collect();
    assert_eq!(system.len(), 2, "{ops:?}");
    assert!(system[0].starts_with("erase") && system[1].starts_with("write"));
    assert_eq!(ops.iter().rfind(|o| o.starts_with("write")).map(|o| o.starts_with("write sbl")), Some(true));
    let skipped: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "step_end" && e["skipped"] == true)
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(skipped, [1, 2, 3]);
    // The backup of the first attempt is the one this run relies on.
    assert_eq!(j.run(run).unwrap().unwrap().status, "done");
    assert!(!ops.iter().any(|o| o.starts_with("read efs2")), "the verified backup of the run is reused: {ops:?}");
    assert_eq!(h.storage((SYSTEM.0, 64 * KIB)), padded(h.member("update/mdm9607-perf-sysfs.ubi"), 64 * KIB));
}

#[test]
fn resume_continues_only_the_same_module_and_package_naming_both() {
    let h = Harness::new();
    h.fail(Op::Write, 1, 10);
    let (result, _, _) = h.flash(&h.request());
    assert_eq!(result.unwrap_err().exit_code(), 3);
    // The boot loader is erased: the module comes back in its download mode.
    h.power_cycle();
    assert_eq!(h.device.lock().unwrap().mode, Mode::Edl);

    // Another package: refused, both SHA-256s named.
    let other = Harness::with_package(builder("EC25EFAR06A19M4G_20.202.20.202", "EC25EFAR06A19M4G_20.202.20.202"));
    let pkg_sha = |p: &std::path::Path| {
        let mut pkg = crate::image::archive::open_package(p).unwrap();
        package_sha256(p, pkg.as_mut()).unwrap()
    };
    let request = Request { resume: true, package: other.package.clone(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(
        err.to_string().contains(&pkg_sha(&other.package)) && err.to_string().contains(&pkg_sha(&h.package)),
        "{err}"
    );
    assert!(ops.is_empty(), "{ops:?}");

    // Another module (another boot ROM serial) in download mode: refused, both serials named.
    h.device.lock().unwrap().serial = "0x99999999".into();
    let (result, _, ops) = h.flash(&Request { resume: true, ..h.request() });
    let err = result.unwrap_err();
    assert!(err.to_string().contains("0x0c1e5e2d") && err.to_string().contains("0x99999999"), "{err}");
    assert!(first_change(&ops) == ops.len(), "{ops:?}");

    // Another module in normal mode (another IMEI): refused, both named.
    let stranger = Harness::new();
    stranger.device.lock().unwrap().imei = "861234000000999".into();
    let request = Request { resume: true, home: h.request().home, ..stranger.request() };
    let (result, _, ops) = stranger.flash(&request);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("861234000000999") && err.to_string().contains(IMEI), "{err}");
    assert!(ops.is_empty(), "{ops:?}");

    // Without --resume a module in download mode is not flashed at all.
    h.device.lock().unwrap().serial = "0x0c1e5e2d".into();
    let (result, _, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::InDownloadMode { .. }) && err.exit_code() == 2, "{err}");
    assert!(ops.is_empty());

    // The same module and package: the flash completes from its download mode.
    let (result, _, ops) = h.flash(&Request { resume: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(!ops.iter().any(|o| o == "enter"), "it was already in its download mode: {ops:?}");
    assert_eq!(outcome.revision_after.as_deref(), Some(TO));
    assert_eq!(h.device.lock().unwrap().mode, Mode::At);
}

#[test]
fn a_new_flash_supersedes_the_interrupted_ones_of_the_module() {
    let h = Harness::new();
    h.fail(Op::Erase, 2, 0);
    let first = match h.flash(&h.request()).0.unwrap_err() {
        FlashError::AfterWrite { run, .. } => run,
        e => panic!("{e}"),
    };
    h.power_cycle();
    assert_eq!(h.device.lock().unwrap().mode, Mode::Edl, "the boot loader was erased");
    // Back to normal mode by hand (a recovery tool), then a fresh flash: the old run is done with.
    h.device.lock().unwrap().storage[..16].fill(0x51);
    h.power_cycle();
    let second = h.flash(&h.request()).0.unwrap().run.unwrap();
    let j = h.journal();
    assert_eq!(j.run(first).unwrap().unwrap().status, "superseded");
    assert_eq!(j.run(second).unwrap().unwrap().status, "done");
    let err = h.flash(&Request { resume: true, ..h.request() }).0.unwrap_err();
    assert!(matches!(err, FlashError::Resume(_)), "{err}");
}
