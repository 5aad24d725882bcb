//! The FDLs, host side: FDL1 loads FDL2; FDL2 writes, reads and erases flash and resets the
//! module, each a typed operation (amitv87/unisoc_dloader `main.c`: `bsl_flash_id`,
//! `bsl_backup_id`, `bsl_erase_id`, `test_bsl`; ilyakurdyukov/spreadtrum_flash `spd_dump.c`:
//! `read_flash`, `erase_flash`).
//!
//! The 8910 FDL has no command that reports the flash chip (its FDL2 knows checksum, start/data,
//! NV and PhaseCheck writes, reset, read flash, repartition and erase flash, and answers anything
//! else "cmd not support yet"). What the host can observe about the flash is where reads stop
//! working: [`Fdl2Session::probe_extent`].

use std::io::{Read, Write};

use super::bsl::{BslSession, OddChunk, Stage};
use super::error::UnisocError;
use super::wire::bsl::{BslCommand, BslReply};
use super::wire::check::{Check, seal_nv};
use super::wire::payload::{
    DATA_CHUNK_8850, DATA_CHUNK_8910, FDL1_BAUD, FDL2_CHUNK_8910, READ_CHUNK, ReadFlash, StartData, Target,
    encode_erase,
};

/// The Unisoc chips fwguard can flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chip {
    /// UIS8910DM (EC200U, EC600U, EG912U, EG915U): PDL boot ROM.
    Uis8910,
    /// UIS8850 (EC800G, EC600G): BSL boot ROM with CRC-16.
    Uis8850,
}

impl Chip {
    /// The chip's number as PAC header strings carry it.
    pub fn number(self) -> &'static str {
        match self {
            Chip::Uis8910 => "8910",
            Chip::Uis8850 => "8850",
        }
    }

    /// MIDST chunk size for data on FDL2.
    pub fn data_chunk(self) -> usize {
        match self {
            Chip::Uis8910 => DATA_CHUNK_8910,
            Chip::Uis8850 => DATA_CHUNK_8850,
        }
    }
}

/// FDL1 is running: it loads FDL2.
pub struct Fdl1Session<'t> {
    bsl: BslSession<'t>,
    chip: Chip,
}

impl<'t> Fdl1Session<'t> {
    /// FDL1 on `bsl` (which speaks the FDL sum).
    pub fn new(bsl: BslSession<'t>, chip: Chip) -> Fdl1Session<'t> {
        Fdl1Session { bsl, chip }
    }

    /// Loads `len` bytes of FDL2 from `data` at `address` and starts it. On the 8910, FDL1 is
    /// first asked for 115200 baud, as unisoc_dloader does straight after the ROM stage.
    pub fn load_fdl2(
        mut self,
        address: u32,
        data: &mut dyn Read,
        len: u32,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Fdl2Session<'t>, UnisocError> {
        if self.chip == Chip::Uis8910 {
            self.bsl.change_baud(FDL1_BAUD)?;
        }
        let start = StartData::address(address, len, None);
        self.bsl.download(&start, data, u64::from(len), FDL2_CHUNK_8910, OddChunk::Pad, "FDL2", progress)?;
        self.bsl.exec()?;
        self.bsl.advance(Stage::Fdl2, Check::Sum);
        Ok(Fdl2Session { bsl: self.bsl, chip: self.chip })
    }

    /// What the device said so far.
    pub fn log(&self) -> &[String] {
        self.bsl.log()
    }
}

/// The NOR sizes [`Fdl2Session::storage`] probes: 1 to 32 MiB.
pub const NOR_SIZES: [u64; 6] = [1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20];

/// What FDL2 shows about the module's storage, for the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageReport {
    /// The JEDEC flash id: always `None` on the 8910 and 8850, whose FDLs have no query for it.
    pub flash_id: Option<crate::identity::FlashId>,
    /// Where reads of the NOR flash stop.
    pub extent: FlashExtent,
}

/// What the host can tell about the flash's size from FDL2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashExtent {
    /// Reads work up to this many bytes from the flash base and are refused past it.
    Ends(u64),
    /// The loader did not show where the flash ends.
    Unknown(String),
}

/// FDL2 is running: the flash operations.
pub struct Fdl2Session<'t> {
    bsl: BslSession<'t>,
    chip: Chip,
}

impl<'t> Fdl2Session<'t> {
    /// The chip.
    pub fn chip(&self) -> Chip {
        self.chip
    }

    /// What the device said so far.
    pub fn log(&self) -> &[String] {
        self.bsl.log()
    }

    /// The BSL session underneath, for commands with no typed operation here.
    pub fn bsl(&mut self) -> &mut BslSession<'t> {
        &mut self.bsl
    }

    /// Bytes sent and received on the link so far.
    pub fn counters(&self) -> (u64, u64) {
        self.bsl.counters()
    }

    /// Writes `len` bytes from `data` at `address` (a flash address, or a logical one such as a
    /// cpio pre-pack). `progress` gets (bytes sent, total). For NV use [`Fdl2Session::write_nv`].
    pub fn write(
        &mut self,
        address: u32,
        data: &mut dyn Read,
        len: u32,
        what: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), UnisocError> {
        let start = StartData::address(address, len, None);
        let chunk = self.chip.data_chunk();
        self.bsl.download(&start, data, u64::from(len), chunk, OddChunk::Pad, what, progress)
    }

    /// Writes an NV image at its logical `address`: sealed (CRC-16 in its first two bytes) and
    /// announced with its byte sum, as the 8910 FDL2 checks (unisoc_dloader `nv_checksum_buf`).
    pub fn write_nv(
        &mut self,
        address: u32,
        mut image: Vec<u8>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), UnisocError> {
        let len = u32::try_from(image.len())
            .map_err(|_| UnisocError::Invalid { what: "NV image".into(), detail: "larger than 4 GiB".into() })?;
        let sum = seal_nv(&mut image);
        let start = StartData::address(address, len, Some(sum));
        // unisoc_dloader sends NV in 0x800-byte chunks on every chip.
        let chunk = DATA_CHUNK_8910;
        self.bsl.download(&start, &mut image.as_slice(), u64::from(len), chunk, OddChunk::Pad, "NV", progress)
    }

    /// Reads `len` bytes at `address + offset` into `out` in READ_FLASH chunks; `progress` gets
    /// (bytes read, total).
    pub fn read(
        &mut self,
        address: u32,
        offset: u32,
        len: u32,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), UnisocError> {
        let wait = self.bsl.timeouts().reply;
        let mut done = 0u32;
        while done < len {
            let n = (len - done).min(READ_CHUNK as u32);
            let at = offset.checked_add(done).ok_or_else(|| UnisocError::Invalid {
                what: format!("READ_FLASH at {address:#x}"),
                detail: format!("offset {offset:#x} + {done:#x} overflows 32 bits"),
            })?;
            let req = ReadFlash { address, size: n, offset: at };
            let frame = self.bsl.command(BslCommand::ReadFlash, req.encode(), wait)?;
            if frame.reply() != BslReply::ReadFlash {
                return Err(UnisocError::Refused {
                    stage: Stage::Fdl2.label(),
                    command: BslCommand::ReadFlash,
                    reply: frame.reply(),
                    expected: "READ_FLASH".into(),
                    detail: format!(" ({n} bytes at {address:#x} + {at:#x})"),
                });
            }
            if frame.payload.len() != n as usize {
                return Err(UnisocError::Garbled {
                    during: format!("READ_FLASH of {n} bytes at {address:#x} + {at:#x}"),
                    detail: format!("FDL2 sent {} bytes", frame.payload.len()),
                });
            }
            out.write_all(&frame.payload)
                .map_err(|e| UnisocError::Io { during: format!("saving what was read at {address:#x}"), source: e })?;
            done += n;
            progress(u64::from(done), u64::from(len));
        }
        Ok(())
    }

    /// Erases `size` bytes at `address` (or the logical operation an address such as
    /// 0xFE000001 names).
    pub fn erase(&mut self, address: u32, size: u32) -> Result<(), UnisocError> {
        let wait = self.bsl.timeouts().erase;
        let payload = encode_erase(&Target::Address { address, size });
        let detail = || format!(" ({size:#x} bytes at {address:#x})");
        self.bsl.expect(BslCommand::EraseFlash, payload, &[BslReply::Ack], wait, &detail)?;
        self.bsl.note(format!("FDL2: erased {size:#x} bytes at {address:#x}"));
        Ok(())
    }

    /// Finds where the flash ends: for each candidate size (ascending, bytes from `base`), the
    /// last two bytes below it must read and the two at it must be refused. This is the only
    /// fact about the flash chip the 8910 FDL shows; a loader that does not refuse reads past
    /// the end gives [`FlashExtent::Unknown`].
    pub fn probe_extent(&mut self, base: u32, candidates: &[u64]) -> Result<FlashExtent, UnisocError> {
        let wait = self.bsl.timeouts().reply;
        let mut readable_below = None;
        for &size in candidates {
            let Some(end) = u32::try_from(u64::from(base) + size).ok().filter(|_| size >= 2) else {
                break;
            };
            let last = self.bsl.command(
                BslCommand::ReadFlash,
                ReadFlash { address: end - 2, size: 2, offset: 0 }.encode(),
                wait,
            )?;
            if last.reply() != BslReply::ReadFlash {
                return Ok(match readable_below {
                    Some(_) => FlashExtent::Unknown(format!(
                        "reads at {:#x} were refused ({}) but not at the end of the smaller size",
                        end - 2,
                        last.reply()
                    )),
                    None => FlashExtent::Unknown(format!(
                        "reads near the smallest size probed were refused ({})",
                        last.reply()
                    )),
                });
            }
            let past = self.bsl.command(
                BslCommand::ReadFlash,
                ReadFlash { address: end, size: 2, offset: 0 }.encode(),
                wait,
            )?;
            if past.reply() != BslReply::ReadFlash {
                self.bsl.note(format!("FDL2: reads end at {end:#x} ({} past it)", past.reply().name()));
                return Ok(FlashExtent::Ends(size));
            }
            readable_below = Some(size);
        }
        Ok(FlashExtent::Unknown(match readable_below {
            Some(size) => format!("reads past {size:#x} bytes are answered: the loader does not refuse them"),
            None => "no size was probed".into(),
        }))
    }

    /// What the module shows about its storage: no flash id (see the module documentation) and
    /// the extent of the NOR flash at `base` (0x60000000 on the 8910), probed over [`NOR_SIZES`].
    pub fn storage(&mut self, base: u32) -> Result<StorageReport, UnisocError> {
        Ok(StorageReport { flash_id: None, extent: self.probe_extent(base, &NOR_SIZES)? })
    }

    /// NORMAL_RESET: the module leaves download mode and boots from flash. Returns the log.
    pub fn normal_reset(mut self) -> Result<Vec<String>, UnisocError> {
        let wait = self.bsl.timeouts().reply;
        self.bsl.expect(BslCommand::NormalReset, Vec::new(), &[BslReply::Ack], wait, &String::new)?;
        self.bsl.note("FDL2: NORMAL_RESET answered ACK");
        Ok(self.bsl.log().to_vec())
    }
}
