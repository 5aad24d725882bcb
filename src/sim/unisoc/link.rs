//! A download mode in process, behind the same [`Transport`] the host sessions use on a serial
//! port (the linux-msm/qdl idea): tests run the host against the simulated device without a
//! pseudo-terminal. Works with any [`DownloadMode`].

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use crate::device::Transport;
use crate::sim::download::{DownloadContext, DownloadMode};
use crate::sim::{Faults, FlashStore, Profile};

/// A simulated module's download mode, connected in memory.
pub struct InProcess {
    mode: Box<dyn DownloadMode>,
    /// The module.
    pub profile: Profile,
    /// Its flash.
    pub flash: FlashStore,
    /// Injected faults (`drop-at` counts the bytes the module sends, as on the server).
    pub faults: Faults,
    pending: VecDeque<u8>,
    sent: u64,
    dropped: bool,
    resets: u32,
}

impl InProcess {
    /// `mode` of `profile`, with its flash in memory.
    pub fn new(mode: Box<dyn DownloadMode>, profile: Profile, faults: Faults) -> InProcess {
        let flash = FlashStore::in_memory(profile.flash.size);
        InProcess { mode, profile, flash, faults, pending: VecDeque::new(), sent: 0, dropped: false, resets: 0 }
    }

    /// How many times the module reset (NORMAL_RESET).
    pub fn resets(&self) -> u32 {
        self.resets
    }
}

impl Transport for InProcess {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            if self.dropped {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the simulated link went away"));
            }
            std::thread::sleep(timeout.min(Duration::from_millis(2)));
            return Ok(0);
        }
        let n = buf.len().min(self.pending.len());
        for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.dropped {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the simulated link went away"));
        }
        let flash_id = self.faults.flash_id.clone().or_else(|| self.profile.flash_id.clone());
        let mut ctx = DownloadContext {
            profile: &self.profile,
            flash: &mut self.flash,
            flash_id: flash_id.as_ref(),
            faults: &self.faults,
        };
        let step = self.mode.feed(bytes, &mut ctx);
        let mut out = step.output;
        if let Some(limit) = self.faults.drop_at {
            let room = usize::try_from(limit.saturating_sub(self.sent)).unwrap_or(usize::MAX);
            if out.len() >= room {
                out.truncate(room);
                self.dropped = true;
            }
        }
        self.sent += out.len() as u64;
        self.pending.extend(out);
        if step.reset {
            self.resets += 1;
        }
        Ok(())
    }
}
