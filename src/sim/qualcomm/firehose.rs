//! The simulated Firehose programmer of a NAND module (`prog_nand_firehose_9x07.mbn` as Sahara
//! loads it): the published XML, ACK/NAK with the sizes it supports, raw mode, and NAND rules.
//!
//! Behaviour follows Qualcomm's device programmer as published (`devprg_firehose.c`,
//! `devprg_storage_nand.c`) and real 9x07 logs: the banner lists the supported functions; a
//! `configure` asking for more payload than supported is NAKed with the supported size; storage
//! info comes as text lines and one JSON line; an erase must start and end on block boundaries
//! (the 9x07 programmer logs `start_sector unaligned`, Biktorgj/quectel_eg25_recovery issue 29)
//! and stay on the chip (`Block erase request exceeding total number of blocks`,
//! the-modem-distro/pinephone_modem_sdk issue 249); an erase without a sector size erases the
//! whole device; a program that starts on the first page of a block erases the blocks it
//! writes, unless this session already erased them, and a program starting inside a block that
//! was not erased fails; sectors must be the NAND page size; `patch` only touches `DISK`.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::super::fault::Faults;
use super::super::storage::FlashStore;
use super::chip::Chip;
use super::nand::Nand;
use crate::flash::qualcomm::wire::firehose::{self, DEFAULT_MAX_XML, Element, Splitter, number};
use crate::flash::qualcomm::wire::patch::{Disk, Patch};
use crate::identity::FlashId;

/// The largest payload the programmer takes (every NAND host accepts 8192).
pub const SUPPORTED_PAYLOAD: u64 = 8192;
/// The functions the banner lists.
pub const FUNCTIONS: [&str; 9] =
    ["program", "read", "nop", "patch", "configure", "erase", "power", "getstorageinfo", "getsha256digest"];

/// What the programmer wants after some input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirehoseStep {
    /// Bytes to send.
    pub output: Vec<u8>,
    /// `<power>` was ACKed: reset (or power off) after this delay.
    pub power: Option<(String, Duration)>,
}

#[derive(Debug, Clone)]
struct RawWrite {
    next_page: u64,
    pages_left: u64,
    page: Vec<u8>,
    error: Option<String>,
}

/// The programmer.
#[derive(Debug, Clone)]
pub struct FirehoseTarget {
    nand: Nand,
    nand_id: Option<FlashId>,
    chip: Chip,
    serial: u32,
    payload: u64,
    splitter: Splitter,
    raw: Option<RawWrite>,
    commands: u64,
    last_erased_block: Option<u64>,
}

impl FirehoseTarget {
    /// A programmer running on `chip` with `nand`, reporting `nand_id`.
    pub fn new(chip: Chip, nand: Nand, nand_id: Option<FlashId>, serial: u32) -> FirehoseTarget {
        FirehoseTarget {
            nand,
            nand_id,
            chip,
            serial,
            payload: SUPPORTED_PAYLOAD,
            splitter: Splitter::new(DEFAULT_MAX_XML),
            raw: None,
            commands: 0,
            last_erased_block: None,
        }
    }

    /// What the programmer logs when it starts.
    pub fn banner(&self) -> Vec<u8> {
        let mut out = log("INFO: Binary build date: Dec 19 2018 @ 17:50:04");
        out.extend(log(&format!("INFO: Chip serial num: {} ({:#x})", self.serial, self.serial)));
        out.extend(log(&format!("INFO: Supported Functions ({}):", FUNCTIONS.len())));
        for f in FUNCTIONS {
            out.extend(log(&format!("INFO: {f}")));
        }
        out.extend(log(&format!("INFO: End of supported functions {}", FUNCTIONS.len())));
        out
    }

    /// Takes received bytes.
    pub fn feed(&mut self, input: &[u8], flash: &mut FlashStore, faults: &Faults) -> FirehoseStep {
        let mut step = FirehoseStep::default();
        let mut input = input;
        loop {
            if self.raw.is_some() {
                let used = self.raw_data(input, flash);
                input = &input[used..];
                if let Some(raw) = self.raw.as_ref().filter(|r| r.pages_left == 0) {
                    let error = raw.error.clone();
                    self.raw = None;
                    match error {
                        None => step.output.extend(firehose::response(true, Some(false), &[])),
                        Some(e) => {
                            step.output.extend(log(&format!("ERROR: {e}")));
                            step.output.extend(firehose::response(false, Some(false), &[]));
                        }
                    }
                }
                if self.raw.is_some() {
                    return step;
                }
            }
            self.splitter.push(input);
            input = &[];
            match self.splitter.next_message() {
                None => return step,
                Some(Err(e)) => {
                    step.output.extend(log(&format!("ERROR: {e}")));
                    step.output.extend(firehose::response(false, None, &[]));
                }
                Some(Ok(doc)) => {
                    self.commands += 1;
                    self.command(&doc, flash, faults, &mut step);
                    // Raw data may have come in the same read as the command.
                    if self.raw.is_some() {
                        let rest = self.splitter.take_rest();
                        let mut more = self.feed(&rest, flash, faults);
                        step.output.append(&mut more.output);
                        step.power = step.power.take().or(more.power);
                        return step;
                    }
                }
            }
        }
    }

    /// Consumes raw program data; returns how many input bytes were used.
    fn raw_data(&mut self, input: &[u8], flash: &mut FlashStore) -> usize {
        let nand = self.nand;
        let page_size = nand.geometry.page as usize;
        let Some(raw) = self.raw.as_mut() else { return 0 };
        let mut used = 0;
        while raw.pages_left > 0 && used < input.len() {
            let n = (page_size - raw.page.len()).min(input.len() - used);
            raw.page.extend_from_slice(&input[used..used + n]);
            used += n;
            if raw.page.len() == page_size {
                if raw.error.is_none()
                    && let Err(e) = nand.program_page(flash, raw.next_page, &raw.page)
                {
                    raw.error = Some(e);
                }
                raw.page.clear();
                raw.next_page += 1;
                raw.pages_left -= 1;
            }
        }
        used
    }

    fn command(&mut self, doc: &[u8], flash: &mut FlashStore, faults: &Faults, step: &mut FirehoseStep) {
        let out = &mut step.output;
        let e = match firehose::parse_document(doc) {
            Ok(e) => e,
            Err(problem) => {
                out.extend(log(&format!("ERROR: XML not formed correctly: {problem}")));
                out.extend(firehose::response(false, None, &[]));
                return;
            }
        };
        if faults.nak_at == Some(self.commands) {
            out.extend(log(&format!("ERROR: refusing command {} <{}> (simulated fault nak-at)", self.commands, e.tag)));
            out.extend(firehose::response(false, None, &[]));
            return;
        }
        let tag = e.tag.to_ascii_lowercase();
        if tag != "configure" {
            out.extend(log(&format!("INFO: Calling handler for {tag}")));
        }
        let result = match tag.as_str() {
            "configure" => {
                out.extend(self.configure(&e));
                return;
            }
            "nop" => Ok(Vec::new()),
            "getstorageinfo" => Ok(self.storage_info()),
            "erase" => self.erase(&e, flash),
            "program" => match self.program(&e, flash) {
                Ok(()) => {
                    out.extend(firehose::response(true, Some(true), &[]));
                    return;
                }
                Err(m) => Err(m),
            },
            "read" => match self.read(&e, flash) {
                Ok(data) => {
                    out.extend(firehose::response(true, Some(true), &[]));
                    out.extend(data);
                    out.extend(firehose::response(true, Some(false), &[]));
                    return;
                }
                Err(m) => Err(m),
            },
            "getsha256digest" => self.digest(&e, flash),
            "patch" => self.patch(&e, flash),
            "power" => {
                let value = e.attr("value").unwrap_or("reset").to_ascii_lowercase();
                let delay = e.attr("DelayInSeconds").and_then(number).unwrap_or(0);
                out.extend(firehose::response(true, Some(false), &[]));
                out.extend(log(&format!(
                    "INFO: Will issue reset/power off {} useconds, if this hangs check if watchdog is enabled",
                    if delay == 0 { 100 } else { delay * 1_000_000 }
                )));
                out.extend(log("INFO: bsp_target_reset() 1"));
                step.power = Some((value, Duration::from_secs(delay.min(3600))));
                return;
            }
            other => Err(format!("Unsupported command <{other}>")),
        };
        match result {
            Ok(logs) => {
                out.extend(logs);
                out.extend(firehose::response(true, Some(false), &[]));
            }
            Err(message) => {
                out.extend(log(&format!("ERROR: {message}")));
                out.extend(firehose::response(false, Some(false), &[]));
            }
        }
    }

    fn configure(&mut self, e: &Element) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ack = true;
        if let Some(memory) = e.attr("MemoryName")
            && !memory.eq_ignore_ascii_case("nand")
        {
            out.extend(log(&format!("ERROR: this programmer drives NAND, not {memory}")));
            ack = false;
        }
        if let Some(asked) = e.attr("MaxPayloadSizeToTargetInBytes").and_then(number) {
            if asked > SUPPORTED_PAYLOAD {
                out.extend(log(&format!(
                    "WARN: NAK: MaxPayloadSizeToTargetInBytes sent by host {asked} larger than supported {SUPPORTED_PAYLOAD}"
                )));
                ack = false;
                self.payload = SUPPORTED_PAYLOAD;
            } else if asked > 0 {
                self.payload = asked;
            }
        }
        out.extend(firehose::response(
            ack,
            None,
            &[
                ("MemoryName", "nand".into()),
                ("MinVersionSupported", "1".into()),
                ("Version", "1".into()),
                ("MaxPayloadSizeToTargetInBytes", self.payload.to_string()),
                ("MaxPayloadSizeToTargetInBytesSupported", SUPPORTED_PAYLOAD.to_string()),
                ("MaxXMLSizeInBytes", DEFAULT_MAX_XML.to_string()),
                ("DateTime", "Dec 19 2018 - 17:50:04".into()),
                ("TargetName", self.chip.target_name.into()),
            ],
        ));
        out
    }

    fn storage_info(&self) -> Vec<u8> {
        let g = self.nand.geometry;
        let id = self.nand_id.as_ref().map(FlashId::bytes).unwrap_or_default();
        let maker = id.first().copied().unwrap_or(0);
        let device = id.iter().skip(1).take(7).fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let block = g.page * g.pages_per_block;
        let mut out = log(&format!("INFO: Device Total Logical Blocks: {:#x}", g.blocks()));
        out.extend(log(&format!("INFO: Device Block Size in Bytes: {block:#x}")));
        out.extend(log("INFO: Device Total Physical Partitions: 0x1"));
        out.extend(log(&format!("INFO: Device Manufacturer ID: {maker:#x}")));
        out.extend(log(&format!("INFO: Device Serial Number: {device:#x}")));
        out.extend(log(&format!(
            "INFO: {{\"storage_info\": {{\"total_blocks\":{}, \"block_size\":{block}, \"page_size\":{}, \"num_physical\":1, \"manufacturer_id\":{maker}, \"serial_num\":{device}, \"fw_version\":\"\",\"mem_type\":\"NAND\",\"prod_name\":\"\"}}}}",
            g.blocks(),
            g.page
        )));
        out
    }

    /// Sector size, start sector and count of a command, checked against the device.
    fn io(&self, e: &Element) -> Result<(u64, u64), String> {
        let page = self.nand.geometry.page;
        let size = e.attr("SECTOR_SIZE_IN_BYTES").and_then(number).ok_or("invalid SECTOR_SIZE_IN_BYTES")?;
        if size != page {
            return Err(format!("sector size defined in XML ({size}) different from device sector size ({page})"));
        }
        let start = e.attr("start_sector").and_then(number).ok_or("invalid start_sector")?;
        let count = e.attr("num_partition_sectors").and_then(number).ok_or("invalid num_partition_sectors")?;
        if count == 0 {
            return Err("num_partition_sectors is 0".into());
        }
        if start.checked_add(count).is_none_or(|end| end > self.nand.geometry.pages) {
            return Err(format!(
                "sectors {start}+{count} are past the end of the device ({} sectors)",
                self.nand.geometry.pages
            ));
        }
        Ok((start, count))
    }

    fn erase(&mut self, e: &Element, flash: &mut FlashStore) -> Result<Vec<u8>, String> {
        let g = self.nand.geometry;
        if e.attr("SECTOR_SIZE_IN_BYTES").is_none() {
            self.nand.erase_blocks(flash, 0, g.blocks())?;
            self.last_erased_block = Some(g.blocks().saturating_sub(1));
            return Ok(log(&format!("INFO: NAND Erasing whole disk of {} blocks", g.blocks())));
        }
        let start = e.attr("start_sector").and_then(number).ok_or("invalid start_sector")?;
        let count = e.attr("num_partition_sectors").and_then(number).ok_or("invalid num_partition_sectors")?;
        let mut out = log(&format!("INFO: start_sector = {start} and num_partition_sectors ={count:#x})"));
        let size = e.attr("SECTOR_SIZE_IN_BYTES").and_then(number).unwrap_or(0);
        if size != g.page {
            return Err(format!("sector size defined in XML ({size}) different from device sector size ({})", g.page));
        }
        let ppb = g.pages_per_block;
        if !start.is_multiple_of(ppb) {
            return Err("start_sector unaligned".into());
        }
        if count == 0 || !count.is_multiple_of(ppb) {
            return Err("num_partition_sectors unaligned".into());
        }
        self.nand.erase_blocks(flash, start / ppb, count / ppb)?;
        self.last_erased_block = Some((start + count) / ppb - 1);
        out.extend(log(&format!("INFO: Erasing start sector {start}, num sectors {count}")));
        Ok(out)
    }

    /// Checks a program and erases what it will write; the data comes next, in raw mode.
    fn program(&mut self, e: &Element, flash: &mut FlashStore) -> Result<(), String> {
        let (start, count) = self.io(e)?;
        let ppb = self.nand.geometry.pages_per_block;
        let (first, end) = (start / ppb, (start + count).div_ceil(ppb));
        let erase_from = match self.last_erased_block {
            Some(last) if first <= last => (last + 1).max(first + 1),
            _ if !start.is_multiple_of(ppb) => {
                return Err(format!(
                    "first write on a block should start with first page and requested page ({start}) is not first page of this block"
                ));
            }
            _ => first,
        };
        if erase_from < end {
            self.nand.erase_blocks(flash, erase_from, end - erase_from)?;
            self.last_erased_block = Some(end - 1);
        }
        self.raw = Some(RawWrite { next_page: start, pages_left: count, page: Vec::new(), error: None });
        Ok(())
    }

    fn read(&mut self, e: &Element, flash: &FlashStore) -> Result<Vec<u8>, String> {
        let (start, count) = self.io(e)?;
        self.nand.read_pages(flash, start, count)
    }

    fn digest(&mut self, e: &Element, flash: &FlashStore) -> Result<Vec<u8>, String> {
        let (start, count) = self.io(e)?;
        let mut hasher = Sha256::new();
        let step = 256u64;
        let mut at = start;
        while at < start + count {
            let n = step.min(start + count - at);
            hasher.update(self.nand.read_pages(flash, at, n)?);
            at += n;
        }
        let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(log(&format!("INFO: Digest {hex}")))
    }

    fn patch(&mut self, e: &Element, flash: &mut FlashStore) -> Result<Vec<u8>, String> {
        if !e.attr("filename").is_some_and(|f| f.trim().eq_ignore_ascii_case("DISK")) {
            return Ok(Vec::new()); // only DISK patches touch the target
        }
        let p = Patch::from_element(e)?;
        let g = self.nand.geometry;
        if u64::from(p.sector_size) != g.page {
            return Err(format!(
                "sector size defined in XML ({}) different from device sector size ({})",
                p.sector_size, g.page
            ));
        }
        let disk = Disk { total_sectors: g.pages, sectors_per_block: g.pages_per_block };
        let nand = self.nand;
        let (sector, value) = p.evaluate(&disk, &mut |from, count| nand.read_pages(flash, from, count))?;
        let offset = p.byte_offset as usize;
        let len = p.size_in_bytes as usize;
        if offset + len > g.page as usize {
            return Err(format!(
                "byte_offset {offset} + size_in_bytes {len} is past the end of a {}-byte sector",
                g.page
            ));
        }
        let mut page = self.nand.read_pages(flash, sector, 1)?;
        page[offset..offset + len].copy_from_slice(&p.value_bytes(value));
        self.nand.rewrite_page(flash, sector, &page)?;
        Ok(log(&format!("INFO: Patched sector {sector} at byte {offset} with {value:#x} ({len} bytes)")))
    }
}

fn log(text: &str) -> Vec<u8> {
    firehose::log(text)
}
