//! What the module says: port discovery through sysfs and an AT session that reads its identity.
//!
//! ```no_run
//! use fwguard::device::{self, SessionOptions};
//! let report = device::identify(std::path::Path::new("/dev/ttyUSB2"), &SessionOptions::default())?;
//! println!("{} runs {}", report.model.as_deref().unwrap_or("?"), report.revision);
//! # Ok::<(), fwguard::device::DeviceError>(())
//! ```
//!
//! Every exchange is bounded in time (per command, and for the whole session) and in bytes (per
//! answer and per line). The response parser, [`at::parse_response`], is a pure function over
//! bytes.

pub mod at;
mod error;
mod identify;
mod locate;
pub mod ports;
#[cfg(test)]
mod script;
mod session;
mod transport;
pub mod usb;

pub use error::DeviceError;
pub use identify::{DeviceReport, RevisionSource, UsbInfo, identify, identify_session, identify_with};
pub use locate::{LocateError, describe, locate_at_port, locate_module};
pub use ports::{Module, Port, PortsError, SysPaths, discover, discover_in};
pub use session::{Exchange, Reply, Session, SessionOptions};
pub use transport::{SerialTransport, Transport};
pub use usb::{Mode, Role, UsbId, UsbTable};
