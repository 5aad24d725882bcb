//! The host side of Firehose: the programmer's banner, `configure` (with the payload size
//! renegotiated after a NAK), and one exchange per command, every log line kept.
//!
//! Sequence and attributes follow the published hosts: QFirehose (`firehose_protocol.c`) drains
//! the banner (3 s for the first log, then silence) before `configure`; linux-msm/qdl, fwupd and
//! qualcomm/qdlrs re-send `configure` with the target's `MaxPayloadSizeToTargetInBytes` when it
//! NAKs a larger one. Operations (erase, program, read, patch, digest, power) are in [`ops`].

mod ops;
mod storage;

use std::time::{Duration, Instant};

pub use ops::{Extent, Power, ProgramReport};
pub use storage::StorageInfo;

use super::error::{QualcommError, summarize};
use super::link::Link;
use super::wire::firehose::{self, DEFAULT_MAX_XML, DOCUMENT_END, Message, Response, find, number};

/// How the session configures the programmer and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirehoseOptions {
    /// `MemoryName`: `nand` on MDM9x07 and SDX modules, `emmc` or `ufs` elsewhere.
    pub memory: String,
    /// The payload size asked for first (the target may NAK it and name its own).
    pub max_payload: u32,
    /// How long to wait for the banner's first line.
    pub banner_wait: Duration,
    /// The silence that ends the banner (it also ends at "End of supported functions").
    pub banner_quiet: Duration,
    /// How long a command may take to be answered (QFirehose allows 15 s per erase).
    pub timeout: Duration,
    /// How long raw data may stall.
    pub idle: Duration,
    /// How often a command NAKed before any data moved is sent again.
    pub nak_retries: u32,
}

impl Default for FirehoseOptions {
    fn default() -> FirehoseOptions {
        FirehoseOptions {
            memory: "nand".into(),
            max_payload: 1 << 20,
            banner_wait: Duration::from_secs(3),
            banner_quiet: Duration::from_millis(500),
            timeout: Duration::from_secs(15),
            idle: Duration::from_secs(10),
            nak_retries: 1,
        }
    }
}

/// What `configure` agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    /// `MemoryName` as the target answered it.
    pub memory_name: String,
    /// `Version`.
    pub version: String,
    /// `MinVersionSupported`.
    pub min_version: Option<u64>,
    /// `MaxPayloadSizeToTargetInBytes` in effect: raw data goes in writes of at most this.
    pub max_payload: u32,
    /// `MaxPayloadSizeToTargetInBytesSupported`.
    pub max_payload_supported: Option<u32>,
    /// `MaxXMLSizeInBytes`.
    pub max_xml: usize,
    /// `TargetName`, when given.
    pub target_name: Option<String>,
}

/// One line the programmer logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The command it came with (`banner` before the first).
    pub command: String,
    /// The text.
    pub text: String,
}

/// A Firehose session with a running programmer. It owns the link (get it back with
/// [`into_link`](Self::into_link)).
pub struct FirehoseSession<'t> {
    link: Link<'t>,
    options: FirehoseOptions,
    config: Configured,
    functions: Vec<String>,
    log: Vec<LogLine>,
    current: String,
}

impl<'t> FirehoseSession<'t> {
    /// Reads the programmer's banner and configures it.
    pub fn connect(link: Link<'t>, options: FirehoseOptions) -> Result<FirehoseSession<'t>, QualcommError> {
        let config = Configured {
            memory_name: options.memory.clone(),
            version: String::new(),
            min_version: None,
            max_payload: options.max_payload,
            max_payload_supported: None,
            max_xml: DEFAULT_MAX_XML,
            target_name: None,
        };
        let mut s =
            FirehoseSession { link, options, config, functions: Vec::new(), log: Vec::new(), current: "banner".into() };
        s.banner()?;
        s.configure()?;
        Ok(s)
    }

    /// The link (after `power`, or to hand it to a new session).
    pub fn into_link(self) -> Link<'t> {
        self.link
    }

    /// What `configure` agreed on.
    pub fn config(&self) -> &Configured {
        &self.config
    }

    /// The functions the banner listed (`program`, `read`, `getsha256digest`, ...).
    pub fn functions(&self) -> &[String] {
        &self.functions
    }

    /// Whether the banner listed `function` (true when there was no list).
    pub fn supports(&self, function: &str) -> bool {
        self.functions.is_empty() || self.functions.iter().any(|f| f.eq_ignore_ascii_case(function))
    }

    /// Every line the programmer logged so far.
    pub fn log(&self) -> &[LogLine] {
        &self.log
    }

    /// Takes the lines logged so far (for the journal), leaving none.
    pub fn take_log(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.log)
    }

    fn banner(&mut self) -> Result<(), QualcommError> {
        let first = Instant::now() + self.options.banner_wait;
        let mut deadline = first;
        let mut listing = false;
        loop {
            let message = match self.try_message(deadline)? {
                Some(m) => m,
                None => return Ok(()), // silence: the banner is over (or there was none)
            };
            deadline = Instant::now() + self.options.banner_quiet;
            let Message::Log(text) = message else { continue };
            let body = text.trim().trim_start_matches("INFO:").trim();
            if body.starts_with("Supported Functions") {
                listing = true;
            } else if body.starts_with("End of supported functions") {
                return Ok(());
            } else if listing && !body.is_empty() && !body.contains(' ') {
                self.functions.push(body.to_string());
            }
        }
    }

    fn configure(&mut self) -> Result<(), QualcommError> {
        let mut asked = self.options.max_payload;
        let mut renegotiated = false;
        let mut retries = self.options.nak_retries;
        loop {
            let attrs = [
                ("MemoryName", self.options.memory.clone()),
                ("Verbose", "0".into()),
                ("AlwaysValidate", "0".into()),
                ("MaxDigestTableSizeInBytes", "2048".into()),
                ("MaxPayloadSizeToTargetInBytes", asked.to_string()),
                ("ZlpAwareHost", "1".into()),
                ("SkipStorageInit", "0".into()),
            ];
            let r = self.exchange("configure", &attrs)?;
            let offered =
                r.element.attr("MaxPayloadSizeToTargetInBytes").and_then(number).and_then(|n| u32::try_from(n).ok());
            if !r.ack {
                match offered {
                    Some(n) if n > 0 && n < asked && !renegotiated => {
                        self.note(format!("configure: {asked} bytes refused; the programmer takes {n}"));
                        asked = n;
                        renegotiated = true;
                        continue;
                    }
                    _ if retries > 0 => {
                        retries -= 1;
                        self.note("configure NAKed; sending it again".into());
                        continue;
                    }
                    _ => return Err(self.nak_error("configure")),
                }
            }
            let payload = offered.unwrap_or(asked).min(asked);
            if payload == 0 {
                return Err(QualcommError::Firehose {
                    command: "configure".into(),
                    problem: "the programmer accepted a payload size of 0".into(),
                });
            }
            let e = &r.element;
            self.config = Configured {
                memory_name: e.attr("MemoryName").unwrap_or(&self.options.memory).to_string(),
                version: e.attr("Version").unwrap_or_default().to_string(),
                min_version: e.attr("MinVersionSupported").and_then(number),
                max_payload: payload,
                max_payload_supported: e
                    .attr("MaxPayloadSizeToTargetInBytesSupported")
                    .and_then(number)
                    .and_then(|n| u32::try_from(n).ok()),
                max_xml: e
                    .attr("MaxXMLSizeInBytes")
                    .and_then(number)
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n >= 256)
                    .unwrap_or(DEFAULT_MAX_XML),
                target_name: e.attr("TargetName").map(str::to_string),
            };
            return Ok(());
        }
    }

    fn note(&mut self, text: String) {
        self.log.push(LogLine { command: self.current.clone(), text: format!("(fwguard) {text}") });
    }

    /// Sends `tag` and reads until its response; log lines are kept. The response may be a NAK.
    pub(crate) fn exchange(&mut self, tag: &str, attrs: &[(&str, String)]) -> Result<Response, QualcommError> {
        self.send_command(tag, attrs)?;
        self.response(self.options.timeout)
    }

    pub(crate) fn send_command(&mut self, tag: &str, attrs: &[(&str, String)]) -> Result<(), QualcommError> {
        self.current = tag.to_string();
        let xml = firehose::command(tag, attrs);
        if xml.len() > self.config.max_xml {
            return Err(QualcommError::Invalid(format!(
                "the <{tag}> command is {} bytes; the programmer takes at most {}",
                xml.len(),
                self.config.max_xml
            )));
        }
        self.link.send(&xml, self.options.timeout, &format!("sending <{tag}>"))
    }

    /// Reads messages until a response arrives (within `wait`), keeping log lines.
    pub(crate) fn response(&mut self, wait: Duration) -> Result<Response, QualcommError> {
        let deadline = Instant::now() + wait;
        loop {
            match self.try_message(deadline)? {
                Some(Message::Response(r)) => return Ok(r),
                Some(Message::Log(_) | Message::Other(_)) => {}
                None => {
                    return Err(QualcommError::Timeout {
                        doing: format!("waiting for the answer to <{}>", self.current),
                        after: wait,
                        received: summarize(self.link.pending()),
                    });
                }
            }
        }
    }

    /// The next message, or `None` when none completes by `deadline`. Log lines are recorded.
    fn try_message(&mut self, deadline: Instant) -> Result<Option<Message>, QualcommError> {
        loop {
            let pending = self.link.pending();
            let start = pending.iter().position(|b| !b.is_ascii_whitespace() && *b != 0).unwrap_or(pending.len());
            if let Some(at) = find(&pending[start..], DOCUMENT_END) {
                let end = start + at + DOCUMENT_END.len();
                let bytes = self.link.take(end);
                let message = firehose::parse_message(&bytes[start..]).map_err(|problem| QualcommError::Firehose {
                    command: self.current.clone(),
                    problem: format!("unreadable message {}: {problem}", summarize(&bytes[start..])),
                })?;
                match &message {
                    Message::Log(text) => self.log.push(LogLine { command: self.current.clone(), text: text.clone() }),
                    Message::Other(e) => {
                        self.log.push(LogLine { command: self.current.clone(), text: format!("<{}> (ignored)", e.tag) })
                    }
                    Message::Response(_) => {}
                }
                return Ok(Some(message));
            }
            if pending.len() - start > self.config.max_xml.max(DEFAULT_MAX_XML) * 4 {
                return Err(QualcommError::Firehose {
                    command: self.current.clone(),
                    problem: format!("{} bytes without the end of a message: {}", pending.len(), summarize(pending)),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.link
                .fill(left.min(Duration::from_millis(200)), &format!("waiting for the answer to <{}>", self.current))?;
        }
    }

    /// The NAK error for `command`, with the log lines that came with it.
    pub(crate) fn nak_error(&self, command: &str) -> QualcommError {
        let log =
            self.log.iter().rev().take_while(|l| l.command == self.current).map(|l| l.text.clone()).collect::<Vec<_>>();
        QualcommError::Nak { command: command.to_string(), log: log.into_iter().rev().collect() }
    }

    /// Sends `tag` until it is ACKed (a NAK is retried up to `nak_retries` times: a command
    /// refused before any data moved changed nothing).
    pub(crate) fn command_acked(
        &mut self,
        tag: &str,
        attrs: &[(&str, String)],
        what: &str,
    ) -> Result<Response, QualcommError> {
        let mut retries = self.options.nak_retries;
        loop {
            let r = self.exchange(tag, attrs)?;
            if r.ack {
                return Ok(r);
            }
            if retries == 0 {
                return Err(self.nak_error(what));
            }
            retries -= 1;
            self.note(format!("{what} NAKed; sending it again"));
        }
    }
}
