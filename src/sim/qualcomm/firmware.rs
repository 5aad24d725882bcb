//! What a simulated Qualcomm module has in its NAND: the boot loader, the MIBIB, calibration in
//! `efs2`, and its revision in plain text in `modem`; and what it boots into.
//!
//! Layouts by geometry (start sector and sectors of the partitions the simulator looks at):
//! - 4 KiB pages, 256 KiB blocks: the EC25-E 512 MiB layout (defencore/tech_documentation
//!   `002-quectel-ec25-firmware-flashing.md`: sbl 0/640, mibib 640/640, efs2 1280/5632, modem
//!   24000/15872);
//! - 2 KiB pages, 128 KiB blocks: the EG25-G layout of the package in
//!   Biktorgj/quectel_eg25_recovery (`rawprogram_nand_p2K_b128K_update.xml` and
//!   `partition_nand.xml`: sbl 0/640, mibib 640/640, EFS2 1280/8704 (16384 + 1024 KiB), modem
//!   24256/27392).

use std::io;

use super::super::firmware::{Boot, SimFirmware};
use super::super::profile::Profile;
use super::super::storage::FlashStore;
use crate::flash::qualcomm::wire::mbn::Mbn;
use crate::identity::Revision;
use crate::image::build::programmer::{NAND_SBL_ELF_OFFSET, NAND_SBL_MAGIC, Target, nand_sbl};
use crate::image::qualcomm::mibib;

/// A partition the simulator looks at: name, start sector, sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The MIBIB name.
    pub name: &'static str,
    /// First sector (page).
    pub start: u64,
    /// Sectors.
    pub sectors: u64,
}

const P4K_B256K: [Part; 4] = [
    Part { name: "sbl", start: 0, sectors: 640 },
    Part { name: "mibib", start: 640, sectors: 640 },
    Part { name: "efs2", start: 1280, sectors: 5632 },
    Part { name: "modem", start: 24000, sectors: 15872 },
];

const P2K_B128K: [Part; 4] = [
    Part { name: "sbl", start: 0, sectors: 640 },
    Part { name: "mibib", start: 640, sectors: 640 },
    Part { name: "efs2", start: 1280, sectors: 8704 },
    Part { name: "modem", start: 24256, sectors: 27392 },
];

/// NAND geometry of a simulated Qualcomm module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Page size in bytes.
    pub page: u64,
    /// Pages per erase block.
    pub pages_per_block: u64,
    /// Pages on the chip.
    pub pages: u64,
}

impl Geometry {
    /// The profile's geometry; a profile that gives none gets 2 KiB pages and 128 KiB blocks (the
    /// smaller MDM9x07 NANDs' geometry; the simulator's choice).
    pub fn of(profile: &Profile) -> Geometry {
        let page = u64::from(profile.flash.page.unwrap_or(2048)).max(512);
        let block = u64::from(profile.flash.block.unwrap_or(128 * 1024)).max(page);
        Geometry { page, pages_per_block: block / page, pages: profile.flash.size / page }
    }

    /// Erase blocks on the chip.
    pub fn blocks(&self) -> u64 {
        self.pages / self.pages_per_block.max(1)
    }

    /// The partitions of this geometry's layout.
    pub fn layout(&self) -> &'static [Part] {
        if self.page >= 4096 { &P4K_B256K } else { &P2K_B128K }
    }

    /// A partition by name.
    pub fn part(&self, name: &str) -> Option<Part> {
        self.layout().iter().copied().find(|p| p.name == name)
    }

    /// Byte offset and length of a partition (clipped to the chip).
    pub fn span(&self, part: Part) -> (u64, u64) {
        let start = (part.start * self.page).min(self.pages * self.page);
        let end = ((part.start + part.sectors) * self.page).min(self.pages * self.page);
        (start, end - start)
    }
}

/// The calibration bytes a module's `efs2` holds, derived from its IMEI (64 KiB).
pub fn calibration(imei: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = format!("fwguard-sim EFS2 calibration for IMEI {imei}\n").into_bytes();
    let mut block = Sha256::digest(imei.as_bytes());
    while out.len() < 64 * 1024 {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(64 * 1024);
    out
}

/// The revision stamp a modem image carries: the full revision between NUL bytes.
pub fn revision_stamp(revision: &str) -> Vec<u8> {
    [&[0u8][..], revision.as_bytes(), &[0]].concat()
}

/// The simulated boot loader (`sbl1.mbn` as the fixture builder writes it).
pub fn boot_loader() -> Vec<u8> {
    nand_sbl(Target::MDM9607, 96 * 1024)
}

/// The MIBIB of the layout, as Qualcomm's generator writes it (names `0:SBL`, offsets and
/// lengths in erase blocks).
fn mibib_of(g: &Geometry) -> Vec<u8> {
    let ppb = g.pages_per_block.max(1);
    let blocks = |pages: u64| u32::try_from(pages / ppb).unwrap_or(u32::MAX);
    let entries: Vec<mibib::MibibEntry> = g
        .layout()
        .iter()
        .map(|p| mibib::MibibEntry {
            name: format!("0:{}", p.name.to_ascii_uppercase()),
            offset_blocks: blocks(p.start),
            length_blocks: blocks(p.sectors),
            attrs: [0xFF, 0x01, 0x00],
            which_flash: 0,
        })
        .collect();
    mibib::write_mibib(g.page as usize, &entries)
}

/// The Qualcomm firmware model.
#[derive(Debug, Clone, Copy, Default)]
pub struct QualcommFirmware;

impl SimFirmware for QualcommFirmware {
    fn preload(&self, profile: &Profile, store: &mut FlashStore) -> io::Result<()> {
        let g = Geometry::of(profile);
        let at = |name: &str| g.part(name).map(|p| g.span(p).0);
        if let Some(sbl) = at("sbl") {
            store.write(sbl, &boot_loader())?;
        }
        if let Some(m) = at("mibib") {
            store.write(m, &mibib_of(&g))?;
        }
        if let Some(e) = at("efs2") {
            store.write(e, &calibration(&profile.imei))?;
        }
        if let Some(modem) = at("modem") {
            let mut image = b"UBI#".to_vec();
            image.resize(g.page as usize, 0xA5);
            image.extend(revision_stamp(&profile.revision));
            store.write(modem, &image)?;
        }
        Ok(())
    }

    fn boot(&self, profile: &Profile, store: &FlashStore) -> Boot {
        let g = Geometry::of(profile);
        if let Err(reason) = check_boot_loader(&g, store) {
            return Boot::Download { reason };
        }
        let revision = find_revision(&g, store, profile).unwrap_or_else(|| profile.revision.clone());
        Boot::Normal { revision }
    }
}

/// Whether the SBL partition holds a boot loader the boot ROM would start: the NAND boot magic,
/// an ELF image at 0x2800 whose headers match their hash, and the page holding the image's last
/// byte written (boot loaders are written in order, so a write cut short leaves it erased). The
/// boot ROM's full hash check is not repeated: the segments of a real 9x07 `sbl1.mbn` sit in a
/// NAND layout this check does not model.
fn check_boot_loader(g: &Geometry, store: &FlashStore) -> Result<(), String> {
    let part = g.part("sbl").ok_or("no sbl partition in the layout")?;
    let (start, len) = g.span(part);
    let sbl = store.read(start, len as usize).map_err(|e| format!("cannot read the boot loader: {e}"))?;
    if sbl.get(..NAND_SBL_MAGIC.len()) != Some(&NAND_SBL_MAGIC[..]) {
        return Err("the boot loader partition does not start with the NAND boot magic (erased?)".into());
    }
    let elf = sbl.get(NAND_SBL_ELF_OFFSET..).ok_or("the boot loader partition is too small")?;
    let mbn = Mbn::parse(elf).map_err(|e| format!("the boot loader image is damaged: {e}"))?;
    mbn.verify_headers(elf).map_err(|e| format!("the boot loader's headers are damaged: {e}"))?;
    let end = (NAND_SBL_ELF_OFFSET as u64 + mbn.end()).clamp(1, len);
    let last = ((end - 1) / g.page * g.page) as usize;
    if sbl[last..(last + g.page as usize).min(sbl.len())].iter().all(|b| *b == 0xFF) {
        return Err("the boot loader was not written to its end (a flash cut short?)".into());
    }
    Ok(())
}

/// The first full revision of the profile's product in the modem partition.
fn find_revision(g: &Geometry, store: &FlashStore, profile: &Profile) -> Option<String> {
    let product = Revision::parse(&profile.revision).ok()?.product().to_string();
    let (start, len) = g.span(g.part("modem")?);
    let window = 1 << 20;
    let overlap = 256u64;
    let mut offset = 0;
    while offset < len {
        let n = (window as u64).min(len - offset);
        let chunk = store.read(start + offset, n as usize).ok()?;
        let mut from = 0;
        while let Some(i) = crate::flash::qualcomm::wire::firehose::find(&chunk[from..], product.as_bytes()) {
            let at = from + i;
            let token: String = chunk[at..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
                .map(|b| *b as char)
                .collect();
            if let Ok(r) = Revision::parse(&token)
                && r.product() == product
            {
                return Some(token);
            }
            from = at + 1;
        }
        if n < window as u64 {
            break;
        }
        offset += n - overlap;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profile::find;

    #[test]
    fn a_new_module_boots_its_revision_and_an_erased_sbl_boots_edl() {
        for (name, newer) in
            [("ec25-e", "EC25EFAR06A18M4G_20.200.20.200"), ("eg25-g", "EG25GGBR07A09M2G_01.003.01.003")]
        {
            let profile = find(name).unwrap();
            let g = Geometry::of(&profile);
            let mut store = FlashStore::in_memory(profile.flash.size);
            assert!(matches!(QualcommFirmware.boot(&profile, &store), Boot::Download { .. }), "{name}: blank flash");
            QualcommFirmware.preload(&profile, &mut store).unwrap();
            assert_eq!(QualcommFirmware.boot(&profile, &store), Boot::Normal { revision: profile.revision.clone() });
            let (efs, _) = g.span(g.part("efs2").unwrap());
            assert_eq!(store.read(efs, 64 * 1024).unwrap(), calibration(&profile.imei));

            // A newer revision written into modem is what it boots next.
            let (modem, _) = g.span(g.part("modem").unwrap());
            store.erase(modem, (g.page * g.pages_per_block) as usize).unwrap();
            store.write(modem + 4000, &revision_stamp(newer)).unwrap();
            assert_eq!(QualcommFirmware.boot(&profile, &store), Boot::Normal { revision: newer.to_string() });

            // A boot loader cut short, then erased: emergency download.
            let (sbl, sbl_len) = g.span(g.part("sbl").unwrap());
            let image = boot_loader();
            store.erase(sbl, sbl_len as usize).unwrap();
            store.write(sbl, &image[..image.len() - 2 * g.page as usize]).unwrap();
            match QualcommFirmware.boot(&profile, &store) {
                Boot::Download { reason } => assert!(reason.contains("not written to its end"), "{reason}"),
                other => panic!("{other:?}"),
            }
            store.erase(sbl, sbl_len as usize).unwrap();
            assert!(matches!(QualcommFirmware.boot(&profile, &store), Boot::Download { .. }));
        }
    }
}
