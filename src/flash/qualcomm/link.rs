//! The byte link under every session: a [`Transport`] with a buffer for bytes that arrived
//! before they were wanted, writes that loop over short writes and `EAGAIN`, and a deadline on
//! every wait.

use std::io::Write;
use std::time::{Duration, Instant};

use super::error::{QualcommError, summarize};
use crate::device::Transport;

/// The most bytes read from the transport at once.
const READ_CHUNK: usize = 64 * 1024;
/// The longest single wait on the transport, so deadlines are checked often.
const SLICE: Duration = Duration::from_millis(200);

/// A transport with a receive buffer. Sessions own it and hand it on (Sahara to Firehose, with
/// `into_link`), so bytes the boot ROM and the programmer sent back to back are not lost. It
/// owns its transport (`Link::new(port)`, for a session that lives on its own) or borrows it
/// (`Link::new(&mut port)`).
pub struct Link<'t> {
    transport: Box<dyn Transport + 't>,
    pending: Vec<u8>,
    buf: Box<[u8]>,
    /// Bytes sent and received, for the session's report.
    sent: u64,
    received: u64,
}

impl<'t> Link<'t> {
    /// A link over `transport`.
    pub fn new(transport: impl Transport + 't) -> Link<'t> {
        Link {
            transport: Box::new(transport),
            pending: Vec::new(),
            buf: vec![0u8; READ_CHUNK].into_boxed_slice(),
            sent: 0,
            received: 0,
        }
    }

    /// Bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Sends all of `bytes`, looping over short writes; fails when the link takes nothing for
    /// `idle`.
    pub fn send(&mut self, bytes: &[u8], idle: Duration, doing: &str) -> Result<(), QualcommError> {
        let mut done = 0;
        let mut last_progress = Instant::now();
        while done < bytes.len() {
            let left = idle.saturating_sub(last_progress.elapsed());
            if left.is_zero() {
                return Err(QualcommError::Timeout {
                    doing: format!("{doing} (the module took {done} of {} bytes)", bytes.len()),
                    after: idle,
                    received: summarize(&self.pending),
                });
            }
            let n = self
                .transport
                .write_within(&bytes[done..], left.min(SLICE))
                .map_err(|e| QualcommError::io(doing, e))?;
            if n > 0 {
                done += n;
                self.sent += n as u64;
                last_progress = Instant::now();
            }
        }
        Ok(())
    }

    /// Reads what arrives within `wait` into the buffer; returns how many bytes came (0 when
    /// nothing did).
    pub fn fill(&mut self, wait: Duration, doing: &str) -> Result<usize, QualcommError> {
        let n = self.transport.read_within(&mut self.buf, wait).map_err(|e| QualcommError::io(doing, e))?;
        self.pending.extend_from_slice(&self.buf[..n]);
        self.received += n as u64;
        Ok(n)
    }

    /// Waits until the buffer holds at least `n` bytes; fails at `deadline`.
    pub fn want(&mut self, n: usize, deadline: Instant, doing: &str) -> Result<(), QualcommError> {
        let started = Instant::now();
        while self.pending.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(QualcommError::Timeout {
                    doing: format!("{doing} ({} of {n} bytes arrived)", self.pending.len()),
                    after: started.elapsed(),
                    received: summarize(&self.pending),
                });
            }
            self.fill(left.min(SLICE), doing)?;
        }
        Ok(())
    }

    /// The buffered bytes.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Removes and returns the first `n` buffered bytes (fewer if fewer are buffered).
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.pending.len());
        self.pending.drain(..n).collect()
    }

    /// Removes and returns every buffered byte.
    pub fn take_all(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }

    /// Puts bytes back in front of the buffer.
    pub fn unread(&mut self, bytes: &[u8]) {
        self.pending.splice(0..0, bytes.iter().copied());
    }

    /// Reads exactly `n` bytes; fails at `deadline`.
    pub fn read_exact(&mut self, n: usize, deadline: Instant, doing: &str) -> Result<Vec<u8>, QualcommError> {
        self.want(n, deadline, doing)?;
        Ok(self.take(n))
    }

    /// Streams exactly `n` bytes into `out`, calling `progress` with the bytes done so far; fails
    /// when nothing arrives for `idle`.
    pub fn stream_into(
        &mut self,
        n: u64,
        out: &mut dyn Write,
        idle: Duration,
        doing: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), QualcommError> {
        let mut done = 0u64;
        let mut last = Instant::now();
        while done < n {
            if self.pending.is_empty() {
                if last.elapsed() >= idle {
                    return Err(QualcommError::Timeout {
                        doing: format!("{doing} ({done} of {n} bytes arrived)"),
                        after: idle,
                        received: String::new(),
                    });
                }
                if self.fill(SLICE.min(idle), doing)? > 0 {
                    last = Instant::now();
                }
                continue;
            }
            let take = usize::try_from(n - done).unwrap_or(usize::MAX).min(self.pending.len());
            out.write_all(&self.pending[..take])
                .map_err(|e| QualcommError::io(format!("{doing}: storing the data"), e))?;
            self.pending.drain(..take);
            done += take as u64;
            progress(done);
        }
        Ok(())
    }

    /// Reads and discards until nothing arrives for `quiet` (at most `limit` in all); returns
    /// what was discarded.
    pub fn drain(&mut self, quiet: Duration, limit: Duration) -> Vec<u8> {
        let started = Instant::now();
        while started.elapsed() < limit {
            match self.fill(quiet, "draining") {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        self.take_all()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io;

    /// A transport that takes at most `max_write` bytes a call (and nothing on every third call)
    /// and hands out scripted input in small pieces.
    pub(crate) struct Stingy {
        pub(crate) written: Vec<u8>,
        pub(crate) input: VecDeque<u8>,
        pub(crate) max_write: usize,
        calls: usize,
    }

    impl Stingy {
        pub(crate) fn new(input: &[u8], max_write: usize) -> Stingy {
            Stingy { written: Vec::new(), input: input.iter().copied().collect(), max_write, calls: 0 }
        }
    }

    impl Transport for Stingy {
        fn read_within(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
            let n = buf.len().min(self.input.len()).min(5);
            for slot in &mut buf[..n] {
                *slot = self.input.pop_front().unwrap_or_default();
            }
            Ok(n)
        }
        fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.written.extend_from_slice(bytes);
            Ok(())
        }
        fn write_within(&mut self, bytes: &[u8], _timeout: Duration) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Ok(0);
            }
            let n = bytes.len().min(self.max_write);
            self.written.extend_from_slice(&bytes[..n]);
            Ok(n)
        }
    }

    #[test]
    fn short_writes_and_eagain_are_looped_over() {
        let mut t = Stingy::new(b"0123456789", 7);
        let mut link = Link::new(&mut t);
        let data: Vec<u8> = (0..=255).collect();
        link.send(&data, Duration::from_secs(1), "sending").unwrap();
        assert_eq!(link.sent(), 256);
        let got = link.read_exact(8, Instant::now() + Duration::from_secs(1), "reading").unwrap();
        assert_eq!(got, b"01234567");
        let mut out = Vec::new();
        let mut seen = 0;
        link.stream_into(2, &mut out, Duration::from_secs(1), "streaming", &mut |d| seen = d).unwrap();
        assert_eq!((out.as_slice(), seen), (&b"89"[..], 2));
        drop(link);
        assert_eq!(t.written, data);
    }

    #[test]
    fn waits_end_at_their_deadline_naming_what_came() {
        let mut t = Stingy::new(b"\x01\x02", 7);
        let mut link = Link::new(&mut t);
        let err = link.read_exact(8, Instant::now() + Duration::from_millis(50), "reading a header").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("reading a header (2 of 8 bytes arrived)") && text.contains("01 02"), "{text}");
        drop(link);
        t.max_write = 0;
        let mut link = Link::new(&mut t);
        let err = link.send(b"abc", Duration::from_millis(50), "sending").unwrap_err();
        assert!(err.to_string().contains("took 0 of 3 bytes"), "{err}");
    }
}
