//! Finding the module a command works on, and what it says about itself: described by hand, over
//! a named port, as a built-in simulated module, or the one attached module found by discovery.
//! `fwguard check` and `fwguard flash` both start here; the check's record for the history is
//! made here too ([`Acquired::check_record`]).

pub mod flash_id;

use std::path::{Path, PathBuf};

use crate::db::Database;
use crate::device::{
    self, DeviceError, DeviceReport, LocateError, Module, PortsError, SessionOptions, SysPaths, UsbTable, locate_module,
};
use crate::diagnostic::Diagnostic;
use crate::engine::{DeviceFacts, Report};
use crate::history::CheckRecord;
use crate::identity::FlashId;
use crate::platform::Platform;
use crate::sim::{self, Fault, SimError, SimHandle, SimOptions};

/// How the module is described or reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// Described by hand, e.g. from a support ticket.
    Manual {
        /// The ATI model line.
        model: String,
        /// What AT+QGMR answered (raw text is fine).
        revision: String,
        /// The flash ID, when known.
        flash_id: Option<FlashId>,
    },
    /// The module's AT port (or, for a flash, its download port).
    Port(PathBuf),
    /// A built-in simulated module, started for the command.
    Sim {
        /// The profile name (`fwguard sim --list`).
        profile: String,
        /// Faults to inject.
        faults: Vec<Fault>,
        /// Describe the module under this directory (`fwguard sim --root`), so discovery finds it
        /// again after it changes mode; `None` for a module only talked to over its AT port.
        root: Option<PathBuf>,
    },
    /// The one attached module, found by its USB id.
    Auto,
}

/// How to acquire.
#[derive(Debug, Clone)]
pub struct AcquireOptions {
    /// The AT session's time bounds.
    pub session: SessionOptions,
    /// Where discovery looks (`$FWGUARD_SYSFS`, `$FWGUARD_DEV`).
    pub sys: SysPaths,
    /// Accept a module found in a download mode (a flash being resumed) instead of refusing it.
    pub allow_download_mode: bool,
    /// Keep a simulated module running after identification (a flash talks to it again).
    pub keep_sim: bool,
}

impl Default for AcquireOptions {
    fn default() -> AcquireOptions {
        AcquireOptions {
            session: SessionOptions::default(),
            sys: SysPaths::from_env(),
            allow_download_mode: false,
            keep_sim: false,
        }
    }
}

/// Why the module could not be acquired.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// Talking to the module failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// No single module could be chosen.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// Discovery failed.
    #[error(transparent)]
    Ports(#[from] PortsError),
    /// The simulated module could not start.
    #[error(transparent)]
    Sim(#[from] SimError),
}

impl AcquireError {
    fn inner(&self) -> &dyn Diagnostic {
        match self {
            AcquireError::Device(e) => e,
            AcquireError::Locate(e) => e,
            AcquireError::Ports(e) => e,
            AcquireError::Sim(e) => e,
        }
    }
}

impl Diagnostic for AcquireError {
    fn code(&self) -> &'static str {
        self.inner().code()
    }
    fn hint(&self) -> Option<String> {
        self.inner().hint()
    }
}

/// The module, as acquired.
pub struct Acquired {
    /// What the engine judges. Empty (no revision) for a module found in a download mode.
    pub facts: DeviceFacts,
    /// How it was described: `hand`, `port`, `sim:<profile>` or `auto`.
    pub source: String,
    /// The AT port queried, if any.
    pub port: Option<String>,
    /// The port's USB id, when discovery knows it.
    pub usb_id: Option<String>,
    /// What the module said over AT, when it was asked.
    pub report: Option<DeviceReport>,
    /// The module as discovery sees it, when it was found through discovery (or its port was).
    pub module: Option<Module>,
    /// Where to find the module again after it changes mode.
    pub sys: SysPaths,
    /// The simulated module, kept running when asked to.
    pub sim: Option<SimHandle>,
}

impl std::fmt::Debug for Acquired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquired")
            .field("facts", &self.facts)
            .field("source", &self.source)
            .field("port", &self.port)
            .field("module", &self.module.as_ref().map(|m| m.usb_id().to_string()))
            .finish_non_exhaustive()
    }
}

impl Acquired {
    /// Whether the module was found in a download mode (it could not be asked over AT).
    pub fn in_download_mode(&self) -> bool {
        self.module.as_ref().is_some_and(|m| m.mode.is_download())
    }

    /// The platform the USB id says, when discovery saw the module.
    pub fn usb_platform(&self) -> Option<Platform> {
        self.module.as_ref().and_then(|m| m.platform)
    }

    /// The history record of a check of this module against `candidate` (an image path or a
    /// `--to` name) that gave `report`.
    pub fn check_record(&self, candidate: &str, report: &Report) -> CheckRecord {
        let f = &self.facts;
        let revision = report.device.revision.clone().unwrap_or_else(|| f.revision.clone());
        let mut r = CheckRecord::new(&self.source, &revision, candidate, &report.verdict.to_string());
        r.port = self.port.clone();
        r.usb_id = self.usb_id.clone();
        r.model = f.model.clone();
        r.imei = f.imei.clone();
        r.flash_id = f.flash_id.as_ref().map(FlashId::hex);
        r.secure_boot = f.secure_boot;
        r.findings = serde_json::to_value(&report.findings).unwrap_or_default();
        r.db_version = Some(i64::from(report.database.version));
        r.db_sha256 = Some(report.database.sha256.clone());
        r
    }
}

/// Reads the module: by hand, over a port, from a simulated module, or the one attached (with
/// the USB ids of `db`, so a published database reaches discovery too).
pub fn acquire(source: &ModuleSource, db: &Database, opts: &AcquireOptions) -> Result<Acquired, AcquireError> {
    let base = |source: String| Acquired {
        facts: DeviceFacts::default(),
        source,
        port: None,
        usb_id: None,
        report: None,
        module: None,
        sys: opts.sys.clone(),
        sim: None,
    };
    match source {
        ModuleSource::Manual { model, revision, flash_id } => Ok(Acquired {
            facts: DeviceFacts {
                model: Some(model.clone()),
                revision: revision.clone(),
                flash_id: flash_id.clone(),
                ..DeviceFacts::default()
            },
            ..base("hand".into())
        }),
        ModuleSource::Port(path) => {
            let table = UsbTable::from_ids(db.usb()).map_err(PortsError::from)?;
            let module = device::ports::discover_in(&opts.sys, &table)
                .ok()
                .and_then(|ms| ms.into_iter().find(|m| m.ports.iter().any(|p| same_file(&p.path, path))));
            if let Some(m) = module.as_ref().filter(|m| m.mode.is_download()) {
                return download_mode(m.clone(), base("port".into()), opts);
            }
            let mut acquired = identified(device::identify_with(path, &opts.session, &opts.sys)?, base("port".into()))?;
            // Discovery follows the module through its mode changes (check's flash-ID read, a flash).
            acquired.module = module;
            Ok(acquired)
        }
        ModuleSource::Sim { profile, faults, root } => {
            let options = SimOptions { root: root.clone(), faults: faults.clone(), ..SimOptions::default() };
            let handle = sim::spawn(sim::find(profile)?, options)?;
            let sys = match root {
                Some(r) => SysPaths { sysfs: r.join("sys"), dev: r.join("dev") },
                None => opts.sys.clone(),
            };
            let report = device::identify_with(handle.port(), &opts.session, &sys)?;
            let mut acquired = identified(report, Acquired { sys, ..base(format!("sim:{profile}")) })?;
            if root.is_some() {
                let table = UsbTable::from_ids(db.usb()).map_err(PortsError::from)?;
                acquired.module = locate_module(&acquired.sys, &table).ok();
            }
            if opts.keep_sim {
                acquired.sim = Some(handle);
            }
            Ok(acquired)
        }
        ModuleSource::Auto => {
            let table = UsbTable::from_ids(db.usb()).map_err(PortsError::from)?;
            let module = locate_module(&opts.sys, &table)?;
            if module.mode.is_download() {
                return download_mode(module, base("auto".into()), opts);
            }
            let port = match module.at_port() {
                Some(p) => p.path.clone(),
                None => {
                    return Err(LocateError::NoAtPort {
                        module: device::describe(&module).trim().to_string(),
                        reason: "no source gives the interface layout of this USB id".into(),
                    }
                    .into());
                }
            };
            tracing::info!(module = %module.usb_id(), port = %port.display(), "found one attached module");
            let mut acquired =
                identified(device::identify_with(&port, &opts.session, &opts.sys)?, base("auto".into()))?;
            acquired.module = Some(module);
            Ok(acquired)
        }
    }
}

/// A module identified over AT.
fn identified(report: DeviceReport, base: Acquired) -> Result<Acquired, AcquireError> {
    tracing::info!(exchanges = report.exchanges.len(), ms = report.ms, "identified the module");
    Ok(Acquired {
        facts: report.facts(),
        port: Some(report.port.clone()),
        usb_id: report.usb.as_ref().map(|u| u.usb_id.clone()),
        report: Some(report),
        ..base
    })
}

/// A module found in a download mode: accepted only when the caller can work with one.
fn download_mode(module: Module, base: Acquired, opts: &AcquireOptions) -> Result<Acquired, AcquireError> {
    if !opts.allow_download_mode {
        return Err(LocateError::InDownloadMode {
            module: device::describe(&module).trim().to_string(),
            mode: module.mode,
        }
        .into());
    }
    Ok(Acquired {
        port: module.download_port().map(|p| p.path.display().to_string()),
        usb_id: Some(module.usb_id().to_string()),
        module: Some(module),
        ..base
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn quick() -> AcquireOptions {
        AcquireOptions {
            session: SessionOptions {
                command_timeout: Duration::from_millis(800),
                boot_timeout: Duration::from_millis(1500),
                deadline: Duration::from_secs(10),
                ..SessionOptions::default()
            },
            sys: SysPaths { sysfs: "/nonexistent/sys".into(), dev: "/nonexistent/dev".into() },
            ..AcquireOptions::default()
        }
    }

    #[test]
    fn by_hand_and_by_sim() {
        let db = Database::builtin();
        let manual = ModuleSource::Manual {
            model: "EC25".into(),
            revision: "EC25EFAR06A17M4G_20.200.20.200".into(),
            flash_id: None,
        };
        let a = acquire(&manual, &db, &quick()).unwrap();
        assert_eq!((a.source.as_str(), a.facts.revision.as_str()), ("hand", "EC25EFAR06A17M4G_20.200.20.200"));
        assert!(a.report.is_none() && a.port.is_none() && !a.in_download_mode());

        let root = tempfile::tempdir().unwrap();
        let sim = ModuleSource::Sim { profile: "ec25-e".into(), faults: vec![], root: Some(root.path().into()) };
        let a = acquire(&sim, &db, &AcquireOptions { keep_sim: true, ..quick() }).unwrap();
        assert_eq!(a.source, "sim:ec25-e");
        assert_eq!(a.facts.imei.as_deref(), Some(sim::find("ec25-e").unwrap().imei.as_str()));
        assert_eq!(a.usb_platform(), Some(Platform::Qualcomm));
        assert_eq!(a.sys.sysfs, root.path().join("sys"));
        assert!(a.sim.is_some());
        let record = a.check_record("x.zip", &crate::engine::judge(&a.facts, &Default::default(), &db));
        assert_eq!((record.device_source.as_str(), record.imei.as_deref()), ("sim:ec25-e", a.facts.imei.as_deref()));
    }

    #[test]
    fn a_module_in_download_mode_is_refused_unless_allowed() {
        let db = Database::builtin();
        let root = tempfile::tempdir().unwrap();
        let tree = crate::sim::TreeDevice {
            vid: 0x05c6,
            pid: 0x9008,
            manufacturer: "Qualcomm".into(),
            product: "QHSUSB__BULK".into(),
            bus: "1-1".into(),
            ports: vec![crate::sim::TreePort { interface: 0, tty: "ttyUSB0".into(), target: "/dev/null".into() }],
        };
        crate::sim::SysfsTree::write(root.path(), &tree).unwrap();
        let sys = SysPaths { sysfs: root.path().join("sys"), dev: root.path().join("dev") };
        let opts = AcquireOptions { sys, ..quick() };
        let err = acquire(&ModuleSource::Auto, &db, &opts).unwrap_err();
        assert!(matches!(err, AcquireError::Locate(LocateError::InDownloadMode { .. })), "{err}");
        assert_eq!(err.code(), "fwguard::ports::in_download_mode");

        let a = acquire(&ModuleSource::Auto, &db, &AcquireOptions { allow_download_mode: true, ..opts }).unwrap();
        assert!(a.in_download_mode());
        assert_eq!(a.usb_platform(), Some(Platform::Qualcomm));
        assert_eq!(a.usb_id.as_deref(), Some("05c6:9008"));
        assert!(a.facts.revision.is_empty());
    }
}
