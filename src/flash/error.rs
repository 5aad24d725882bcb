//! Why a flash stopped, and the exit code that says in which state it left the module: 1 refused
//! before writing, 2 an error before any write, 3 failed after writing began (the command-line
//! contract of `fwguard flash`).

use crate::diagnostic::Diagnostic;
use crate::engine::Finding;
use crate::platform::{Mode, Platform};

use super::driver::DriverError;
use super::journal::JournalError;

/// A flash that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    /// The package could not be read.
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    /// The module could not be found or identified.
    #[error(transparent)]
    Acquire(#[from] crate::acquire::AcquireError),
    /// The verdict blocks the package for this module.
    #[error("refused: the verdict for {package} on {module} is block: {}", summary(.findings))]
    Blocked {
        /// The module's revision.
        module: String,
        /// The package's revision.
        package: String,
        /// The blocking findings.
        findings: Vec<Finding>,
    },
    /// The verdict warns and the warnings were not accepted.
    #[error("refused: the verdict for {package} on {module} has warnings: {}", summary(.findings))]
    Warnings {
        /// The module's revision.
        module: String,
        /// The package's revision.
        package: String,
        /// The warnings.
        findings: Vec<Finding>,
    },
    /// The plan writes or erases protected areas and that was not allowed.
    #[error("refused: the plan would change protected areas: {}", .steps.join("; "))]
    Protected {
        /// Each step, described with its area.
        steps: Vec<String>,
    },
    /// The module's platform and the package's differ.
    #[error("refused: the module is a {module} module, the package is for {package}")]
    PlatformMismatch {
        /// The module's platform.
        module: Platform,
        /// The package's platform.
        package: Platform,
    },
    /// fwguard cannot tell which platform the module is.
    #[error("cannot tell the module's platform: {0}")]
    UnknownPlatform(String),
    /// No driver flashes this platform yet.
    #[error("fwguard cannot flash {platform} modules yet: no {platform} driver is built in (drivers: {available})")]
    NoDriver {
        /// The platform.
        platform: Platform,
        /// The platforms that have one, or `none`.
        available: String,
    },
    /// The platform's planner could not lay the package out.
    #[error("cannot plan the flash: {0}")]
    Plan(String),
    /// The module is in a download mode and no interrupted flash is being resumed.
    #[error("the module is in its {mode} download mode, so it cannot be identified over AT")]
    InDownloadMode {
        /// The mode.
        mode: Mode,
    },
    /// The storage the device reports is not what the plan expects.
    #[error("refused before any erase: the module's storage is not what the package expects: {}", .0.join("; "))]
    Gate(Vec<String>),
    /// `--resume` found nothing it may continue.
    #[error("refused to resume: {0}")]
    Resume(String),
    /// The module could not be found again (in download or normal mode).
    #[error("{0}")]
    Lost(String),
    /// A platform operation failed.
    #[error("{operation}: {source}")]
    Driver {
        /// What the core asked for (`connect`, `write modem [...]`).
        operation: String,
        /// Why.
        source: DriverError,
    },
    /// Reading the backup of the protected areas failed or did not verify.
    #[error("backup of the protected areas failed: {0}")]
    Backup(String),
    /// A step would change a protected area without permission and a verified backup (the
    /// check where the damage would happen).
    #[error("step {step} would change the protected area {area}: {why}")]
    ProtectedTouched {
        /// The step.
        step: String,
        /// The area.
        area: String,
        /// What is missing.
        why: String,
    },
    /// A written range did not read back as planned.
    #[error("verification failed for {region}: expected SHA-256 {expected}, the module holds {actual}")]
    Verify {
        /// The region.
        region: String,
        /// The plan's hash.
        expected: String,
        /// What the module holds.
        actual: String,
    },
    /// The bytes sent for a step were not the bytes planned (the package changed under the flash).
    #[error(
        "the package changed during the flash: {member} gave SHA-256 {actual} for {region}, the plan has {expected}"
    )]
    PackageChanged {
        /// The member.
        member: String,
        /// The region.
        region: String,
        /// The plan's hash.
        expected: String,
        /// What was sent.
        actual: String,
    },
    /// After the reset the module reports another revision than the package's.
    #[error("after the flash the module reports {found}, not the package's {expected}")]
    Reidentify {
        /// The package's revision.
        expected: String,
        /// What the module reports.
        found: String,
    },
    /// The journal could not be written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A failure after writing began: the module is partly written.
    #[error("the flash failed after writing began (journal run {run}): {source}")]
    AfterWrite {
        /// The journal run.
        run: i64,
        /// What failed.
        source: Box<FlashError>,
    },
}

fn summary(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("{} ({})", f.rule, f.message)).collect::<Vec<_>>().join("; ")
}

impl FlashError {
    /// The exit code of `fwguard flash`: 1 refused before writing, 2 an error before any write,
    /// 3 failed after writing began.
    pub fn exit_code(&self) -> u8 {
        match self {
            FlashError::Blocked { .. }
            | FlashError::Warnings { .. }
            | FlashError::Protected { .. }
            | FlashError::PlatformMismatch { .. }
            | FlashError::Gate(_)
            | FlashError::Resume(_) => 1,
            FlashError::AfterWrite { .. } | FlashError::Verify { .. } | FlashError::Reidentify { .. } => 3,
            _ => 2,
        }
    }

    /// Marks an error that happened after writing began in journal run `run`.
    pub fn after_write(self, run: i64) -> FlashError {
        match self {
            e @ FlashError::AfterWrite { .. } => e,
            e => FlashError::AfterWrite { run, source: Box::new(e) },
        }
    }
}

impl Diagnostic for FlashError {
    fn code(&self) -> &'static str {
        match self {
            FlashError::Image(e) => e.code(),
            FlashError::Acquire(e) => e.code(),
            FlashError::Blocked { .. } => "fwguard::flash::blocked",
            FlashError::Warnings { .. } => "fwguard::flash::warnings",
            FlashError::Protected { .. } => "fwguard::flash::protected",
            FlashError::PlatformMismatch { .. } => "fwguard::flash::platform_mismatch",
            FlashError::UnknownPlatform(_) => "fwguard::flash::unknown_platform",
            FlashError::NoDriver { .. } => "fwguard::flash::no_driver",
            FlashError::Plan(_) => "fwguard::flash::plan",
            FlashError::InDownloadMode { .. } => "fwguard::flash::in_download_mode",
            FlashError::Gate(_) => "fwguard::flash::gate",
            FlashError::Resume(_) => "fwguard::flash::resume",
            FlashError::Lost(_) => "fwguard::flash::module_lost",
            FlashError::Driver { source, .. } => source.code(),
            FlashError::Backup(_) => "fwguard::flash::backup",
            FlashError::ProtectedTouched { .. } => "fwguard::flash::protected_touched",
            FlashError::Verify { .. } => "fwguard::flash::verify",
            FlashError::PackageChanged { .. } => "fwguard::flash::package_changed",
            FlashError::Reidentify { .. } => "fwguard::flash::reidentify",
            FlashError::Journal(e) => e.code(),
            FlashError::AfterWrite { .. } => "fwguard::flash::after_write",
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            FlashError::Image(e) => e.hint().to_string(),
            FlashError::Acquire(e) => return e.hint(),
            FlashError::Blocked { findings, .. } => findings
                .first()
                .map(|f| f.hint.clone())
                .unwrap_or_else(|| "use a package the verdict allows (`fwguard check`)".into()),
            FlashError::Warnings { .. } => {
                "read the warnings; to flash anyway, add --accept-warnings (see `fwguard explain RULE`)".into()
            }
            FlashError::Protected { .. } => {
                "use the package's update layout, which keeps calibration and NV; only a factory repair needs --allow-protected (a backup is taken first)".into()
            }
            FlashError::PlatformMismatch { .. } => "use a package for the module's platform".into(),
            FlashError::UnknownPlatform(_) => {
                "name the module with --port on a system whose sysfs shows its USB id, or check that the database knows its family".into()
            }
            FlashError::NoDriver { .. } => {
                "check the package with `fwguard check --image`; flash it with the vendor's tool until fwguard has this platform's driver".into()
            }
            FlashError::Plan(_) => "the package's layout cannot be flashed as it is: get it again from the vendor".into(),
            FlashError::InDownloadMode { .. } => {
                "to finish an interrupted flash, run the same command with --resume; otherwise power-cycle the module".into()
            }
            FlashError::Gate(_) => "use the package built for this module's flash chip and geometry".into(),
            FlashError::Resume(_) => {
                "resume with the same module and the same package as the interrupted flash, or start a new flash without --resume".into()
            }
            FlashError::Lost(_) => "check the cable and `fwguard ports`; if a flash had begun, run it again with --resume".into(),
            FlashError::Driver { source, .. } => return source.hint(),
            FlashError::Backup(_) => "check that FWGUARD_HOME has space and is writable; nothing was written to the module".into(),
            FlashError::ProtectedTouched { .. } => {
                "this is a safety stop: give --allow-protected only with a backup taken in the same run".into()
            }
            FlashError::Verify { .. } | FlashError::PackageChanged { .. } => {
                "run the same command with --resume to write the ranges that do not verify".into()
            }
            FlashError::Reidentify { .. } => {
                "the module did not come back with the new firmware: run the same command with --resume, then `fwguard check`".into()
            }
            FlashError::Journal(e) => return e.hint(),
            FlashError::AfterWrite { source, .. } => {
                let inner = source.hint().unwrap_or_default();
                format!(
                    "{inner}{}the module is partly written: do not power it off for long; `fwguard flash --resume` with the same package continues from the journal",
                    if inner.is_empty() { "" } else { "; " }
                )
            }
        })
    }
}
