//! A scripted module for session and identify tests.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use super::session::SessionOptions;
use super::transport::Transport;

/// A scripted module: each command sent pops the next canned reply; `None` means silence.
pub(crate) struct Script {
    pub replies: VecDeque<Option<Vec<u8>>>,
    pub pending: VecDeque<u8>,
    pub sent: Vec<String>,
    pub closed_after: Option<usize>,
}

impl Script {
    pub(crate) fn new(replies: &[Option<&str>]) -> Script {
        Script {
            replies: replies.iter().map(|r| r.map(|s| s.as_bytes().to_vec())).collect(),
            pending: VecDeque::new(),
            sent: Vec::new(),
            closed_after: None,
        }
    }
}

impl Transport for Script {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            if self.closed_after.is_some_and(|n| self.sent.len() >= n) {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
            }
            std::thread::sleep(timeout.min(Duration::from_millis(5)));
            return Ok(0);
        }
        let n = buf.len().min(self.pending.len());
        for slot in buf.iter_mut().take(n) {
            *slot = self.pending.pop_front().unwrap_or(0);
        }
        Ok(n)
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sent.push(String::from_utf8_lossy(bytes).trim_end().to_string());
        if let Some(Some(reply)) = self.replies.pop_front() {
            self.pending.extend(reply);
        }
        Ok(())
    }
}

pub(crate) fn fast() -> SessionOptions {
    SessionOptions {
        command_timeout: Duration::from_millis(200),
        boot_timeout: Duration::from_millis(400),
        sync_interval: Duration::from_millis(50),
        deadline: Duration::from_secs(5),
        ..SessionOptions::default()
    }
}
