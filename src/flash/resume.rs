//! `--resume`: which interrupted run to continue, and which of its steps still need doing.
//!
//! A run is continued only for the same module (IMEI, or the boot ROM's serial when the module
//! can only be reached in its download mode) and the same package (SHA-256); anything else is
//! refused naming both values. Within the run, a write whose range already holds the planned
//! bytes is skipped (espflash skips a region whose MD5 already matches:
//! <https://github.com/esp-rs/espflash>, `espflash/src/flasher/mod.rs`), an erase is redone when
//! a write inside it must be redone, and every write inside a redone erase is redone too.

use super::driver::Connection;
use super::error::FlashError;
use super::hashing::HashWriter;
use super::journal::{Entry, Run};
use super::plan::{ModuleIdentity, Operation, Plan, Step};
use crate::image::archive::hex;

/// Picks the interrupted run to continue: the newest unfinished run of this module, which must
/// be of this package.
pub fn pick(unfinished: &[Run], module: &ModuleIdentity, package_sha256: &str) -> Result<Run, FlashError> {
    let same_module = |r: &Run| match (&module.imei, &r.imei, &module.serial, &r.serial) {
        (Some(a), Some(b), _, _) => a == b,
        (_, _, Some(a), Some(b)) => a == b,
        _ => false,
    };
    match unfinished.iter().find(|r| same_module(r)) {
        Some(r) if r.package_sha256 == package_sha256 => Ok(r.clone()),
        Some(r) => Err(FlashError::Resume(format!(
            "the interrupted flash of {} (journal run {}) wrote the package with SHA-256 {} ({}); this package's SHA-256 is {package_sha256}",
            module.describe(),
            r.id,
            r.package_sha256,
            r.package
        ))),
        None => {
            let others: Vec<String> = unfinished
                .iter()
                .map(|r| {
                    let who =
                        ModuleIdentity { imei: r.imei.clone(), serial: r.serial.clone(), ..ModuleIdentity::default() };
                    format!("run {} of {} with package {}", r.id, who.describe(), r.package_sha256)
                })
                .collect();
            Err(FlashError::Resume(format!(
                "the journal has no interrupted flash of {} (interrupted flashes: {})",
                module.describe(),
                if others.is_empty() { "none".to_string() } else { others.join("; ") }
            )))
        }
    }
}

/// Checks that the module reached in download mode is the run's module: its boot ROM serial
/// must be the one the run recorded.
pub fn check_serial(run: &Run, serial: Option<&str>) -> Result<(), FlashError> {
    match (&run.serial, serial) {
        (Some(want), Some(got)) if want.eq_ignore_ascii_case(got) => Ok(()),
        (Some(want), got) => Err(FlashError::Resume(format!(
            "journal run {} flashed the module with serial {want}; the module in download mode reports serial {}",
            run.id,
            got.unwrap_or("none")
        ))),
        (None, _) => Err(FlashError::Resume(format!(
            "journal run {} never reached the download mode, so it wrote nothing and no serial ties it to this module; power-cycle the module and flash it without --resume",
            run.id
        ))),
    }
}

/// The SHA-256 a region holds now: the device's digest, else a read back.
pub fn holds(conn: &mut dyn Connection, step: &Step) -> Result<(String, &'static str), FlashError> {
    let driver = |source| FlashError::Driver { operation: format!("reading back {}", step.region), source };
    if let Some(d) = conn.digest(&step.region).map_err(driver)? {
        return Ok((hex(&d), "digest"));
    }
    let mut h = HashWriter::default();
    conn.read(&step.region, &mut h, &mut |_| {}).map_err(driver)?;
    Ok((h.sha256(), "read-back"))
}

/// Which steps of `plan` a resumed run still does (`true`), given the run's journal entries and
/// what the module holds now. A patch is redone when the run did not finish it, or when a write
/// it changes, or an erase under it, is redone.
pub fn steps_to_do(plan: &Plan, entries: &[Entry], conn: &mut dyn Connection) -> Result<Vec<bool>, FlashError> {
    let steps = &plan.steps;
    let done = |kind: &str, s: &Step| {
        entries.iter().any(|e| e.kind == kind && e.step == Some(s.index as i64) && e.outcome.as_deref() == Some("done"))
    };
    let mut todo = vec![false; steps.len()];
    for s in steps {
        todo[s.index] = match s.operation {
            Operation::Write => Some(holds(conn, s)?.0) != s.sha256,
            Operation::Erase => {
                let has_writes = steps.iter().any(|w| w.operation == Operation::Write && w.region.overlaps(&s.region));
                !done("erase", s) && !has_writes
            }
            Operation::Patch => !done("patch", s),
        };
    }
    loop {
        let mut changed = false;
        let mut mark = |i: usize, todo: &mut Vec<bool>| {
            if !todo[i] {
                todo[i] = true;
                changed = true;
            }
        };
        for e in steps.iter().filter(|s| s.operation == Operation::Erase) {
            let writes = |w: &&Step| w.operation == Operation::Write && w.region.overlaps(&e.region);
            if steps.iter().filter(writes).any(|w| todo[w.index]) {
                mark(e.index, &mut todo);
            }
            if todo[e.index] {
                let after =
                    |w: &&Step| w.operation != Operation::Erase && w.region.overlaps(&e.region) && w.index > e.index;
                for w in steps.iter().filter(after) {
                    mark(w.index, &mut todo);
                }
            }
        }
        for p in steps.iter().filter(|s| s.operation == Operation::Patch) {
            let under =
                |w: &&Step| w.operation == Operation::Write && w.region.overlaps(&p.region) && w.index < p.index;
            if steps.iter().filter(under).any(|w| todo[w.index]) {
                mark(p.index, &mut todo);
            }
        }
        if !changed {
            return Ok(todo);
        }
    }
}
