//! A simulated module's download mode behind the [`Transport`] trait, in the same process: the
//! host's protocol code drives the device's state machine directly, with no pseudo-terminal
//! and no thread (the pattern of linux-msm/qdl's simulated device). Platform-neutral: it runs
//! any [`DownloadMode`].

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use super::download::{DownloadContext, DownloadMode, for_profile};
use super::{Faults, FlashStore, Profile};
use crate::device::Transport;

/// How often a waiting read lets the mode act on time.
const TICK: Duration = Duration::from_millis(5);

/// A module in its download mode, as a [`Transport`].
pub struct InProcess {
    mode: Box<dyn DownloadMode>,
    profile: Profile,
    flash: FlashStore,
    faults: Faults,
    pending: VecDeque<u8>,
    sent: u64,
    dropped: bool,
    reset: bool,
}

impl InProcess {
    /// `profile` in the download mode it switches to, over `flash`, with `faults` (`drop-at`
    /// cuts the link after that many bytes from the module; `slow` is not applied).
    pub fn new(profile: Profile, flash: FlashStore, faults: Faults) -> InProcess {
        let mode = for_profile(&profile);
        let mut me =
            InProcess { mode, profile, flash, faults, pending: VecDeque::new(), sent: 0, dropped: false, reset: false };
        let mut ctx = DownloadContext {
            profile: &me.profile,
            flash: &mut me.flash,
            flash_id: me.faults.flash_id.as_ref().or(me.profile.flash_id.as_ref()),
            faults: &me.faults,
        };
        let greeting = me.mode.start(&mut ctx);
        me.pending.extend(greeting);
        me
    }

    /// The flash store.
    pub fn flash(&self) -> &FlashStore {
        &self.flash
    }

    /// The flash store, for a test to prepare.
    pub fn flash_mut(&mut self) -> &mut FlashStore {
        &mut self.flash
    }

    /// Whether the module reset (it left its download mode).
    pub fn was_reset(&self) -> bool {
        self.reset
    }

    /// Bytes the module sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    fn step(&mut self, input: Option<&[u8]>) {
        let mut ctx = DownloadContext {
            profile: &self.profile,
            flash: &mut self.flash,
            flash_id: self.faults.flash_id.as_ref().or(self.profile.flash_id.as_ref()),
            faults: &self.faults,
        };
        let step = match input {
            Some(bytes) => self.mode.feed(bytes, &mut ctx),
            None => self.mode.tick(Instant::now(), &mut ctx),
        };
        self.pending.extend(step.output);
        self.reset |= step.reset;
    }

    fn gone(&self) -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the simulated module left its download mode")
    }
}

impl Transport for InProcess {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let until = Instant::now() + timeout;
        loop {
            if self.dropped {
                return Err(self.gone());
            }
            if !self.reset {
                self.step(None);
            }
            if !self.pending.is_empty() {
                let mut n = buf.len().min(self.pending.len());
                if let Some(limit) = self.faults.drop_at {
                    let left = limit.saturating_sub(self.sent);
                    n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                    if n == 0 {
                        self.dropped = true;
                        return Err(self.gone());
                    }
                }
                for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
                    *slot = b;
                }
                self.sent += n as u64;
                return Ok(n);
            }
            if self.reset {
                return Err(self.gone());
            }
            let now = Instant::now();
            if now >= until {
                return Ok(0);
            }
            std::thread::sleep(TICK.min(until - now));
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.dropped || self.reset {
            return Err(self.gone());
        }
        // Time passed since the last read: the module acts on it before it hears the bytes.
        self.step(None);
        self.step(Some(bytes));
        Ok(())
    }
}
