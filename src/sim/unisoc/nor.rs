//! The simulated 8910's NOR flash as its loaders see it: bus addresses from 0x60000000
//! (`flash.bin` offset = address − 0x60000000), the logical NV and PhaseCheck addresses, where
//! reads stop, and erasing to 0xFF.
//!
//! The 8910 FDL cannot report the flash id, but a different flash chip shows in what the FDL can
//! reach: the simulator takes the flash's extent from the capacity byte of the flash id it
//! reports (the profile's, or the `flash-id=` fault's), so `flash-id=20 50 16` makes a 4 MiB
//! flash whose reads past 0x60400000 are refused. That extent is what the host's gate compares.

use super::layout::{Layout8910, Region};
use crate::flash::unisoc::wire::bsl::BslReply;
use crate::flash::unisoc::wire::payload::{LOGICAL_NV, LOGICAL_PHASECHECK, NOR_BASE_8910};
use crate::sim::download::DownloadContext;

/// NOR sector size: writes erase whole sectors first (4 KiB, as the SPI NOR chips of these
/// modules have).
pub const SECTOR: u64 = 0x1000;
/// The most bytes one READ_FLASH answers (the simulator's limit; unisoc_dloader reads 0x3000 at
/// a time, spd_dump 1 KiB).
pub const MAX_READ: u32 = 0x8000;

/// Where an address points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Raw flash, at this offset from the base.
    Flash(u64),
    /// The NV region (logical 0xFE000003), at this offset in it.
    Nv(u64),
    /// The PhaseCheck region (logical 0xFE000002), at this offset in it.
    PhaseCheck(u64),
}

/// The flash as one loader session sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nor {
    /// Bytes reachable from the base.
    pub extent: u64,
    /// Where NV and PhaseCheck are kept.
    pub layout: Layout8910,
}

impl Nor {
    /// The flash of the module in `ctx`.
    pub fn new(ctx: &DownloadContext<'_>) -> Nor {
        let store = ctx.flash.size();
        let extent = ctx.flash_id.and_then(|id| id.nor_capacity_bytes()).unwrap_or(store).min(store);
        Nor { extent, layout: Layout8910::new(store) }
    }

    /// Resolves `len` bytes at `address + offset`, refusing (DOWN_DEST_ERROR) what lies outside the flash
    /// and the logical areas, and (DOWN_SIZE_ERROR) what runs past a logical area.
    pub fn resolve(&self, address: u32, offset: u64, len: u64) -> Result<Place, BslReply> {
        let within = |region: Region| {
            if offset.checked_add(len).is_some_and(|end| end <= region.len) {
                Ok(())
            } else {
                Err(BslReply::DownSizeError)
            }
        };
        match address {
            LOGICAL_NV => within(self.layout.nv).map(|()| Place::Nv(offset)),
            LOGICAL_PHASECHECK => within(self.layout.phasecheck).map(|()| Place::PhaseCheck(offset)),
            a if a >= NOR_BASE_8910 => {
                let offset = u64::from(a - NOR_BASE_8910) + offset;
                if offset.checked_add(len).is_some_and(|end| end <= self.extent) {
                    Ok(Place::Flash(offset))
                } else {
                    Err(BslReply::DownDestError)
                }
            }
            _ => Err(BslReply::DownDestError),
        }
    }

    /// The store offset of `place`.
    pub fn offset(&self, place: Place) -> u64 {
        match place {
            Place::Flash(o) => o,
            Place::Nv(o) => self.layout.nv.offset + o,
            Place::PhaseCheck(o) => self.layout.phasecheck.offset + o,
        }
    }

    /// The sectors a write of `len` bytes at `offset` touches.
    pub fn sectors(offset: u64, len: u64) -> (u64, u64) {
        let start = offset / SECTOR * SECTOR;
        let end = (offset + len).div_ceil(SECTOR) * SECTOR;
        (start, end - start)
    }
}
