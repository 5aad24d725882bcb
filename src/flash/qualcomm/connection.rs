//! A module in emergency download, as the flashing core drives it: the Firehose session the
//! programmer runs, with byte regions turned into NAND sectors (exact: a region that does not
//! start and end on a page is refused, naming both), every operation's log lines kept for the
//! journal, and patches checked by reading back what the programmer wrote.

use std::io::{Read, Write};

use super::error::QualcommError;
use super::firehose::{Extent, FirehoseSession, Power, StorageInfo as Reported};
use super::wire::firehose::{self, Element};
use super::wire::patch::{Disk, Patch};
use crate::flash::driver::{Connection, DriverError, PatchSpec, Region, StorageInfo, StorageKind, TargetInfo};
use crate::image::qualcomm::mibib;

/// How long the programmer waits after ACKing `<power value="reset">` (QFirehose and qdl send
/// 10 s, qdl-rs 0; one lets the answer out and the host close the port before the module
/// leaves the bus).
pub const RESET_DELAY_S: u32 = 1;

/// The Firehose session of a module in emergency download, behind the core's [`Connection`].
pub struct EdlConnection {
    session: FirehoseSession<'static>,
    target: TargetInfo,
    storage: StorageInfo,
    reported: Reported,
    /// Where the package writes the MIBIB (start sector, sector size), to read the module's.
    mibib_at: Option<(u64, u32)>,
    notes: Vec<String>,
}

impl EdlConnection {
    /// Wraps a configured session: asks the programmer for the storage (`getstorageinfo`).
    pub fn new(
        mut session: FirehoseSession<'static>,
        target: TargetInfo,
        mibib_at: Option<(u64, u32)>,
        notes: Vec<String>,
    ) -> Result<EdlConnection, QualcommError> {
        let reported = session.storage_info(0)?;
        let kind = match reported.mem_type.to_ascii_lowercase().as_str() {
            "nand" => Some(StorageKind::Nand),
            "emmc" | "ufs" => Some(StorageKind::Managed),
            "nor" => Some(StorageKind::Nor),
            _ => None,
        };
        let storage = StorageInfo {
            kind,
            flash_id: reported.nand_id().map(|id| id.hex()),
            page_size: u32::try_from(reported.page_size).ok().filter(|p| *p > 0),
            block_size: u32::try_from(reported.block_size).ok().filter(|b| *b > 0),
            total_size: Some(reported.size_bytes()).filter(|s| *s > 0),
        };
        if storage.page_size.is_none() || storage.block_size.is_none() {
            return Err(QualcommError::Firehose {
                command: "getstorageinfo".into(),
                problem: format!(
                    "the programmer gave no page or block size (page {}, block {})",
                    reported.page_size, reported.block_size
                ),
            });
        }
        Ok(EdlConnection { session, target, storage, reported, mibib_at, notes })
    }

    /// The Firehose session (for what the core does not ask, e.g. a benchmark).
    pub fn session(&mut self) -> &mut FirehoseSession<'static> {
        &mut self.session
    }

    fn page(&self) -> u64 {
        u64::from(self.storage.page_size.unwrap_or(1))
    }

    /// The sectors of `region`, which must start and end on a page.
    fn extent(&self, region: &Region) -> Result<Extent, DriverError> {
        let page = self.page();
        if !region.offset.is_multiple_of(page) || !region.length.is_multiple_of(page) || region.length == 0 {
            return Err(DriverError::platform(QualcommError::Invalid(format!(
                "{region} does not start and end on a NAND page: the module's pages are {page} bytes"
            ))));
        }
        let extent = Extent::new(region.offset / page, region.length / page, page as u32);
        Ok(match self.reported.pages_per_block() {
            Some(ppb) => extent.with_pages_per_block(ppb as u32),
            None => extent,
        })
    }

    /// Reads `count` sectors from `first` into memory (patch checks: a few pages).
    fn sectors(&mut self, first: u64, count: u64) -> Result<Vec<u8>, QualcommError> {
        let mut out = Vec::new();
        self.session.read(&Extent::new(first, count, self.page() as u32), &mut out, &mut |_| {})?;
        Ok(out)
    }
}

fn platform(e: QualcommError) -> DriverError {
    DriverError::platform(e)
}

impl Connection for EdlConnection {
    fn target(&self) -> &TargetInfo {
        &self.target
    }

    fn storage(&self) -> &StorageInfo {
        &self.storage
    }

    /// The module's own MIBIB, read where the package writes it; nothing when it holds no table
    /// (erased by a flash cut short, or another layout).
    fn partitions(&mut self) -> Result<Vec<Region>, DriverError> {
        let Some((start, sector)) = self.mibib_at else {
            return Ok(Vec::new());
        };
        if u64::from(sector) != self.page() {
            return Ok(Vec::new()); // the gate names the page size; nothing to read at the package's sectors
        }
        let bytes = self.sectors(start, mibib::PAGES as u64).map_err(platform)?;
        let Ok(table) = mibib::parse_mibib(&bytes) else {
            self.notes.push(format!("no MIBIB at sector {start}: the module's own partition table was not read"));
            return Ok(Vec::new());
        };
        let block = u64::from(self.storage.block_size.unwrap_or(0));
        let end = self.storage.total_size.unwrap_or(u64::MAX);
        Ok(table
            .entries
            .iter()
            .filter_map(|e| {
                let offset = u64::from(e.offset_blocks).checked_mul(block)?;
                let length = u64::from(e.length_blocks).checked_mul(block)?.min(end.saturating_sub(offset));
                let name = e.name.split_once(':').map_or(e.name.as_str(), |(_, n)| n).trim().to_ascii_lowercase();
                (length > 0 && offset < end).then(|| Region::new(&name, offset, length))
            })
            .collect())
    }

    fn read(&mut self, region: &Region, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<(), DriverError> {
        let extent = self.extent(region)?;
        self.session.read(&extent, out, progress).map_err(platform)
    }

    fn erase(&mut self, region: &Region) -> Result<(), DriverError> {
        let extent = self.extent(region)?;
        self.session.erase(&extent).map_err(platform)
    }

    fn write(
        &mut self,
        region: &Region,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DriverError> {
        let extent = self.extent(region)?;
        self.session.program(&extent, data, region.length, progress).map(|_| ()).map_err(platform)
    }

    fn digest(&mut self, region: &Region) -> Result<Option<[u8; 32]>, DriverError> {
        let extent = self.extent(region)?;
        self.session.sha256(&extent).map(Some).map_err(platform)
    }

    /// Sends the `<patch>`, then reads the sector back: it must hold the value the patch gives on
    /// this module (worked out here the way the programmer does, from the storage it reported).
    fn patch(&mut self, region: &Region, spec: &PatchSpec) -> Result<(), DriverError> {
        let patch = decode(&spec.spec).map_err(|problem| {
            platform(QualcommError::Invalid(format!("the plan's patch of {region} is not a <patch>: {problem}")))
        })?;
        self.session.patch(&patch).map_err(platform)?;
        let page = self.page();
        let disk = Disk {
            total_sectors: self.storage.total_size.unwrap_or(0) / page.max(1),
            sectors_per_block: self.reported.pages_per_block().unwrap_or(1),
        };
        let mut read = |first: u64, count: u64| self.sectors(first, count).map_err(|e| e.to_string());
        let (sector, value) = patch.evaluate(&disk, &mut read).map_err(|problem| {
            platform(QualcommError::Invalid(format!("checking the patch of {region}: {problem}")))
        })?;
        let held = self.sectors(sector, 1).map_err(platform)?;
        let at = patch.byte_offset as usize;
        let want = patch.value_bytes(value);
        let got = held.get(at..at + want.len()).unwrap_or_default();
        if got != want.as_slice() {
            return Err(platform(QualcommError::Firehose {
                command: format!("patch of {region}"),
                problem: format!(
                    "the programmer ACKed, but sector {sector} holds {} at byte {at}, not {} ({value:#x})",
                    hex(got),
                    hex(&want)
                ),
            }));
        }
        Ok(())
    }

    /// `<power value="reset">`: the module boots from its flash.
    fn reset(&mut self) -> Result<(), DriverError> {
        self.session.power(Power::Reset, RESET_DELAY_S).map_err(platform)
    }

    fn take_log(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.notes);
        out.extend(self.session.take_log().into_iter().map(|l| format!("{}: {}", l.command, l.text)));
        out
    }
}

/// The `<patch>` a plan step carries (its `spec`, the command as the planner wrote it).
pub fn decode(spec: &str) -> Result<Patch, String> {
    let element: Element = firehose::parse_document(spec.as_bytes())?;
    if !element.is("patch") {
        return Err(format!("<{}> is not a <patch>", element.tag));
    }
    Patch::from_element(&element)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}
