//! The module's flash ID, read from its boot loader when its family needs it: DESIGN's "flash ID
//! from the bootloader" for `fwguard check`, and what `fwguard flash` reads before it judges.
//!
//! When the module's family says its variants differ by flash chip (`flash_id_distinguishes`),
//! no flash ID was given, and the module is live (`--port`, `--sim`, found by discovery), the
//! module is taken to its download mode, the boot loader's flash probe is read with a package's
//! boot-loader stages, and the module is reset and found again in normal mode, answering AT
//! ([`crate::flash::read_storage`], within [`ProbeBounds`]).
//!
//! The probe needs a package: on ASR the chip is only probed by `flasher.img` (after
//! `preboot.img`), which the boot ROM does not hold. A candidate package (`check --image`, the
//! package of a flash, or a `check --to` name that is a package file) lends its stages; any
//! package of the platform serves, since the probe line is logged before the flash table is
//! compared. Without one the chip is not read, and the `flash-id-unverified` finding says why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Acquired;
use crate::db::Database;
use crate::device::{SessionOptions, UsbTable};
use crate::engine::{FlashIdSource, ImageFacts, Report, judge};
use crate::flash::{Discovery, NormalModule, ProbeBounds, Registry, read_storage};
use crate::identity::{FlashId, normalise_model};
use crate::image::Inspection;
use crate::platform::Platform;

/// What to do about the flash ID.
#[derive(Debug, Clone, Default)]
pub struct FlashIdRequest<'a> {
    /// A package whose boot-loader stages may run on the module.
    pub loaders: Option<&'a Path>,
    /// Do not enter the download mode, for this reason (`--no-bootloader was given`).
    pub skip: Option<String>,
    /// The time bounds of the read.
    pub bounds: ProbeBounds,
    /// The AT session's bounds when the module is found again.
    pub session: SessionOptions,
}

/// What happened about the flash ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashIdOutcome {
    /// It was given (`--flash-id`, or by hand).
    Given,
    /// Nothing to do: the module is described by hand, or its family does not need the chip.
    NotNeeded,
    /// Read from the boot loader.
    Read {
        /// The chip.
        id: FlashId,
        /// The AT port the module answers on again.
        port: String,
        /// How long the read took, download mode and back.
        elapsed: Duration,
        /// Something to tell about the module afterwards (it came back on another port, or
        /// not at all).
        problem: Option<String>,
    },
    /// Not read: why, as the finding says it.
    Unread(String),
}

impl FlashIdOutcome {
    /// The chip, when it was read.
    pub fn flash_id(&self) -> Option<&FlashId> {
        match self {
            FlashIdOutcome::Read { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Puts the outcome into the check's report: the flash ID's source, or why it is unknown.
    pub fn annotate(&self, report: &mut Report) {
        match self {
            FlashIdOutcome::Read { .. } => report.note_flash_id(Some(FlashIdSource::Bootloader), None),
            FlashIdOutcome::Unread(why) => report.note_flash_id(None, Some(why)),
            FlashIdOutcome::Given | FlashIdOutcome::NotNeeded => {}
        }
    }

    /// What the user should be told besides the verdict: a module not back where it was.
    pub fn warning(&self) -> Option<String> {
        match self {
            FlashIdOutcome::Read { problem, .. } => problem.clone(),
            FlashIdOutcome::Unread(why) if why.contains("did not come back") => Some(why.clone()),
            _ => None,
        }
    }
}

/// The package a `check --to NAME` lends its boot-loader stages from: `NAME` when it is a file
/// that exists (a package file name judged by its name), else none.
pub fn loaders_for_name(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    path.is_file().then(|| path.to_path_buf())
}

/// The facts of a `check --to NAME` candidate: judged by its file name; when `NAME` is a
/// package file that exists, also by the flash chips its flash table accepts (what the boot
/// loader compares the chip with; `None` when the file is no readable package).
pub fn name_facts(name: &str) -> ImageFacts {
    let Some(path) = loaders_for_name(name) else {
        return ImageFacts { name: name.to_string(), ..ImageFacts::default() };
    };
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string());
    let flash_chips = crate::image::inspect(&path).ok().and_then(|i| i.facts().flash_chips);
    ImageFacts { name: file, flash_chips, ..ImageFacts::default() }
}

/// Reads the flash ID from the boot loader when the module's family needs it and none is known
/// (the caller puts [`FlashIdOutcome::flash_id`] into the module's facts). Never fails: what
/// could not be done is the outcome.
pub fn complete(
    acquired: &Acquired,
    db: &Database,
    registry: &Registry,
    request: &FlashIdRequest<'_>,
) -> FlashIdOutcome {
    complete_with(acquired, db, registry, request, &mut |_| {})
}

/// [`complete`], calling `starting` with the read's bound just before the module is sent to its
/// download mode (a progress display).
pub fn complete_with(
    acquired: &Acquired,
    db: &Database,
    registry: &Registry,
    request: &FlashIdRequest<'_>,
    starting: &mut dyn FnMut(Duration),
) -> FlashIdOutcome {
    if acquired.facts.flash_id.is_some() {
        return FlashIdOutcome::Given;
    }
    if acquired.report.is_none() {
        return FlashIdOutcome::NotNeeded;
    }
    let Some((platform, distinguishes)) = family_of(acquired, db) else {
        return FlashIdOutcome::NotNeeded;
    };
    if !distinguishes {
        return FlashIdOutcome::NotNeeded;
    }
    let unread = |why: String| FlashIdOutcome::Unread(format!("not read: {why}"));
    if let Some(why) = &request.skip {
        return unread(why.clone());
    }
    let Some(loaders) = request.loaders else {
        return unread(
            "reading it from the boot loader needs a package whose boot-loader stages run on the module, and no package file was given".into(),
        );
    };
    let driver = match registry.driver(platform) {
        Ok(d) => d,
        Err(e) => return unread(e.to_string()),
    };
    let Some(module) = acquired.module.clone() else {
        return unread(format!(
            "{} is not a port of any module discovery sees under {}, so fwguard could not follow the module into its download mode",
            acquired.port.as_deref().unwrap_or("the port"),
            acquired.sys.sysfs.display()
        ));
    };
    let inspection = match usable(loaders, platform) {
        Ok(i) => i,
        Err(why) => return unread(why),
    };
    let mut package = match crate::image::open_firmware(loaders) {
        Ok(p) => p,
        Err(e) => return unread(e.to_string()),
    };
    if let Err(e) = driver.plan(package.as_mut(), &inspection) {
        return unread(format!("the boot-loader stages of {} cannot be run: {e}", loaders.display()));
    }
    let table = match UsbTable::from_ids(db.usb()) {
        Ok(t) => t,
        Err(e) => return unread(e.to_string()),
    };
    let mut finder = Discovery::new(acquired.sys.clone(), table, Some(module.bus_id.clone()), request.session.clone());
    let at_port = acquired.port.clone().map(PathBuf::from);
    let start = NormalModule { at_port: at_port.as_deref(), module: Some(&module) };
    starting(request.bounds.total());
    let read = read_storage(driver, start, &mut finder, package.as_mut(), &request.bounds);
    let state = match &read.back {
        Ok(back) => format!("the module is back in normal mode on {}", back.port),
        Err(e) => format!("the module did not come back to normal mode: {e}"),
    };
    let id = match read.storage {
        Ok(storage) => match storage.flash_id() {
            Some(id) => id,
            None => return FlashIdOutcome::Unread(format!("the boot loader reported no flash ID; {state}")),
        },
        Err(e) => return FlashIdOutcome::Unread(format!("reading it from the boot loader failed: {e}; {state}")),
    };
    let problem = match &read.back {
        Ok(back) if acquired.port.as_deref().is_some_and(|p| p != back.port) => Some(format!(
            "the module answered on {} before reading its flash ID and on {} afterwards",
            acquired.port.as_deref().unwrap_or_default(),
            back.port
        )),
        Ok(_) => None,
        Err(_) => Some(format!("the flash ID {id} was read, but {state}")),
    };
    let port = read.back.map(|b| b.port).unwrap_or_default();
    FlashIdOutcome::Read { id, port, elapsed: read.elapsed, problem }
}

/// The platform of the module's family and whether its variants differ by flash chip.
fn family_of(acquired: &Acquired, db: &Database) -> Option<(Platform, bool)> {
    let product = judge(&acquired.facts, &ImageFacts::default(), db).device.product;
    let family = match product.as_deref().and_then(|p| db.product(p)) {
        Some((f, _)) => f,
        None => db.family_for(&normalise_model(acquired.facts.model.as_deref()?))?,
    };
    let platform = Platform::parse(&family.family.platform).or_else(|| acquired.usb_platform())?;
    Some((platform, family.family.flash_id_distinguishes))
}

/// Whether the package at `path` is one of `platform`, read as `check --image` reads it.
fn usable(path: &Path, platform: Platform) -> Result<Inspection, String> {
    let inspection = crate::image::inspect(path).map_err(|e| e.to_string())?;
    match inspection.platform {
        Some(p) if p == platform => Ok(inspection),
        Some(p) => Err(format!("{} is a {p} package; the module's platform is {platform}", path.display())),
        None => Err(format!("{} is no package fwguard can tell the platform of", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::{AcquireOptions, ModuleSource, acquire};
    use crate::device::SysPaths;
    use crate::image::build::asr::AsrBuilder;
    use crate::sim::Fault;

    struct Case {
        _root: tempfile::TempDir,
        files: tempfile::TempDir,
        acquired: Acquired,
        db: Database,
    }

    fn live(profile: &str, faults: Vec<Fault>, tree: bool) -> Case {
        let root = tempfile::tempdir().unwrap();
        let db = Database::builtin();
        let options = AcquireOptions {
            keep_sim: true,
            sys: SysPaths { sysfs: "/nonexistent/sys".into(), dev: "/nonexistent/dev".into() },
            ..AcquireOptions::default()
        };
        let source =
            ModuleSource::Sim { profile: profile.into(), faults, root: tree.then(|| root.path().to_path_buf()) };
        let acquired = acquire(&source, &db, &options).unwrap();
        Case { _root: root, files: tempfile::tempdir().unwrap(), acquired, db }
    }

    impl Case {
        fn package(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.files.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }

        fn complete(&self, loaders: Option<&Path>, skip: Option<&str>) -> FlashIdOutcome {
            let bounds = ProbeBounds {
                download: Duration::from_secs(5),
                probe: Duration::from_secs(10),
                reboot: Duration::from_secs(10),
            };
            let request =
                FlashIdRequest { loaders, skip: skip.map(String::from), bounds, session: SessionOptions::default() };
            complete(&self.acquired, &self.db, &Registry::builtin(), &request)
        }
    }

    fn lf() -> Vec<u8> {
        AsrBuilder::ec800m_cn_lf().zip().unwrap()
    }

    #[test]
    fn the_chip_is_read_and_the_module_is_back_on_its_port() {
        let case = live("ec800m-cn-la", Vec::new(), true);
        let package = case.package("lf.zip", &lf());
        match case.complete(Some(&package), None) {
            FlashIdOutcome::Read { id, port, elapsed, problem } => {
                assert_eq!(id.hex(), "204117");
                assert_eq!(Some(port.as_str()), case.acquired.port.as_deref());
                assert_eq!(problem, None);
                assert!(elapsed < ProbeBounds::default().total());
            }
            other => panic!("{other:?}"),
        }
        let image = ImageFacts { name: "EC800MCNLAR01A02M08".into(), ..ImageFacts::default() };
        let mut report = judge(&case.acquired.facts, &image, &case.db);
        case.complete(None, Some("--no-bootloader was given")).annotate(&mut report);
        let f = report.findings.iter().find(|f| f.rule == "flash-id-unverified").unwrap();
        assert!(f.message.ends_with("(not read: --no-bootloader was given)"), "{}", f.message);
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        let ec25 = live("ec25-e", Vec::new(), true);
        assert_eq!(ec25.complete(None, None), FlashIdOutcome::NotNeeded, "EC25 variants do not differ by chip");
        let case = live("ec800m-cn-la", Vec::new(), true);
        let unread = |o: FlashIdOutcome| match o {
            FlashIdOutcome::Unread(why) => why,
            other => panic!("{other:?}"),
        };
        assert!(unread(case.complete(None, None)).contains("no package file was given"));
        let pac = crate::image::build::pac::PacBuilder::uis8910("EC200UCNAAR03A03M08").to_bytes();
        let pac = case.package("EC200UCNAAR03A03M08.pac", &pac);
        assert!(unread(case.complete(Some(&pac), None)).contains("is a unisoc package; the module's platform is asr"));
        let untracked = live("ec800m-cn-la", Vec::new(), false);
        let package = untracked.package("lf.zip", &lf());
        assert!(unread(untracked.complete(Some(&package), None)).contains("discovery sees"));
    }

    /// The boot loader refuses a command: the chip is not read, and the module is back in
    /// normal mode, which the reason says.
    #[test]
    fn a_failed_read_leaves_the_module_in_normal_mode() {
        let case = live("ec800m-cn-la", vec![Fault::NakAt(6)], true);
        let package = case.package("lf.zip", &lf());
        let outcome = case.complete(Some(&package), None);
        let FlashIdOutcome::Unread(why) = &outcome else { panic!("{outcome:?}") };
        assert!(why.contains("nak-at=6") && why.contains("back in normal mode"), "{why}");
        assert_eq!(outcome.warning(), None);
    }
}
