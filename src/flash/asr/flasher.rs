//! What the host does with the flasher stage (`flasher.img`): the flash probe behind
//! `partition flashinfo.bin`, the partition table, `flash:<name>` (in sparse pieces above
//! `max-download-size`), `erase:<name>`, and reading flash back.
//!
//! Reading back uses the upload commands of ASR's notes as asr.md records them (`loadpt`,
//! `useflash:qspi`, `ulstage:<start>:<size>`, `upload:<name>` answered by `DATA<size>` and the
//! bytes as ABOOT_DATA frames, then `OKAY`); annkirin/asr-flash `upload_read.go` is the only
//! published host code using them. Which flasher builds have them is not published: a module
//! whose flasher answers `FAIL` to them cannot be read back, and [`AsrError::Refused`] says so.
//!
//! A backup of the NV areas therefore goes, before anything is written:
//! `partition flashinfo.bin` (the flash is probed and initialised; [`AbootSession::probe_flash`]),
//! then [`AbootSession::module_partition_table`] (`loadpt` and the module's own `ptable`: where
//! its `nvm` is now, which the package's table need not agree with), then
//! [`AbootSession::read_partition`] of each protected partition, and only then
//! `partition partition.bin` and the writes. Where the flasher refuses the upload commands there
//! is no way to read flash through aboot at all: the protected partitions can then only be left
//! alone (never erased or written), which the plan must be able to guarantee from the package's
//! recipe. There is no device-side digest either: a write is verified by reading it back, and
//! sparse pieces carry a CRC-32 the flasher checks on arrival.

use std::io::{Read, Write};
use std::time::Instant;

use super::aboot::{AbootSession, Response, Stage};
use super::error::AsrError;
use super::wire::aboot::{Command, Reply, parse_hex32};
use super::wire::probe::FlashProbe;
use super::wire::smux::FrameType;
use super::wire::sparse;
use crate::image::asr::flashinfo;
use crate::image::asr::partition_table::{self, PartitionTable};

/// The flash device `useflash` selects for a read (ASR's notes: `useflash:qspi`).
pub const READ_DEVICE: &str = "qspi";
/// The most bytes one upload is asked for.
pub const UPLOAD_PIECE: u32 = 1 << 20;

/// What a `partition` step loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// `flashinfo.bin`: the flasher probed the chip and accepted the table.
    FlashInfo(FlashProbe),
    /// `partition.bin`: the flasher took the partition table.
    PartitionTable,
}

impl AbootSession<'_> {
    /// Downloads `flashinfo.bin` and sends `partition`: the flasher probes its flash chip and
    /// checks it against the table. Returns what it said, also when it refused the table
    /// (`accepted` false): the probe is the chip's identity either way. An error when no probe
    /// line came at all.
    pub fn probe_flash(&mut self, flashinfo_bin: &[u8]) -> Result<FlashProbe, AsrError> {
        self.need(Stage::Flasher, "partition flashinfo.bin")?;
        self.download_bytes(flashinfo_bin)?;
        let response = self.command(&Command::Partition)?;
        let accepted = matches!(response.reply, Reply::Okay(_));
        let reply = response.reply.line();
        match FlashProbe::from_log(response.lines(), &reply, accepted) {
            Some(probe) => Ok(probe),
            None => match response.reply {
                Reply::Fail(reason) => Err(AsrError::Refused {
                    port: self.port().into(),
                    command: "partition (flashinfo.bin)".into(),
                    reason,
                }),
                other => Err(AsrError::Unexpected {
                    port: self.port().into(),
                    command: "partition (flashinfo.bin)".into(),
                    expected: "a \"Manufacturer ID: 0x.., Device ID: 0x....\" line before the reply".into(),
                    got: other.line(),
                }),
            },
        }
    }

    /// Downloads `partition.bin` and sends `partition`: the flasher takes the partition table.
    pub fn load_partition_table(&mut self, partition_bin: &[u8]) -> Result<(), AsrError> {
        self.need(Stage::Flasher, "partition partition.bin")?;
        self.download_bytes(partition_bin)?;
        self.okay(&Command::Partition).map(drop)
    }

    /// A recipe's `partition <image>`: the flash table or the partition table, told apart by
    /// their magic. A flash table the flasher refuses is [`AsrError::ChipRejected`], naming the
    /// chip it found.
    pub fn partition(&mut self, image: &[u8]) -> Result<Loaded, AsrError> {
        if flashinfo::is_flashinfo(image) {
            let probe = self.probe_flash(image)?;
            if !probe.accepted {
                return Err(AsrError::ChipRejected { port: self.port().into(), probe: Box::new(probe) });
            }
            return Ok(Loaded::FlashInfo(probe));
        }
        if partition_table::is_partition_table(image) {
            self.load_partition_table(image)?;
            return Ok(Loaded::PartitionTable);
        }
        let magic: Vec<u8> = image.iter().take(4).copied().collect();
        Err(self.invalid(
            "partition",
            format!("the image is neither flashinfo.bin (FNIF) nor partition.bin (BTPA): it starts {:02x?}", magic),
        ))
    }

    /// `flash:<partition>` with `len` bytes from `source`. Up to the stage's
    /// `max-download-size` the image goes as it is; a larger one goes in sparse pieces
    /// ([`sparse::piece`]), each its own `download` and `flash:<partition>`. `progress` is told
    /// the image bytes sent so far.
    pub fn flash(
        &mut self,
        partition: &str,
        source: &mut dyn Read,
        len: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), AsrError> {
        self.flash_at(partition, 0, source, len, progress)
    }

    /// [`AbootSession::flash`] of `len` bytes that start `at` bytes into the partition (a
    /// multiple of the sparse block size, [`sparse::BLOCK_SIZE`]): the bytes before them are
    /// left as they are, by a sparse image whose first chunk is DONT_CARE over them. At 0 and
    /// up to `max-download-size` the image goes raw.
    pub fn flash_at(
        &mut self,
        partition: &str,
        at: u64,
        source: &mut dyn Read,
        len: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), AsrError> {
        let cmd = Command::Flash(partition.into());
        self.need(Stage::Flasher, &cmd.line())?;
        if !at.is_multiple_of(u64::from(sparse::BLOCK_SIZE)) {
            return Err(self.invalid(
                &cmd.line(),
                format!("{at:#x} bytes into the partition is not on a {}-byte block", sparse::BLOCK_SIZE),
            ));
        }
        let max = self.max_download_size()?;
        if at == 0 && len <= u64::from(max) {
            let n = len as u32;
            self.download(source, n, progress)?;
            return self.okay(&cmd).map(drop);
        }
        let capacity = sparse::piece_capacity(max).ok_or_else(|| {
            self.invalid(&cmd.line(), format!("max-download-size {max} cannot hold one sparse block"))
        })?;
        let end = at.checked_add(len).filter(|e| *e <= u64::from(u32::MAX)).ok_or_else(|| {
            self.invalid(&cmd.line(), format!("{at:#x}+{len:#x} bytes is more than a 32-bit flash can hold"))
        })?;
        let mut done = 0u64;
        let mut buf = vec![0u8; capacity as usize];
        while done < len {
            let n = (len - done).min(u64::from(capacity)) as usize;
            source.read_exact(&mut buf[..n]).map_err(|e| AsrError::Input {
                port: self.port().into(),
                during: cmd.line(),
                source: e,
            })?;
            let piece = sparse::piece(end, at + done, &buf[..n]);
            self.download_bytes(&piece)?;
            self.okay(&cmd)?;
            done += n as u64;
            progress(done);
        }
        Ok(())
    }

    /// [`AbootSession::flash`] of bytes in memory.
    pub fn flash_bytes(&mut self, partition: &str, bytes: &[u8]) -> Result<(), AsrError> {
        self.flash(partition, &mut &bytes[..], bytes.len() as u64, &mut |_| {})
    }

    /// `erase:<partition>`.
    pub fn erase(&mut self, partition: &str) -> Result<(), AsrError> {
        let cmd = Command::Erase(partition.into());
        self.need(Stage::Flasher, &cmd.line())?;
        self.okay(&cmd).map(drop)
    }

    /// `getvar:partition-size:<name>`: the partition's size as the flasher's table gives it.
    pub fn partition_size(&mut self, name: &str) -> Result<u64, AsrError> {
        let text = self.getvar(&format!("partition-size:{name}"))?;
        parse_hex32(text.trim()).map(u64::from).ok_or_else(|| AsrError::Unexpected {
            port: self.port().into(),
            command: format!("getvar:partition-size:{name}"),
            expected: "a size in hex".into(),
            got: text,
        })
    }

    /// `loadpt`, then the `ptable` partition read back and parsed: the partition table the
    /// module has now, before anything is written (where its `nvm` really is).
    pub fn module_partition_table(&mut self) -> Result<PartitionTable, AsrError> {
        self.need(Stage::Flasher, "loadpt")?;
        self.okay(&Command::LoadPt)?;
        let mut bytes = Vec::new();
        self.read_partition("ptable", &mut bytes)?;
        PartitionTable::parse(&bytes, self.port()).map_err(|e| AsrError::Unexpected {
            port: self.port().into(),
            command: "upload:ptable".into(),
            expected: "the module's partition table".into(),
            got: e.to_string(),
        })
    }

    fn select_flash(&mut self) -> Result<(), AsrError> {
        if !self.flash_selected {
            self.okay(&Command::UseFlash(READ_DEVICE.into()))?;
            self.flash_selected = true;
        }
        Ok(())
    }

    /// Reads the whole partition `name` (as the flasher's current table places it) into `sink`.
    /// Returns its size.
    pub fn read_partition(&mut self, name: &str, sink: &mut dyn Write) -> Result<u64, AsrError> {
        self.need(Stage::Flasher, "upload")?;
        self.select_flash()?;
        self.upload(&Command::Upload(name.into()), None, sink)
    }

    /// Reads `len` bytes of flash from `start` into `sink`, in uploads of at most
    /// [`UPLOAD_PIECE`] bytes.
    pub fn read_range(&mut self, start: u32, len: u32, sink: &mut dyn Write) -> Result<(), AsrError> {
        self.need(Stage::Flasher, "upload")?;
        if u64::from(start) + u64::from(len) > 1 << 32 {
            return Err(self.invalid("upload", format!("{start:#x}+{len:#x} is beyond a 32-bit flash")));
        }
        self.select_flash()?;
        let mut done = 0u32;
        while done < len {
            let size = (len - done).min(UPLOAD_PIECE);
            self.okay(&Command::UlStage { start: start + done, size })?;
            self.upload(&Command::Upload(format!("{:08x}", start + done)), Some(size), sink)?;
            done += size;
        }
        Ok(())
    }

    /// Sends `upload:<name>`, takes `DATA<size>` (which must be `expected` when given), the
    /// bytes, and the final `OKAY`.
    fn upload(&mut self, cmd: &Command, expected: Option<u32>, sink: &mut dyn Write) -> Result<u64, AsrError> {
        let line = cmd.line();
        let started = Instant::now();
        let response = self.command(cmd)?;
        let size = match response.reply {
            Reply::Data(n) if expected.is_none_or(|e| e == n) => n,
            Reply::Fail(reason) => return Err(AsrError::Refused { port: self.port().into(), command: line, reason }),
            other => {
                let want = expected.map_or_else(|| "DATA<size>".to_string(), |e| format!("DATA{e:08x}"));
                return Err(AsrError::Unexpected {
                    port: self.port().into(),
                    command: line,
                    expected: want,
                    got: other.line(),
                });
            }
        };
        let timeout = self.timeouts_reply();
        let mut got = 0u64;
        let mut until = self.capped(Instant::now() + timeout);
        while got < u64::from(size) {
            let Some(frame) = self.link.recv(until, &line)? else {
                return Err(AsrError::Timeout {
                    port: self.port().into(),
                    during: line,
                    expected: "upload data",
                    waited: started.elapsed(),
                    received: format!("{got} of {size} bytes"),
                });
            };
            match frame.kind {
                FrameType::AbootData => {
                    let room = u64::from(size) - got;
                    if frame.payload.len() as u64 > room {
                        return Err(AsrError::Unexpected {
                            port: self.port().into(),
                            command: line,
                            expected: format!("{size} bytes"),
                            got: format!("{} bytes", got + frame.payload.len() as u64),
                        });
                    }
                    sink.write_all(&frame.payload).map_err(|e| AsrError::Input {
                        port: self.port().into(),
                        during: line.clone(),
                        source: e,
                    })?;
                    got += frame.payload.len() as u64;
                    until = self.capped(Instant::now() + timeout);
                }
                FrameType::AbootCmd => match Reply::parse(&frame.payload) {
                    Reply::Fail(reason) => {
                        return Err(AsrError::Refused { port: self.port().into(), command: line, reason });
                    }
                    Reply::Info(_) | Reply::Progress(_) => until = self.capped(Instant::now() + timeout),
                    other => {
                        return Err(AsrError::Unexpected {
                            port: self.port().into(),
                            command: line,
                            expected: format!("{size} bytes of data"),
                            got: format!("{} after {got} bytes", other.line()),
                        });
                    }
                },
                _ => {}
            }
        }
        let end: Response = self.wait_final(&line, timeout)?;
        self.expect_okay(cmd, end)?;
        Ok(u64::from(size))
    }
}
