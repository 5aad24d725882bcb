//! The UIS8910 boot ROM, host side: PDL packets load FDL1 into SRAM and start it
//! (amitv87/unisoc_dloader `main.c` `test_bsl` for `HOST_FDL`, `pdl_flash_id`).
//!
//! CONNECT, then START_DATA (address, size, data `PDL1\0`), MID_DATA chunks of 0x800 bytes whose
//! address field is their sequence index, END_DATA (data `1C 3C 6E 06`) and EXEC_DATA. Once FDL1
//! runs the link speaks BSL with the FDL checksum: [`PdlSession::exec`] returns that session.

use std::collections::VecDeque;
use std::io::Read;
use std::time::Instant;

use super::bsl::{BslSession, Stage};
use super::error::UnisocError;
use super::link::{Link, Timeouts, read_source};
use super::wire::check::Check;
use super::wire::pdl::{
    END_DATA_FLAG, MID_DATA_CHUNK, PdlCommand, PdlDecoder, PdlEvent, PdlReply, PdlRequest, START_DATA_MAGIC,
    parse_reply,
};
use crate::device::Transport;

/// A session with the 8910 boot ROM.
pub struct PdlSession<'t> {
    link: Link<'t>,
    decoder: PdlDecoder,
    events: VecDeque<PdlEvent>,
}

/// Why a PDL answer did not come.
enum Wait {
    Reply(PdlReply),
    Nothing,
}

impl<'t> PdlSession<'t> {
    /// A session over `transport`, which must be the module's download port in its ROM stage.
    pub fn new(transport: impl Transport + 't, timeouts: Timeouts) -> PdlSession<'t> {
        PdlSession { link: Link::new(transport, timeouts), decoder: PdlDecoder::new(), events: VecDeque::new() }
    }

    /// CONNECT until the ROM answers ACK (a few attempts, each waited for briefly).
    pub fn connect(&mut self) -> Result<(), UnisocError> {
        let attempts = self.link.timeouts.attempts.max(1);
        for attempt in 1..=attempts {
            self.drain()?;
            let probe = self.link.timeouts.probe;
            match self.request(&PdlRequest::new(PdlCommand::Connect, 0, 0), probe)? {
                Wait::Reply(PdlReply::Ack) => {
                    self.link.note(format!("ROM: CONNECT answered ACK (attempt {attempt})"));
                    return Ok(());
                }
                Wait::Reply(reply) => return Err(UnisocError::RomRefused { command: PdlCommand::Connect, reply }),
                Wait::Nothing => {}
            }
        }
        Err(UnisocError::Timeout {
            during: format!("PDL CONNECT ({attempts} attempts)"),
            waited: self.link.timeouts.probe * attempts,
            received: self.decoder.pending(),
        })
    }

    /// Loads `len` bytes from `data` at `address` (START_DATA, MID_DATA, END_DATA); `progress` is
    /// called with (bytes sent, total) after each chunk.
    pub fn load(
        &mut self,
        address: u32,
        data: &mut dyn Read,
        len: u32,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), UnisocError> {
        let mut start = PdlRequest::new(PdlCommand::StartData, address, len);
        start.data = START_DATA_MAGIC.to_vec();
        self.expect_ack(&start)?;
        let mut buf = vec![0u8; MID_DATA_CHUNK];
        let mut done = 0u64;
        let mut index = 0u32;
        while done < u64::from(len) {
            let n = (u64::from(len) - done).min(MID_DATA_CHUNK as u64) as usize;
            read_source(data, &mut buf[..n], "FDL1", done)?;
            let mut mid = PdlRequest::new(PdlCommand::MidData, index, n as u32);
            mid.data = buf[..n].to_vec();
            self.expect_ack(&mid)?;
            done += n as u64;
            index += 1;
            progress(done, u64::from(len));
        }
        let mut end = PdlRequest::new(PdlCommand::EndData, 0, 0);
        end.data = END_DATA_FLAG.to_vec();
        self.expect_ack(&end)?;
        self.link.note(format!("ROM: loaded {len} bytes at {address:#x} in {index} chunks"));
        Ok(())
    }

    /// EXEC_DATA: FDL1 starts. The ROM may jump before it answers, so no answer within the probe
    /// wait is taken as started (unisoc_dloader ignores this answer); a refusal is an error. The
    /// returned session speaks BSL to FDL1.
    pub fn exec(mut self) -> Result<BslSession<'t>, UnisocError> {
        let probe = self.link.timeouts.probe;
        match self.request(&PdlRequest::new(PdlCommand::ExecData, 0, 0), probe)? {
            Wait::Reply(PdlReply::Ack) => self.link.note("ROM: EXEC_DATA answered ACK"),
            Wait::Reply(reply) => return Err(UnisocError::RomRefused { command: PdlCommand::ExecData, reply }),
            Wait::Nothing => self.link.note("ROM: no answer to EXEC_DATA; FDL1 assumed started"),
        }
        Ok(BslSession::from_link(self.link, Check::Sum, Stage::Fdl1))
    }

    /// What the device said so far.
    pub fn log(&self) -> &[String] {
        self.link.log()
    }

    /// Drops whatever arrived unasked (a late answer to an earlier attempt).
    fn drain(&mut self) -> Result<(), UnisocError> {
        self.events.clear();
        let mut buf = [0u8; 256];
        while self.link.read_until(&mut buf, Instant::now() + std::time::Duration::from_millis(1), "PDL CONNECT")? > 0 {
        }
        self.decoder = PdlDecoder::new();
        Ok(())
    }

    fn expect_ack(&mut self, req: &PdlRequest) -> Result<(), UnisocError> {
        let wait = self.link.timeouts.reply;
        match self.request(req, wait)? {
            Wait::Reply(PdlReply::Ack) => Ok(()),
            Wait::Reply(reply) => Err(UnisocError::RomRefused { command: req.command, reply }),
            Wait::Nothing => Err(UnisocError::Timeout {
                during: format!("PDL {} at {:#x}", req.command.name(), req.address),
                waited: wait,
                received: self.decoder.pending(),
            }),
        }
    }

    fn request(&mut self, req: &PdlRequest, wait: std::time::Duration) -> Result<Wait, UnisocError> {
        let during = format!("PDL {}", req.command.name());
        self.link.send(&req.encode(), &during)?;
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 256];
        loop {
            if let Some(event) = self.events.pop_front() {
                match event {
                    PdlEvent::Packet(body) => {
                        let reply = parse_reply(&body)
                            .map_err(|detail| UnisocError::Garbled { during: during.clone(), detail })?;
                        return Ok(Wait::Reply(reply));
                    }
                    PdlEvent::Skipped { bytes, why } => {
                        return Err(UnisocError::Garbled {
                            during,
                            detail: format!("{bytes} bytes that are not a PDL packet ({why})"),
                        });
                    }
                }
            }
            let n = self.link.read_until(&mut buf, deadline, &during)?;
            if n == 0 {
                return Ok(Wait::Nothing);
            }
            let events = self.decoder.push(&buf[..n]);
            self.events.extend(events);
        }
    }
}
