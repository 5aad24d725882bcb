//! An ASR module in its download mode as the flashing core drives it ([`Connection`]): the
//! recipe's prelude run on connect (boot ROM requirements, the preboot and flasher stages, the
//! flash probe), then reads, erases and writes by partition name.
//!
//! ASR's flasher names partitions, not addresses: `flash:<name>` writes an image from the
//! partition's start (or, as a sparse image, anywhere inside it), `erase:<name>` erases a whole
//! partition. So a [`Region`] here is always inside one partition of the package's table: a
//! write covers the partition from a 4 KiB block on (from its start, in every plan the driver
//! makes), and an erase covers exactly one whole partition; anything else is refused. Reads go
//! by address (`useflash`, `ulstage`, `upload`), so any range can be read back.
//!
//! The package's `partition.bin` is sent (with its CRC-32 put right) before the first erase or
//! write, which the core only reaches after its gate has compared the probed chip with the plan
//! and after the backup of the protected areas: the module's own table (`loadpt`) is what
//! [`Connection::partitions`] reports, so the backup covers where its NV data is now.

use std::io::{Read, Write};

use crate::flash::progress::CountingWriter;
use std::path::Path;

use super::super::driver::{Connection, DriverError, Region, StorageInfo, StorageKind, TargetInfo};
use super::aboot::{AbootOptions, AbootSession};
use super::error::AsrError;
use super::recipe::{FlashRecipe, Prelude};
use super::wire::probe::FlashProbe;
use super::wire::sparse::BLOCK_SIZE;
use crate::device::{SerialTransport, Transport};
use crate::image::Package;
use crate::image::asr::partition_table::PtEntry;
use crate::image::asr::{FIP_LIMIT, TABLE_LIMIT};

/// An open aboot session with the flasher running and the chip probed.
pub struct AsrConnection {
    session: Option<AbootSession<'static>>,
    port: String,
    target: TargetInfo,
    storage: StorageInfo,
    probe: FlashProbe,
    entries: Vec<PtEntry>,
    table: Vec<u8>,
    table_loaded: bool,
    notes: Vec<String>,
    log_seen: u64,
}

impl std::fmt::Debug for AsrConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsrConnection")
            .field("port", &self.port)
            .field("storage", &self.storage)
            .field("table_loaded", &self.table_loaded)
            .finish_non_exhaustive()
    }
}

fn platform(e: AsrError) -> DriverError {
    DriverError::platform(e)
}

impl AsrConnection {
    /// Opens `port` and runs the recipe's prelude.
    pub fn open(
        port: &Path,
        package: &mut dyn Package,
        recipe: &FlashRecipe,
        options: AbootOptions,
    ) -> Result<AsrConnection, DriverError> {
        let io = SerialTransport::open(port, 115_200).map_err(DriverError::platform)?;
        AsrConnection::over(Box::new(io), &port.display().to_string(), package, recipe, options)
    }

    /// Runs the prelude over any transport (a test's in-process module).
    pub fn over(
        io: Box<dyn Transport>,
        port: &str,
        package: &mut dyn Package,
        recipe: &FlashRecipe,
        options: AbootOptions,
    ) -> Result<AsrConnection, DriverError> {
        let session = AbootSession::open(io, port, options).map_err(platform)?;
        AsrConnection::prelude(session, package, recipe)
    }

    /// Runs the prelude on an open session: on a failure the module is told to `reboot` (it boots
    /// its old firmware) while the link still works.
    pub fn prelude(
        mut session: AbootSession<'static>,
        package: &mut dyn Package,
        recipe: &FlashRecipe,
    ) -> Result<AsrConnection, DriverError> {
        let port = session.port().to_string();
        let (table, note) = match recipe.table_bytes(package) {
            Ok(t) => t,
            Err(e) => {
                let _ = session.reboot();
                return Err(e);
            }
        };
        match run_prelude(&mut session, package, recipe) {
            Ok((target, probe)) => {
                let id = probe.flash_id();
                let storage = StorageInfo {
                    kind: Some(StorageKind::Nor),
                    flash_id: Some(id.hex()),
                    page_size: None,
                    block_size: None,
                    total_size: id.nor_capacity_bytes(),
                };
                let mut notes: Vec<String> = recipe.skipped.iter().map(|s| format!("left out: {s}")).collect();
                notes.extend(note);
                Ok(AsrConnection {
                    session: Some(session),
                    port,
                    target,
                    storage,
                    probe,
                    entries: recipe.table.entries.clone(),
                    table,
                    table_loaded: false,
                    notes,
                    log_seen: 0,
                })
            }
            Err(e) => {
                if !e.is_link_lost() {
                    let _ = session.reboot();
                }
                Err(platform(e))
            }
        }
    }

    /// What the flasher said about the chip.
    pub fn probe(&self) -> &FlashProbe {
        &self.probe
    }

    fn session(&mut self) -> Result<&mut AbootSession<'static>, DriverError> {
        let port = self.port.clone();
        self.session.as_mut().ok_or_else(|| DriverError::Device {
            operation: format!("{port}: aboot"),
            message: "the module was told to reboot: the session is over".into(),
        })
    }

    /// Sends the package's partition table once, before the first erase or write. A chip the
    /// flasher refused is refused here too, whatever the gate said.
    fn ensure_table(&mut self) -> Result<(), DriverError> {
        if self.table_loaded {
            return Ok(());
        }
        if !self.probe.accepted {
            return Err(platform(AsrError::ChipRejected {
                port: self.port.clone(),
                probe: Box::new(self.probe.clone()),
            }));
        }
        let table = self.table.clone();
        self.session()?.load_partition_table(&table).map_err(platform)?;
        self.table_loaded = true;
        Ok(())
    }

    /// The partition of the package's table that holds `region`, and where in it the region
    /// starts.
    fn locate(&self, region: &Region, whole: bool) -> Result<(PtEntry, u64), DriverError> {
        let refused = |message: String| DriverError::Device { operation: format!("{}: {region}", self.port), message };
        let entry =
            self.entries.iter().find(|e| e.name == region.partition).cloned().ok_or_else(|| {
                refused(format!("the package's partition table has no partition {:?}", region.partition))
            })?;
        let inside = region.offset >= u64::from(entry.start) && region.end() <= entry.end();
        if !inside {
            return Err(refused(format!(
                "the region is not inside partition {} [{:#x}, +{:#x}); the ASR flasher writes partitions by name",
                entry.name, entry.start, entry.size
            )));
        }
        let at = region.offset - u64::from(entry.start);
        if whole && (at != 0 || region.length != u64::from(entry.size)) {
            return Err(refused(format!(
                "erase:{} erases the whole partition [{:#x}, +{:#x}); a part of it cannot be erased",
                entry.name, entry.start, entry.size
            )));
        }
        if !at.is_multiple_of(u64::from(BLOCK_SIZE)) {
            return Err(refused(format!("{at:#x} bytes into {} is not on a {BLOCK_SIZE}-byte block", entry.name)));
        }
        Ok((entry, at))
    }
}

/// The prelude: the boot ROM's identity, then each step up to the probe. Returns what the
/// module said about itself and the probe.
fn run_prelude(
    session: &mut AbootSession<'static>,
    package: &mut dyn Package,
    recipe: &FlashRecipe,
) -> Result<(TargetInfo, FlashProbe), AsrError> {
    let port = session.port().to_string();
    let input = |e: crate::image::ImageError, member: &str| AsrError::Input {
        port: port.clone(),
        during: format!("reading {member} from the package"),
        source: std::io::Error::other(e.to_string()),
    };
    let rom = session.identify()?;
    let mut target = TargetInfo {
        notes: vec![format!("boot ROM {} (product {}, version {})", rom.version_bootrom, rom.product, rom.version)],
        ..TargetInfo::default()
    };
    for step in &recipe.prelude {
        match step {
            Prelude::Require { key, value } => drop(session.require(key, value)?),
            Prelude::Progress(weight) => session.progress(&weight.to_string())?,
            Prelude::Call { member } => {
                let image = package.read(member, FIP_LIMIT).map_err(|e| input(e, member))?;
                let stage = session.call(&image)?;
                target.notes.push(format!("{member} runs as the {} stage", stage.name()));
            }
            Prelude::Probe { member } => {
                let table = package.read(member, TABLE_LIMIT).map_err(|e| input(e, member))?;
                let probe = session.probe_flash(&table)?;
                target.notes.extend(session_banner(session));
                return Ok((target, probe));
            }
        }
    }
    Err(AsrError::Invalid {
        port,
        operation: "download.json".into(),
        problem: "the recipe ended before the flash probe".into(),
    })
}

/// The stage versions the module printed ("Flasher version: ...").
fn session_banner(session: &AbootSession<'_>) -> Vec<String> {
    session.device_log().lines().filter(|l| l.text.contains(" version: ")).map(|l| l.text.clone()).collect()
}

impl Connection for AsrConnection {
    fn target(&self) -> &TargetInfo {
        &self.target
    }

    fn storage(&self) -> &StorageInfo {
        &self.storage
    }

    /// The module's own partition table (`loadpt`, then `upload:ptable`), so the core backs up
    /// the NV areas where they are now. A flasher that refuses `loadpt` (a blank flash, or a
    /// build without the upload commands) gives none: the package's table then decides.
    fn partitions(&mut self) -> Result<Vec<Region>, DriverError> {
        let result = self.session()?.module_partition_table();
        self.table_loaded = false;
        match result {
            Ok(table) => Ok(table
                .entries
                .iter()
                .filter(|e| e.size > 0)
                .map(|e| Region::new(&e.name, u64::from(e.start), u64::from(e.size)))
                .collect()),
            Err(AsrError::Refused { command, reason, .. }) => {
                self.notes.push(format!(
                    "the module's own partition table could not be read ({command}: FAIL{reason}); the package's table gives the protected areas"
                ));
                Ok(Vec::new())
            }
            Err(e) => Err(platform(e)),
        }
    }

    fn read(&mut self, region: &Region, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<(), DriverError> {
        let (start, len) = match (u32::try_from(region.offset), u32::try_from(region.length)) {
            (Ok(s), Ok(l)) => (s, l),
            _ => {
                return Err(DriverError::Device {
                    operation: format!("{}: read {region}", self.port),
                    message: "beyond a 32-bit flash".into(),
                });
            }
        };
        let mut sink = CountingWriter::new(out, progress);
        self.session()?.read_range(start, len, &mut sink).map_err(platform)
    }

    fn erase(&mut self, region: &Region) -> Result<(), DriverError> {
        let (entry, _) = self.locate(region, true)?;
        self.ensure_table()?;
        self.session()?.erase(&entry.name).map_err(platform)
    }

    fn write(
        &mut self,
        region: &Region,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DriverError> {
        let (entry, at) = self.locate(region, false)?;
        self.ensure_table()?;
        self.session()?.flash_at(&entry.name, at, data, region.length, progress).map_err(platform)
    }

    fn reset(&mut self) -> Result<(), DriverError> {
        match self.session.take() {
            Some(session) => session.reboot().map_err(platform),
            None => Ok(()),
        }
    }

    fn take_log(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.notes);
        if let Some(session) = &self.session {
            let log = session.device_log();
            let total = log.len() as u64 + log.dropped();
            let new = total.saturating_sub(self.log_seen);
            let skip = log.len().saturating_sub(usize::try_from(new).unwrap_or(usize::MAX));
            out.extend(log.lines().skip(skip).map(|l| l.text.clone()));
            self.log_seen = total;
        }
        out
    }
}
