//! Carrying out a plan: into the download mode, connect, gate, backup, every step journaled
//! before and after, every write verified, reset, and the module found again and re-identified.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::backup::{self, BackupFor};
use super::driver::{Connection, Driver, NormalModule};
use super::error::FlashError;
use super::finder::Finder;
use super::gate;
use super::journal::{Journal, Kind, Outcome as Ended, Run, RunStart};
use super::permissions::Guard;
use super::plan::{Operation, Plan};
use super::progress::{Event, Phase, Progress};
use super::resume;
use crate::identity::Revision;
use crate::image::Package;

/// What a flash did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The journal run; `None` for a dry run.
    pub run: Option<i64>,
    /// Whether it only printed the plan.
    pub dry_run: bool,
    /// Whether it continued an interrupted run.
    pub resumed: bool,
    /// The revision before.
    pub revision_before: Option<String>,
    /// The revision the module reports afterwards.
    pub revision_after: Option<String>,
    /// The backup folder.
    pub backup_dir: Option<String>,
    /// Steps done.
    pub steps_done: usize,
    /// Steps skipped (already right on a resumed module).
    pub steps_skipped: usize,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Time bounds and places.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `$FWGUARD_HOME/backups`.
    pub backup_root: PathBuf,
    /// How long the module may take to appear in its download mode.
    pub download_timeout: Duration,
    /// How long it may take to boot back into normal mode and answer AT.
    pub reboot_timeout: Duration,
}

/// Where the module is when the run starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// In normal mode: the driver sends it to its download mode.
    Normal(NormalModule<'a>),
    /// Already in its download mode (a resumed flash whose boot loader was erased).
    Download,
}

/// Runs plans with one driver.
pub struct Flasher<'a> {
    /// The platform's driver.
    pub driver: &'a dyn Driver,
    /// How the module is found between modes.
    pub finder: &'a mut dyn Finder,
    /// The journal.
    pub journal: &'a Journal,
    /// Where events go.
    pub progress: &'a mut dyn Progress,
    /// Time bounds and places.
    pub options: &'a RunOptions,
}

/// What the run has done so far, to tell a failure's exit code.
struct State {
    run: i64,
    writing_began: bool,
}

impl Flasher<'_> {
    /// Carries out `plan` on the module, as a new run or continuing `resume`. Errors after the
    /// first erase or write (in this run or the run resumed) are [`FlashError::AfterWrite`].
    pub fn run(
        &mut self,
        plan: &mut Plan,
        package: &mut dyn Package,
        start: Start<'_>,
        resume: Option<Run>,
    ) -> Result<Outcome, FlashError> {
        let mut state = self.open_run(plan, resume.as_ref())?;
        let result = self.carry_out(plan, package, start, resume.as_ref(), &mut state);
        match result {
            Ok(outcome) => {
                self.journal.finish_run(state.run, "done", None)?;
                Ok(outcome)
            }
            Err(e) => {
                let _ = self.journal.finish_run(state.run, "failed", Some(&e.to_string()));
                Err(if state.writing_began { e.after_write(state.run) } else { e })
            }
        }
    }

    fn open_run(&self, plan: &Plan, resume: Option<&Run>) -> Result<State, FlashError> {
        if let Some(run) = resume {
            if run.plan != plan.steps_json() {
                return Err(FlashError::Resume(format!(
                    "journal run {} planned other steps for this package than this fwguard plans now; start a new flash without --resume",
                    run.id
                )));
            }
            self.journal.reopen_run(run.id)?;
            let began =
                self.journal.entries(run.id)?.iter().any(|e| matches!(e.kind.as_str(), "erase" | "write" | "patch"));
            return Ok(State { run: run.id, writing_began: began });
        }
        let m = &plan.module;
        let run = self.journal.begin_run(&RunStart {
            imei: m.imei.clone(),
            serial: m.serial.clone(),
            model: m.model.clone(),
            product: m.product.clone(),
            revision_before: m.revision.clone(),
            platform: plan.platform.to_string(),
            package: plan.package.path.clone(),
            package_sha256: plan.package.sha256.clone(),
            package_revision: plan.package.revision.clone(),
            db_version: Some(i64::from(plan.database.version)),
            db_sha256: Some(plan.database.sha256.clone()),
            plan: plan.steps_json(),
        })?;
        self.journal.supersede(m.imei.as_deref(), m.serial.as_deref(), run)?;
        Ok(State { run, writing_began: false })
    }

    fn carry_out(
        &mut self,
        plan: &mut Plan,
        package: &mut dyn Package,
        start: Start<'_>,
        resume: Option<&Run>,
        state: &mut State,
    ) -> Result<Outcome, FlashError> {
        let run = state.run;
        let mut conn = self.connect(plan, package, start, resume, run)?;
        if let Err(e) = self.gate(plan, run, conn.as_mut()) {
            // Refused before any erase: leave the module to boot its old firmware.
            let _ = conn.reset();
            return Err(e);
        }
        let mut outcome = Outcome {
            run: Some(run),
            resumed: resume.is_some(),
            revision_before: plan.module.revision.clone(),
            ..Outcome::default()
        };
        let backup_dir = self.backup(plan, resume, run, conn.as_mut())?;
        outcome.backup_dir = backup_dir.as_ref().map(|d| d.display().to_string());
        let todo = match resume {
            Some(r) => resume::steps_to_do(plan, &self.journal.entries(r.id)?, conn.as_mut())?,
            None => vec![true; plan.steps.len()],
        };
        let protected: Vec<_> = plan.protected.iter().map(|a| (a.region.clone(), a.holds.clone())).collect();
        let mut guard = Guard::new(conn.as_mut(), protected, plan.permissions);
        if backup_dir.is_some() || plan.protected.is_empty() {
            guard.backup_verified();
        }
        for step in &plan.steps {
            if !todo[step.index] {
                self.skip(run, step)?;
                outcome.steps_skipped += 1;
                continue;
            }
            state.writing_began = true;
            self.step(run, step, &mut guard, package)?;
            outcome.steps_done += 1;
            if step.operation == Operation::Write {
                outcome.bytes_written += step.region.length;
                self.verify(run, step, guard.conn())?;
            }
        }
        self.progress.event(&Event::Phase { phase: Phase::Reset, detail: String::new() });
        journaled(self.journal, run, Kind::Reset, || {
            let reset = guard.conn().reset();
            reset.map_err(|source| FlashError::Driver { operation: "resetting the module".into(), source })?;
            Ok(((), "reset sent".into()))
        })?;
        drop(guard);
        drop(conn);
        outcome.revision_after = Some(self.reidentify(plan, run)?);
        Ok(outcome)
    }

    /// Into the download mode (unless it is there already), found again, connected; on a
    /// resumed run the boot ROM's serial must be the run's.
    fn connect(
        &mut self,
        plan: &mut Plan,
        package: &mut dyn Package,
        start: Start<'_>,
        resume: Option<&Run>,
        run: i64,
    ) -> Result<Box<dyn Connection>, FlashError> {
        let driver = self.driver;
        if let Start::Normal(module) = start {
            self.progress.event(&Event::Phase { phase: Phase::EnterDownload, detail: driver.platform().to_string() });
            journaled(self.journal, run, Kind::Enter, || {
                let entered = driver.enter_download(module);
                entered
                    .map_err(|source| FlashError::Driver { operation: "entering the download mode".into(), source })?;
                Ok(((), "download mode requested".into()))
            })?;
        }
        let timeout = self.options.download_timeout;
        let detail = format!("up to {} s", timeout.as_secs());
        self.progress.event(&Event::Phase { phase: Phase::WaitDownload, detail });
        let port = self.finder.download_port(driver.download_modes(), timeout)?;
        self.progress.event(&Event::Phase { phase: Phase::Connect, detail: port.display().to_string() });
        let conn = journaled(self.journal, run, Kind::Connect, || {
            let conn = driver.connect(&port, package).map_err(|source| FlashError::Driver {
                operation: format!("connecting on {}", port.display()),
                source,
            })?;
            let detail = format!("serial {}", conn.target().serial.as_deref().unwrap_or("unknown"));
            Ok((conn, detail))
        })?;
        let serial = conn.target().serial.clone();
        if let Some(r) = resume
            && (matches!(start, Start::Download) || r.serial.is_some())
        {
            resume::check_serial(r, serial.as_deref())?;
        }
        if let Some(s) = &serial {
            self.journal.set_serial(run, s)?;
            plan.module.serial = Some(s.clone());
        }
        self.progress.event(&Event::Connected { target: conn.target(), storage: conn.storage() });
        Ok(conn)
    }

    /// The gate, then the protected areas of the device's own partition table.
    fn gate(&mut self, plan: &mut Plan, run: i64, conn: &mut dyn Connection) -> Result<(), FlashError> {
        let gate = journaled(self.journal, run, Kind::Gate, || {
            let report = gate::check(&plan.storage, conn.storage())?;
            let detail =
                format!("matched: {}; not reported: {}", report.matched.join(", "), report.unchecked.join(", "));
            Ok((report, detail))
        })?;
        self.progress.event(&Event::Gate { report: &gate });
        let reported = conn.partitions().map_err(|source| FlashError::Driver {
            operation: "reading the module's partition table".into(),
            source,
        })?;
        if plan.add_device_partitions(&reported) > 0
            && let Some(refusal @ FlashError::Protected { .. }) = plan.refusal()
        {
            return Err(refusal);
        }
        Ok(())
    }

    /// Finds the module back in normal mode; its revision must be the package's.
    fn reidentify(&mut self, plan: &Plan, run: i64) -> Result<String, FlashError> {
        let timeout = self.options.reboot_timeout;
        let detail = format!("up to {} s", timeout.as_secs());
        self.progress.event(&Event::Phase { phase: Phase::Reidentify, detail });
        let expected = plan.package.revision.clone().unwrap_or_default();
        let finder = &mut *self.finder;
        journaled(self.journal, run, Kind::Reidentify, || {
            let found = finder.reidentify(timeout)?;
            if !same_build(&found.revision, &expected) {
                return Err(FlashError::Reidentify { expected: expected.clone(), found: found.revision });
            }
            let detail = format!("{} reports {}", found.port, found.revision);
            Ok((found.revision, detail))
        })
    }

    /// Takes (or, on a resumed run, checks) the backup of the protected areas.
    fn backup(
        &mut self,
        plan: &Plan,
        resume: Option<&Run>,
        run: i64,
        conn: &mut dyn Connection,
    ) -> Result<Option<PathBuf>, FlashError> {
        if plan.protected.is_empty() {
            return Ok(None);
        }
        if let Some(dir) = resume.and_then(|r| r.backup_dir.as_ref()) {
            let b = backup::verify_existing(std::path::Path::new(dir), &plan.protected)?;
            self.progress.event(&Event::Backup { dir: dir.clone(), areas: b.manifest.areas.len() });
            return Ok(Some(b.dir));
        }
        self.progress.event(&Event::Phase { phase: Phase::Backup, detail: format!("{} areas", plan.protected.len()) });
        let key = plan.module.key().ok_or_else(|| {
            FlashError::Backup("the module has neither an IMEI nor a serial number to file its backup under".into())
        })?;
        let who = BackupFor {
            key: &key,
            imei: plan.module.imei.as_deref(),
            serial: plan.module.serial.as_deref(),
            package_sha256: &plan.package.sha256,
        };
        let root = self.options.backup_root.clone();
        let progress = &mut *self.progress;
        let taken = journaled_backup(self.journal, run, plan, || {
            backup::take(&root, &who, &plan.protected, conn, &mut |region, done| {
                progress.event(&Event::BackupProgress { partition: &region.partition, done, total: region.length });
            })
        })?;
        self.journal.set_backup(run, &taken.dir)?;
        self.progress.event(&Event::Backup { dir: taken.dir.display().to_string(), areas: taken.manifest.areas.len() });
        Ok(Some(taken.dir))
    }
}

/// Journals the backup: a row per protected area before it is read, its file and hash after.
fn journaled_backup(
    journal: &Journal,
    run: i64,
    plan: &Plan,
    f: impl FnOnce() -> Result<backup::Backup, FlashError>,
) -> Result<backup::Backup, FlashError> {
    let rows: Vec<i64> = plan
        .protected
        .iter()
        .map(|a| journal.begin(run, None, Kind::Backup, Some(&a.region), None))
        .collect::<Result<_, _>>()?;
    match f() {
        Ok(b) => {
            for (row, area) in rows.iter().zip(&b.manifest.areas) {
                let detail = format!("{} sha256 {}", b.dir.join(&area.file).display(), area.sha256);
                journal.end(*row, Ended::Done, &detail, &[])?;
            }
            Ok(b)
        }
        Err(e) => {
            for row in rows {
                journal.end(row, Ended::Failed, &e.to_string(), &[])?;
            }
            Err(e)
        }
    }
}

/// Journals `f` as one operation: a row before, its outcome after.
fn journaled<T>(
    journal: &Journal,
    run: i64,
    kind: Kind,
    f: impl FnOnce() -> Result<(T, String), FlashError>,
) -> Result<T, FlashError> {
    let row = journal.begin(run, None, kind, None, None)?;
    match f() {
        Ok((value, detail)) => {
            journal.end(row, Ended::Done, &detail, &[])?;
            Ok(value)
        }
        Err(e) => {
            journal.end(row, Ended::Failed, &e.to_string(), &[])?;
            Err(e)
        }
    }
}

/// Whether the module's revision after the flash is the package's: the same full revision, or
/// (for a package that names no app version) the same build.
pub fn same_build(module: &str, package: &str) -> bool {
    if module.eq_ignore_ascii_case(package) {
        return true;
    }
    match (Revision::parse(module), Revision::parse(package)) {
        (Ok(m), Ok(p)) => p.app_version().is_none() && m.base() == p.base(),
        _ => false,
    }
}
