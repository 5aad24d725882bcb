//! Qualcomm modules (EC2x, EG2x, EG9x, BG96, EM05, EP06, RM5xx): from normal mode through the
//! DIAG switch into emergency download (EDL), the boot ROM's Sahara protocol to upload the
//! Firehose programmer, and Firehose to read, erase and write the flash.
//!
//! One file per layer, each a session owning a [`link::Link`] (a [`crate::device::Transport`],
//! owned or borrowed, with a receive buffer, writes that loop over short writes and `EAGAIN`,
//! and a deadline on every wait) and handing it on with `into_link`; the byte formats are in
//! [`wire`], shared with the simulated module:
//!
//! | stage | host | what it gives |
//! |---|---|---|
//! | normal mode | [`diag::DiagSession`] | build id (the revision running), the switch to EDL |
//! | re-enumeration | [`edl::enter_edl`], [`edl::wait_for_edl`] | the DIAG port from the USB table; the module back as 05c6:9008 on the same hub port |
//! | boot ROM | [`sahara::SaharaSession`] | chip serial, MSM HW id, OEM key hash ([`sahara::ChipInfo`]); the programmer upload |
//! | programmer | [`firehose::FirehoseSession`] | storage ([`firehose::StorageInfo`]: NAND id, page, block, size); erase, program, read, digest, patch, power; its log lines |
//!
//! [`nand_order`] puts the steps of a NAND package in the order Quectel's tools flash them (boot
//! loader erased first, written last). Errors are [`QualcommError`]s, each naming what was
//! expected and what came, with a hint.
//!
//! ```no_run
//! use std::time::Duration;
//! use fwguard::device::{SerialTransport, SysPaths, UsbTable, discover_in};
//! use fwguard::flash::qualcomm::{edl, diag::DiagOptions, link::Link};
//! use fwguard::flash::qualcomm::sahara::{SaharaOptions, SaharaSession};
//! use fwguard::flash::qualcomm::firehose::{Extent, FirehoseOptions, FirehoseSession, Power};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (paths, table) = (SysPaths::from_env(), UsbTable::builtin()?);
//! let module = discover_in(&paths, table)?.remove(0); // in normal mode
//! let entry = edl::enter_edl(&paths, table, &module, DiagOptions::default(), Duration::from_secs(30))?;
//! let port = SerialTransport::open(entry.edl.path(), 115_200)?;
//! // The sessions own the link (and here the port): a Connection can hold them.
//! let mut sahara = SaharaSession::connect(Link::new(port), SaharaOptions::default())?;
//! let chip = sahara.read_chip_info()?; // serial number: the module's identity in EDL
//! sahara.upload(&std::fs::read("prog_nand_firehose_9x07.mbn")?, &mut |_done, _total| {})?;
//! let mut fh = FirehoseSession::connect(sahara.into_link(), FirehoseOptions::default())?;
//! let storage = fh.storage_info(0)?; // compare NAND id and geometry with the package first
//! let rpm = Extent::new(9280, 384, 4096).with_pages_per_block(64);
//! let image = std::fs::read("rpm.mbn")?;
//! fh.program(&rpm, &mut image.as_slice(), image.len() as u64, &mut |_sent| {})?;
//! let digest = fh.sha256(&Extent::new(9280, (image.len() as u64).div_ceil(4096), 4096))?;
//! fh.power(Power::Reset, 0)?;
//! # let _ = (chip, storage, digest); Ok(()) }
//! ```

pub mod connection;
pub mod diag;
mod driver;
pub mod edl;
mod error;
pub mod firehose;
pub mod link;
pub mod nand_order;
pub mod planner;
pub mod sahara;
#[cfg(test)]
mod tests;
pub mod wire;

pub use driver::QualcommDriver;
pub use error::QualcommError;
