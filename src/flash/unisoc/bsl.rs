//! BSL, host side: frames to a boot ROM that speaks it (UIS8850, classic SPRD; CRC-16) or to an
//! FDL (every Unisoc chip; the FDL sum), check-baud, and the START/MIDST/END download that every
//! stage uses (ilyakurdyukov/spreadtrum_flash `spd_dump.c` `send_buf`, amitv87/unisoc_dloader
//! `main.c` `bsl_flash_id`).

use std::collections::VecDeque;
use std::io::Read;
use std::time::{Duration, Instant};

use super::error::UnisocError;
use super::link::{Link, Timeouts, read_source};
use super::wire::bsl::{BslCommand, BslReply, Deframer, FLAG, Frame, Raw, decode};
use super::wire::check::Check;
use super::wire::payload::{StartData, encode_baud, parse_version};
use crate::device::Transport;

/// Who is answering on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A boot ROM that speaks BSL.
    Rom,
    /// The first loader.
    Fdl1,
    /// The second loader, which writes flash.
    Fdl2,
}

impl Stage {
    /// For messages.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Rom => "the boot ROM",
            Stage::Fdl1 => "FDL1",
            Stage::Fdl2 => "FDL2",
        }
    }
}

/// A BSL session.
pub struct BslSession<'t> {
    link: Link<'t>,
    deframer: Deframer,
    raws: VecDeque<Raw>,
    check: Check,
    stage: Stage,
    rx: Vec<u8>,
}

/// How a download pads an odd chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OddChunk {
    /// Send it as it is (spd_dump).
    AsIs,
    /// Add one 0xFF so every MIDST frame is even (unisoc_dloader pads with 0x00, sending one byte
    /// more than START_DATA declared; fwguard pads with 0xFF, which programs nothing on NOR if a
    /// loader writes it).
    Pad,
}

impl<'t> BslSession<'t> {
    /// A session over `transport` with `check`, talking to `stage`.
    pub fn new(transport: impl Transport + 't, timeouts: Timeouts, check: Check, stage: Stage) -> BslSession<'t> {
        BslSession::from_link(Link::new(transport, timeouts), check, stage)
    }

    pub(crate) fn from_link(link: Link<'t>, check: Check, stage: Stage) -> BslSession<'t> {
        BslSession { link, deframer: Deframer::new(), raws: VecDeque::new(), check, stage, rx: vec![0; 16 * 1024] }
    }

    /// Who is answering.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The next stage answers from now on, with `check`.
    pub fn advance(&mut self, stage: Stage, check: Check) {
        self.stage = stage;
        self.check = check;
    }

    /// What the device said so far.
    pub fn log(&self) -> &[String] {
        self.link.log()
    }

    /// Notes a line in the log.
    pub fn note(&mut self, line: impl Into<String>) {
        self.link.note(line);
    }

    /// Bytes sent and received so far.
    pub fn counters(&self) -> (u64, u64) {
        self.link.counters()
    }

    /// The waits.
    pub fn timeouts(&self) -> &Timeouts {
        &self.link.timeouts
    }

    /// Check-baud: a bare 7E until the device answers VER (a few attempts); returns the version
    /// text.
    pub fn check_baud(&mut self) -> Result<String, UnisocError> {
        let attempts = self.link.timeouts.attempts.max(1);
        let probe = self.link.timeouts.probe;
        for _ in 0..attempts {
            self.drain()?;
            self.link.send(&[FLAG], "check-baud")?;
            if let Some(frame) = self.receive(probe, "check-baud")? {
                if frame.reply() != BslReply::Ver {
                    return Err(UnisocError::Garbled {
                        during: "check-baud".into(),
                        detail: format!("{} answered {}, expected VER", self.stage.label(), frame.reply()),
                    });
                }
                let version = parse_version(&frame.payload);
                self.link.note(format!("{}: VER {version:?}", self.stage.label()));
                return Ok(version);
            }
        }
        Err(UnisocError::Timeout {
            during: format!("check-baud ({attempts} attempts)"),
            waited: probe * attempts,
            received: 0,
        })
    }

    /// Sends a command and returns the answer (log frames are noted and skipped).
    pub fn command(&mut self, command: BslCommand, payload: Vec<u8>, wait: Duration) -> Result<Frame, UnisocError> {
        let during = format!("{} {}", self.stage.label(), command.name());
        self.link.send(&Frame::new(command.code(), payload).encode(self.check), &during)?;
        self.receive(wait, &during)?.ok_or_else(|| UnisocError::Timeout {
            during,
            waited: wait,
            received: self.deframer.pending(),
        })
    }

    /// Sends a command and requires one of `ok` as the answer; `detail` (address, size) goes
    /// into the error.
    pub fn expect(
        &mut self,
        command: BslCommand,
        payload: Vec<u8>,
        ok: &[BslReply],
        wait: Duration,
        detail: &dyn Fn() -> String,
    ) -> Result<BslReply, UnisocError> {
        let frame = self.command(command, payload, wait)?;
        let reply = frame.reply();
        if ok.contains(&reply) {
            return Ok(reply);
        }
        Err(UnisocError::Refused {
            stage: self.stage.label(),
            command,
            reply,
            expected: ok.iter().map(|r| r.name()).collect::<Vec<_>>().join(" or "),
            detail: detail(),
        })
    }

    /// CONNECT.
    pub fn connect(&mut self) -> Result<(), UnisocError> {
        let wait = self.link.timeouts.reply;
        self.expect(BslCommand::Connect, Vec::new(), &[BslReply::Ack], wait, &String::new)?;
        self.link.note(format!("{}: CONNECT answered ACK", self.stage.label()));
        Ok(())
    }

    /// CHANGE_BAUD (on a USB link only a formality the loader expects).
    pub fn change_baud(&mut self, baud: u32) -> Result<(), UnisocError> {
        let wait = self.link.timeouts.reply;
        self.expect(BslCommand::ChangeBaud, encode_baud(baud), &[BslReply::Ack], wait, &|| format!(" ({baud} baud)"))?;
        Ok(())
    }

    /// START_DATA `start`, then `len` bytes of `data` in MIDST_DATA chunks of `chunk` bytes,
    /// then END_DATA. `progress` gets (bytes sent, total) after each chunk. `what` names the
    /// data in errors.
    #[allow(clippy::too_many_arguments)]
    pub fn download(
        &mut self,
        start: &StartData,
        data: &mut dyn Read,
        len: u64,
        chunk: usize,
        odd: OddChunk,
        what: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), UnisocError> {
        let wait = self.link.timeouts.reply;
        let at = format!(" ({what}, {len} bytes)");
        self.expect(BslCommand::StartData, start.encode(), &[BslReply::Ack], wait, &|| at.clone())?;
        let mut buf = vec![0u8; chunk + 1];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(chunk as u64) as usize;
            read_source(data, &mut buf[..n], what, done)?;
            let mut frame_len = n;
            if n % 2 == 1 && odd == OddChunk::Pad {
                buf[n] = 0xFF;
                frame_len += 1;
            }
            let detail = || format!(" ({what}, bytes {done}..{})", done + n as u64);
            self.expect(BslCommand::MidstData, buf[..frame_len].to_vec(), &[BslReply::Ack], wait, &detail)?;
            done += n as u64;
            progress(done, len);
        }
        self.expect(BslCommand::EndData, Vec::new(), &[BslReply::Ack], wait, &|| at.clone())?;
        Ok(())
    }

    /// EXEC_DATA. An FDL2 answers INCOMPATIBLE_PARTITION, which the published tools take as
    /// success (spd_dump: "FDL2: incompatible partition"); so does this.
    pub fn exec(&mut self) -> Result<BslReply, UnisocError> {
        let wait = self.link.timeouts.reply;
        let ok = [BslReply::Ack, BslReply::IncompatiblePartition];
        let reply = self.expect(BslCommand::ExecData, Vec::new(), &ok, wait, &String::new)?;
        self.link.note(format!("{}: EXEC_DATA answered {}", self.stage.label(), reply.name()));
        Ok(reply)
    }

    /// Drops whatever arrived unasked.
    fn drain(&mut self) -> Result<(), UnisocError> {
        let mut buf = [0u8; 256];
        while self.link.read_until(&mut buf, Instant::now() + Duration::from_millis(1), "check-baud")? > 0 {}
        self.raws.clear();
        self.deframer = Deframer::new();
        Ok(())
    }

    /// The next frame within `wait`, log frames noted and skipped; `None` when none came.
    fn receive(&mut self, wait: Duration, during: &str) -> Result<Option<Frame>, UnisocError> {
        let deadline = Instant::now() + wait;
        loop {
            while let Some(raw) = self.raws.pop_front() {
                let Raw::Frame(raw) = raw else {
                    return Err(UnisocError::Garbled {
                        during: during.into(),
                        detail: "a frame longer than any BSL frame".into(),
                    });
                };
                let frame = decode(&raw, self.check).map_err(|e| UnisocError::Garbled {
                    during: during.into(),
                    detail: format!("{} sent a bad frame: {e}", self.stage.label()),
                })?;
                if frame.reply() == BslReply::Log {
                    let text = String::from_utf8_lossy(&frame.payload).trim_end_matches('\0').to_string();
                    self.link.note(format!("{} log: {text}", self.stage.label()));
                    continue;
                }
                return Ok(Some(frame));
            }
            let n = self.link.read_until(&mut self.rx, deadline, during)?;
            if n == 0 {
                return Ok(None);
            }
            let raws = self.deframer.push(&self.rx[..n]);
            self.raws.extend(raws);
        }
    }
}
