//! Fuzzes the host's ASR session against a module that answers arbitrary bytes: the handshake
//! and a few commands must end in a value or an error, never a panic or a hang.
#![no_main]

use std::io;
use std::time::Duration;

use fwguard::device::Transport;
use fwguard::flash::asr::{AbootOptions, AbootSession, LinkOptions, Timeouts};
use libfuzzer_sys::fuzz_target;

/// Hands out the input in pieces, then nothing.
struct Replay<'a>(&'a [u8]);

impl Transport for Replay<'_> {
    fn read_within(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(37);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }

    fn send(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let ms = Duration::from_millis(2);
    let options = AbootOptions {
        link: LinkOptions { retry_interval: ms, step_timeout: ms * 3, stage_start: ms * 3, ..LinkOptions::default() },
        timeouts: Timeouts { first: ms, reply: ms, after_data: ms, call: ms },
    };
    let mut io = Replay(data);
    if let Ok(mut s) = AbootSession::connect(&mut io, "fuzz", options) {
        let _ = s.identify();
        let _ = s.download_bytes(b"0123456789");
        let _ = s.probe_flash(b"FNIF");
        let mut sink = Vec::new();
        let _ = s.read_partition("nvm", &mut sink);
        assert!(sink.len() <= data.len());
    }
});
