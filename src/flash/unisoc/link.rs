//! The byte link under the host sessions: bounded waits, byte counts and the device log.

use std::io;
use std::time::{Duration, Instant};

use super::error::UnisocError;
use crate::device::Transport;

/// How long the host waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// For an answer to an ordinary request.
    pub reply: Duration,
    /// For an answer to an erase (unisoc_dloader allows 30 s for an erase-all).
    pub erase: Duration,
    /// For the boot ROM's answer to CONNECT and EXEC_DATA, and for each check-baud attempt.
    pub probe: Duration,
    /// Attempts at CONNECT (PDL) and check-baud (BSL) before giving up.
    pub attempts: u32,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            reply: Duration::from_secs(5),
            erase: Duration::from_secs(60),
            probe: Duration::from_secs(1),
            attempts: 5,
        }
    }
}

/// One entry of what the device said, for the journal.
pub type LogLine = String;

/// A transport with deadlines, counters and a log. It owns its transport, which may be a borrow
/// (`&mut T` is a [`Transport`] too), so a session can hold the port it speaks on.
pub struct Link<'t> {
    transport: Box<dyn Transport + 't>,
    /// The waits.
    pub timeouts: Timeouts,
    log: Vec<LogLine>,
    sent: u64,
    received: u64,
}

impl<'t> Link<'t> {
    /// Wraps a transport.
    pub fn new(transport: impl Transport + 't, timeouts: Timeouts) -> Link<'t> {
        Link { transport: Box::new(transport), timeouts, log: Vec::new(), sent: 0, received: 0 }
    }

    /// Sends all of `bytes`.
    pub fn send(&mut self, bytes: &[u8], during: &str) -> Result<(), UnisocError> {
        self.transport.send(bytes).map_err(|e| io_error(e, during))?;
        self.sent += bytes.len() as u64;
        Ok(())
    }

    /// Reads what arrives before `deadline` into `buf`; `Ok(0)` when the deadline passed.
    pub fn read_until(&mut self, buf: &mut [u8], deadline: Instant, during: &str) -> Result<usize, UnisocError> {
        let now = Instant::now();
        if now >= deadline {
            return Ok(0);
        }
        let wait = (deadline - now).min(Duration::from_millis(200));
        let n = self.transport.read_within(buf, wait).map_err(|e| io_error(e, during))?;
        self.received += n as u64;
        Ok(n)
    }

    /// Notes something the device said.
    pub fn note(&mut self, line: impl Into<String>) {
        self.log.push(line.into());
    }

    /// What the device said so far.
    pub fn log(&self) -> &[LogLine] {
        &self.log
    }

    /// Bytes sent and received so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.sent, self.received)
    }
}

/// A transport error as a session error: a closed link is [`UnisocError::Disconnected`].
pub fn io_error(e: io::Error, during: &str) -> UnisocError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => UnisocError::Disconnected { during: during.into(), detail: e.to_string() },
        // A pseudo-terminal whose other side closed reads EIO; an unplugged USB serial port ENODEV or ENXIO.
        _ if matches!(e.raw_os_error(), Some(nix::libc::EIO | nix::libc::ENODEV | nix::libc::ENXIO)) => {
            UnisocError::Disconnected { during: during.into(), detail: e.to_string() }
        }
        _ => UnisocError::Io { during: during.into(), source: e },
    }
}

/// Reads exactly `buf.len()` bytes of image data from `source`, or says how far it got.
pub fn read_source(source: &mut dyn io::Read, buf: &mut [u8], what: &str, done: u64) -> Result<(), UnisocError> {
    let mut got = 0;
    while got < buf.len() {
        match source.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(UnisocError::Source {
                    what: what.into(),
                    detail: format!("the data ended after {} bytes", done + got as u64),
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(UnisocError::Source { what: what.into(), detail: e.to_string() }),
        }
    }
    Ok(())
}
