//! Progress as one typed event stream, drawn by whoever runs the flash (the `fwguard` binary draws
//! it with indicatif on a terminal and prints one JSON object per event with `--json`), like
//! probe-rs's `FlashProgress` events (<https://github.com/probe-rs/probe-rs>,
//! `probe-rs/src/flashing/progress.rs`) and espflash's `ProgressCallbacks`.
//!
//! Every event serializes as a JSON object whose `event` field names it.

use serde::Serialize;

use super::driver::{StorageInfo, TargetInfo};
use super::gate::GateReport;
use super::plan::{Operation, Plan};
use super::run::Outcome;

/// A phase of the flash outside the plan's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the module's flash ID from its boot loader before judging (download mode and
    /// back to normal mode, nothing written).
    ReadFlashId,
    /// Sending the module into its download mode.
    EnterDownload,
    /// Waiting for the module to show up in its download mode.
    WaitDownload,
    /// Handshake and programmer upload.
    Connect,
    /// Reading the protected areas into the backup.
    Backup,
    /// Resetting the module.
    Reset,
    /// Waiting for the module in normal mode and reading its revision.
    Reidentify,
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// The plan, before anything is sent past identification.
    Plan {
        /// The plan.
        plan: &'a Plan,
    },
    /// A phase begins.
    Phase {
        /// Which.
        phase: Phase,
        /// What it is about (a port, a deadline).
        detail: String,
    },
    /// The module in its download mode: who it is and its storage.
    Connected {
        /// What it said about itself.
        target: &'a TargetInfo,
        /// What it said about its storage.
        storage: &'a StorageInfo,
    },
    /// The gate passed.
    Gate {
        /// What was compared.
        report: &'a GateReport,
    },
    /// A protected area is being read into the backup.
    BackupProgress {
        /// The partition.
        partition: &'a str,
        /// Bytes read.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// The backup is taken and verified.
    Backup {
        /// Its folder.
        dir: String,
        /// How many areas.
        areas: usize,
    },
    /// A step begins.
    StepBegin {
        /// Its index in the plan.
        index: usize,
        /// Erase or write.
        operation: Operation,
        /// The partition.
        partition: &'a str,
        /// Its first byte.
        offset: u64,
        /// Bytes it covers.
        bytes: u64,
    },
    /// Bytes of a step done so far.
    StepProgress {
        /// The step.
        index: usize,
        /// Bytes done.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A step ended.
    StepEnd {
        /// The step.
        index: usize,
        /// Bytes sent (0 when skipped).
        bytes: u64,
        /// Whether it was skipped (a resumed flash found the range already right).
        skipped: bool,
    },
    /// A written range was checked.
    Verify {
        /// The step.
        index: usize,
        /// The partition.
        partition: &'a str,
        /// Whether it holds the planned bytes.
        ok: bool,
        /// The SHA-256 the module holds.
        sha256: String,
        /// `digest` (computed by the device) or `read-back`.
        method: &'static str,
    },
    /// The flash ended.
    Result {
        /// The exit code (0, 1, 2, 3).
        exit_code: u8,
        /// What was done, when it succeeded.
        outcome: Option<&'a Outcome>,
        /// Why not, when it failed.
        error: Option<String>,
        /// The failure's stable code.
        code: Option<&'static str>,
        /// What to do.
        hint: Option<String>,
    },
}

/// Receives the events of a flash.
pub trait Progress {
    /// One event.
    fn event(&mut self, event: &Event<'_>);
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&mut self, _: &Event<'_>) {}
}

impl<F: FnMut(&Event<'_>)> Progress for F {
    fn event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// A writer that reports the running byte count of what passes through it to `progress`: the
/// read side of a platform connection (reads, backups, read-back) uses it to feed step progress.
pub(crate) struct CountingWriter<'a> {
    out: &'a mut dyn std::io::Write,
    done: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl<'a> CountingWriter<'a> {
    /// Wraps `out`, counting from zero.
    pub(crate) fn new(out: &'a mut dyn std::io::Write, progress: &'a mut dyn FnMut(u64)) -> Self {
        CountingWriter { out, done: 0, progress }
    }
}

impl std::io::Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.done += n as u64;
        (self.progress)(self.done);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
