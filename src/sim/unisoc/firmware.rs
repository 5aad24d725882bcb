//! What a simulated UIS8910 module has in its NOR flash, and what it boots into (the
//! [`SimFirmware`] hook): a new flash holds [`layout::initial_flash`] (boot loader, AP image
//! with the profile's revision in plain text, NV and PhaseCheck derived from the IMEI); after a
//! reset the module boots its boot loader if one is there and written to its end, and reports
//! the first full revision of its product found in the AP image, as a real module reports the
//! build it runs. With the boot loader gone it comes back in its download mode (the 8910 boot
//! ROM starts PDL when it finds no boot image).
//!
//! A Unisoc profile the simulator does not speak the download protocol of (the UIS8850) has no
//! flash contents modelled: nothing is installed and it boots with its profile's revision.

use std::io;

use super::layout::{self, Layout8910};
use crate::flash::unisoc::wire::payload::{UIMAGE_HEADER, uimage_size};
use crate::sim::firmware::{Boot, SimFirmware, revision_in};
use crate::sim::profile::Profile;
use crate::sim::storage::FlashStore;

/// The UIS8910 firmware model.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnisocFirmware;

impl SimFirmware for UnisocFirmware {
    fn preload(&self, profile: &Profile, store: &mut FlashStore) -> io::Result<()> {
        if !super::simulates(profile) {
            return Ok(());
        }
        for (offset, bytes) in layout::initial_flash(store.size(), &profile.revision, &profile.imei) {
            store.write(offset, &bytes)?;
        }
        Ok(())
    }

    fn boot(&self, profile: &Profile, store: &FlashStore) -> Boot {
        if !super::simulates(profile) {
            return Boot::Normal { revision: profile.revision.clone() };
        }
        let map = Layout8910::new(store.size());
        if let Err(reason) = check_boot_loader(&map, store) {
            return Boot::Download { reason };
        }
        let product = crate::identity::Revision::parse(&profile.revision).map(|r| r.product().to_string());
        let found = product.ok().and_then(|p| revision_in(store, map.ap.offset, map.ap.len, &p));
        Boot::Normal { revision: found.unwrap_or_else(|| profile.revision.clone()) }
    }
}

/// Whether the boot region holds a boot image the ROM would start: a uImage header whose payload
/// fits the region and whose last 16 bytes are written (a boot loader cut short, or erased,
/// leaves them erased).
fn check_boot_loader(map: &Layout8910, store: &FlashStore) -> Result<(), String> {
    let head = store.read(map.boot.offset, UIMAGE_HEADER).map_err(|e| format!("cannot read the boot region: {e}"))?;
    let size = uimage_size(&head).ok_or("the boot region holds no boot image (erased?)")?;
    let end = UIMAGE_HEADER as u64 + u64::from(size);
    if end > map.boot.len {
        return Err(format!("the boot image declares {size} bytes, more than its region holds"));
    }
    let tail_len = end.min(16);
    let tail = store.read(map.boot.offset + end - tail_len, tail_len as usize).map_err(|e| e.to_string())?;
    if tail.iter().all(|b| *b == 0xFF) {
        return Err("the boot image was not written to its end (a download cut short?)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::unisoc::wire::payload::uimage;
    use crate::sim::profile::find;

    #[test]
    fn a_new_module_boots_its_revision_and_an_erased_boot_loader_boots_download_mode() {
        let profile = find("ec200u-cn").unwrap();
        let mut store = FlashStore::in_memory(profile.flash.size);
        assert!(matches!(UnisocFirmware.boot(&profile, &store), Boot::Download { .. }), "blank flash");
        UnisocFirmware.preload(&profile, &mut store).unwrap();
        assert_eq!(UnisocFirmware.boot(&profile, &store), Boot::Normal { revision: profile.revision.clone() });
        let map = Layout8910::new(store.size());
        assert_eq!(store.read(map.nv.offset, 8).unwrap(), layout::module_nv(&profile.imei)[..8]);

        // A new AP image carrying a newer revision is what it reports next.
        store.erase(map.ap.offset, 0x10000).unwrap();
        let mut ap = vec![0x11; 0x3000];
        ap[0x1800..0x1800 + 20].copy_from_slice(b"EC200UCNAAR03A04M08\0");
        store.write(map.ap.offset, &ap).unwrap();
        assert_eq!(UnisocFirmware.boot(&profile, &store), Boot::Normal { revision: "EC200UCNAAR03A04M08".into() });

        // A boot loader cut short, then erased: the boot ROM's download mode.
        let boot = uimage("boot", &[0x42; 0x1000]);
        store.erase(0, 0x10000).unwrap();
        store.write(0, &boot[..boot.len() - 32]).unwrap();
        match UnisocFirmware.boot(&profile, &store) {
            Boot::Download { reason } => assert!(reason.contains("not written to its end"), "{reason}"),
            other => panic!("{other:?}"),
        }
        store.erase(0, 0x10000).unwrap();
        assert!(matches!(UnisocFirmware.boot(&profile, &store), Boot::Download { .. }));
    }
}
