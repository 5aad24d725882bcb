//! Builds real-format ASR packages: `download.json`, `partition.bin` with its CRC-32,
//! `flashinfo.bin` with a chosen chip list, FIP stages and images; and damaged variants.

use crate::image::asr::fip::{self, UUID_BL2, UUID_TRUSTED_BOOT_FW_CERT};
use crate::image::asr::flashinfo::{self, FlashChip, FlashInfo};
use crate::image::asr::partition_table::{self, PtEntry};
use crate::image::fields::put_ascii;

use super::memory::MemoryPackage;

/// Serialises a format "A" partition table (at most 32 entries are written) with a correct CRC.
pub fn partition_bin(entries: &[PtEntry]) -> Vec<u8> {
    let mut b = vec![0u8; partition_table::TABLE_SIZE];
    let n = entries.len().min(partition_table::SLOTS);
    b[0..4].copy_from_slice(&partition_table::MAGIC_A.to_le_bytes());
    b[4..8].copy_from_slice(&(n as u32).to_le_bytes());
    for (i, e) in entries.iter().take(n).enumerate() {
        let at = partition_table::ENTRIES_OFFSET + i * partition_table::ENTRY_SIZE;
        put_ascii(&mut b[at..at + 32], &e.name);
        put_ascii(&mut b[at + 32..at + 48], &e.kind);
        if let Some(idx) = &e.flash_index {
            let from = at + 32 + e.kind.len() + 1;
            if from < at + 48 {
                put_ascii(&mut b[from..at + 48], idx);
            }
        }
        for (k, v) in [e.start, e.size, e.vstart, e.vsize, e.depth].into_iter().enumerate() {
            let f = at + 48 + 4 * k;
            b[f..f + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
    let crc = partition_table::CRC32.checksum(&b[..partition_table::CRC_OFFSET]);
    b[partition_table::CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
    b
}

/// Serialises a flash information table.
pub fn flashinfo_bin(info: &FlashInfo) -> Vec<u8> {
    let mut b = vec![0u8; flashinfo::HEADER_SIZE];
    b[0..4].copy_from_slice(&flashinfo::MAGIC.to_le_bytes());
    b[4..6].copy_from_slice(&info.default_chip.vendor.to_le_bytes());
    b[6..8].copy_from_slice(&info.default_chip.device.to_le_bytes());
    put_ascii(&mut b[0x08..0x48], &info.default_chip.name);
    put_ascii(&mut b[0x48..0x68], &info.device_type);
    let geometry = [info.page_size, info.block_size, info.page_size, info.sector_size, info.block_size, 0];
    for (k, v) in geometry.into_iter().enumerate() {
        b[0x68 + 4 * k..0x6C + 4 * k].copy_from_slice(&v.to_le_bytes());
    }
    b[0x80..0x88].copy_from_slice(&info.flash_size.to_le_bytes());
    b[0x88] = info.erased_value;
    b[0x8B] = u8::try_from(info.flash_size >> 20).unwrap_or(0);
    b[0x8C..0x90].copy_from_slice(&(info.compatible.len() as u32).to_le_bytes());
    for chip in &info.compatible {
        let mut rec = [0u8; flashinfo::CHIP_SIZE];
        rec[0..2].copy_from_slice(&chip.vendor.to_le_bytes());
        rec[2..4].copy_from_slice(&chip.device.to_le_bytes());
        put_ascii(&mut rec[8..72], &chip.name);
        b.extend_from_slice(&rec);
    }
    b
}

/// Serialises a FIP container holding `images` (UUID, data) in order, each padded to 4 bytes
/// (the layout of the real ASR1601 preboot: BL2 at 0x88, size 0x3D05, certificate at 0x3D90).
pub fn fip_image(images: &[([u8; 16], Vec<u8>)]) -> Vec<u8> {
    let toc_end = fip::HEADER_SIZE + (images.len() + 1) * fip::ENTRY_SIZE;
    let mut b = vec![0u8; toc_end];
    b[0..4].copy_from_slice(&fip::TOC_NAME.to_le_bytes());
    b[4..8].copy_from_slice(&fip::TOC_SERIAL.to_le_bytes());
    let align = |n: usize| n.div_ceil(4) * 4;
    let mut offset = toc_end;
    for (i, (uuid, data)) in images.iter().enumerate() {
        let at = fip::HEADER_SIZE + i * fip::ENTRY_SIZE;
        b[at..at + 16].copy_from_slice(uuid);
        b[at + 16..at + 24].copy_from_slice(&(offset as u64).to_le_bytes());
        b[at + 24..at + 32].copy_from_slice(&(data.len() as u64).to_le_bytes());
        offset = align(offset + data.len());
    }
    let term = fip::HEADER_SIZE + images.len() * fip::ENTRY_SIZE;
    b[term + 16..term + 24].copy_from_slice(&(offset as u64).to_le_bytes());
    for (_, data) in images {
        b.extend_from_slice(data);
        b.resize(align(b.len()), 0);
    }
    b
}

/// A FIP stage with a BL2 and a certificate, as ASR ships `preboot.img` and `flasher.img`.
pub fn stage_image(label: &str) -> Vec<u8> {
    let bl2: Vec<u8> = format!("{label} version: fwguard-test\0").bytes().cycle().take(0x3D05).collect();
    fip_image(&[(UUID_BL2, bl2), (UUID_TRUSTED_BOOT_FW_CERT, vec![0x30; 0x40E])])
}

/// A chip record.
pub fn chip(vendor: u16, device: u16, name: &str) -> FlashChip {
    FlashChip { vendor, device, name: name.to_string() }
}

/// The seven chips of `waybyte/logicromsdk:lib/asr160x/pack/flashinfo_8M.bin` (GD25LQ64C first).
pub fn chips_8mb() -> Vec<FlashChip> {
    vec![
        chip(0xC8, 0x6017, "GD25LQ64C"),
        chip(0xEF, 0x6017, "W25Q64JW"),
        chip(0xF8, 0x4317, "FM25M64C"),
        chip(0x20, 0x5017, "XM25QU64B"),
        chip(0x20, 0x4117, "XM25QU64C"),
        chip(0x85, 0x6017, "P25Q64LE"),
        chip(0x5E, 0x7017, "ZB25LQ64A"),
    ]
}

/// A flash table for `size` bytes of QSPI NOR with `chips` (the first is the header chip).
pub fn flash_table(size: u64, chips: &[FlashChip]) -> FlashInfo {
    FlashInfo {
        default_chip: chips.first().cloned().unwrap_or_else(|| chip(0, 0, "")),
        device_type: "QSPI_NOR".into(),
        page_size: 0x100,
        sector_size: 0x1000,
        block_size: 0x10000,
        flash_size: size,
        erased_value: 0xFF,
        compatible: chips.to_vec(),
        problems: Vec::new(),
    }
}

fn entry(name: &str, kind: &str, start: u64, size: u64, depth: u32) -> PtEntry {
    let start = u32::try_from(start).unwrap_or(u32::MAX);
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    PtEntry {
        name: name.into(),
        kind: kind.into(),
        flash_index: (kind == "flash").then(|| "0".to_string()),
        start,
        size,
        vstart: if depth == 0 { u32::MAX } else { 0x8000_0000u32.wrapping_add(start) },
        vsize: if name == "ptable" { partition_table::TABLE_SIZE as u32 } else { 0 },
        depth,
    }
}

/// A partition layout for a NOR flash of `size` bytes, with the names of
/// `waybyte/logicromsdk:lib/asr160x/pack/partition_8M.bin`.
pub fn layout(size: u64) -> Vec<PtEntry> {
    vec![
        entry("all", "group", 0, size, 0),
        entry("external", "flash", 0, size, 1),
        entry("bootloader", "ubi", 0, 0x20000, 2),
        entry("ptable", "raw", 0x20000, 0x1000, 2),
        entry("rd", "raw", 0x21000, 0xF000, 2),
        entry("cp", "raw", 0x40000, size / 2 - 0x40000, 2),
        entry("user_app", "raw", size / 2, size / 4, 2),
        entry("user_fs", "lfs", size / 4 * 3, size / 8, 2),
        entry("nvm", "raw", size / 8 * 7, size / 16, 2),
        entry("factory", "raw", size / 16 * 15, size / 16, 2),
    ]
}

/// One way to damage a built package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsrDamage {
    /// `partition.bin` with a stale CRC.
    PartitionBadCrc,
    /// `partition.bin` cut short.
    PartitionTruncated,
    /// `partition.bin` with a wrong magic.
    PartitionWrongMagic,
    /// `flashinfo.bin` declaring more chips than it holds.
    FlashinfoTruncated,
    /// `preboot.img` whose TOC says it is longer than it is.
    FipTruncated,
    /// `flasher.img` whose two images overlap.
    FipOverlap,
    /// The recipe flashes an image the zip lacks.
    MissingImage,
    /// The recipe erases the NV partition in upgrade mode.
    EraseNv,
    /// The recipe erases the whole flash in production mode.
    EraseAll,
}

/// Builds an ASR package.
#[derive(Debug, Clone)]
pub struct AsrBuilder {
    /// The package file name.
    pub file_name: String,
    /// A folder inside the zip holding everything (`""` for none).
    pub folder: String,
    /// A member named with the revision (a `<revision>.json`), if any.
    pub revision_member: Option<String>,
    /// arelease PRODUCT and VARIANT written into `download.json`.
    pub arelease: Option<(String, String)>,
    /// The flash table.
    pub flash: FlashInfo,
    /// The partitions.
    pub partitions: Vec<PtEntry>,
    /// Images: member name, partition, content.
    pub images: Vec<(String, String, Vec<u8>)>,
    /// Damage to apply.
    pub damage: Vec<AsrDamage>,
}

impl AsrBuilder {
    /// An EC800M-CN LF QuecOpen package: 4 MB NOR, chip C8 60 16.
    pub fn ec800m_cn_lf() -> AsrBuilder {
        let size = 4 << 20;
        AsrBuilder {
            file_name: "EC800MCNLFR01A01M04_OCPU.zip".into(),
            folder: String::new(),
            revision_member: Some("EC800MCNLFR01A01M04_OCPU.json".into()),
            arelease: Some(("CRANEL_QUEC_PRODUCT".into(), "QUEC_CRANEL_SS_04MB_OPEN".into())),
            flash: flash_table(size, &[chip(0xC8, 0x6016, "C86016-4MB")]),
            partitions: layout(size),
            images: vec![
                ("cp.bin".into(), "cp".into(), vec![0x11; 4096]),
                ("app.bin".into(), "user_app".into(), vec![0x22; 2048]),
            ],
            damage: Vec::new(),
        }
    }

    /// An EC800M-CN LA QuecOpen package: 8 MB NOR with the 8 MB chip list (XM25QU64C among them).
    pub fn ec800m_cn_la() -> AsrBuilder {
        let size = 8 << 20;
        AsrBuilder {
            file_name: "EC800MCNLAR01A01M08_OCPU.zip".into(),
            revision_member: Some("EC800MCNLAR01A01M08_OCPU.json".into()),
            arelease: Some(("CRANEL_QUEC_PRODUCT".into(), "QUEC_CRANEL_SS_08MB_OPEN".into())),
            flash: flash_table(size, &chips_8mb()),
            partitions: layout(size),
            ..AsrBuilder::ec800m_cn_lf()
        }
    }

    /// The `download.json` text.
    pub fn download_json(&self) -> String {
        let boot = serde_json::json!({
            "name": "boot",
            "steps": [
                "require product=arom-tiny", "require version=0.6", "require version-bootrom=2022.11.06",
                "progress", "call preboot.img", "call flasher.img",
                "partition flashinfo.bin", "partition partition.bin"
            ]
        });
        let mut images: Vec<serde_json::Value> = self
            .images
            .iter()
            .map(|(file, part, _)| serde_json::json!({"command": "flash", "image": file, "partition": part, "weight": 1}))
            .collect();
        if self.damage.contains(&AsrDamage::MissingImage) {
            images.push(serde_json::json!({"command": "flash", "image": "missing.bin", "partition": "user_fs"}));
        }
        if self.damage.contains(&AsrDamage::EraseNv) {
            images.push(serde_json::json!("erase nvm"));
        }
        let mut groups = vec![boot, serde_json::json!({"name": "images", "steps": images})];
        if self.damage.contains(&AsrDamage::EraseAll) {
            groups.push(serde_json::json!({"name": "factory", "productionOnly": true, "steps": ["erase all"]}));
        }
        let mut doc = serde_json::json!({ "groups": groups });
        if let Some((p, v)) = &self.arelease {
            doc["arelease"] = serde_json::json!({ "product": p, "variant": v });
        }
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// The members, in zip order.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        let has = |d| self.damage.contains(&d);
        let mut ptable = partition_bin(&self.partitions);
        if has(AsrDamage::PartitionBadCrc) {
            ptable[partition_table::CRC_OFFSET] ^= 0x5A;
        }
        if has(AsrDamage::PartitionTruncated) {
            ptable.truncate(0x400);
        }
        if has(AsrDamage::PartitionWrongMagic) {
            ptable[0..4].copy_from_slice(b"XTPA");
        }
        let mut finfo = flashinfo_bin(&self.flash);
        if has(AsrDamage::FlashinfoTruncated) {
            let n = (self.flash.compatible.len() as u32).saturating_add(3);
            finfo[0x8C..0x90].copy_from_slice(&n.to_le_bytes());
        }
        let mut preboot = stage_image("Preboot");
        if has(AsrDamage::FipTruncated) {
            preboot.truncate(preboot.len() - 100);
        }
        let mut flasher = stage_image("Flasher");
        if has(AsrDamage::FipOverlap) {
            let at = fip::HEADER_SIZE + fip::ENTRY_SIZE + 16;
            flasher[at..at + 8].copy_from_slice(&0x100u64.to_le_bytes());
        }
        let mut out = vec![
            ("download.json".to_string(), self.download_json().into_bytes()),
            ("partition.bin".to_string(), ptable),
            ("flashinfo.bin".to_string(), finfo),
            ("preboot.img".to_string(), preboot),
            ("flasher.img".to_string(), flasher),
        ];
        for (file, _, data) in &self.images {
            out.push((file.clone(), data.clone()));
        }
        if let Some(name) = &self.revision_member {
            out.push((name.clone(), b"{}".to_vec()));
        }
        out.into_iter().map(|(n, d)| (format!("{}{n}", self.folder), d)).collect()
    }

    /// The package as an in-memory [`MemoryPackage`] named `file_name`.
    pub fn package(&self) -> MemoryPackage {
        MemoryPackage::new(&self.file_name, self.members())
    }

    /// The package as zip bytes.
    pub fn zip(&self) -> std::io::Result<Vec<u8>> {
        self.package().to_zip()
    }
}
