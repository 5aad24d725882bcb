//! `fwguard flash` as one call: read the package, judge it against the module, plan with the
//! platform's driver, refuse or print the plan, then run it (or resume it), record the outcome in
//! the history, and report every step as an [`Event`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::driver::NormalModule;
use super::error::FlashError;
use super::finder::{Discovery, Finder};
use super::journal::{Journal, Run};
use super::permissions::Permissions;
use super::plan::{ModuleIdentity, Plan, PlanInput};
use super::progress::{Event, Phase, Progress};
use super::registry::Registry;
use super::resume;
use super::run::{Flasher, Outcome, RunOptions, Start};
use crate::acquire::Acquired;
use crate::acquire::flash_id::{FlashIdOutcome, FlashIdRequest};
use crate::db::Database;
use crate::device::{SessionOptions, UsbTable};
use crate::diagnostic::Diagnostic;
use crate::engine::{JudgeOptions, Report, Verdict, judge_with};
use crate::history::{FlashRecord, History};
use crate::image::archive::{Storage, digest, hex, storage_of};
use crate::image::{Inspection, Package};
use crate::platform::Platform;

/// What `fwguard flash` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// The package.
    pub package: PathBuf,
    /// `--accept-warnings`, `--allow-protected`.
    pub permissions: Permissions,
    /// `--dry-run`: print the plan, send nothing past identification (the flash ID included).
    pub dry_run: bool,
    /// `--resume`: continue an interrupted flash of this module and package.
    pub resume: bool,
    /// `$FWGUARD_HOME`: the journal, the history and the backups.
    pub home: PathBuf,
    /// How long the module may take to reach its download mode.
    pub download_timeout: Duration,
    /// How long it may take to boot back and answer AT.
    pub reboot_timeout: Duration,
    /// The AT session's bounds when it is identified again.
    pub session: SessionOptions,
    /// Read the module's flash ID from its boot loader before judging, when its family's
    /// variants differ by flash chip and it is unknown (as `fwguard check` does). Default true;
    /// a dry run does too (it is identification, and writes nothing).
    pub read_flash_id: bool,
    /// The bounds of that read.
    pub flash_id_bounds: super::probe::ProbeBounds,
}

impl Request {
    /// A request with the default time bounds (30 s to reach the download mode, 90 s to boot).
    pub fn new(package: &Path, home: &Path) -> Request {
        Request {
            package: package.to_path_buf(),
            permissions: Permissions::default(),
            dry_run: false,
            resume: false,
            home: home.to_path_buf(),
            download_timeout: Duration::from_secs(30),
            reboot_timeout: Duration::from_secs(90),
            session: SessionOptions::default(),
            read_flash_id: true,
            flash_id_bounds: super::probe::ProbeBounds::default(),
        }
    }
}

/// The SHA-256 that names a package: of the file's bytes (what `sha256sum` prints), or for a
/// folder, of its listing as `sha256sum` prints it for every file, sorted by path
/// (`<sha256>  <path>\n` each).
pub fn package_sha256(path: &Path, package: &mut dyn Package) -> Result<String, FlashError> {
    let io = |e| crate::image::ImageError::Io { path: path.display().to_string(), source: e };
    if storage_of(path)? != Storage::Folder {
        let mut f = std::fs::File::open(path).map_err(io)?;
        return Ok(digest(&mut f, false).map_err(io)?.sha256);
    }
    let mut lines: Vec<(String, String)> = Vec::new();
    let shown = path.display().to_string();
    package.for_each(&mut |m, r| {
        let d = digest(r, false).map_err(|e| crate::image::archive::read_failure(&shown, &m.path, e))?;
        lines.push((m.path.clone(), d.sha256));
        Ok(())
    })?;
    lines.sort();
    let listing: String = lines.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
    Ok(hex(&<sha2::Sha256 as sha2::Digest>::digest(listing.as_bytes())))
}

/// Runs `fwguard flash` on an acquired module, following it through its mode changes by port
/// discovery. The last event is always [`Event::Result`].
pub fn flash(
    module: &Acquired,
    request: &Request,
    db: &Database,
    registry: &Registry,
    progress: &mut dyn Progress,
) -> Result<Outcome, FlashError> {
    flash_with(module, request, db, registry, None, progress)
}

/// [`flash`] with another way to find the module between modes (`None`: port discovery).
pub fn flash_with(
    module: &Acquired,
    request: &Request,
    db: &Database,
    registry: &Registry,
    finder: Option<&mut dyn Finder>,
    progress: &mut dyn Progress,
) -> Result<Outcome, FlashError> {
    let mut context = Context::default();
    let result = run(module, request, db, registry, finder, progress, &mut context);
    let (exit_code, error, code, hint) = match &result {
        Ok(_) => (0, None, None, None),
        Err(e) => (e.exit_code(), Some(e.to_string()), Some(e.code()), e.hint()),
    };
    progress.event(&Event::Result { exit_code, outcome: result.as_ref().ok(), error, code, hint });
    if let Some(record) = context.record(&result, exit_code) {
        let stored = History::open(&request.home.join("history.db")).and_then(|h| h.record_flash(&record));
        if let Err(e) = stored {
            tracing::warn!("the flash was not recorded in the history: {e}");
        }
    }
    result
}

/// What is known for the history record, filled in as the flash goes.
#[derive(Default)]
struct Context {
    record: Option<FlashRecord>,
}

impl Context {
    fn record(mut self, result: &Result<Outcome, FlashError>, exit_code: u8) -> Option<FlashRecord> {
        let mut r = self.record.take()?;
        r.exit_code = i64::from(exit_code);
        match result {
            Ok(o) => {
                r.outcome = if o.dry_run { "dry-run" } else { "flashed" }.into();
                r.run = o.run;
                r.revision_after = o.revision_after.clone();
                r.backup_dir = o.backup_dir.clone();
            }
            Err(e) => {
                r.outcome = if exit_code == 1 { "refused" } else { "failed" }.into();
                r.message = Some(e.to_string());
                if let FlashError::AfterWrite { run, .. } = e {
                    r.run = Some(*run);
                }
            }
        }
        Some(r)
    }
}

fn run(
    acquired: &Acquired,
    request: &Request,
    db: &Database,
    registry: &Registry,
    finder: Option<&mut dyn Finder>,
    progress: &mut dyn Progress,
    context: &mut Context,
) -> Result<Outcome, FlashError> {
    let path = &request.package;
    let inspection = crate::image::inspect(path)?;
    let mut package = crate::image::open_firmware(path)?;
    let sha256 = package_sha256(path, package.as_mut())?;
    let in_download = acquired.in_download_mode();
    if in_download && !request.resume {
        let mode = acquired.module.as_ref().map(|m| m.mode).unwrap_or(crate::platform::Mode::Edl);
        return Err(FlashError::InDownloadMode { mode });
    }
    let journal = if request.resume { Some(Journal::open(&request.home)?) } else { None };
    let (identity, report, resumed) = if in_download {
        downloading(acquired, &sha256, db, journal.as_ref())?
    } else {
        let mut facts = acquired.facts.clone();
        let flash_id = flash_id_first(acquired, request, db, registry, progress);
        if let Some(id) = flash_id.flash_id() {
            facts.flash_id = Some(id.clone());
        }
        // --allow-protected turns calibration-erase from a block into a warning; the guard then
        // still refuses to touch a protected area before its backup is verified.
        let options = JudgeOptions { allow_protected: request.permissions.allow_protected };
        let mut report = judge_with(&facts, &inspection.facts(), db, &options);
        flash_id.annotate(&mut report);
        let identity = ModuleIdentity {
            imei: acquired.facts.imei.clone(),
            serial: None,
            model: acquired.facts.model.clone(),
            product: report.device.product.clone(),
            revision: report.device.revision.clone(),
        };
        (identity, report, None)
    };
    context.record = Some(FlashRecord {
        imei: identity.imei.clone(),
        model: identity.model.clone(),
        revision_before: identity.revision.clone(),
        package: path.display().to_string(),
        package_sha256: sha256.clone(),
        db_version: Some(i64::from(db.version())),
        db_sha256: Some(db.sha256().to_string()),
        ..FlashRecord::default()
    });
    if report.verdict == Verdict::Block {
        return Err(FlashError::Blocked {
            module: identity.revision.clone().unwrap_or_else(|| "the module".into()),
            package: inspection.revision.clone().unwrap_or_else(|| path.display().to_string()),
            findings: report
                .findings
                .iter()
                .filter(|f| f.severity == crate::rules::model::Severity::Block)
                .cloned()
                .collect(),
        });
    }
    let platform = match &resumed {
        Some(run) => Platform::parse(&run.platform).ok_or_else(|| {
            FlashError::UnknownPlatform(format!("journal run {} names platform {:?}", run.id, run.platform))
        })?,
        None => platform_of(acquired, &report, &inspection, db)?,
    };
    let driver = registry.driver(platform)?;
    let (layout, notes) = driver
        .plan_with_notes(package.as_mut(), &inspection)
        .map_err(|e| FlashError::Plan(format!("the {platform} planner: {e}")))?;
    let input = PlanInput {
        module: identity,
        report: &report,
        inspection: &inspection,
        package_sha256: &sha256,
        platform,
        db,
        permissions: request.permissions,
    };
    let mut plan = Plan::new(input, layout, package.as_mut())?;
    plan.notes = notes;
    progress.event(&Event::Plan { plan: &plan });
    if let Some(refusal) = plan.refusal() {
        return Err(refusal);
    }
    if request.dry_run {
        return Ok(Outcome { dry_run: true, revision_before: plan.module.revision.clone(), ..Outcome::default() });
    }
    let journal = match journal {
        Some(j) => j,
        None => Journal::open(&request.home)?,
    };
    let resume_run = match (request.resume, resumed) {
        (_, Some(run)) => Some(run),
        (true, None) => Some(resume::pick(&journal.unfinished()?, &plan.module, &sha256)?),
        (false, None) => None,
    };
    let start = if in_download {
        Start::Download
    } else {
        let Some(module) = acquired.module.as_ref() else {
            return Err(FlashError::Lost(format!(
                "{} is not a port of any module discovery sees under {}, so fwguard could not follow the module into its download mode",
                acquired.port.as_deref().unwrap_or("the port"),
                acquired.sys.sysfs.display()
            )));
        };
        Start::Normal(NormalModule { at_port: acquired.port.as_deref().map(Path::new), module: Some(module) })
    };
    let mut discovery;
    let finder: &mut dyn Finder = match finder {
        Some(f) => f,
        None => {
            let table = UsbTable::from_ids(db.usb()).map_err(|e| FlashError::Lost(e.to_string()))?;
            let bus = acquired.module.as_ref().map(|m| m.bus_id.clone());
            discovery = Discovery::new(acquired.sys.clone(), table, bus, request.session.clone());
            &mut discovery
        }
    };
    let options = RunOptions {
        backup_root: request.home.join("backups"),
        download_timeout: request.download_timeout,
        reboot_timeout: request.reboot_timeout,
    };
    let mut flasher = Flasher { driver, finder, journal: &journal, progress, options: &options };
    flasher.run(&mut plan, package.as_mut(), start, resume_run)
}

/// The module's flash ID from its boot loader, read before judging as `fwguard check` reads it
/// (with this package's boot-loader stages), when its family needs it and none is known.
fn flash_id_first(
    acquired: &Acquired,
    request: &Request,
    db: &Database,
    registry: &Registry,
    progress: &mut dyn Progress,
) -> FlashIdOutcome {
    // A dry run reads it too: like `check`, it is part of identifying the module, writes
    // nothing, and without it the plan of these families would be refused.
    let skip = (!request.read_flash_id).then(|| "the flash was asked not to read it".to_string());
    let ask = FlashIdRequest {
        loaders: Some(&request.package),
        skip,
        bounds: request.flash_id_bounds,
        session: request.session.clone(),
    };
    crate::acquire::flash_id::complete_with(acquired, db, registry, &ask, &mut |bound| {
        let detail = format!("up to {} s", bound.as_secs());
        progress.event(&Event::Phase { phase: Phase::ReadFlashId, detail });
    })
}

/// A module found in its download mode (its boot loader was erased by an interrupted flash):
/// the newest interrupted run of this package is continued once the boot ROM's serial matches.
fn downloading(
    acquired: &Acquired,
    sha256: &str,
    db: &Database,
    journal: Option<&Journal>,
) -> Result<(ModuleIdentity, Report, Option<Run>), FlashError> {
    let platform = acquired.module.as_ref().and_then(|m| m.mode.platform());
    let journal = journal.ok_or_else(|| FlashError::Resume("no journal".into()))?;
    let unfinished = journal.unfinished()?;
    let run = unfinished
        .iter()
        .find(|r| r.package_sha256 == sha256 && platform.is_none_or(|p| r.platform == p.as_str()))
        .cloned()
        .ok_or_else(|| {
            let listed: Vec<String> =
                unfinished.iter().map(|r| format!("run {} of package {}", r.id, r.package_sha256)).collect();
            FlashError::Resume(format!(
                "the module is in its download mode and the journal has no interrupted flash of a package with SHA-256 {sha256} (interrupted: {})",
                if listed.is_empty() { "none".into() } else { listed.join("; ") }
            ))
        })?;
    let identity = ModuleIdentity {
        imei: run.imei.clone(),
        serial: run.serial.clone(),
        model: None,
        product: run.product.clone(),
        revision: run.revision_before.clone(),
    };
    // The verdict of the interrupted run allowed this package for this module; the module cannot
    // be asked over AT now.
    let report = Report {
        verdict: Verdict::Allow,
        findings: Vec::new(),
        device: Default::default(),
        image: Default::default(),
        database: db.summary(),
    };
    Ok((identity, report, Some(run)))
}

/// The module's platform: its family's in the database, which the USB id and the package must
/// not contradict.
fn platform_of(
    acquired: &Acquired,
    report: &Report,
    inspection: &Inspection,
    db: &Database,
) -> Result<Platform, FlashError> {
    let family = report.device.product.as_deref().and_then(|p| db.product(p)).map(|(f, _)| f);
    let from_db = family.and_then(|f| Platform::parse(&f.family.platform));
    let from_usb = acquired.usb_platform();
    let platform = match (from_db, from_usb) {
        (Some(a), Some(b)) if a != b => {
            return Err(FlashError::UnknownPlatform(format!(
                "the database puts the module's family on {a}, its USB id says {b}"
            )));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(FlashError::UnknownPlatform(
                "the module's product is in no family of the database and discovery did not see its USB id".into(),
            ));
        }
    };
    match inspection.platform {
        Some(p) if p != platform => Err(FlashError::PlatformMismatch { module: platform, package: p }),
        _ => Ok(platform),
    }
}
