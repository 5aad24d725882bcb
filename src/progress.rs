//! Progress of long work, reported by the library as typed events to whoever shows them (the
//! `fwguard` binary draws them with indicatif on a terminal). The library never prints.
//!
//! ```
//! use fwguard::progress::{Event, Progress};
//! struct Log;
//! impl Progress for Log {
//!     fn event(&self, event: &Event<'_>) {
//!         eprintln!("{event:?}");
//!     }
//! }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Something long the library is doing, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A package is about to be read whole (hashed, its structures parsed): `bytes` is the size
    /// of its members added up, when known before reading (for an archive or a folder).
    Reading {
        /// The package path as given.
        package: &'a str,
        /// Its size to read, in bytes.
        bytes: Option<u64>,
    },
    /// `done` bytes of the package have been read so far.
    Read {
        /// Bytes read so far.
        done: u64,
    },
    /// The package has been read.
    ReadDone,
    /// `AT` is being sent until the module answers: it may still be booting. At most `limit`
    /// from the first try.
    WaitingForBoot {
        /// The port.
        port: &'a str,
        /// Which try this is, from 1.
        attempt: u32,
        /// The boot timeout.
        limit: Duration,
    },
    /// Waiting for the module's final result to `command`, at most `limit`.
    WaitingForAnswer {
        /// The port.
        port: &'a str,
        /// The command sent.
        command: &'a str,
        /// The command timeout.
        limit: Duration,
    },
}

/// Receives [`Event`]s. Implementations must be cheap: events come as often as every read of
/// 64 KiB.
pub trait Progress: Send + Sync {
    /// One event.
    fn event(&self, event: &Event<'_>);
}

/// A progress receiver that may be absent, for option structs that are `Clone`, `Debug` and
/// comparable: two are equal when they are the same receiver.
#[derive(Clone, Default)]
pub struct Reporter(Option<Arc<dyn Progress>>);

impl Reporter {
    /// Reports to `progress`.
    pub fn new(progress: Arc<dyn Progress>) -> Reporter {
        Reporter(Some(progress))
    }

    /// Reports nothing.
    pub fn none() -> Reporter {
        Reporter(None)
    }

    /// Passes `event` on, if there is a receiver.
    pub fn report(&self, event: &Event<'_>) {
        if let Some(p) = &self.0 {
            p.event(event);
        }
    }
}

impl Progress for Reporter {
    fn event(&self, event: &Event<'_>) {
        self.report(event);
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Reporter(on)" } else { "Reporter(none)" })
    }
}

impl PartialEq for Reporter {
    fn eq(&self, other: &Reporter) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for Reporter {}
