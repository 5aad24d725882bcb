//! Unisoc modules, host side: UIS8910DM (EC200U, EC600U, EG912U, EG915U) and UIS8850 (EC800G,
//! EC600G).
//!
//! One file per protocol layer, each a session type over a [`Transport`]:
//!
//! | file | layer | session |
//! |---|---|---|
//! | [`enter`] | `AT+QDOWNLOAD=1` and the download USB ids | [`enter::request_download_mode`] |
//! | [`pdl`] | the 8910 boot ROM's PDL packets | [`PdlSession`]: CONNECT, load FDL1, EXEC |
//! | [`bsl`] | BSL frames to a BSL boot ROM (8850) or an FDL | [`BslSession`]: check-baud, CONNECT, download, EXEC |
//! | [`fdl`] | the FDLs | [`Fdl1Session`] loads FDL2; [`Fdl2Session`] writes, reads, erases, resets |
//! | [`scheme`] | a PAC's download scheme as ordered steps (pure) | [`scheme::plan`] |
//! | [`source`] | a PAC entry's bytes, streamed from the package | [`source::PacSource`] |
//! | [`run`] | one planned step on FDL2 | [`run::apply`] |
//! | [`nv`] | NV item images; keeping the module's items | [`nv::merge`] |
//!
//! The byte formats both sides share (the simulated module uses the same codecs) are in
//! [`wire`]. [`connect`] runs the boot stages of a chip and returns FDL2, ready for the flash
//! operations:
//!
//! ```text
//! 8910: PDL CONNECT, START/MID/END_DATA FDL1 at 0x8000C0, EXEC_DATA
//!       FDL1 (BSL, FDL sum): CHANGE_BAUD, START/MIDST/END_DATA FDL2 at 0x810000, EXEC_DATA
//! 8850: ROM (BSL, CRC-16): check-baud, CONNECT, START/MIDST/END_DATA FDL1, EXEC_DATA
//!       FDL1 (BSL, FDL sum): check-baud, CONNECT, START/MIDST/END_DATA FDL2, EXEC_DATA
//! FDL2: START/MIDST/END_DATA, READ_FLASH, ERASE_FLASH, ..., NORMAL_RESET
//! ```

pub mod bsl;
pub mod connection;
pub mod driver;
pub mod enter;
pub mod error;
pub mod fdl;
pub mod layout;
pub mod link;
pub mod nv;
pub mod package;
pub mod pdl;
pub mod run;
pub mod scheme;
pub mod source;
#[cfg(test)]
mod tests;
pub mod wire;

use std::io::Read;

pub use bsl::{BslSession, Stage};
pub use connection::UnisocConnection;
pub use driver::UnisocDriver;
pub use error::UnisocError;
pub use fdl::{Chip, Fdl1Session, Fdl2Session, FlashExtent, NOR_SIZES, StorageReport};
pub use link::Timeouts;
pub use pdl::PdlSession;

use crate::device::Transport;
use bsl::OddChunk;
use wire::check::Check;
use wire::payload::{ROM_CHUNK, StartData};

/// A loader to send: its load address, its length and its bytes.
pub struct Loader<'a> {
    /// Where it loads.
    pub address: u32,
    /// How many bytes.
    pub len: u32,
    /// The bytes (streamed).
    pub data: &'a mut dyn Read,
}

/// Runs the boot stages of `chip` on `transport` (the download port) and returns FDL2 running.
/// `progress` gets (bytes sent, total) of each loader in turn.
pub fn connect<'t>(
    transport: impl Transport + 't,
    chip: Chip,
    timeouts: Timeouts,
    fdl1: Loader<'_>,
    fdl2: Loader<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Fdl2Session<'t>, UnisocError> {
    let fdl1_session = match chip {
        Chip::Uis8910 => {
            let mut rom = PdlSession::new(transport, timeouts);
            rom.connect()?;
            rom.load(fdl1.address, fdl1.data, fdl1.len, progress)?;
            Fdl1Session::new(rom.exec()?, chip)
        }
        Chip::Uis8850 => {
            // amitv87/unisoc_dloader `test_bsl`, FileID "FDL": the ROM speaks BSL with CRC-16.
            let mut bsl = BslSession::new(transport, timeouts, Check::Crc16, Stage::Rom);
            bsl.check_baud()?;
            bsl.connect()?;
            let start = StartData::address(fdl1.address, fdl1.len, None);
            bsl.download(&start, fdl1.data, u64::from(fdl1.len), ROM_CHUNK, OddChunk::AsIs, "FDL1", progress)?;
            bsl.exec()?;
            bsl.advance(Stage::Fdl1, Check::Sum);
            bsl.check_baud()?;
            bsl.connect()?;
            Fdl1Session::new(bsl, chip)
        }
    };
    fdl1_session.load_fdl2(fdl2.address, fdl2.data, fdl2.len, progress)
}
