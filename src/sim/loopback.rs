//! A simulated module's download mode in-process: a [`Transport`] wired straight to a
//! [`DownloadMode`], so host sessions can be tested against the device side without
//! pseudo-terminals (the way linux-msm/qdl tests against its in-process simulated device).
//!
//! ```
//! use fwguard::sim::{Loopback, find};
//! use fwguard::device::Transport;
//! let mut module = Loopback::for_profile(find("ec25-e")?)?; // in EDL: Sahara has said HELLO
//! let mut hello = [0u8; 48];
//! let n = module.read_within(&mut hello, std::time::Duration::from_millis(10))?;
//! assert_eq!((n, hello[0]), (48, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use super::download::{DownloadContext, DownloadMode, for_profile};
use super::error::SimError;
use super::fault::{Fault, Faults};
use super::firmware;
use super::profile::Profile;
use super::storage::FlashStore;
use crate::device::Transport;

/// A reset the download mode asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetRequest {
    /// After this delay.
    pub delay: Duration,
    /// Back to download mode whatever the flash holds.
    pub to_download: bool,
}

/// A module in its download mode, in-process.
pub struct Loopback {
    mode: Box<dyn DownloadMode>,
    profile: Profile,
    flash: FlashStore,
    faults: Faults,
    to_host: VecDeque<u8>,
    later: Vec<(Instant, Vec<u8>)>,
    max_write: usize,
    reset: Option<ResetRequest>,
    /// Bytes the module sent the host, which `drop-at` counts.
    sent: u64,
    /// Whether `drop-at` cut the link.
    dropped: bool,
}

impl Loopback {
    /// `profile`'s module with its firmware installed in an in-memory flash, in its download
    /// mode (which has sent its greeting).
    pub fn for_profile(profile: Profile) -> Result<Loopback, SimError> {
        Loopback::with_faults(profile, &[])
    }

    /// The same with faults (`nak-at`, `flash-id`).
    pub fn with_faults(profile: Profile, faults: &[Fault]) -> Result<Loopback, SimError> {
        let mode = for_profile(&profile).mode();
        if let Some(f) = faults.iter().find(|f| !f.is_simulated_on(&profile, mode)) {
            return Err(SimError::NotSimulated { spec: f.to_string() });
        }
        let mut flash = FlashStore::in_memory(profile.flash.size);
        firmware::for_platform(profile.platform)
            .preload(&profile, &mut flash)
            .map_err(|e| SimError::files("flash", format!("installing firmware: {e}")))?;
        let mode = for_profile(&profile);
        Ok(Loopback::new(profile, mode, flash, Faults::from_list(faults)))
    }

    /// A download mode over a given flash (it sends its greeting now).
    pub fn new(profile: Profile, mode: Box<dyn DownloadMode>, flash: FlashStore, faults: Faults) -> Loopback {
        let mut l = Loopback {
            mode,
            profile,
            flash,
            faults,
            to_host: VecDeque::new(),
            later: Vec::new(),
            max_write: usize::MAX,
            reset: None,
            sent: 0,
            dropped: false,
        };
        let flash_id = l.faults.flash_id.as_ref().or(l.profile.flash_id.as_ref());
        let mut ctx = DownloadContext { profile: &l.profile, flash: &mut l.flash, flash_id, faults: &l.faults };
        let greeting = l.mode.start(&mut ctx);
        l.to_host.extend(greeting);
        l
    }

    /// Takes at most `n` bytes per write, as a full pseudo-terminal does.
    pub fn with_max_write(mut self, n: usize) -> Loopback {
        self.max_write = n.max(1);
        self
    }

    /// The module's flash.
    pub fn flash(&self) -> &FlashStore {
        &self.flash
    }

    /// The module's flash, to change.
    pub fn flash_mut(&mut self) -> &mut FlashStore {
        &mut self.flash
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The reset the download mode asked for, if any.
    pub fn reset_requested(&self) -> Option<ResetRequest> {
        self.reset
    }

    /// Bytes the module sent the host so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Whether the link went away (`drop-at`).
    pub fn is_dropped(&self) -> bool {
        self.dropped
    }

    fn gone(&self) -> io::Error {
        io::Error::new(io::ErrorKind::UnexpectedEof, "the simulated link went away (drop-at)")
    }

    fn deliver_due(&mut self) {
        let now = Instant::now();
        let (due, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.later).into_iter().partition(|(t, _)| *t <= now);
        self.later = wait;
        for (_, bytes) in due {
            self.to_host.extend(bytes);
        }
    }
}

impl Transport for Loopback {
    /// What the module sent, as a serial port reads it. With `drop-at`, the link goes away once
    /// that many bytes have come: what is left unread is lost and every later call fails.
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.dropped {
            return Err(self.gone());
        }
        self.deliver_due();
        if self.to_host.is_empty() {
            let next = self.later.iter().map(|(t, _)| *t).min();
            let wait = next.map_or(timeout, |t| t.saturating_duration_since(Instant::now()).min(timeout));
            std::thread::sleep(wait);
            self.deliver_due();
        }
        let mut n = buf.len().min(self.to_host.len());
        if let Some(limit) = self.faults.drop_at {
            let left = usize::try_from(limit.saturating_sub(self.sent)).unwrap_or(usize::MAX);
            if left == 0 {
                self.dropped = true;
                self.to_host.clear();
                return Err(self.gone());
            }
            n = n.min(left);
        }
        for (slot, b) in buf.iter_mut().zip(self.to_host.drain(..n)) {
            *slot = b;
        }
        self.sent += n as u64;
        Ok(n)
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut done = 0;
        while done < bytes.len() {
            done += self.write_within(&bytes[done..], Duration::ZERO)?;
        }
        Ok(())
    }

    fn write_within(&mut self, bytes: &[u8], _timeout: Duration) -> io::Result<usize> {
        if self.dropped {
            return Err(self.gone());
        }
        let n = bytes.len().min(self.max_write);
        let step = {
            let flash_id = self.faults.flash_id.as_ref().or(self.profile.flash_id.as_ref());
            let mut ctx =
                DownloadContext { profile: &self.profile, flash: &mut self.flash, flash_id, faults: &self.faults };
            self.mode.feed(&bytes[..n], &mut ctx)
        };
        self.to_host.extend(step.output);
        if let Some((pause, bytes)) = step.later {
            self.later.push((Instant::now() + pause, bytes));
        }
        if step.reset {
            self.reset = Some(ResetRequest { delay: step.reset_delay, to_download: step.reset_to_download });
        }
        Ok(n)
    }
}
