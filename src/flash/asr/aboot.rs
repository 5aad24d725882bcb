//! The aboot command layer on the host: commands and their replies, `download` with its data,
//! and the stages (`verify`, `call` or `nop`, and the handshake of the next stage).
//!
//! One command is in flight at a time. The device may send any number of `INFO` (and `PROG`)
//! replies before the final `OKAY`, `FAIL` or `DATA`; each re-arms the wait, as in amitv87/asr_aboot
//! (`aboot_transport_send_cmd`: every reply on the command channel signals the waiter), while
//! heartbeats and console text do not. The waits are ASR's aboot-tiny's: 10 s for the first
//! command, 30 s normally, 60 s after a transfer, 300 s after `call`.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::AsrError;
use super::smux::{Channel, DeviceLog, LinkOptions, SmuxLink};
use super::wire::aboot::{self, Command, Reply};
use super::wire::smux::FrameType;
use crate::device::Transport;

/// How long to wait for replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// The first command after a handshake. Default 10 s.
    pub first: Duration,
    /// Any other command, and each `INFO` re-arms it. Default 30 s.
    pub reply: Duration,
    /// The reply after a transfer. Default 60 s.
    pub after_data: Duration,
    /// The reply to `call`. Default 300 s.
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            first: Duration::from_secs(10),
            reply: Duration::from_secs(30),
            after_data: Duration::from_secs(60),
            call: Duration::from_secs(300),
        }
    }
}

/// Options of an aboot session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AbootOptions {
    /// The SMUX handshake.
    pub link: LinkOptions,
    /// Reply waits.
    pub timeouts: Timeouts,
}

/// Which program on the module answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The boot ROM (AROM).
    Rom,
    /// `preboot.img` (PMIC and PSRAM set-up).
    Preboot,
    /// `flasher.img` (flash probe, partition table, writes).
    Flasher,
}

impl Stage {
    /// `rom`, `preboot` or `flasher`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Rom => "rom",
            Stage::Preboot => "preboot",
            Stage::Flasher => "flasher",
        }
    }
}

/// A command's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The final reply: `OKAY`, `FAIL` or `DATA`.
    pub reply: Reply,
    /// `INFO` texts before it.
    pub info: Vec<String>,
    /// Console (STDIO) text that arrived during the exchange, line by line.
    pub console: Vec<String>,
}

impl Response {
    /// Every line the device said during the exchange: console text, then `INFO` texts.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.console.iter().chain(&self.info).map(String::as_str)
    }
}

/// One command and its final reply, for the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The stage that answered.
    pub stage: Stage,
    /// The command as sent.
    pub command: String,
    /// The final reply as received.
    pub reply: String,
    /// How long it took, in milliseconds.
    pub ms: u64,
}

/// The most exchanges kept in the transcript.
pub const MAX_TRANSCRIPT: usize = 16_384;

/// What the boot ROM says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RomIdentity {
    /// `getvar:version`, e.g. `0.6`.
    pub version: String,
    /// `getvar:version-bootrom`, e.g. `2022.11.06`.
    pub version_bootrom: String,
    /// `getvar:product`, e.g. `arom-tiny`.
    pub product: String,
    /// `getvar:max-download-size`, when it answers one.
    pub max_download_size: Option<u32>,
}

/// An aboot session with a module in its download mode.
pub struct AbootSession<'a> {
    pub(super) link: SmuxLink<'a>,
    options: AbootOptions,
    stage: Stage,
    bootrom: Option<String>,
    max_download: Option<u32>,
    fresh: bool,
    transcript: Vec<Exchange>,
    pub(super) flash_selected: bool,
    deadline: Option<Instant>,
}

impl<'a> AbootSession<'a> {
    /// Connects to the boot ROM on `io` (the download port `port`): runs the SMUX handshake.
    pub fn connect(io: &'a mut dyn Transport, port: &str, options: AbootOptions) -> Result<AbootSession<'a>, AsrError> {
        AbootSession::open(Box::new(io), port, options)
    }

    /// [`AbootSession::connect`] over a transport the session owns (a flash's connection keeps
    /// its session between calls).
    pub fn open(io: Box<dyn Transport + 'a>, port: &str, options: AbootOptions) -> Result<AbootSession<'a>, AsrError> {
        let mut link = SmuxLink::owning(io, port, options.link.clone());
        link.handshake()?;
        Ok(AbootSession {
            link,
            options,
            stage: Stage::Rom,
            bootrom: None,
            max_download: None,
            fresh: true,
            transcript: Vec::new(),
            flash_selected: false,
            deadline: None,
        })
    }

    /// Ends every later wait for a reply at `deadline` at the latest (`None`: only the
    /// [`Timeouts`] bound them), so a caller can bound a whole exchange of many commands.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// `at`, or the deadline when that comes first.
    pub(super) fn capped(&self, at: Instant) -> Instant {
        self.deadline.map_or(at, |d| at.min(d))
    }

    /// The port.
    pub fn port(&self) -> &str {
        self.link.port()
    }

    /// The stage the session talks to.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The link's MTU.
    pub fn mtu(&self) -> u16 {
        self.link.mtu()
    }

    /// What the module printed (console and `INFO`), bounded.
    pub fn device_log(&self) -> &DeviceLog {
        self.link.device_log()
    }

    /// Every command sent and its final reply, oldest first.
    pub fn transcript(&self) -> &[Exchange] {
        &self.transcript
    }

    /// Heartbeats received so far.
    pub fn heartbeats(&self) -> u64 {
        self.link.heartbeats()
    }

    fn check_line(&self, cmd: &Command) -> Result<String, AsrError> {
        let line = cmd.line();
        if line.len() > aboot::MAX_LINE || line.is_empty() {
            return Err(AsrError::Invalid {
                port: self.port().into(),
                operation: line.chars().take(40).collect(),
                problem: format!("a command is 1 to {} bytes, this one is {}", aboot::MAX_LINE, line.len()),
            });
        }
        Ok(line)
    }

    /// Sends `cmd` and waits for its final reply. A `FAIL` is a [`Response`], not an error.
    pub fn command(&mut self, cmd: &Command) -> Result<Response, AsrError> {
        let timeout = match cmd {
            Command::Call => self.options.timeouts.call,
            _ if self.fresh => self.options.timeouts.first,
            _ => self.options.timeouts.reply,
        };
        self.command_within(cmd, timeout)
    }

    fn command_within(&mut self, cmd: &Command, timeout: Duration) -> Result<Response, AsrError> {
        let line = self.check_line(cmd)?;
        let started = Instant::now();
        self.link.send(FrameType::AbootCmd, line.as_bytes(), &line)?;
        self.fresh = false;
        let response = self.wait_final(&line, timeout)?;
        self.record(&line, &response.reply, started);
        Ok(response)
    }

    fn record(&mut self, line: &str, reply: &Reply, started: Instant) {
        if self.transcript.len() == MAX_TRANSCRIPT {
            self.transcript.remove(0);
        }
        self.transcript.push(Exchange {
            stage: self.stage,
            command: line.to_string(),
            reply: reply.line(),
            ms: started.elapsed().as_millis() as u64,
        });
    }

    /// Waits for the final reply to `during`; `INFO` and `PROG` re-arm the wait.
    pub(super) fn wait_final(&mut self, during: &str, timeout: Duration) -> Result<Response, AsrError> {
        let started = Instant::now();
        let mut until = self.capped(started + timeout);
        let mut info = Vec::new();
        let mut console = Vec::new();
        loop {
            let Some(frame) = self.link.recv(until, during)? else {
                return Err(AsrError::Timeout {
                    port: self.port().into(),
                    during: during.into(),
                    expected: "OKAY, FAIL or DATA",
                    waited: started.elapsed(),
                    received: self.link.recent(),
                });
            };
            match frame.kind {
                FrameType::AbootCmd => match Reply::parse(&frame.payload) {
                    Reply::Info(text) => {
                        self.link.note(Channel::Info, &text);
                        info.push(text);
                        until = self.capped(Instant::now() + timeout);
                    }
                    Reply::Progress(_) => until = self.capped(Instant::now() + timeout),
                    Reply::Other(text) => self.link.note(Channel::Info, &format!("(not an aboot reply) {text}")),
                    reply => return Ok(Response { reply, info, console }),
                },
                FrameType::Stdio => console.extend(frame.text().lines().map(str::to_string)),
                _ => {}
            }
        }
    }

    /// Sends `cmd` and requires `OKAY`; returns its text.
    pub fn okay(&mut self, cmd: &Command) -> Result<String, AsrError> {
        let response = self.command(cmd)?;
        self.expect_okay(cmd, response)
    }

    pub(super) fn expect_okay(&self, cmd: &Command, response: Response) -> Result<String, AsrError> {
        match response.reply {
            Reply::Okay(text) => Ok(text),
            Reply::Fail(reason) => Err(AsrError::Refused { port: self.port().into(), command: cmd.line(), reason }),
            other => Err(AsrError::Unexpected {
                port: self.port().into(),
                command: cmd.line(),
                expected: "OKAY or FAIL".into(),
                got: other.line(),
            }),
        }
    }

    /// `getvar:<key>`: the value the stage answers.
    pub fn getvar(&mut self, key: &str) -> Result<String, AsrError> {
        let value = self.okay(&Command::GetVar(key.into()))?;
        if key == "version-bootrom" && self.stage == Stage::Rom {
            self.bootrom = Some(value.clone());
        }
        Ok(value)
    }

    /// A recipe's `require <key>=<expected>`: reads the variable and checks it the way ASR's
    /// aboot-tiny does ([`aboot::require_matches`]). Returns the value.
    pub fn require(&mut self, key: &str, expected: &str) -> Result<String, AsrError> {
        let actual = self.getvar(key)?;
        if aboot::require_matches(key, expected, &actual) {
            Ok(actual)
        } else {
            Err(AsrError::Requirement { port: self.port().into(), key: key.into(), expected: expected.into(), actual })
        }
    }

    /// Reads the boot ROM's identity (`version`, `version-bootrom`, `product`,
    /// `max-download-size`).
    pub fn identify(&mut self) -> Result<RomIdentity, AsrError> {
        Ok(RomIdentity {
            version: self.getvar("version")?,
            version_bootrom: self.getvar("version-bootrom")?,
            product: self.getvar("product")?,
            max_download_size: self.max_download_size().ok(),
        })
    }

    /// `getvar:max-download-size` of the current stage (asked once per stage).
    pub fn max_download_size(&mut self) -> Result<u32, AsrError> {
        if let Some(n) = self.max_download {
            return Ok(n);
        }
        let text = self.getvar("max-download-size")?;
        let n = aboot::parse_hex32(text.trim()).ok_or_else(|| AsrError::Unexpected {
            port: self.port().into(),
            command: "getvar:max-download-size".into(),
            expected: "a size in hex".into(),
            got: text.clone(),
        })?;
        self.max_download = Some(n);
        Ok(n)
    }

    /// `progress:<weight>`.
    pub fn progress(&mut self, weight: &str) -> Result<(), AsrError> {
        self.okay(&Command::Progress(weight.into())).map(drop)
    }

    /// `download:<len>`, then `len` bytes from `source`, then `OKAY`. `progress` is told the
    /// bytes sent so far after each chunk.
    pub fn download(&mut self, source: &mut dyn Read, len: u32, progress: &mut dyn FnMut(u64)) -> Result<(), AsrError> {
        let cmd = Command::Download(len);
        let line = cmd.line();
        if len == 0 {
            return Err(self.invalid(&line, "a download has at least one byte".into()));
        }
        if let Some(max) = self.max_download
            && len > max
        {
            return Err(self.invalid(&line, format!("{len} bytes is more than the stage's max-download-size {max}")));
        }
        let started = Instant::now();
        let response = self.command(&cmd)?;
        match response.reply {
            Reply::Data(n) if n == len => {}
            Reply::Fail(reason) => return Err(AsrError::Refused { port: self.port().into(), command: line, reason }),
            other => {
                return Err(AsrError::Unexpected {
                    port: self.port().into(),
                    command: line,
                    expected: format!("DATA{len:08x}"),
                    got: other.line(),
                });
            }
        }
        let chunk = usize::from(self.mtu()) * 32;
        let mut buf = vec![0u8; chunk];
        let mut sent = 0u64;
        while sent < u64::from(len) {
            let want = (u64::from(len) - sent).min(chunk as u64) as usize;
            source.read_exact(&mut buf[..want]).map_err(|e| AsrError::Input {
                port: self.port().into(),
                during: line.clone(),
                source: e,
            })?;
            self.link.send_data(&buf[..want], &line)?;
            sent += want as u64;
            progress(sent);
        }
        let response = self.wait_final(&line, self.options.timeouts.after_data)?;
        self.record(&format!("{line} (data)"), &response.reply, started);
        self.expect_okay(&cmd, response).map(drop)
    }

    /// [`AbootSession::download`] of bytes in memory.
    pub fn download_bytes(&mut self, bytes: &[u8]) -> Result<(), AsrError> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| self.invalid("download", format!("{} bytes do not fit a download", bytes.len())))?;
        self.download(&mut &bytes[..], len, &mut |_| {})
    }

    pub(super) fn timeouts_reply(&self) -> Duration {
        self.options.timeouts.reply
    }

    pub(super) fn invalid(&self, operation: &str, problem: String) -> AsrError {
        AsrError::Invalid { port: self.port().into(), operation: operation.into(), problem }
    }

    pub(super) fn need(&self, stage: Stage, operation: &str) -> Result<(), AsrError> {
        if self.stage == stage {
            return Ok(());
        }
        Err(AsrError::WrongStage {
            port: self.port().into(),
            operation: operation.into(),
            needed: stage.name(),
            current: self.stage.name(),
        })
    }

    /// A recipe's `call <image>`: downloads the stage, `verify`, then `call` (or `nop` when the
    /// boot ROM is 2019.01.15, as the published tools do, a `FAIL` to it tolerated), and redoes the
    /// SMUX handshake with the stage that now runs. Returns that stage: the one its console names
    /// ("Executing preboot application..." / "Executing flasher application...", strings of the
    /// ASR images in waybyte/logicromsdk `lib/asr160x/pack/ASR1601/`), else the next in order.
    pub fn call(&mut self, image: &[u8]) -> Result<Stage, AsrError> {
        if self.stage == Stage::Flasher {
            return Err(self.invalid("call", "the flasher is the last stage; there is nothing to call from it".into()));
        }
        if self.stage == Stage::Rom && self.bootrom.is_none() {
            self.getvar("version-bootrom")?;
        }
        self.download_bytes(image)?;
        self.okay(&Command::Verify)?;
        let crane = self.bootrom.as_deref() == Some(aboot::CRANE_BOOTROM);
        let seen = self.device_log().len() + self.device_log().dropped() as usize;
        if crane {
            let _ = self.command(&Command::Nop)?;
        } else {
            self.okay(&Command::Call)?;
        }
        self.link.handshake_new_stage()?;
        self.fresh = true;
        self.max_download = None;
        self.flash_selected = false;
        let log = self.device_log();
        let new_lines: Vec<&str> =
            log.lines().skip(seen.saturating_sub(log.dropped() as usize)).map(|l| l.text.as_str()).collect();
        let named = |words: &[&str]| new_lines.iter().any(|l| words.iter().any(|w| l.contains(w)));
        self.stage = if named(&["flasher application", "Flasher version"]) {
            Stage::Flasher
        } else if named(&["preboot application", "Preboot version"]) || self.stage == Stage::Rom {
            Stage::Preboot
        } else {
            Stage::Flasher
        };
        Ok(self.stage)
    }

    /// `reboot`: the module answers `OKAY` and restarts (into normal mode when its flash holds a
    /// working boot loader). A `disconnect` follows so the module need not wait; its answer is
    /// not required.
    pub fn reboot(mut self) -> Result<(), AsrError> {
        self.okay(&Command::Reboot)?;
        let line = Command::Disconnect.line();
        if self.link.send(FrameType::AbootCmd, line.as_bytes(), &line).is_ok() {
            let _ = self.wait_final(&line, Duration::from_millis(500));
        }
        Ok(())
    }
}
