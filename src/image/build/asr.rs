//! Builds real-format ASR packages: `download.json`, `partition.bin` with its CRC-32,
//! `flashinfo.bin` with a chosen chip list, FIP stages and images; and damaged variants.
//!
//! The structures are those of waybyte/logicromsdk `lib/asr160x/pack/` and of the zip its
//! release script (`asrutils.gen_release_file`) builds from it: `download.json` is a top-level
//! array of flat step objects; `partition.bin` nests sub-partitions in `part` entries and gives
//! every partition a `vsize` (the image size for raw images, the partition size otherwise);
//! `flashinfo.bin` carries the header geometry of `flashinfo_8M.bin`; the FIP stages carry the
//! TOC flags of `ASR1601/preboot.img`. The image flashed into `cp` (inside `system`, the
//! firmware partition) carries the revision in plain text.

use crate::image::asr::fip::{self, UUID_BL2, UUID_TRUSTED_BOOT_FW_CERT};
use crate::image::asr::flashinfo::{self, FlashChip, FlashInfo};
use crate::image::asr::partition_table::{self, PtEntry};
use crate::image::fields::put_ascii;

use super::memory::MemoryPackage;

/// `version-bootrom` of the CraneL boot ROM (ASR's CraneL template; which string an EC800M's or
/// EC800K's ROM really returns is not confirmed by a public source).
pub const CRANEL_BOOTROM: &str = "2022.11.06";

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
    // min_io_size, peb_size, page_size, sector_size, block_size, reserved: 1, 0x1000, 0x100,
    // 0x1000, 0x10000, 0 in flashinfo_8M.bin and flashinfo_16M.bin (the erase block the
    // flasher uses is the 4 KiB sector).
    let geometry = [1, info.sector_size, info.page_size, info.sector_size, info.block_size, 0];
    for (k, v) in geometry.into_iter().enumerate() {
        b[0x68 + 4 * k..0x6C + 4 * k].copy_from_slice(&v.to_le_bytes());
    }
    b[0x80..0x88].copy_from_slice(&info.flash_size.to_le_bytes());
    // erased_value 0xFF; chained, spi_port and combined_flash_size_in_mb are 0 in both files.
    b[0x88] = info.erased_value;
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
/// (the layout of the real ASR1601 preboot: BL2 at 0x88, size 0x3D05, certificate at 0x3D90),
/// with the TOC flags every real stage carries ([`fip::ASR_TOC_FLAGS`]) and entry flags 0.
pub fn fip_image(images: &[([u8; 16], Vec<u8>)]) -> Vec<u8> {
    let toc_end = fip::HEADER_SIZE + (images.len() + 1) * fip::ENTRY_SIZE;
    let mut b = vec![0u8; toc_end];
    b[0..4].copy_from_slice(&fip::TOC_NAME.to_le_bytes());
    b[4..8].copy_from_slice(&fip::TOC_SERIAL.to_le_bytes());
    b[8..16].copy_from_slice(&fip::ASR_TOC_FLAGS.to_le_bytes());
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

/// An entry whose `vsize` is its size (`ptable` gets the table's size); the caller sets the
/// `vsize` of partitions that receive an image.
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
        vsize: if name == "ptable" { partition_table::TABLE_SIZE as u32 } else { size },
        depth,
    }
}

/// The partition table of waybyte/logicromsdk `partition_8M.bin` (22 entries, CRC 0xF5076037),
/// entry for entry: `all` (group, depth 0) and `external` (flash "0", depth 1) span the 8 MB;
/// `system` (part) holds `ptable` to `logo`; `factory` (part) holds `factory_a` and `factory_b`.
/// The `vsize` values are the real ones (the images' sizes: `ptable` 0x88C, `fwcerts` 0x7F4,
/// `apn` 0x6796, `dsp` 0x10F054, `logo` 0x83B4, `user_app` 0x1000, `updater` 0x1B648).
pub fn layout_8mb() -> Vec<PtEntry> {
    let mut t = vec![
        entry("all", "group", 0, 0x80_0000, 0),
        entry("external", "flash", 0, 0x80_0000, 1),
        entry("bootloader", "ubi", 0, 0x24000, 2),
        entry("system", "part", 0x24000, 0x49_6000, 2),
        entry("ptable", "raw", 0x24000, 0x1000, 3),
        entry("fwcerts", "raw", 0x25000, 0x3000, 3),
        entry("rd", "raw", 0x28000, 0x10000, 3),
        entry("apn", "raw", 0x38000, 0x8000, 3),
        entry("cp", "raw", 0x40000, 0x35_9000, 3),
        entry("dsp", "raw", 0x39_9000, 0x11_0000, 3),
        entry("rfbin", "raw", 0x4A_9000, 0x8000, 3),
        entry("logo", "raw", 0x4B_1000, 0x9000, 3),
        entry("reserved", "raw", 0x4B_A000, 0x8_2000, 2),
        entry("user_app", "raw", 0x53_C000, 0x8_0000, 2),
        entry("user_fs", "raw", 0x5B_C000, 0x10_0000, 2),
        entry("fota_param", "raw", 0x6B_C000, 0x4000, 2),
        entry("updater", "raw", 0x6C_0000, 0x2_0000, 2),
        entry("fota_pkg", "raw", 0x6E_0000, 0x8_0000, 2),
        entry("nvm", "raw", 0x76_0000, 0x8_0000, 2),
        entry("factory", "part", 0x7E_0000, 0x2_0000, 2),
        entry("factory_a", "raw", 0x7E_0000, 0x1_0000, 3),
        entry("factory_b", "raw", 0x7F_0000, 0x1_0000, 3),
    ];
    for (name, vsize) in [
        ("fwcerts", 0x7F4),
        ("apn", 0x6796),
        ("dsp", 0x10_F054),
        ("logo", 0x83B4),
        ("user_app", 0x1000),
        ("updater", 0x1_B648),
    ] {
        if let Some(e) = t.iter_mut().find(|e| e.name == name) {
            e.vsize = vsize;
        }
    }
    t
}

/// A partition layout for a NOR flash of `size` bytes with the entries, types, nesting and
/// `vsize` rules of the real tables: the 8 MB table itself for 8 MB, and for other sizes the
/// same partitions with the fixed parts kept and `cp`, `dsp`, `user_fs` and `fota_pkg` scaled.
pub fn layout(size: u64) -> Vec<PtEntry> {
    if size == 8 << 20 {
        return layout_8mb();
    }
    // Sizes from the start of the flash, in order; the variable parts share what is left.
    let fixed: u64 = 0x24000
        + 0x1000
        + 0x3000
        + 0x10000
        + 0x8000
        + 0x8000
        + 0x9000
        + 0x2000
        + 0x4_0000
        + 0x4000
        + 0x1_C000
        + 0x4_0000
        + 0x2_0000;
    let spare = size.saturating_sub(fixed);
    let (cp, dsp, user_fs) = (spare / 2 / 0x1000 * 0x1000, spare / 5 / 0x1000 * 0x1000, spare / 5 / 0x1000 * 0x1000);
    let fota_pkg = spare - cp - dsp - user_fs;
    let sizes = [
        ("bootloader", "ubi", 0x24000, 2),
        ("ptable", "raw", 0x1000, 3),
        ("fwcerts", "raw", 0x3000, 3),
        ("rd", "raw", 0x10000, 3),
        ("apn", "raw", 0x8000, 3),
        ("cp", "raw", cp, 3),
        ("dsp", "raw", dsp, 3),
        ("rfbin", "raw", 0x8000, 3),
        ("logo", "raw", 0x9000, 3),
        ("reserved", "raw", 0x2000, 2),
        ("user_app", "raw", 0x4_0000, 2),
        ("user_fs", "raw", user_fs, 2),
        ("fota_param", "raw", 0x4000, 2),
        ("updater", "raw", 0x1_C000, 2),
        ("fota_pkg", "raw", fota_pkg, 2),
        ("nvm", "raw", 0x4_0000, 2),
    ];
    let mut t = vec![entry("all", "group", 0, size, 0), entry("external", "flash", 0, size, 1)];
    let mut at = 0;
    let mut system_at = None;
    for (name, kind, len, depth) in sizes {
        if depth == 3 && system_at.is_none() {
            system_at = Some((t.len(), at));
            t.push(entry("system", "part", at, 0, 2));
        }
        if depth == 2
            && let Some((index, start)) = system_at.take()
        {
            t[index] = entry("system", "part", start, at - start, 2);
        }
        t.push(entry(name, kind, at, len, depth));
        at += len;
    }
    t.push(entry("factory", "part", at, 0x2_0000, 2));
    t.push(entry("factory_a", "raw", at, 0x1_0000, 3));
    t.push(entry("factory_b", "raw", at + 0x1_0000, 0x1_0000, 3));
    t
}

/// A firmware image of `len` bytes carrying `revision` in plain text, as real images do.
pub fn firmware_image(revision: &str, len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect();
    let text = format!("{revision}\0");
    let at = (len / 2).min(len.saturating_sub(text.len()));
    let end = (at + text.len()).min(len);
    data[at..end].copy_from_slice(&text.as_bytes()[..end - at]);
    data
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
    /// A member named with the revision (a `<revision>.json`, as arelease writes beside the
    /// release), if any. It holds the arelease PRODUCT and VARIANT when `arelease` is set.
    pub revision_member: Option<String>,
    /// arelease PRODUCT and VARIANT, written into the revision member.
    pub arelease: Option<(String, String)>,
    /// The boot ROM the recipe requires: `require product` and `require version-bootrom`
    /// values (`arom-tiny` / `2020.07.30` for ASR1603, `arom|arom-tiny` / `2019.01.15` for
    /// ASR1601, as waybyte's release script sets them; `arom-tiny` / `2022.11.06` for the CraneL
    /// chips, ASR1602 and ASR1606, as ASR's CraneL template does).
    pub rom: (String, String),
    /// The `require version` value: `0.5` in logicrom's ASR1603 recipe, `0.6` in the CraneL
    /// template.
    pub rom_version: String,
    /// The flash table.
    pub flash: FlashInfo,
    /// The partitions.
    pub partitions: Vec<PtEntry>,
    /// Images: member name, partition, content.
    pub images: Vec<(String, String, Vec<u8>)>,
    /// Damage to apply.
    pub damage: Vec<AsrDamage>,
}

/// One step of `download.json`: the keys and values of a flat object, in key order.
type JsonStep = Vec<(&'static str, JsonValue)>;

/// A value in a step: the SDK's file has strings and numbers.
#[derive(Debug, Clone)]
enum JsonValue {
    Text(String),
    Number(u64),
    Bool(bool),
}

impl AsrBuilder {
    /// An EC800M-CN LF QuecOpen package: 4 MB NOR, chip C8 60 16, for the CraneL (ASR1606)
    /// boot ROM.
    pub fn ec800m_cn_lf() -> AsrBuilder {
        let size = 4 << 20;
        let revision = "EC800MCNLFR01A01M04_OCPU";
        AsrBuilder {
            file_name: format!("{revision}.zip"),
            folder: String::new(),
            revision_member: Some(format!("{revision}.json")),
            arelease: Some(("CRANEL_QUEC_PRODUCT".into(), "QUEC_CRANEL_SS_04MB_OPEN".into())),
            rom: ("arom-tiny".into(), CRANEL_BOOTROM.into()),
            rom_version: "0.6".into(),
            flash: flash_table(size, &[chip(0xC8, 0x6016, "C86016-4MB")]),
            partitions: layout(size),
            images: vec![
                ("cp.bin".into(), "cp".into(), firmware_image(revision, 4096)),
                ("app.bin".into(), "user_app".into(), vec![0x22; 2048]),
            ],
            damage: Vec::new(),
        }
    }

    /// An EC800M-CN LA QuecOpen package: 8 MB NOR with the 8 MB chip list (XM25QU64C among
    /// them) and the real 8 MB partition table.
    pub fn ec800m_cn_la() -> AsrBuilder {
        let size = 8 << 20;
        let revision = "EC800MCNLAR01A01M08_OCPU";
        AsrBuilder {
            file_name: format!("{revision}.zip"),
            revision_member: Some(format!("{revision}.json")),
            arelease: Some(("CRANEL_QUEC_PRODUCT".into(), "QUEC_CRANEL_SS_08MB_OPEN".into())),
            flash: flash_table(size, &chips_8mb()),
            partitions: layout(size),
            images: vec![
                ("cp.bin".into(), "cp".into(), firmware_image(revision, 4096)),
                ("app.bin".into(), "user_app".into(), vec![0x22; 2048]),
            ],
            ..AsrBuilder::ec800m_cn_lf()
        }
    }

    /// An EC800K-CN CC QuecOpen package: 2 MB NOR with the GigaDevice GD25LQ16 (C8 60 15), for
    /// the CraneL (ASR1602) boot ROM. No arelease PRODUCT/VARIANT of a 2 MB CRANELR build is
    /// published, so the release member names none.
    pub fn ec800k_cn() -> AsrBuilder {
        let size = 2 << 20;
        let revision = "EC800KCNCCR07A02M02_OCPU";
        AsrBuilder {
            file_name: format!("{revision}.zip"),
            revision_member: Some(format!("{revision}.json")),
            arelease: None,
            flash: flash_table(size, &[chip(0xC8, 0x6015, "GD25LQ16")]),
            partitions: layout(size),
            images: vec![
                ("cp.bin".into(), "cp".into(), firmware_image(revision, 4096)),
                ("app.bin".into(), "user_app".into(), vec![0x33; 2048]),
            ],
            ..AsrBuilder::ec800m_cn_lf()
        }
    }

    /// The same package for another revision: its file name, its release member and the
    /// revision text inside the `cp` image.
    pub fn revised(mut self, revision: &str) -> AsrBuilder {
        self.file_name = format!("{revision}.zip");
        if self.revision_member.is_some() {
            self.revision_member = Some(format!("{revision}.json"));
        }
        for (_, part, data) in &mut self.images {
            if part == "cp" {
                *data = firmware_image(revision, data.len());
            }
        }
        self
    }

    /// The recipe's steps, in order, as flat objects: group "0" requires the ROM, reports
    /// progress, calls the stages and loads the tables; group "1" flashes the images (each
    /// step's `weight` is its image's size, the `progress` value their sum, as waybyte's
    /// release script sets them).
    fn steps(&self) -> Vec<JsonStep> {
        let text = |s: &str| JsonValue::Text(s.to_string());
        let group = |g: &str| ("group", text(g));
        let mut steps: Vec<JsonStep> = Vec::new();
        for (name, value) in
            [("product", &self.rom.0), ("version", &self.rom_version), ("version-bootrom", &self.rom.1)]
        {
            steps.push(vec![("command", text("require")), group("0"), ("name", text(name)), ("value", text(value))]);
        }
        let total: u64 = self.images.iter().map(|(_, _, d)| d.len() as u64).sum();
        steps.push(vec![
            ("command", text("progress")),
            group("0"),
            ("name", text("weight")),
            ("value", JsonValue::Number(total)),
        ]);
        for (command, image) in [
            ("call", "preboot.img"),
            ("call", "flasher.img"),
            ("partition", "flashinfo.bin"),
            ("partition", "partition.bin"),
        ] {
            steps.push(vec![("command", text(command)), group("0"), ("image", text(image))]);
        }
        let mut flash = |image: &str, partition: &str, weight: u64| {
            steps.push(vec![
                ("command", text("flash")),
                group("1"),
                ("image", text(image)),
                ("partition", text(partition)),
                ("weight", JsonValue::Number(weight)),
            ]);
        };
        for (file, part, data) in &self.images {
            flash(file, part, data.len() as u64);
        }
        if self.damage.contains(&AsrDamage::MissingImage) {
            flash("missing.bin", "user_fs", 0);
        }
        if self.damage.contains(&AsrDamage::EraseNv) {
            steps.push(vec![("command", text("erase")), group("1"), ("partition", text("nvm"))]);
        }
        if self.damage.contains(&AsrDamage::EraseAll) {
            steps.push(vec![
                ("command", text("erase")),
                group("2"),
                ("partition", text("all")),
                ("productionOnly", JsonValue::Bool(true)),
            ]);
        }
        steps
    }

    /// The `download.json` text, laid out as the SDK's file: a top-level array of flat
    /// objects, three-space indents, `" : "` between key and value.
    pub fn download_json(&self) -> String {
        let mut out = String::from("[\n");
        let steps = self.steps();
        for (i, step) in steps.iter().enumerate() {
            out.push_str("   {\n");
            for (k, (key, value)) in step.iter().enumerate() {
                let value = match value {
                    JsonValue::Text(t) => serde_json::Value::from(t.as_str()).to_string(),
                    JsonValue::Number(n) => n.to_string(),
                    JsonValue::Bool(b) => b.to_string(),
                };
                let comma = if k + 1 < step.len() { "," } else { "" };
                out.push_str(&format!("      \"{key}\" : {value}{comma}\n"));
            }
            out.push_str(if i + 1 < steps.len() { "   },\n" } else { "   }\n" });
        }
        out.push_str("]\n");
        out
    }

    /// The partition table as written: the builder's partitions, with the `vsize` of every
    /// partition an image is flashed into set to the image's size (waybyte's release script
    /// does this for `user_app`).
    fn table(&self) -> Vec<PtEntry> {
        let mut table = self.partitions.clone();
        for (_, part, data) in &self.images {
            if let Some(e) = table.iter_mut().find(|e| &e.name == part) {
                e.vsize = u32::try_from(data.len()).unwrap_or(u32::MAX);
            }
        }
        table
    }

    /// The members, in zip order: the order of waybyte's release zip (`download.json`,
    /// `partition.bin`, `flasher.img`, `flashinfo.bin`, `preboot.img`, the images), then the
    /// revision member.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        let has = |d| self.damage.contains(&d);
        let mut ptable = partition_bin(&self.table());
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
            ("flasher.img".to_string(), flasher),
            ("flashinfo.bin".to_string(), finfo),
            ("preboot.img".to_string(), preboot),
        ];
        for (file, _, data) in &self.images {
            out.push((file.clone(), data.clone()));
        }
        if let Some(name) = &self.revision_member {
            let body = match &self.arelease {
                Some((product, variant)) => serde_json::json!({ "product": product, "variant": variant }),
                None => serde_json::json!({}),
            };
            out.push((name.clone(), serde_json::to_vec_pretty(&body).unwrap_or_default()));
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
