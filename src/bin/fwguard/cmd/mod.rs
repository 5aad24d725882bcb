//! One module per subcommand: `Args` (clap) and `run`.

pub mod history;
pub mod ports;
pub mod sim;

use std::io::Write;

use fwguard::device::{DeviceError, PortsError};
use fwguard::history::HistoryError;
use fwguard::sim::SimError;

/// The hint of the first library error in the chain that has one.
pub fn hint(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<DeviceError>() {
            Some(e.hint())
        } else if let Some(e) = cause.downcast_ref::<SimError>() {
            Some(e.hint())
        } else if let Some(e) = cause.downcast_ref::<PortsError>() {
            Some(e.hint())
        } else {
            cause.downcast_ref::<HistoryError>().map(HistoryError::hint)
        }
    })
}

/// Prints `text` and a newline to stdout; a closed pipe (`fwguard ports | head`) is not an error.
pub fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
