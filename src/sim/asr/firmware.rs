//! What a simulated ASR module holds in its flash and boots into: a new `--state` flash gets the
//! profile's installed firmware laid out by its partition table ([`super::layout`]: the real
//! 8 MB table for 8 MB modules), and a reset boots from whatever the flash holds now.
//!
//! Installed: a boot loader in `bootloader`, the table itself in `ptable`, the profile's revision
//! in plain text at the start of `cp` (inside `system`, the firmware partition; real modem images
//! carry their revision in plain text, and the fixture builder's do too), and in the protected
//! areas bytes derived from the IMEI: the whole of `nvm`, a record in `rd` (ReliableData), and
//! calibration bytes in `factory_a`.
//!
//! Booting: an erased boot loader keeps the module in its download mode (AROM), as a real
//! module comes up after its boot loader was erased; otherwise it runs the first revision of its
//! product found in `system` (or the profile's own stock string, which names no product, such
//! as `LTE01R06A04_VOLTE_C_SDK_A`); a `system` with neither leaves it in download mode too.

use std::io;

use super::layout::{AsrLayout, layout};
use super::nor::SECTOR;
use crate::identity::{Revision, normalise_model};
use crate::image::build::asr::{firmware_image, stage_image};
use crate::sim::firmware::{Boot, SimFirmware};
use crate::sim::{FlashStore, Profile};

/// The ASR platform's firmware model for the simulator ([`SimFirmware`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsrFirmware;

impl SimFirmware for AsrFirmware {
    fn preload(&self, profile: &Profile, store: &mut FlashStore) -> io::Result<()> {
        preload(profile, store)
    }

    fn boot(&self, profile: &Profile, store: &FlashStore) -> Boot {
        match boot(profile, store) {
            Ok(revision) => Boot::Normal { revision },
            Err(reason) => Boot::Download { reason },
        }
    }
}

/// Where `cp`'s revision text goes in a preloaded flash: inside its first sector, which any new
/// modem image written there replaces.
pub const REVISION_AT: usize = 0x800;

/// Installs the profile's firmware into a new (erased) flash. Does nothing for a profile with
/// no ASR layout.
pub fn preload(profile: &Profile, store: &mut FlashStore) -> io::Result<()> {
    let Some(l) = layout(profile) else { return Ok(()) };
    let start = |name: &str| l.get(name).map(|e| (u64::from(e.start), e.size as usize));
    if let Some((at, size)) = start("bootloader") {
        let mut boot = stage_image("Bootloader");
        boot.truncate(size);
        store.write(at, &boot)?;
    }
    if let Some(e) = l.ptable() {
        store.write(u64::from(e.start), &l.partition_bin())?;
    }
    if let Some((at, size)) = start("cp").or_else(|| start("system")) {
        store.write(at, &firmware_image(&profile.revision, (2 * REVISION_AT).min(size)))?;
    }
    for (name, bytes) in protected_bytes(profile, &l) {
        if let Some((at, size)) = start(name) {
            store.write(at, &bytes[..bytes.len().min(size)])?;
        }
    }
    Ok(())
}

/// The module's own bytes in its protected areas, derived from its IMEI.
pub fn protected_bytes(profile: &Profile, l: &AsrLayout) -> Vec<(&'static str, Vec<u8>)> {
    let imei = profile.imei.as_bytes();
    let mut out = Vec::new();
    if let Some(nvm) = l.nvm() {
        let mut nv = derived(imei, b"nvm", nvm.size as usize);
        let head = [b"NVM\0".as_slice(), imei, b"\0"].concat();
        let n = head.len().min(nv.len());
        nv[..n].copy_from_slice(&head[..n]);
        out.push(("nvm", nv));
    }
    out.push(("rd", [b"RD\0IMEI=".as_slice(), imei, b"\0"].concat()));
    out.push(("factory_a", derived(imei, b"calibration", SECTOR as usize)));
    out
}

/// A byte stream seeded by the IMEI and a label (FNV-1a, then xorshift): the same module gets
/// the same bytes on every run.
fn derived(imei: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let mut seed = 0xcbf2_9ce4_8422_2325u64;
    for b in imei.iter().chain(label) {
        seed = (seed ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// What the module boots into: `Ok(revision)` in normal mode, `Err(why)` in its download mode.
/// A profile with no ASR layout boots its profile revision.
pub fn boot(profile: &Profile, store: &FlashStore) -> Result<String, String> {
    let Some(l) = layout(profile) else { return Ok(profile.revision.clone()) };
    if let Some(e) = l.get("bootloader") {
        let head = store.read(u64::from(e.start), (SECTOR as usize).min(e.size as usize)).map_err(|e| e.to_string())?;
        if head.iter().all(|b| *b == 0xFF) {
            return Err("the boot loader partition is erased".into());
        }
    }
    let Some(fw) = l.firmware() else { return Ok(profile.revision.clone()) };
    let bytes = store.read(u64::from(fw.start), fw.size as usize).map_err(|e| e.to_string())?;
    installed_revision(profile, &bytes)
        .ok_or_else(|| format!("no revision of {} found in partition {}", product_of(profile), fw.name))
}

/// The product whose revisions the module runs: its revision's, when that is a product of its
/// model, else the ATI model line (a stock string such as `LTE01R06A04_VOLTE_C_SDK_A` names none).
fn product_of(profile: &Profile) -> String {
    let model = normalise_model(&profile.model);
    Revision::parse(&profile.revision)
        .ok()
        .map(|r| r.product().to_string())
        .filter(|p| p.starts_with(&model))
        .unwrap_or(model)
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// The revision text found first in `bytes`: a full revision of the module's product, or the
/// profile's own revision string.
pub fn installed_revision(profile: &Profile, bytes: &[u8]) -> Option<String> {
    let product = product_of(profile);
    let own = profile.revision.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let next = [product.as_bytes(), own]
            .iter()
            .filter(|needle| !needle.is_empty())
            .filter_map(|needle| rest.windows(needle.len()).position(|w| w == *needle))
            .min()?;
        let start = at + next;
        let len = bytes[start..].iter().take(128).take_while(|b| is_token(**b)).count();
        let token = String::from_utf8_lossy(&bytes[start..start + len]).into_owned();
        let boundary = start == 0 || !is_token(bytes[start - 1]);
        if boundary {
            if token == profile.revision {
                return Some(token);
            }
            if Revision::parse(&token).is_ok_and(|r| r.product() == product) {
                return Some(token);
            }
        }
        at = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::find;

    #[test]
    fn a_preloaded_module_boots_its_revision_and_keeps_its_nv() {
        for name in ["ec800m-cn-la", "ec800m-cn-lf", "ec800k-cn"] {
            let p = find(name).unwrap();
            let mut store = FlashStore::in_memory(p.flash.size);
            assert!(boot(&p, &store).unwrap_err().contains("boot loader"), "{name}: a blank flash is in AROM");
            preload(&p, &mut store).unwrap();
            assert_eq!(boot(&p, &store).unwrap(), p.revision, "{name}");
            let l = layout(&p).unwrap();
            let nvm = l.nvm().unwrap();
            let nv = store.read(u64::from(nvm.start), nvm.size as usize).unwrap();
            assert!(nv.starts_with(b"NVM\0") && nv.windows(15).any(|w| w == p.imei.as_bytes()), "{name}");
            let table = store.read(u64::from(l.ptable().unwrap().start), l.partition_bin().len()).unwrap();
            assert_eq!(table, l.partition_bin(), "{name}");
        }
    }

    #[test]
    fn a_new_modem_image_is_what_boots_and_an_erased_system_does_not() {
        let p = find("ec800m-cn-la").unwrap();
        let mut store = FlashStore::in_memory(p.flash.size);
        preload(&p, &mut store).unwrap();
        let l = layout(&p).unwrap();
        let cp = u64::from(l.get("cp").unwrap().start);
        let mut nor = super::super::nor::Nor::new(&mut store);
        nor.write(cp, &firmware_image("EC800MCNLAR01A02M08", 0x2000)).unwrap();
        assert_eq!(boot(&p, &store).unwrap(), "EC800MCNLAR01A02M08");
        // Another product's revision is not this module's firmware.
        let mut nor = super::super::nor::Nor::new(&mut store);
        nor.write(cp, &firmware_image("EC800MCNLFR01A01M04", 0x2000)).unwrap();
        assert!(boot(&p, &store).is_err());
        let system = l.firmware().unwrap();
        let mut nor = super::super::nor::Nor::new(&mut store);
        nor.erase(u64::from(system.start), u64::from(system.size)).unwrap();
        assert!(boot(&p, &store).unwrap_err().contains("no revision of EC800MCNLA"));
    }

    #[test]
    fn revisions_are_found_as_whole_tokens() {
        let p = find("ec800k-cn").unwrap();
        let mut bytes = vec![0u8; 64];
        bytes.extend_from_slice(b"xEC800KCNCCR07A09M02\0EC800KCNCCR07A03M02_OCPU\0");
        assert_eq!(installed_revision(&p, &bytes).as_deref(), Some("EC800KCNCCR07A03M02_OCPU"));
        assert_eq!(installed_revision(&p, b"EC800KCNCC and nothing"), None);
    }
}
