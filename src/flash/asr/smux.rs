//! The host end of the SMUX link: the preamble, the `UABT` sync and the HELLO exchange, then
//! frames in and out, every wait bounded.
//!
//! The handshake follows the published host tools (amitv87/asr_aboot `aboot.c`
//! `preamble_start` and `ethos.c` `smux_init`; ASR's aboot-tiny `preamble.c`, `smux.c`): the
//! raw preamble `UUUU~` every 100 ms for up to 2 s until the module answers the STDIO frame
//! `~UABT~`; then the host's own `~UABT~` until the module echoes it; then HELLO with the MTU the
//! host offers (1024) until the module's HELLO_REPLY names the MTU of the link. The same
//! handshake is repeated after each `call`, when the next stage starts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::error::AsrError;
use super::wire::smux::{self, Decoder, Event, Frame, FrameType};
use crate::device::Transport;

/// Timings of the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOptions {
    /// The MTU the host offers in HELLO. Default 1024, as the published tools.
    pub mtu: u16,
    /// How often the preamble, the sync frame and HELLO are repeated until answered. Default
    /// 100 ms.
    pub retry_interval: Duration,
    /// How long each of the three handshake steps may take. Default 2 s, as the published tools.
    pub step_timeout: Duration,
    /// How long a stage started by `call` may take to answer the preamble. Default 10 s, what
    /// ASR's aboot-tiny allows a stage for its first command.
    pub stage_start: Duration,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            mtu: smux::DEFAULT_MTU,
            retry_interval: Duration::from_millis(100),
            step_timeout: Duration::from_secs(2),
            stage_start: Duration::from_secs(10),
        }
    }
}

/// Where a line of device text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A STDIO frame (the stage's console).
    Stdio,
    /// An `INFO` reply on the command channel.
    Info,
}

/// A line the module printed, for the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceLine {
    /// STDIO or INFO.
    pub channel: Channel,
    /// The text, without its line end.
    pub text: String,
}

/// The most device lines kept; older ones are dropped and counted.
pub const MAX_LOG_LINES: usize = 8192;

/// The device's log, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceLog {
    lines: VecDeque<DeviceLine>,
    dropped: u64,
}

impl DeviceLog {
    /// Files a piece of text, split into lines (empty lines are skipped).
    pub fn push(&mut self, channel: Channel, text: &str) {
        for line in text.split(['\n', '\r']).map(str::trim_end).filter(|l| !l.is_empty()) {
            if self.lines.len() == MAX_LOG_LINES {
                self.lines.pop_front();
                self.dropped += 1;
            }
            self.lines.push_back(DeviceLine { channel, text: line.to_string() });
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &DeviceLine> {
        self.lines.iter()
    }

    /// How many lines were dropped to keep the log bounded.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line is kept.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// How many received bytes are kept to show in errors.
const RECENT: usize = 96;

/// The host end of a SMUX link over a [`Transport`].
pub struct SmuxLink<'a> {
    io: Box<dyn Transport + 'a>,
    port: String,
    options: LinkOptions,
    decoder: Decoder,
    pending: VecDeque<Event>,
    mtu: u16,
    log: DeviceLog,
    heartbeats: u64,
    malformed: u64,
    recent: VecDeque<u8>,
}

impl<'a> SmuxLink<'a> {
    /// A link over `io`, the module's download port `port` (named in errors). Nothing is sent
    /// until [`SmuxLink::handshake`].
    pub fn new(io: &'a mut dyn Transport, port: &str, options: LinkOptions) -> SmuxLink<'a> {
        SmuxLink::owning(Box::new(io), port, options)
    }

    /// A link that owns its transport (a session kept open between calls, as a flash's
    /// connection is).
    pub fn owning(io: Box<dyn Transport + 'a>, port: &str, options: LinkOptions) -> SmuxLink<'a> {
        let mtu = options.mtu;
        SmuxLink {
            io,
            port: port.to_string(),
            options,
            decoder: Decoder::default(),
            pending: VecDeque::new(),
            mtu,
            log: DeviceLog::default(),
            heartbeats: 0,
            malformed: 0,
            recent: VecDeque::with_capacity(RECENT),
        }
    }

    /// The port.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// The MTU agreed in the last HELLO exchange (before one: the one offered).
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// What the module printed so far.
    pub fn device_log(&self) -> &DeviceLog {
        &self.log
    }

    /// Files a line of device text (the command layer files `INFO` replies here).
    pub fn note(&mut self, channel: Channel, text: &str) {
        self.log.push(channel, text);
    }

    /// Heartbeat frames received (and skipped).
    pub fn heartbeats(&self) -> u64 {
        self.heartbeats
    }

    /// Malformed frames received (and dropped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The last bytes received, escaped, for error messages.
    pub fn recent(&self) -> String {
        let bytes: Vec<u8> = self.recent.iter().copied().collect();
        bytes.escape_ascii().to_string()
    }

    /// Runs the handshake: preamble, sync, HELLO. Returns the link's MTU.
    pub fn handshake(&mut self) -> Result<u16, AsrError> {
        self.handshake_within(self.options.step_timeout)
    }

    /// The handshake of a stage that `call` started: it may take up to
    /// [`LinkOptions::stage_start`] to answer the preamble.
    pub fn handshake_new_stage(&mut self) -> Result<u16, AsrError> {
        self.handshake_within(self.options.stage_start)
    }

    fn handshake_within(&mut self, preamble_window: Duration) -> Result<u16, AsrError> {
        self.preamble(preamble_window)?;
        self.repeat_until(&smux::SYNC_FRAME, "the UABT sync", "a ~UABT~ echo", |f| {
            (f.kind == FrameType::Stdio && f.payload.as_slice() == smux::SYNC).then_some(())
        })?;
        let hello = smux::encode(FrameType::Hello, &smux::mtu_payload(self.options.mtu));
        let offered = self.options.mtu;
        let theirs = self.repeat_until(&hello, "HELLO", "a HELLO_REPLY", |f| {
            (f.kind == FrameType::HelloReply).then(|| smux::parse_mtu(&f.payload))
        })?;
        let mtu = match theirs {
            Some(m) if m >= smux::MIN_MTU => m.min(offered),
            other => {
                return Err(AsrError::Unexpected {
                    port: self.port.clone(),
                    command: "HELLO".into(),
                    expected: format!("a 2-byte MTU of at least {}", smux::MIN_MTU),
                    got: format!("{other:?}"),
                });
            }
        };
        self.mtu = mtu;
        Ok(mtu)
    }

    /// Sends `UUUU~` until the module answers `~UABT~`.
    fn preamble(&mut self, window: Duration) -> Result<(), AsrError> {
        let started = Instant::now();
        let mut sent = 0;
        while started.elapsed() < window {
            self.write(&smux::PREAMBLE, "the UUUU~ preamble")?;
            sent += 1;
            let until = Instant::now() + self.options.retry_interval;
            while let Some(event) = self.next_event(until, "the UUUU~ preamble")? {
                match event {
                    Event::Frame(f) if f.kind == FrameType::Stdio && f.payload.as_slice() == smux::SYNC => {
                        return Ok(());
                    }
                    Event::Preamble => return Err(AsrError::Ethos { port: self.port.clone() }),
                    _ => {}
                }
            }
        }
        Err(AsrError::NoSync { port: self.port.clone(), sent, waited: started.elapsed(), received: self.recent() })
    }

    /// Sends `bytes` every retry interval until a frame gives `Some`, for at most a step timeout.
    fn repeat_until<T>(
        &mut self,
        bytes: &[u8],
        during: &str,
        expected: &'static str,
        mut accept: impl FnMut(&Frame) -> Option<T>,
    ) -> Result<T, AsrError> {
        let started = Instant::now();
        let deadline = started + self.options.step_timeout;
        while Instant::now() < deadline {
            self.write(bytes, during)?;
            let until = (Instant::now() + self.options.retry_interval).min(deadline);
            while let Some(event) = self.next_event(until, during)? {
                if let Event::Frame(f) = event
                    && let Some(t) = accept(&f)
                {
                    return Ok(t);
                }
            }
        }
        Err(AsrError::Timeout {
            port: self.port.clone(),
            during: during.into(),
            expected,
            waited: started.elapsed(),
            received: self.recent(),
        })
    }

    /// Sends one frame.
    pub fn send(&mut self, kind: FrameType, payload: &[u8], during: &str) -> Result<(), AsrError> {
        let bytes = smux::encode(kind, payload);
        self.write(&bytes, during)
    }

    /// Sends `data` as ABOOT_DATA frames of at most one MTU each.
    pub fn send_data(&mut self, data: &[u8], during: &str) -> Result<(), AsrError> {
        let mut wire = Vec::with_capacity(data.len() + data.len() / 32 + 16);
        for chunk in data.chunks(usize::from(self.mtu.max(1))) {
            smux::encode_into(FrameType::AbootData, chunk, &mut wire);
        }
        self.write(&wire, during)
    }

    fn write(&mut self, bytes: &[u8], during: &str) -> Result<(), AsrError> {
        self.io.send(bytes).map_err(|e| AsrError::from_io(&self.port, during, e))
    }

    /// The next frame other than a heartbeat, or `None` once `until` has passed. STDIO frames
    /// are filed in the device log and returned too.
    pub fn recv(&mut self, until: Instant, during: &str) -> Result<Option<Frame>, AsrError> {
        while let Some(event) = self.next_event(until, during)? {
            if let Event::Frame(f) = event {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    fn next_event(&mut self, until: Instant, during: &str) -> Result<Option<Event>, AsrError> {
        let mut buf = [0u8; 4096];
        loop {
            while let Some(event) = self.pending.pop_front() {
                match &event {
                    Event::Frame(f) if f.kind == FrameType::HeartBeat => self.heartbeats += 1,
                    Event::Malformed(_) => self.malformed += 1,
                    Event::Frame(f) => {
                        if f.kind == FrameType::Stdio && f.payload.as_slice() != smux::SYNC {
                            self.log.push(Channel::Stdio, &f.text());
                        }
                        return Ok(Some(event));
                    }
                    Event::Preamble => return Ok(Some(event)),
                }
            }
            let now = Instant::now();
            if now >= until {
                return Ok(None);
            }
            let n = self.io.read_within(&mut buf, until - now).map_err(|e| AsrError::from_io(&self.port, during, e))?;
            for &b in &buf[..n] {
                if self.recent.len() == RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(b);
            }
            let mut events = Vec::new();
            self.decoder.feed(&buf[..n], &mut events);
            self.pending.extend(events);
        }
    }
}
