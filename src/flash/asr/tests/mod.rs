//! The host side against the simulated module, in process: the session layers
//! ([`session`]) and the driver's recipe and connection ([`driver`]).

mod driver;
mod session;

use std::time::Duration;

use super::{AbootOptions, LinkOptions, Timeouts};

/// Short timeouts: the simulated module answers at once, so a test that waits fails fast.
fn quick() -> AbootOptions {
    AbootOptions {
        link: LinkOptions {
            step_timeout: Duration::from_millis(500),
            stage_start: Duration::from_millis(500),
            ..LinkOptions::default()
        },
        timeouts: Timeouts {
            first: Duration::from_secs(2),
            reply: Duration::from_secs(2),
            after_data: Duration::from_secs(2),
            call: Duration::from_secs(2),
        },
    }
}
