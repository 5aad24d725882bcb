//! The simulated `flasher.img`: the flash probe behind `partition flashinfo.bin`, the partition
//! table, `flash:`, `erase:`, `getvar:partition-size:`/`partition-type:`, and the upload
//! commands, over the NOR store.
//!
//! Log lines and refusals use the texts of a real flasher where one is known (the strings of
//! waybyte/logicromsdk `lib/asr160x/pack/ASR1601/flasher.img`, and the ZX908 log for the probe).
//! The upload commands follow ASR's notes as asr.md records them; how the real flasher finds
//! the table for `loadpt` is not published, so the simulated one looks for a valid table on
//! 4 KiB boundaries in the first MiB of its flash.

use super::nor::Nor;
use super::smux::DeviceLink;
use crate::flash::asr::wire::aboot::Reply;
use crate::flash::asr::wire::probe::{self, Level};
use crate::flash::asr::wire::sparse::{self, Sparse};
use crate::image::asr::flashinfo::{self, FlashInfo};
use crate::image::asr::partition_table::{self, PartitionTable, PtEntry};
use crate::sim::download::DownloadContext;

/// The log module of partition work (the real name is not recorded).
const PTABLE: &str = "Flasher";
/// How far `loadpt` looks for a partition table.
const LOADPT_WINDOW: u64 = 1 << 20;

/// The chip the flasher accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// Its table name.
    pub name: String,
}

/// The flasher's state.
#[derive(Debug, Clone, Default)]
pub struct Flasher {
    chip: Option<Probed>,
    table: Option<PartitionTable>,
    staged: Option<(u32, u32)>,
}

/// Where a command's answer goes.
pub struct Out<'o> {
    /// The link, for framing.
    pub link: &'o DeviceLink,
    /// The bytes to send.
    pub bytes: &'o mut Vec<u8>,
}

impl Out<'_> {
    fn log(&mut self, level: Level, module: &str, message: &str) {
        self.link.console(&probe::log_line(level, module, message), self.bytes);
    }

    fn reply(&mut self, reply: Reply) {
        self.link.reply(&reply, self.bytes);
    }

    /// Logs `message` as an error and answers `FAIL<message>`.
    fn fail(&mut self, module: &str, message: &str) {
        self.log(Level::Err, module, message);
        self.reply(Reply::Fail(message.to_string()));
    }
}

impl Flasher {
    /// The accepted chip, once `partition flashinfo.bin` succeeded.
    pub fn chip(&self) -> Option<&Probed> {
        self.chip.as_ref()
    }

    /// `partition`: the last download is a flash table or a partition table.
    pub fn partition(&mut self, download: Option<&[u8]>, ctx: &mut DownloadContext<'_>, out: &mut Out<'_>) {
        let Some(image) = download else {
            return out.fail(PTABLE, "no image downloaded for partition");
        };
        if flashinfo::is_flashinfo(image) {
            self.probe(image, ctx, out);
        } else if partition_table::is_partition_table(image) {
            self.take_table(image, out);
        } else {
            out.fail(PTABLE, "unknown partition image: neither a flash information table nor a partition table");
        }
    }

    /// Probes the chip against the flash information table (waybyte/logicromsdk:lib/asr160x/pack/flashinfo_8M.bin; https://github.com/FoxExe/ZX908/issues/8).
    fn probe(&mut self, image: &[u8], ctx: &mut DownloadContext<'_>, out: &mut Out<'_>) {
        self.chip = None;
        let info = match FlashInfo::parse(image, "flashinfo.bin") {
            Ok(info) => info,
            Err(e) => {
                out.log(Level::Err, probe::QSPI_NOR, &format!("error: {e}"));
                return out.reply(Reply::Fail(probe::PARSE_FAILED.into()));
            }
        };
        let id = ctx.flash_id.map(|id| id.bytes().to_vec()).unwrap_or_default();
        let (manufacturer, device) = match id.as_slice() {
            [m, t, c, ..] => (u16::from(*m), u16::from_be_bytes([*t, *c])),
            _ => {
                out.log(Level::Err, probe::QSPI_NOR, "Found an unknown device");
                return out.reply(Reply::Fail(probe::PARSE_FAILED.into()));
            }
        };
        out.log(Level::Info, probe::QSPI_NOR, &probe::id_message(manufacturer, device));
        let known = info.chips().into_iter().find(|c| c.vendor == manufacturer && c.device == device).cloned();
        if let Some(chip) = known {
            out.log(Level::Info, probe::QSPI_NOR, &probe::known_message(&chip.name));
            self.chip = Some(Probed { name: chip.name });
            return out.reply(Reply::Okay(String::new()));
        }
        if let Some(same) = info.chips().into_iter().find(|c| c.vendor == manufacturer) {
            out.log(Level::Info, probe::QSPI_NOR, &probe::same_maker_message(&same.name));
        }
        out.log(Level::Err, probe::QSPI_NOR, probe::DIFFERENT);
        out.reply(Reply::Fail(probe::PARSE_FAILED.into()));
    }

    fn take_table(&mut self, image: &[u8], out: &mut Out<'_>) {
        if self.chip.is_none() {
            return out.fail(PTABLE, "[ptable_init]Error, flash should be probe firstly");
        }
        match PartitionTable::parse(image, "partition.bin") {
            Ok(table) => {
                self.log_table(&table, out);
                self.table = Some(table);
                out.reply(Reply::Okay(String::new()));
            }
            Err(e) => {
                out.log(Level::Err, PTABLE, &format!("[ptable_init] error: {e}"));
                out.reply(Reply::Fail("Partition table init failed".into()));
            }
        }
    }

    fn log_table(&self, table: &PartitionTable, out: &mut Out<'_>) {
        for (i, e) in table.entries.iter().enumerate() {
            let line = format!(
                "ptn {i} name='{}' start={:08x} size={:08x} type={} depth={}",
                e.name, e.start, e.size, e.kind, e.depth
            );
            out.log(Level::Info, PTABLE, &line);
        }
        out.log(Level::Info, PTABLE, "parse partition table successfully.");
    }

    /// The partition `name`, or why there is none (already answered).
    fn entry(&self, name: &str, verb: &str, out: &mut Out<'_>) -> Option<PtEntry> {
        if self.chip.is_none() {
            out.fail(PTABLE, &format!("[partition_{verb}]Error, flash should be probe firstly"));
            return None;
        }
        let found = self.table.as_ref().and_then(|t| t.get(name)).filter(|e| e.size > 0).cloned();
        if found.is_none() {
            let what = if verb == "write" { "writing" } else { "erasing" };
            out.fail(PTABLE, &format!("{what} partition \"{name}\" not found or not supported."));
        }
        found
    }

    /// `flash:<name>` with the last download: a raw image at the partition's start, or a sparse
    /// image whose writes land inside the partition.
    pub fn flash(&mut self, name: &str, download: Option<&[u8]>, ctx: &mut DownloadContext<'_>, out: &mut Out<'_>) {
        let Some(entry) = self.entry(name, "write", out) else { return };
        let Some(image) = download else {
            return out.fail(PTABLE, &format!("wrote partition \"{name}\" failed."));
        };
        let start = u64::from(entry.start);
        if entry.end() > ctx.flash.size() {
            return out.fail(PTABLE, "failed to flash, address is out of range!");
        }
        let mut nor = Nor::new(ctx.flash);
        let written = if sparse::is_sparse(image) {
            let parsed = Sparse::parse(image, u64::from(entry.size)).and_then(|s| s.check_crc().map(|()| s));
            match parsed {
                Ok(s) => {
                    s.writes().try_for_each(|(at, bytes)| nor.write(start + at, &bytes)).map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        } else if image.len() as u64 > u64::from(entry.size) {
            Err(format!("partition sz is out of stash_size. ({} bytes for {:#x})", image.len(), entry.size))
        } else {
            nor.write(start, image).map_err(|e| e.to_string())
        };
        match written {
            Ok(()) => {
                out.log(Level::Info, PTABLE, &format!("partition \"{name}\" written successfully."));
                out.reply(Reply::Okay(String::new()));
            }
            Err(e) => {
                out.log(Level::Err, PTABLE, &e);
                out.fail(PTABLE, &format!("wrote partition \"{name}\" failed."));
            }
        }
    }

    /// `erase:<name>`.
    pub fn erase(&mut self, name: &str, ctx: &mut DownloadContext<'_>, out: &mut Out<'_>) {
        let Some(entry) = self.entry(name, "erase", out) else { return };
        match Nor::new(ctx.flash).erase(u64::from(entry.start), u64::from(entry.size)) {
            Ok(()) => {
                out.log(Level::Info, PTABLE, &format!("partition \"{name}\" erased successfully."));
                out.reply(Reply::Okay(String::new()));
            }
            Err(e) => {
                out.log(Level::Err, PTABLE, &e.to_string());
                out.fail(PTABLE, &format!("erase partition \"{name}\" failed."));
            }
        }
    }

    /// `getvar:partition-size:<name>` and `getvar:partition-type:<name>`; `None` for other keys.
    pub fn getvar(&self, key: &str) -> Option<Reply> {
        let (what, name) = key.split_once(':')?;
        let entry = self.table.as_ref().and_then(|t| t.get(name));
        let reply = match (what, entry) {
            ("partition-size", Some(e)) => Reply::Okay(format!("0x{:x}", e.size)),
            ("partition-type", Some(e)) => Reply::Okay(e.kind.clone()),
            ("partition-size" | "partition-type", None) => Reply::Fail(format!("no partition \"{name}\"")),
            _ => return None,
        };
        Some(reply)
    }

    /// `loadpt`: takes the partition table found on the flash.
    pub fn loadpt(&mut self, ctx: &mut DownloadContext<'_>, out: &mut Out<'_>) {
        if self.chip.is_none() {
            return out.fail(PTABLE, "[loadpt]Error, flash should be probe firstly");
        }
        let window = LOADPT_WINDOW.min(ctx.flash.size());
        let mut at = 0;
        while at + partition_table::TABLE_SIZE as u64 <= window {
            if let Ok(bytes) = ctx.flash.read(at, partition_table::TABLE_SIZE)
                && let Ok(table) = PartitionTable::parse(&bytes, "flash")
            {
                self.log_table(&table, out);
                self.table = Some(table);
                return out.reply(Reply::Okay(String::new()));
            }
            at += 0x1000;
        }
        out.fail(PTABLE, "Load ptable failed!");
    }

    /// `useflash:<device>`: only the QSPI NOR exists.
    pub fn useflash(&mut self, device: &str, out: &mut Out<'_>) {
        if device == "qspi" {
            out.reply(Reply::Okay(String::new()));
        } else {
            out.fail(PTABLE, &format!("error: Unknown flash name \"{device}\""));
        }
    }

    /// `ulstage:<start>:<size>`: the range of the next upload.
    pub fn ulstage(&mut self, start: u32, size: u32, ctx: &DownloadContext<'_>, out: &mut Out<'_>) {
        if u64::from(start) + u64::from(size) > ctx.flash.size() || size == 0 {
            return out.fail(PTABLE, &format!("ulstage {start:#x}+{size:#x} is outside the flash"));
        }
        self.staged = Some((start, size));
        out.reply(Reply::Okay(String::new()));
    }

    /// `upload:<name>`: `DATA<size>`, the bytes, `OKAY`. The staged range if there is one, else
    /// the partition `name`.
    pub fn upload(&mut self, name: &str, ctx: &DownloadContext<'_>, out: &mut Out<'_>) {
        let range = match self.staged.take() {
            Some((start, size)) => Some((u64::from(start), size)),
            None => self.table.as_ref().and_then(|t| t.get(name)).map(|e| (u64::from(e.start), e.size)),
        };
        let Some((start, size)) = range.filter(|(s, n)| *n > 0 && s + u64::from(*n) <= ctx.flash.size()) else {
            return out.fail(PTABLE, &format!("upload: nothing staged and no partition \"{name}\""));
        };
        match ctx.flash.read(start, size as usize) {
            Ok(bytes) => {
                out.reply(Reply::Data(size));
                out.link.data(&bytes, out.bytes);
                out.reply(Reply::Okay(String::new()));
            }
            Err(e) => out.fail(PTABLE, &format!("[flash_read]: read failed! ({e})")),
        }
    }
}
