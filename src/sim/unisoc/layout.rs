//! Where things live on a simulated UIS8910 module's NOR flash.
//!
//! The map is the 8 MB layout of the 8910 SDK (waybyte/logicromsdk `lib/rda8910/hal_config.h`
//! and `core_config.json`): boot loader at 0x60000000 (64 KiB), the application (the AP image)
//! at 0x60010000 (0x220000), the loadable app image at 0x60230000 (1 MiB), the system file system
//! at 0x60330000, the modem image file system at 0x604A0000 and the factory file system in the
//! last 0x20000 bytes. The real FDL2 keeps NV and PhaseCheck as files in those file systems and
//! reaches them through its logical addresses (0xFE000003, 0xFE000002); the simulator keeps them
//! as raw regions at the start of the factory file system, which is where it reads and writes
//! them for those addresses.

use crate::flash::unisoc::wire::payload::{NOR_BASE_8910, PHASECHECK_SIZE};

/// A region of the flash, in bytes from its start (file offset in `flash.bin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Offset from the flash base.
    pub offset: u64,
    /// Length.
    pub len: u64,
}

impl Region {
    /// The bus address of the region's start.
    pub fn address(&self) -> u64 {
        u64::from(NOR_BASE_8910) + self.offset
    }

    /// Whether `offset..offset + len` lies inside.
    pub fn contains(&self, offset: u64, len: u64) -> bool {
        offset >= self.offset && offset.checked_add(len).is_some_and(|end| end <= self.offset + self.len)
    }
}

/// The size of the factory file system, at the end of the flash (`CONFIG_FS_FACTORY_FLASH_SIZE`).
const FACTORY_LEN: u64 = 0x20000;
/// The simulator's NV region: the first half of the factory file system.
const NV_LEN: u64 = 0x10000;

/// The regions of an 8910 module with `flash_size` bytes of NOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout8910 {
    /// The boot loader (`CONFIG_BOOT_FLASH_ADDRESS`, `CONFIG_BOOT_FLASH_SIZE`).
    pub boot: Region,
    /// The application, the AP image (`CONFIG_APP_FLASH_ADDRESS`, `CONFIG_APP_FLASH_SIZE`).
    pub ap: Region,
    /// The loadable app image (`CONFIG_APPIMG_FLASH_ADDRESS`, `CONFIG_APPIMG_FLASH_SIZE`).
    pub appimg: Region,
    /// The factory file system (the last 0x20000 bytes).
    pub factory: Region,
    /// Where the simulator keeps NV (logical 0xFE000003).
    pub nv: Region,
    /// Where the simulator keeps PhaseCheck (logical 0xFE000002, 0x100 bytes).
    pub phasecheck: Region,
}

impl Layout8910 {
    /// The layout for a flash of `flash_size` bytes (8 MiB on every 8910 module the simulator
    /// has; smaller sizes keep the factory file system at the end).
    pub fn new(flash_size: u64) -> Layout8910 {
        let factory = Region { offset: flash_size.saturating_sub(FACTORY_LEN), len: FACTORY_LEN.min(flash_size) };
        Layout8910 {
            boot: Region { offset: 0, len: 0x10000 },
            ap: Region { offset: 0x10000, len: 0x220000 },
            appimg: Region { offset: 0x230000, len: 0x100000 },
            factory,
            nv: Region { offset: factory.offset, len: NV_LEN.min(factory.len) },
            phasecheck: Region {
                offset: factory.offset + NV_LEN.min(factory.len),
                len: u64::from(PHASECHECK_SIZE).min(factory.len.saturating_sub(NV_LEN)),
            },
        }
    }
}

/// The NV item id of the IMEI (amitv87/unisoc_dloader `nv.c` `GSM_IMEI_ITEM_ID`).
pub const NV_ITEM_IMEI: u16 = 0x5;
/// The simulator's calibration item id: the id the fixture PACs' `<NVBackup>` gives their
/// `Calibration` item (`image::build::pac`), so a download that keeps the backed-up items keeps
/// it (the real id is not recorded).
pub const NV_ITEM_CALIBRATION: u16 = 0x100;

/// An NV image in the item format unisoc_dloader's merge reads (`nv.c` `build_nv_list`): a
/// 4-byte timestamp, then items `LE16 id, LE16 length, data padded to 4 bytes`, ending with id
/// 0xFFFF ([`crate::flash::unisoc::nv::encode`]).
pub fn nv_image(items: &[(u16, Vec<u8>)]) -> Vec<u8> {
    crate::flash::unisoc::nv::encode(items)
}

/// The IMEI as the NV item holds it in the simulator: BCD, two digits a byte, low nibble first
/// (a synthetic encoding; the module's real one is not recorded).
pub fn imei_bcd(imei: &str) -> Vec<u8> {
    let digits: Vec<u8> = imei.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    digits.chunks(2).map(|p| p[0] | p.get(1).map_or(0xF0, |d| d << 4)).collect()
}

/// The module's own NV: the IMEI item and a calibration item derived from it (synthetic, so two
/// modules differ and a test can tell them apart).
pub fn module_nv(imei: &str) -> Vec<u8> {
    let seed: u32 = imei.bytes().fold(0x811C_9DC5, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let calibration: Vec<u8> = (0..64u32).map(|i| (seed.rotate_left(i % 32) >> (i % 8)) as u8).collect();
    nv_image(&[(NV_ITEM_IMEI, imei_bcd(imei)), (NV_ITEM_CALIBRATION, calibration)])
}

/// The module's PhaseCheck: magic `SP09`, the serial number (derived from the IMEI) in SN1 and
/// SN2 (24 bytes each), padded with 0xFF to 0x100 bytes (the layout unisoc_dloader's disabled
/// PhaseCheck code describes: `SP09_PHASE_CHECK_T`).
pub fn module_phasecheck(imei: &str) -> Vec<u8> {
    let mut out = b"SP09".to_vec();
    let sn = format!("SIM{}", imei.get(imei.len().saturating_sub(12)..).unwrap_or(imei));
    for _ in 0..2 {
        let mut field = sn.as_bytes().to_vec();
        field.resize(24, 0);
        out.extend_from_slice(&field);
    }
    out.resize(PHASECHECK_SIZE as usize, 0xFF);
    out
}

/// What a new `--state` flash of an 8910 module holds, as (offset, bytes): a boot loader and an
/// AP image (U-Boot legacy uImages, the AP image carrying `revision` in plain text, as real ones
/// do), and NV and PhaseCheck derived from the IMEI. For the flash-state hook to write once.
pub fn initial_flash(flash_size: u64, revision: &str, imei: &str) -> Vec<(u64, Vec<u8>)> {
    use crate::flash::unisoc::wire::payload::uimage;
    let layout = Layout8910::new(flash_size);
    let filled = |text: String, len: usize| {
        let mut d = text.into_bytes();
        d.resize(len.max(d.len()), 0x5A);
        d
    };
    let boot = uimage("8910 boot loader", &filled("8910 boot loader (simulated)".into(), 0x800 - 64));
    let ap = uimage("AP", &filled(format!("Quectel AP image (simulated) {revision}\0"), 0x1000 - 64));
    vec![
        (layout.boot.offset, boot),
        (layout.ap.offset, ap),
        (layout.nv.offset, module_nv(imei)),
        (layout.phasecheck.offset, module_phasecheck(imei)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_mib_map_matches_the_sdk() {
        let l = Layout8910::new(8 << 20);
        assert_eq!(l.ap.address(), 0x6001_0000);
        assert_eq!(l.appimg.address(), 0x6023_0000);
        assert_eq!(l.factory.address(), 0x607E_0000);
        assert_eq!(l.nv.address(), 0x607E_0000);
        assert_eq!(l.phasecheck.address(), 0x607F_0000);
        assert!(l.nv.contains(0x7E_0000, 0x10000) && !l.nv.contains(0x7E_0000, 0x10001));
        for (offset, bytes) in initial_flash(8 << 20, "EC200UCNAAR03A03M08", "861234000000052") {
            assert!(offset + bytes.len() as u64 <= 8 << 20);
        }
    }

    #[test]
    fn nv_and_phasecheck_come_from_the_imei() {
        let a = module_nv("861234000000052");
        assert_ne!(a, module_nv("861234000000060"));
        assert_eq!(&a[4..6], &NV_ITEM_IMEI.to_le_bytes());
        assert_eq!(imei_bcd("8612"), [0x68, 0x21]);
        assert_eq!(imei_bcd("861"), [0x68, 0xF1]);
        let p = module_phasecheck("861234000000052");
        assert_eq!(p.len(), 0x100);
        assert!(p.starts_with(b"SP09SIM234000000052"));
    }
}
