//! The driver's recipe and connection against the simulated module, in process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::super::recipe::{Action, FlashRecipe, Prelude};
use super::super::*;
use super::quick;
use crate::device::Transport;
use crate::flash::{Connection, DriverError, Region, StepSpec, StorageKind};
use crate::image::build::asr::{AsrBuilder, AsrDamage};
use crate::image::build::memory::MemoryPackage;
use crate::sim::in_process::InProcess;
use crate::sim::{Fault, Faults, FlashStore, find};

/// An in-process module the test can still look at once a connection owns its transport.
#[derive(Clone)]
struct Shared(Arc<Mutex<InProcess>>);

impl Transport for Shared {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
        // Lock per short read, so the test can look in between.
        let step = timeout.min(Duration::from_millis(20));
        self.0.lock().unwrap().read_within(buf, step)
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.lock().unwrap().send(bytes)
    }
}

fn module(profile: &str, faults: &[Fault]) -> Shared {
    let p = find(profile).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flash = FlashStore::open_state(dir.path(), p.flash.size).unwrap();
    Shared(Arc::new(Mutex::new(InProcess::new(p, flash, Faults::from_list(faults)))))
}

fn connect(io: &Shared, pkg: &AsrBuilder) -> Result<AsrConnection, DriverError> {
    let mut package = pkg.package();
    let recipe = FlashRecipe::read(&mut package).unwrap();
    AsrConnection::over(Box::new(io.clone()), "sim", &mut package, &recipe, quick())
}

fn entry(pkg: &AsrBuilder, name: &str) -> Region {
    let e = pkg.partitions.iter().find(|e| e.name == name).unwrap();
    Region::new(name, u64::from(e.start), u64::from(e.size))
}

#[test]
fn the_recipe_runs_in_its_order_split_at_the_probe() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let recipe = FlashRecipe::read(&mut pkg.package()).unwrap();
    let total = pkg.images.iter().map(|(_, _, d)| d.len() as u64).sum();
    assert_eq!(
        recipe.prelude,
        vec![
            Prelude::Require { key: "product".into(), value: "arom-tiny".into() },
            Prelude::Require { key: "version".into(), value: "0.6".into() },
            Prelude::Require { key: "version-bootrom".into(), value: "2022.11.06".into() },
            Prelude::Progress(total),
            Prelude::Call { member: "preboot.img".into() },
            Prelude::Call { member: "flasher.img".into() },
            Prelude::Probe { member: "flashinfo.bin".into() },
        ]
    );
    assert_eq!(recipe.table_member, "partition.bin");
    assert_eq!(
        recipe.actions,
        vec![
            Action::Flash { member: "cp.bin".into(), partition: "cp".into(), size: 4096 },
            Action::Flash { member: "app.bin".into(), partition: "user_app".into(), size: 2048 },
        ]
    );
    let layout = recipe.layout().unwrap();
    let writes: Vec<(String, u64, u64)> = layout
        .steps
        .iter()
        .map(|s| match s {
            StepSpec::Write(r, src) => {
                assert_eq!((src.offset, src.length, src.pad), (0, r.length, 0xFF));
                (r.partition.clone(), r.offset, r.length)
            }
            StepSpec::Erase(r) | StepSpec::Patch(r, _) => panic!("{r}"),
        })
        .collect();
    assert_eq!(writes, [("cp".into(), 0x4_0000, 4096), ("user_app".into(), 0x53_C000, 2048)]);
    assert!(layout.partitions.contains(&Region::new("nvm", 0x76_0000, 0x8_0000)));
    assert!(layout.storage.flash_ids.contains(&"204117".to_string()));
    assert_eq!(layout.storage.min_size, Some(8 << 20));
}

#[test]
fn production_steps_are_left_out_and_erases_cover_whole_partitions() {
    let mut pkg = AsrBuilder::ec800m_cn_la();
    pkg.damage = vec![AsrDamage::EraseAll, AsrDamage::EraseNv];
    let recipe = FlashRecipe::read(&mut pkg.package()).unwrap();
    assert_eq!(recipe.skipped.len(), 1, "{:?}", recipe.skipped);
    assert!(recipe.skipped[0].contains("erase all"), "{:?}", recipe.skipped);
    let layout = recipe.layout().unwrap();
    assert_eq!(layout.steps.last(), Some(&StepSpec::Erase(Region::new("nvm", 0x76_0000, 0x8_0000))));
}

/// A recipe in another order than the chip probe first, or without one, is refused before a
/// module is touched.
#[test]
fn a_recipe_that_would_write_before_the_probe_is_refused() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let swap =
        |json: String| {
            json.replacen("\"flashinfo.bin\"", "\"@@\"", 1)
                .replacen("\"partition.bin\"", "\"flashinfo.bin\"", 1)
                .replacen("\"@@\"", "\"partition.bin\"", 1)
        };
    let without_probe = |json: String| {
        json.replacen(
            "\"command\" : \"partition\",\n      \"group\" : \"0\",\n      \"image\" : \"flashinfo.bin\"",
            "\"command\" : \"progress\",\n      \"group\" : \"0\",\n      \"name\" : \"weight\"",
            1,
        )
    };
    for (what, edit, expect) in [
        ("table first", &swap as &dyn Fn(String) -> String, "before the flash table"),
        ("no probe", &without_probe, "before the flash table"),
    ] {
        let members: Vec<(String, Vec<u8>)> = pkg
            .members()
            .into_iter()
            .map(
                |(n, d)| {
                    if n == "download.json" { (n, edit(String::from_utf8(d).unwrap()).into_bytes()) } else { (n, d) }
                },
            )
            .collect();
        let err = FlashRecipe::read(&mut MemoryPackage::new("p.zip", members)).unwrap_err();
        assert!(err.to_string().contains(expect), "{what}: {err}");
    }
    let mut no_info = pkg.members();
    no_info.retain(|(n, _)| n != "flashinfo.bin");
    let err = FlashRecipe::read(&mut MemoryPackage::new("p.zip", no_info)).unwrap_err();
    assert!(err.to_string().contains("flashinfo.bin"), "{err}");
}

#[test]
fn a_stale_table_crc_is_put_right_before_sending() {
    let pkg = AsrBuilder { damage: vec![AsrDamage::PartitionBadCrc], ..AsrBuilder::ec800m_cn_la() };
    let mut package = pkg.package();
    let recipe = FlashRecipe::read(&mut package).unwrap();
    let (bytes, note) = recipe.table_bytes(&mut package).unwrap();
    let table = crate::image::asr::partition_table::PartitionTable::parse(&bytes, "t").unwrap();
    assert_eq!(table.crc, table.computed_crc);
    assert!(note.unwrap().contains("stale CRC-32"));
    // A good table goes as it is.
    let good = AsrBuilder::ec800m_cn_la();
    let mut package = good.package();
    let (bytes, note) = FlashRecipe::read(&mut package).unwrap().table_bytes(&mut package).unwrap();
    assert_eq!((bytes, note), (good.members()[1].1.clone(), None));
}

#[test]
fn connect_probes_then_writes_reads_and_erases_by_partition() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let io = module("ec800m-cn-la", &[]);
    let mut conn = connect(&io, &pkg).unwrap();
    let storage = conn.storage().clone();
    assert_eq!(storage.kind, Some(StorageKind::Nor));
    assert_eq!((storage.flash_id.as_deref(), storage.total_size), (Some("204117"), Some(8 << 20)));
    assert!(conn.target().notes[0].contains("2022.11.06"), "{:?}", conn.target().notes);
    assert!(conn.probe().accepted);
    // The partition table is not sent until the first write.
    assert!(!conn.take_log().iter().any(|l| l.contains("parse partition table")));

    let cp = entry(&pkg, "cp");
    let image: Vec<u8> = (0..0x2_1000u32).map(|i| (i % 251) as u8).collect();
    let region = Region::new("cp", cp.offset, image.len() as u64);
    let mut seen = 0;
    conn.write(&region, &mut image.as_slice(), &mut |n| seen = n).unwrap();
    assert_eq!(seen, image.len() as u64);
    assert!(conn.take_log().iter().any(|l| l.contains("parse partition table successfully")));
    // Inside the partition, from a block on: a sparse image that leaves the bytes before it.
    let later = Region::new("cp", cp.offset + 0x3_0000, 0x1800);
    conn.write(&later, &mut &[0x5Au8; 0x1800][..], &mut |_| {}).unwrap();
    let mut back = Vec::new();
    conn.read(&region, &mut back, &mut |_| {}).unwrap();
    assert!(back == image, "read back differs");
    let mut back = Vec::new();
    conn.read(&later, &mut back, &mut |_| {}).unwrap();
    assert!(back.iter().all(|b| *b == 0x5A));

    for (bad, why) in [
        (Region::new("cp", cp.offset + 0x10, 0x100), "block"),
        (Region::new("cp", cp.end() - 0x1000, 0x2000), "not inside partition cp"),
        (Region::new("nosuch", 0, 0x1000), "no partition \"nosuch\""),
    ] {
        let err = conn.write(&bad, &mut &[0u8; 0x2000][..], &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
    let app = entry(&pkg, "user_app");
    let err = conn.erase(&Region::new("user_app", app.offset, 0x1000)).unwrap_err();
    assert!(err.to_string().contains("whole partition"), "{err}");
    conn.erase(&app).unwrap();
    conn.reset().unwrap();
    let err = conn.erase(&app).unwrap_err();
    assert!(err.to_string().contains("session is over"), "{err}");
    let m = io.0.lock().unwrap();
    assert!(m.flash().read(app.offset, 0x1000).unwrap().iter().all(|b| *b == 0xFF));
    assert!(m.flash().read(cp.offset, image.len()).unwrap() == image);
}

/// The LF package's table lacks the LA chip: the connection still opens with the chip it
/// probed (the gate refuses it), and nothing can be written through it.
#[test]
fn a_refused_chip_is_reported_and_blocks_every_write() {
    let lf = AsrBuilder::ec800m_cn_lf();
    let io = module("ec800m-cn-la", &[]);
    let mut conn = connect(&io, &lf).unwrap();
    assert_eq!(conn.storage().flash_id.as_deref(), Some("204117"));
    assert!(!conn.probe().accepted && conn.probe().different);
    let cp = entry(&lf, "cp");
    let err = conn.write(&Region::new("cp", cp.offset, 16), &mut &[0u8; 16][..], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("20 41 17") && err.to_string().contains("refused"), "{err}");
    assert!(conn.take_log().iter().any(|l| l.contains("Flash device is different with specified!")));
}

#[test]
fn a_failed_prelude_reboots_the_module() {
    // logicrom's ASR1603 requirement on a CraneL boot ROM.
    let mut pkg = AsrBuilder::ec800m_cn_la();
    pkg.rom = ("arom-tiny".into(), "2020.07.30".into());
    let io = module("ec800m-cn-la", &[]);
    let err = connect(&io, &pkg).unwrap_err();
    assert!(err.to_string().contains("version-bootrom=2020.07.30") && err.to_string().contains("2022.11.06"), "{err}");
    assert!(io.0.lock().unwrap().was_reset(), "the module was not told to reboot");

    // The 9th command fails: the flasher's stage download.
    let io = module("ec800m-cn-la", &[Fault::NakAt(9)]);
    let err = connect(&io, &AsrBuilder::ec800m_cn_la()).unwrap_err();
    assert!(err.to_string().contains("nak-at=9"), "{err}");
    assert!(io.0.lock().unwrap().was_reset());
}

#[test]
fn the_module_table_gives_the_partitions_where_they_are_now() {
    let pkg = AsrBuilder::ec800m_cn_la();
    let io = module("ec800m-cn-la", &[]);
    let la = find("ec800m-cn-la").unwrap();
    let layout = crate::sim::asr::layout::layout(&la).unwrap();
    {
        let mut m = io.0.lock().unwrap();
        let at = u64::from(layout.ptable().unwrap().start);
        m.flash_mut().write(at, &layout.partition_bin()).unwrap();
    }
    let mut conn = connect(&io, &pkg).unwrap();
    let parts = conn.partitions().unwrap();
    assert!(parts.contains(&Region::new("nvm", 0x76_0000, 0x8_0000)), "{parts:?}");
    // A blank module has none, and says so in the log.
    let io = module("ec800m-cn-la", &[]);
    let mut conn = connect(&io, &pkg).unwrap();
    assert_eq!(conn.partitions().unwrap(), Vec::new());
    assert!(conn.take_log().iter().any(|l| l.contains("could not be read")));
}
