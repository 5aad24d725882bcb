//! An AT session: sends one command at a time and collects its answer, bounded in time and bytes.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::at::{FinalResult, ParsedResponse, parse_response};
use super::error::DeviceError;
use super::transport::{SerialTransport, Transport};
use crate::progress::{Event, Reporter};

/// Limits and timings of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Baud rate (USB ports ignore it; UARTs need it). Default 115200.
    pub baud_rate: u32,
    /// How long one command may take to reach its final result. Default 3 s.
    pub command_timeout: Duration,
    /// How long to keep sending `AT` to a module that is still booting. Default 10 s.
    pub boot_timeout: Duration,
    /// How long to wait for `OK` before sending `AT` again while syncing. Default 300 ms.
    pub sync_interval: Duration,
    /// The most a whole session (all commands) may take. Default 30 s.
    pub deadline: Duration,
    /// The most bytes one answer may have. Default 4 KiB.
    pub max_response: usize,
    /// Turn echo off with `ATE0` after syncing. Default false: the parser copes with both.
    pub echo_off: bool,
    /// Where to report what the session waits for (a booting module, a slow answer).
    pub progress: Reporter,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            baud_rate: 115_200,
            command_timeout: Duration::from_secs(3),
            boot_timeout: Duration::from_secs(10),
            sync_interval: Duration::from_millis(300),
            deadline: Duration::from_secs(30),
            max_response: 4096,
            echo_off: false,
            progress: Reporter::none(),
        }
    }
}

/// One command and what came back, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The command as sent, without the `\r`.
    pub command: String,
    /// Every non-empty line that arrived, in order: echo, URCs, answer and final result.
    pub lines: Vec<String>,
    /// The final result (`OK`, `ERROR`, `+CME ERROR: 3`), or none when it did not come.
    pub result: Option<String>,
    /// How long the exchange took, in milliseconds.
    pub ms: u64,
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Whether the module echoed the command.
    pub echo: bool,
    /// The information lines.
    pub lines: Vec<String>,
    /// URCs that arrived with the answer.
    pub urcs: Vec<String>,
    /// The final result.
    pub result: FinalResult,
}

/// What one bounded exchange ended with.
enum Outcome {
    Answered(Reply),
    NoResult { parsed: ParsedResponse, received: Vec<u8>, waited: Duration, hit_deadline: bool },
}

/// An AT session on one port.
pub struct Session<T: Transport> {
    port: String,
    io: T,
    opts: SessionOptions,
    started: Instant,
    carry: Vec<u8>,
    exchanges: Vec<Exchange>,
    urcs: Vec<String>,
    /// The last exchange got no final result: its answer may still come.
    dirty: bool,
}

impl Session<SerialTransport> {
    /// Opens the port at `path` for AT.
    pub fn open(path: &Path, opts: &SessionOptions) -> Result<Self, DeviceError> {
        let io = SerialTransport::open(path, opts.baud_rate)?;
        Ok(Session::new(path.display().to_string(), io, opts.clone()))
    }
}

impl<T: Transport> Session<T> {
    /// A session over any transport; `port` names it in errors.
    pub fn new(port: impl Into<String>, io: T, opts: SessionOptions) -> Self {
        Session {
            port: port.into(),
            io,
            opts,
            started: Instant::now(),
            carry: Vec::new(),
            exchanges: Vec::new(),
            urcs: Vec::new(),
            dirty: false,
        }
    }

    /// The port name.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Gives up the session, keeping its record.
    pub fn into_exchanges(self) -> Vec<Exchange> {
        self.exchanges
    }

    /// URCs seen outside answers (boot messages and the like).
    pub fn urcs(&self) -> &[String] {
        &self.urcs
    }

    /// Sends `AT` until the module answers `OK`, within the boot timeout: a module that is still
    /// booting answers nothing (or noise) for a while. If it took several tries, waits until late
    /// answers to the earlier tries have arrived, so they are not taken for later answers.
    pub fn sync(&mut self) -> Result<(), DeviceError> {
        let begin = Instant::now();
        let end = later(begin, self.opts.boot_timeout).min(self.overall_end());
        let mut attempts = 0u32;
        let mut noisy = 0u32;
        let mut last_noise: Option<(ParsedResponse, Vec<u8>)> = None;
        while Instant::now() < end {
            attempts += 1;
            self.opts.progress.report(&Event::WaitingForBoot {
                port: &self.port,
                attempt: attempts,
                limit: self.opts.boot_timeout,
            });
            // Late answers to earlier tries are handled once, after the first OK.
            self.dirty = false;
            let wait = self.opts.sync_interval.min(end.saturating_duration_since(Instant::now()));
            match self.transact("AT", wait)? {
                Outcome::Answered(reply) if reply.result.is_ok() => {
                    if attempts > 1 {
                        let overall = self.overall_end();
                        self.settle(overall, "AT")?;
                    }
                    return Ok(());
                }
                Outcome::Answered(_) => noisy = 0,
                Outcome::NoResult { parsed, received, .. } => {
                    if parsed.noise > 0 && parsed.lines.is_empty() && !parsed.echo {
                        noisy += 1;
                        last_noise = Some((parsed, received));
                        if noisy >= 3 {
                            break;
                        }
                    } else {
                        noisy = 0;
                    }
                }
            }
        }
        if let Some((parsed, received)) = last_noise.filter(|_| noisy > 0) {
            return Err(self.garbage("AT", &parsed, &received));
        }
        Err(DeviceError::NotResponding { port: self.port.clone(), attempts, waited: begin.elapsed() })
    }

    /// Sends one command and waits for its final result, within the command timeout.
    pub fn command(&mut self, command: &str) -> Result<Reply, DeviceError> {
        self.opts.progress.report(&Event::WaitingForAnswer {
            port: &self.port,
            command,
            limit: self.opts.command_timeout,
        });
        match self.transact(command, self.opts.command_timeout)? {
            Outcome::Answered(reply) => Ok(reply),
            Outcome::NoResult { parsed, received, waited, hit_deadline } => {
                if parsed.noise > 0 && parsed.lines.is_empty() && !parsed.echo {
                    Err(self.garbage(command, &parsed, &received))
                } else if hit_deadline {
                    Err(DeviceError::Deadline {
                        port: self.port.clone(),
                        command: command.into(),
                        deadline: self.opts.deadline,
                    })
                } else {
                    Err(DeviceError::Timeout {
                        port: self.port.clone(),
                        command: command.into(),
                        waited,
                        received: shorten(&parsed.transcript.join(" | "), 200),
                    })
                }
            }
        }
    }

    fn overall_end(&self) -> Instant {
        later(self.started, self.opts.deadline)
    }

    fn garbage(&self, command: &str, parsed: &ParsedResponse, received: &[u8]) -> DeviceError {
        let sample: String = received.iter().take(32).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        DeviceError::Garbage {
            port: self.port.clone(),
            command: command.into(),
            noise: parsed.noise,
            total: received.len(),
            sample,
        }
    }

    fn io_error(&self, command: &str, e: io::Error) -> DeviceError {
        use io::ErrorKind as K;
        match e.kind() {
            K::BrokenPipe
            | K::UnexpectedEof
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::NotFound
            | K::Other => {
                DeviceError::Disconnected { port: self.port.clone(), command: command.into(), detail: e.to_string() }
            }
            _ => DeviceError::Io { port: self.port.clone(), command: command.into(), source: e },
        }
    }

    /// Reads whatever is already waiting (URCs, late answers) so it is not taken for the next
    /// answer, and files the URCs.
    fn drain(&mut self, command: &str) -> Result<(), DeviceError> {
        let mut pending = std::mem::take(&mut self.carry);
        let mut chunk = [0u8; 512];
        loop {
            let n = self.io.read_within(&mut chunk, Duration::ZERO).map_err(|e| self.io_error(command, e))?;
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&chunk[..n]);
            if pending.len() > self.opts.max_response {
                return Err(DeviceError::TooLong {
                    port: self.port.clone(),
                    command: command.into(),
                    limit: self.opts.max_response,
                });
            }
        }
        if !pending.is_empty() {
            let parsed = parse_response(&pending, "");
            self.urcs.extend(parsed.urcs);
        }
        Ok(())
    }

    /// Waits until the port has been quiet for two sync intervals (bounded by `end`), dropping
    /// what arrives: late answers to earlier tries, which come about one interval apart.
    fn settle(&mut self, end: Instant, command: &str) -> Result<(), DeviceError> {
        let mut chunk = [0u8; 512];
        let mut seen = 0usize;
        self.carry.clear();
        loop {
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            let wait = self.opts.sync_interval.saturating_mul(2).min(end - now);
            let n = self.io.read_within(&mut chunk, wait).map_err(|e| self.io_error(command, e))?;
            if n == 0 {
                return Ok(());
            }
            seen += n;
            if seen > self.opts.max_response {
                return Err(DeviceError::TooLong {
                    port: self.port.clone(),
                    command: command.into(),
                    limit: self.opts.max_response,
                });
            }
        }
    }

    /// Sends `command` and reads until its final result, `timeout`, the overall deadline or a cap.
    fn transact(&mut self, command: &str, timeout: Duration) -> Result<Outcome, DeviceError> {
        let start = Instant::now();
        let overall = self.overall_end();
        if start >= overall {
            return Err(DeviceError::Deadline {
                port: self.port.clone(),
                command: command.into(),
                deadline: self.opts.deadline,
            });
        }
        if std::mem::take(&mut self.dirty) {
            // The previous answer never completed; let its remains arrive and drop them.
            self.settle(later(start, self.opts.command_timeout).min(overall), command)?;
        }
        self.drain(command)?;
        let mut line = command.as_bytes().to_vec();
        line.push(b'\r');
        self.io.send(&line).map_err(|e| self.io_error(command, e))?;
        let end = later(start, timeout).min(overall);
        let mut received = Vec::new();
        let mut chunk = [0u8; 512];
        let mut parsed = ParsedResponse::default();
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            let n = match self.io.read_within(&mut chunk, end - now) {
                Ok(n) => n,
                Err(e) => {
                    self.record(command, &parsed, None, start);
                    return Err(self.io_error(command, e));
                }
            };
            if n == 0 {
                continue;
            }
            received.extend_from_slice(&chunk[..n]);
            parsed = parse_response(&received, command);
            if parsed.overlong {
                self.record(command, &parsed, None, start);
                return Err(DeviceError::LineTooLong {
                    port: self.port.clone(),
                    command: command.into(),
                    limit: super::at::MAX_LINE,
                });
            }
            if let Some(result) = parsed.result.clone() {
                self.carry = received.get(parsed.consumed..).unwrap_or_default().to_vec();
                self.record(command, &parsed, Some(&result), start);
                return Ok(Outcome::Answered(Reply {
                    echo: parsed.echo,
                    lines: parsed.lines,
                    urcs: parsed.urcs,
                    result,
                }));
            }
            if received.len() > self.opts.max_response {
                self.record(command, &parsed, None, start);
                return Err(DeviceError::TooLong {
                    port: self.port.clone(),
                    command: command.into(),
                    limit: self.opts.max_response,
                });
            }
        }
        self.record(command, &parsed, None, start);
        self.dirty = true;
        let hit_deadline = end == overall && later(start, timeout) > overall;
        Ok(Outcome::NoResult { parsed, received, waited: start.elapsed(), hit_deadline })
    }

    fn record(&mut self, command: &str, parsed: &ParsedResponse, result: Option<&FinalResult>, start: Instant) {
        self.exchanges.push(Exchange {
            command: command.to_string(),
            lines: parsed.transcript.clone(),
            result: result.map(ToString::to_string),
            ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }
}

/// `t + d`, saturating far in the future instead of overflowing.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or_else(|| t.checked_add(Duration::from_secs(u64::from(u32::MAX))).unwrap_or(t))
}

/// Cuts text to at most `max` characters, marking the cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::script::{Script, fast};

    #[test]
    fn sync_retries_until_ok() {
        let script = Script::new(&[None, None, Some("\r\nRDY\r\nAT\r\r\nOK\r\n")]);
        let mut s = Session::new("test", script, fast());
        s.sync().unwrap();
        assert_eq!(s.exchanges().len(), 3);
        let reply = s.command("ATI").map(|_| ()).unwrap_err();
        assert!(matches!(reply, DeviceError::Timeout { .. }), "{reply}");
    }

    #[test]
    fn silent_module_is_not_responding() {
        let mut s = Session::new("test", Script::new(&[]), fast());
        let err = s.sync().unwrap_err();
        assert!(matches!(err, DeviceError::NotResponding { attempts, .. } if attempts >= 3), "{err}");
        assert_eq!(err.command(), Some("AT"));
    }

    #[test]
    fn noise_is_garbage() {
        let noise = "\u{80}\u{81}\u{82}";
        let mut s = Session::new("test", Script::new(&[Some(noise), Some(noise), Some(noise), Some(noise)]), fast());
        let err = s.sync().unwrap_err();
        assert!(matches!(err, DeviceError::Garbage { .. }), "{err}");
    }

    #[test]
    fn flood_is_too_long() {
        let flood = "+QIND: X\r\n".repeat(600);
        let mut s = Session::new("test", Script::new(&[Some(&flood)]), fast());
        let err = s.sync().unwrap_err();
        assert!(matches!(err, DeviceError::TooLong { limit: 4096, .. }), "{err}");
    }

    #[test]
    fn closed_link_is_disconnected() {
        let mut script = Script::new(&[Some("\r\nOK\r\n")]);
        script.closed_after = Some(1);
        let mut s = Session::new("test", script, fast());
        s.sync().unwrap();
        let err = s.command("ATI").unwrap_err();
        assert!(matches!(err, DeviceError::Disconnected { ref command, .. } if command == "ATI"), "{err}");
    }

    #[test]
    fn leftover_urcs_are_filed() {
        let script = Script::new(&[Some("\r\nOK\r\n+CPIN: READY\r\n"), Some("\r\nQuectel\r\nOK\r\n")]);
        let mut s = Session::new("test", script, fast());
        s.sync().unwrap();
        let reply = s.command("AT+CGMI").unwrap();
        assert_eq!(reply.lines, ["Quectel"]);
        assert_eq!(s.urcs(), ["+CPIN: READY"]);
    }
}
