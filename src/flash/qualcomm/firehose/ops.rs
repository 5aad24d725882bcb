//! Firehose operations on the storage: erase, program, read, digest, patch, storage info, power.
//!
//! Sector arithmetic is exact: a program of `len` bytes sends `ceil(len / sector)` sectors, as
//! QFirehose recomputes `num_partition_sectors` from the file size, and pads the last sector with
//! `0xFF` (erased NAND), as fwupd does. Raw data goes in writes of at most the configured payload
//! size; the link loops over short writes.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use super::super::error::QualcommError;
use super::super::wire::patch::Patch;
use super::{FirehoseSession, StorageInfo};

/// A run of sectors on the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// The first sector (NAND page).
    pub start_sector: u64,
    /// How many sectors.
    pub sectors: u64,
    /// `SECTOR_SIZE_IN_BYTES`: the NAND page size (4096 on MDM9x07 p4K, 2048 on p2K).
    pub sector_size: u32,
    /// `PAGES_PER_BLOCK`, sent when known (Quectel's NAND XML always gives it).
    pub pages_per_block: Option<u32>,
    /// `physical_partition_number`.
    pub physical_partition: u32,
}

impl Extent {
    /// `sectors` sectors of `sector_size` bytes from `start_sector`, on partition 0.
    pub fn new(start_sector: u64, sectors: u64, sector_size: u32) -> Extent {
        Extent { start_sector, sectors, sector_size, pages_per_block: None, physical_partition: 0 }
    }

    /// The same with `PAGES_PER_BLOCK`.
    pub fn with_pages_per_block(mut self, pages: u32) -> Extent {
        self.pages_per_block = Some(pages);
        self
    }

    /// The length in bytes.
    pub fn bytes(&self) -> u64 {
        self.sectors.saturating_mul(u64::from(self.sector_size))
    }

    /// The first byte's address.
    pub fn start_byte(&self) -> u64 {
        self.start_sector.saturating_mul(u64::from(self.sector_size))
    }

    fn attrs(&self) -> Vec<(&'static str, String)> {
        let mut a = vec![("SECTOR_SIZE_IN_BYTES", self.sector_size.to_string())];
        if let Some(p) = self.pages_per_block {
            a.push(("PAGES_PER_BLOCK", p.to_string()));
        }
        a.extend([
            ("num_partition_sectors", self.sectors.to_string()),
            ("physical_partition_number", self.physical_partition.to_string()),
            ("start_sector", self.start_sector.to_string()),
        ]);
        a
    }

    fn check(&self, what: &str) -> Result<(), QualcommError> {
        if self.sector_size == 0 || self.sectors == 0 {
            return Err(QualcommError::Invalid(format!(
                "{what}: {} sectors of {} bytes is nothing to do",
                self.sectors, self.sector_size
            )));
        }
        Ok(())
    }
}

/// What the target does on `<power>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// `reset`: boot from the flash.
    Reset,
    /// `off`.
    Off,
    /// `reset_to_edl`: come back in emergency download.
    ResetToEdl,
}

impl Power {
    fn value(self) -> &'static str {
        match self {
            Power::Reset => "reset",
            Power::Off => "off",
            Power::ResetToEdl => "reset_to_edl",
        }
    }
}

/// What a program did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramReport {
    /// Sectors written (`num_partition_sectors` as sent).
    pub sectors: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// Padding bytes (`0xFF`) added to fill the last sector.
    pub padding: u64,
}

impl FirehoseSession<'_> {
    /// `<nop/>`.
    pub fn nop(&mut self) -> Result<(), QualcommError> {
        self.command_acked("nop", &[("value", "ping".into())], "nop").map(|_| ())
    }

    /// `<getstorageinfo>`: geometry and NAND id, from the programmer's log lines.
    pub fn storage_info(&mut self, physical_partition: u32) -> Result<StorageInfo, QualcommError> {
        let first = self.log.len();
        self.command_acked(
            "getstorageinfo",
            &[("physical_partition_number", physical_partition.to_string())],
            "getstorageinfo",
        )?;
        StorageInfo::from_log(self.log[first..].iter().map(|l| l.text.as_str())).ok_or_else(|| {
            QualcommError::Firehose {
                command: "getstorageinfo".into(),
                problem: "the programmer ACKed without describing the storage".into(),
            }
        })
    }

    /// `<erase>` of `extent`. The target answers when the erase is done (NAND: up to seconds).
    pub fn erase(&mut self, extent: &Extent) -> Result<(), QualcommError> {
        extent.check("erase")?;
        self.command_acked(
            "erase",
            &extent.attrs(),
            &format!("erase of {} sectors at {}", extent.sectors, extent.start_sector),
        )
        .map(|_| ())
    }

    /// `<program>`: writes `len` bytes from `data` at `at.start_sector` (`at.sectors` is the room
    /// there; a longer file is refused before anything is sent). `progress` gets the bytes sent.
    pub fn program(
        &mut self,
        at: &Extent,
        data: &mut dyn Read,
        len: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ProgramReport, QualcommError> {
        let sector = u64::from(at.sector_size);
        let sectors = if sector == 0 { 0 } else { len.div_ceil(sector) };
        let target = Extent { sectors, ..*at };
        target.check("program")?;
        if sectors > at.sectors {
            return Err(QualcommError::Invalid(format!(
                "program at sector {}: {len} bytes need {sectors} sectors of {sector}; the partition has {}",
                at.start_sector, at.sectors
            )));
        }
        let what = format!("program of {sectors} sectors at {}", at.start_sector);
        let r = self.command_acked("program", &target.attrs(), &what)?;
        if r.rawmode != Some(true) {
            return Err(QualcommError::Firehose {
                command: what,
                problem: "the programmer ACKed without entering raw mode".into(),
            });
        }
        let total = sectors * sector;
        let chunk = (u64::from(self.config.max_payload) / sector).max(1) * sector;
        let mut buf = vec![0u8; usize::try_from(chunk).unwrap_or(1 << 20)];
        let (mut sent, mut from_file) = (0u64, 0u64);
        let mut short: Option<std::io::Error> = None;
        while sent < total {
            let want = usize::try_from((total - sent).min(chunk)).unwrap_or(buf.len());
            let mut filled = 0;
            while filled < want && from_file < len && short.is_none() {
                let limit = want.min(filled + usize::try_from(len - from_file).unwrap_or(usize::MAX));
                match data.read(&mut buf[filled..limit]) {
                    Ok(0) => short = Some(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
                    Ok(n) => {
                        filled += n;
                        from_file += n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => short = Some(e),
                }
            }
            // The last sector's tail (and, after a failed read, the rest) goes out as 0xFF, so
            // the target leaves raw mode in step.
            buf[filled..want].fill(0xFF);
            self.link.send(&buf[..want], self.options.idle, &format!("sending the data of the {what}"))?;
            sent += want as u64;
            progress(sent.min(len));
        }
        let r = self.response(self.options.timeout)?;
        if let Some(e) = short {
            return Err(QualcommError::io(
                format!("reading the file for the {what} ({from_file} of {len} bytes read)"),
                e,
            ));
        }
        if !r.ack {
            return Err(self.nak_error(&what));
        }
        if r.rawmode == Some(true) {
            return Err(QualcommError::Firehose { command: what, problem: "the programmer stayed in raw mode".into() });
        }
        Ok(ProgramReport { sectors, bytes: len, padding: total - len })
    }

    /// `<read>` of `extent`, streamed into `out`; `progress` gets the bytes received.
    pub fn read(
        &mut self,
        extent: &Extent,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), QualcommError> {
        self.read_bytes(extent, extent.bytes(), out, progress)
    }

    /// Reads the first `len` bytes of `extent` into `out` (the rest of the last sector is read
    /// and dropped).
    pub fn read_bytes(
        &mut self,
        extent: &Extent,
        len: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), QualcommError> {
        extent.check("read")?;
        let what = format!("read of {} sectors at {}", extent.sectors, extent.start_sector);
        let r = self.command_acked("read", &extent.attrs(), &what)?;
        if r.rawmode != Some(true) {
            return Err(QualcommError::Firehose {
                command: what,
                problem: "the programmer ACKed without entering raw mode".into(),
            });
        }
        let total = extent.bytes();
        let keep = len.min(total);
        let doing = format!("receiving the data of the {what}");
        self.link.stream_into(keep, out, self.options.idle, &doing, progress)?;
        self.link.stream_into(total - keep, &mut std::io::sink(), self.options.idle, &doing, &mut |_| {})?;
        let r = self.response(self.options.timeout)?;
        if !r.ack {
            return Err(self.nak_error(&what));
        }
        Ok(())
    }

    /// The SHA-256 of `extent`: `<getsha256digest>` when the programmer lists it (it logs
    /// `Digest <hex>`; bkerler/edl `firehose.py` reads it so), else a read hashed here.
    pub fn sha256(&mut self, extent: &Extent) -> Result<[u8; 32], QualcommError> {
        extent.check("digest")?;
        if self.supports("getsha256digest") && !self.functions.is_empty() {
            let first = self.log.len();
            let what = format!("digest of {} sectors at {}", extent.sectors, extent.start_sector);
            self.command_acked("getsha256digest", &extent.attrs(), &what)?;
            let found = self.log[first..].iter().find_map(|l| digest_in(&l.text));
            return found.ok_or_else(|| QualcommError::Firehose {
                command: what,
                problem: "the programmer ACKed without logging a digest".into(),
            });
        }
        let mut hasher = HashWriter(Sha256::new());
        self.read(extent, &mut hasher, &mut |_| {})?;
        Ok(hasher.0.finalize().into())
    }

    /// `<patch>`: the target evaluates the value (see [`crate::flash::qualcomm::wire::patch`]).
    /// Only disk patches go to the target; a file patch is refused here (turn it into a disk
    /// patch with [`Patch::to_disk`], or apply it to the file).
    pub fn patch(&mut self, patch: &Patch) -> Result<(), QualcommError> {
        if !patch.is_disk() {
            return Err(QualcommError::Invalid(format!(
                "the patch of {} at sector {:?} is for a file, not the disk; apply it before writing the file, or send Patch::to_disk",
                patch.filename, patch.start_sector
            )));
        }
        self.command_acked("patch", &patch.attrs(), "patch").map(|_| ())
    }

    /// `<power>`: the target ACKs, waits `delay_s` seconds, and resets (or powers off). The link
    /// goes away: send nothing more (take the [`log`](Self::log), then drop the session).
    pub fn power(&mut self, action: Power, delay_s: u32) -> Result<(), QualcommError> {
        self.command_acked(
            "power",
            &[("value", action.value().into()), ("DelayInSeconds", delay_s.to_string())],
            "power",
        )
        .map(|_| ())
    }
}

/// A digest logged as `Digest <64 hex digits>` (an optional `0x` allowed).
fn digest_in(line: &str) -> Option<[u8; 32]> {
    let at = line.find("Digest ")? + "Digest ".len();
    let rest = line[at..].trim_start();
    let rest = rest.strip_prefix("0x").unwrap_or(rest);
    let hex = rest.get(..64)?;
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_found_in_log_lines() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let d = digest_in(&format!("INFO: Digest {hex}")).unwrap();
        assert_eq!((d[0], d[15], d[31]), (0x00, 0xFF, 0xFF));
        assert!(digest_in(&format!("Digest 0x{hex}")).is_some());
        assert_eq!(digest_in("Digest 1234"), None);
        assert_eq!(digest_in("INFO: nothing"), None);
    }

    #[test]
    fn extents() {
        let e = Extent::new(640, 640, 4096).with_pages_per_block(64);
        assert_eq!((e.start_byte(), e.bytes()), (0x28_0000, 0x28_0000));
        assert!(e.attrs().contains(&("PAGES_PER_BLOCK", "64".into())));
        assert!(Extent::new(0, 0, 4096).check("x").is_err());
    }
}
