//! The host side of the DIAG port in normal mode: the build-id query and the switch into
//! emergency download.

use std::time::{Duration, Instant};

use super::error::{QualcommError, summarize};
use super::link::Link;
use super::wire::diag::{BAD_CMD, BAD_LEN, BAD_PARM, BuildId, DOWNLOAD_SWITCH, EXT_BUILD_ID};
use super::wire::hdlc::{self, Decoder, Frame};
use crate::device::Transport;

/// How long DIAG waits for answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiagOptions {
    /// For each answer (fwupd retries the switch for 30 s; one answer comes well within 2 s).
    pub timeout: Duration,
}

impl Default for DiagOptions {
    fn default() -> DiagOptions {
        DiagOptions { timeout: Duration::from_secs(2) }
    }
}

/// A DIAG session on a module's DM port.
pub struct DiagSession<'t> {
    link: Link<'t>,
    decoder: Decoder,
    options: DiagOptions,
    /// Frames that were not the answer waited for (logs, events), kept for the journal.
    skipped: Vec<Vec<u8>>,
}

impl<'t> DiagSession<'t> {
    /// A session over the DM port's transport (owned, or borrowed as `&mut port`).
    pub fn new(transport: impl Transport + 't, options: DiagOptions) -> DiagSession<'t> {
        DiagSession { link: Link::new(transport), decoder: Decoder::default(), options, skipped: Vec::new() }
    }

    /// Frames that arrived but were not answers to this session's commands.
    pub fn skipped(&self) -> &[Vec<u8>] {
        &self.skipped
    }

    /// Asks the extended build id (`7C`): the software revision the module runs.
    pub fn build_id(&mut self) -> Result<BuildId, QualcommError> {
        self.send(&[EXT_BUILD_ID], "sending the build-id query")?;
        let answer = self.answer(EXT_BUILD_ID, "the build-id answer")?;
        BuildId::decode(&answer).map_err(|got| QualcommError::Diag {
            command: "extended build id (7C)",
            expected: "a build id".into(),
            got,
        })
    }

    /// Sends the download switch (`4B 65 01 00`) and waits for its echo; the module then resets
    /// into emergency download. Nothing more can be sent on this port afterwards.
    pub fn switch_to_edl(mut self) -> Result<(), QualcommError> {
        self.send(&DOWNLOAD_SWITCH, "sending the download switch")?;
        let echo = self.answer(DOWNLOAD_SWITCH[0], "the echo of the download switch")?;
        if echo != DOWNLOAD_SWITCH {
            return Err(QualcommError::Diag {
                command: "download switch (4B 65 01 00)",
                expected: "its echo, 4B 65 01 00".into(),
                got: summarize(&echo),
            });
        }
        Ok(())
    }

    fn send(&mut self, payload: &[u8], doing: &str) -> Result<(), QualcommError> {
        self.link.send(&hdlc::encode(payload), self.options.timeout, doing)
    }

    /// The next good frame answering a command whose first byte is `code` (or refusing it);
    /// other frames are kept in `skipped`.
    fn answer(&mut self, code: u8, what: &str) -> Result<Vec<u8>, QualcommError> {
        let started = Instant::now();
        loop {
            let bytes = self.link.take_all();
            for frame in self.decoder.feed(&bytes) {
                match frame {
                    Frame::Good(p) if p.first() == Some(&code) => return Ok(p),
                    Frame::Good(p)
                        if matches!(p.first(), Some(&(BAD_CMD | BAD_PARM | BAD_LEN))) && p.get(1) == Some(&code) =>
                    {
                        return Err(QualcommError::Diag {
                            command: if code == EXT_BUILD_ID {
                                "extended build id (7C)"
                            } else {
                                "download switch (4B 65 01 00)"
                            },
                            expected: what.to_string(),
                            got: format!("a refusal ({})", summarize(&p)),
                        });
                    }
                    Frame::Good(p) | Frame::BadCrc(p) => self.skipped.push(p),
                    Frame::Overlong => self.skipped.push(b"(an overlong frame)".to_vec()),
                }
            }
            let left = self.options.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(QualcommError::Timeout {
                    doing: format!("waiting for {what}"),
                    after: self.options.timeout,
                    received: self.skipped.last().map(|f| summarize(f)).unwrap_or_default(),
                });
            }
            self.link.fill(left.min(Duration::from_millis(200)), "waiting for a DIAG answer")?;
        }
    }
}
