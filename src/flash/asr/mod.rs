//! ASR Crane modules (EC800M, EC600M, EC800K, EC600N, EC200M, ...): the host side of the download
//! stack. The boot ROM (AROM, USB `2ecc:3004`), then `preboot.img` and `flasher.img`, all speak
//! aboot commands over SMUX framing.
//!
//! One file per layer, the wire formats shared with the simulated module in [`wire`]:
//!
//! - [`smux`]: the link (`UUUU~` preamble, `~UABT~` sync, HELLO and the MTU, frames);
//! - [`aboot`]: commands and replies, `download`, `require`, and the stages (`call`/`nop` and
//!   the next stage's handshake);
//! - [`flasher`]: the flasher's operations (flash probe, partition table, `flash`, `erase`,
//!   read-back).
//!
//! A session runs over any [`crate::device::Transport`]. The order of a package's
//! `download.json` (waybyte/logicromsdk `lib/asr160x/pack/download.json`: `require`, `progress`,
//! `call preboot.img`, `call flasher.img`, `partition flashinfo.bin`, `partition partition.bin`,
//! `flash app.bin → user_app`) maps one step to one call:
//!
//! ```no_run
//! use fwguard::flash::asr::{AbootOptions, AbootSession};
//! # fn run(port: &mut dyn fwguard::device::Transport, files: &dyn Fn(&str) -> Vec<u8>)
//! #     -> Result<(), fwguard::flash::asr::AsrError> {
//! let mut s = AbootSession::connect(port, "/dev/ttyACM0", AbootOptions::default())?;
//! s.require("product", "arom-tiny")?;
//! s.require("version-bootrom", "2020.07.30")?;
//! s.progress("0")?;
//! s.call(&files("preboot.img"))?;
//! s.call(&files("flasher.img"))?;
//! s.partition(&files("flashinfo.bin"))?; // the chip probe; a chip not in the table stops here
//! s.partition(&files("partition.bin"))?;
//! s.flash_bytes("user_app", &files("app.bin"))?;
//! s.reboot()?;
//! # Ok(()) }
//! ```

pub mod aboot;
mod connection;
mod driver;
mod error;
pub mod flasher;
pub mod recipe;
pub mod smux;
pub mod wire;

pub use aboot::{AbootOptions, AbootSession, Exchange, Response, RomIdentity, Stage, Timeouts};
pub use connection::AsrConnection;
pub use driver::{AsrDriver, QDOWNLOAD};
pub use error::AsrError;
pub use flasher::Loaded;
pub use smux::{Channel, DeviceLine, DeviceLog, LinkOptions, SmuxLink};
pub use wire::probe::FlashProbe;
#[cfg(test)]
mod tests;
