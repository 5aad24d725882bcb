//! Plans, refusals before the module is touched, the gate and the protected areas.

use super::*;

#[test]
fn the_plan_lists_every_step_with_partition_offset_length_and_hash() {
    let h = Harness::new();
    let (result, events, ops) = h.flash(&Request { dry_run: true, ..h.request() });
    let outcome = result.unwrap();
    assert!(outcome.dry_run && outcome.run.is_none());
    let plan = &events[0]["plan"];
    assert_eq!(events[0]["event"], "plan");
    assert_eq!(plan["platform"], "qualcomm");
    assert_eq!(plan["module"]["imei"], IMEI);
    assert_eq!(plan["verdict"], "allow", "{plan}");
    let steps = plan["steps"].as_array().unwrap();
    let described: Vec<(String, String, u64, u64)> = steps
        .iter()
        .map(|s| {
            (
                s["operation"].as_str().unwrap().into(),
                s["partition"].as_str().unwrap().into(),
                s["offset"].as_u64().unwrap(),
                s["length"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        described,
        vec![
            ("erase".into(), "sbl".into(), SBL.0, SBL.1),
            ("erase".into(), "modem".into(), MODEM.0, MODEM.1),
            ("write".into(), "modem".into(), MODEM.0, 64 * KIB),
            ("write".into(), "modem".into(), MODEM.0 + 256 * KIB, 4 * KIB),
            ("erase".into(), "system".into(), SYSTEM.0, SYSTEM.1),
            ("write".into(), "system".into(), SYSTEM.0, 64 * KIB),
            ("write".into(), "sbl".into(), SBL.0, 64 * KIB),
        ]
    );
    // Each write's hash is the hash of the member's bytes padded to the region.
    let modem = padded(h.member("update/NON-HLOS.ubi"), 64 * KIB);
    let sha = crate::image::archive::hex(&<sha2::Sha256 as sha2::Digest>::digest(&modem));
    assert_eq!(steps[2]["sha256"], sha);
    assert!(steps.iter().all(|s| (s["operation"] == "write") == s["sha256"].is_string()));
    // The protected area (calibration) is listed, changed by no step.
    let protected = plan["protected"].as_array().unwrap();
    assert_eq!(protected.len(), 1);
    assert_eq!((protected[0]["partition"].as_str(), protected[0]["offset"].as_u64()), (Some("efs2"), Some(EFS2.0)));
    assert_eq!(protected[0]["changed_by"], serde_json::json!([]));
    // The storage comes from the package's geometry and the database's chips for EC25EFA.
    assert_eq!(
        (plan["storage"]["page_size"].as_u64(), plan["storage"]["block_size"].as_u64()),
        (Some(4096), Some(262_144))
    );
    assert_eq!(plan["storage"]["flash_ids"][0]["id"], "98AC9026");
    assert_eq!(plan["storage"]["flash_ids_from"], "database");
    assert_eq!(plan["package"]["revision"], TO);
    assert_eq!(plan["package"]["sha256"].as_str().unwrap().len(), 64);
    // A dry run sends nothing past identification and writes no journal.
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(kinds(&events), ["plan", "result"]);
    assert!(h.journal().unfinished().unwrap().is_empty());
    assert_eq!(h.storage((0, 4 << 20)), FakeDevice::new(FROM, IMEI).storage);
}

#[test]
fn the_gate_refuses_another_chip_or_geometry_naming_both_and_erases_nothing() {
    for (id, page, want) in [
        ("2CDA9095", 4096, vec!["2C DA 90 95", "98 AC 90 26"]),
        ("98AC9026", 2048, vec!["page size of 2048 bytes", "4096 bytes"]),
    ] {
        let h = Harness::new();
        {
            let mut d = h.device.lock().unwrap();
            d.info.flash_id = Some(id.into());
            d.info.page_size = Some(page);
        }
        let before = h.storage((0, 4 << 20));
        let (result, events, ops) = h.flash(&h.request());
        let err = result.unwrap_err();
        assert!(matches!(err, FlashError::Gate(_)), "{err}");
        assert_eq!(err.exit_code(), 1);
        for w in &want {
            assert!(err.to_string().contains(w), "{err}");
        }
        assert_eq!(first_change(&ops), ops.len(), "nothing erased or written: {ops:?}");
        assert!(ops.last().is_some_and(|o| o == "reset"), "the module is sent back to its firmware: {ops:?}");
        assert_eq!(h.storage((0, 4 << 20)), before);
        let j = h.journal();
        let run = j.unfinished().unwrap()[0].id;
        let gate = j.entries(run).unwrap().into_iter().find(|e| e.kind == "gate").unwrap();
        assert_eq!(gate.outcome.as_deref(), Some("failed"));
        assert_eq!(events.last().unwrap()["code"], "fwguard::flash::gate");
    }
}

#[test]
fn protected_areas_need_permission_and_a_verified_backup() {
    let mut b = builder(TO, TO);
    b.calibration_write = true;
    let h = Harness::with_package(b);
    let before = h.storage((0, 4 << 20));
    // Without --allow-protected: the verdict blocks (calibration-erase), before the module is touched.
    let request = Request { permissions: Permissions::new().accept_warnings(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Blocked { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("calibration-erase") && text.contains("efs2") && err.exit_code() == 1, "{err}");
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(h.storage((0, 4 << 20)), before);

    // With it: the backup is read and verified before the calibration area is erased.
    let request = Request { permissions: Permissions::new().accept_warnings().allow_protected(), ..h.request() };
    let (result, _, ops) = h.flash(&request);
    let outcome = result.unwrap();
    let erase_efs = ops.iter().position(|o| o.starts_with("erase efs2")).unwrap();
    let before_changes = &ops[..first_change(&ops)];
    let reads = before_changes.iter().filter(|o| o.starts_with("read efs2 [0x40000, +0x80000)")).count();
    assert_eq!(reads, 2, "the area is read, then read again to verify the backup: {ops:?}");
    assert!(erase_efs > first_change(&ops));
    let dir = PathBuf::from(outcome.backup_dir.unwrap());
    assert!(std::fs::read_dir(&dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("efs2-")));
}

#[test]
fn the_guard_refuses_a_protected_change_where_it_would_happen() {
    let device: Shared = Arc::new(Mutex::new(FakeDevice::new(FROM, IMEI)));
    let driver = FakeDriver { device: Arc::clone(&device), write_calibration: false };
    let mut pkg = crate::image::build::memory::MemoryPackage::new("p", vec![]);
    let mut conn = driver.connect(std::path::Path::new("/fake/edl"), &mut pkg).unwrap();
    let area = (Region::new("efs2", EFS2.0, EFS2.1), "EFS".to_string());
    let step = Step {
        index: 0,
        operation: Operation::Erase,
        region: Region::new("modem", EFS2.0 + EFS2.1 - 4096, 8192),
        sha256: None,
        source: None,
        patch: None,
        protected: None,
    };
    for (permissions, backup, why) in [
        (Permissions::new(), true, "--allow-protected was not given"),
        (Permissions::new().allow_protected(), false, "no verified backup"),
    ] {
        let mut guard = Guard::new(conn.as_mut(), vec![area.clone()], permissions);
        if backup {
            guard.backup_verified();
        }
        let err = guard.erase(&step).unwrap_err();
        assert!(matches!(err, FlashError::ProtectedTouched { .. }) && err.to_string().contains(why), "{err}");
    }
    assert!(!device.lock().unwrap().ops.iter().any(|o| o.starts_with("erase")));
    let mut guard = Guard::new(conn.as_mut(), vec![area], Permissions::new().allow_protected());
    guard.backup_verified();
    guard.erase(&step).unwrap();
}

#[test]
fn blocked_packages_and_missing_drivers_stop_before_the_module() {
    let h = Harness::with_package(builder("EC25EFAR08A01M4G_01.001.01.001", "x"));
    let (result, events, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Blocked { .. }) && err.exit_code() == 1, "{err}");
    assert!(err.to_string().contains("cross-baseline"), "{err}");
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(kinds(&events), ["result"]);
    let hist = crate::history::History::open(&h.home.path().join("fwguard/history.db")).unwrap();
    assert_eq!(hist.list_flashes(1).unwrap()[0].outcome, "refused");

    let h = Harness::new();
    let acquired = h.acquired();
    let mut finder = FakeFinder { device: Arc::clone(&h.device) };
    // A build with the ASR and Unisoc drivers only: the Qualcomm module has none, and the
    // message lists the drivers there are.
    let others = Registry::with(vec![
        Box::new(crate::flash::asr::AsrDriver::default()),
        Box::new(crate::flash::unisoc::UnisocDriver::default()),
    ]);
    let err = flash_with(&acquired, &h.request(), &h.db, &others, Some(&mut finder), &mut Silent).unwrap_err();
    assert!(matches!(err, FlashError::NoDriver { platform: Platform::Qualcomm, .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(text.contains("qualcomm") && text.contains("asr") && text.contains("unisoc"), "{err}");
}

#[test]
fn protected_partitions_the_device_reports_are_backed_up_and_guarded() {
    // An NV backup partition only the module's own table shows: backed up, not written.
    let h = Harness::new();
    h.device.lock().unwrap().partitions = vec![Region::new("fsg", 3 << 20, 256 * KIB)];
    let (result, events, ops) = h.flash(&h.request());
    let outcome = result.unwrap();
    assert!(ops[..first_change(&ops)].iter().any(|o| o.starts_with("read fsg")), "{ops:?}");
    let backup = events.iter().find(|e| e["event"] == "backup").unwrap();
    assert_eq!(backup["areas"], 2);
    assert!(
        std::fs::read_dir(outcome.backup_dir.unwrap())
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with("fsg-") })
    );

    // One that a step would overwrite: refused before any erase, the module sent back.
    let h = Harness::new();
    h.device.lock().unwrap().partitions = vec![Region::new("nv", SYSTEM.0, 4096)];
    let (result, _, ops) = h.flash(&h.request());
    let err = result.unwrap_err();
    assert!(matches!(err, FlashError::Protected { .. }) && err.exit_code() == 1, "{err}");
    assert!(err.to_string().contains("system") && err.to_string().contains("NV"), "{err}");
    assert_eq!(first_change(&ops), ops.len(), "{ops:?}");
    assert_eq!(ops.last().map(String::as_str), Some("reset"));
}
