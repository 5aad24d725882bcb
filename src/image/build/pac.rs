//! Builds real-format Unisoc PAC files (both header versions, both CRCs, an XML scheme) and
//! damaged variants.
//!
//! The layout is the one RDA's `pacgen.py` writes (waybyte/logicromsdk
//! `tools/rda8910/pacgen.py`, also openLuat/Luat_CSDK_Air724U `tools/pacgen.py`), checked against
//! a PAC written by it (`cfg-init --pname UIX8910_MODEM --palias APPIMG --pversion "8910 MODULE"
//! --version BP_R1.0.0 --flashtype 1`, the invocation of QuecPython's firmware build):
//!
//! - every file entry's `nFileFlag` is 1 (FDLs included), 0 for an operation with no data
//!   (an erase, PhaseCheck), 2 for the XML;
//! - `dwLoDataOffset` is the running offset: an operation entry gets the offset of the next
//!   data, the XML entry the offset of its own data;
//! - `dwAddrNum` is 1 for every entry, the XML's too (whose address is 0), and the XML entry's
//!   `nCheckFlag` and `dwCanOmitFlag` are 0;
//! - the header gives `dwNandStrategy` 1, `dwIsOmaDM` 1, `dwIsPreload` 1, and `dwIsNvBackup` 1
//!   when NV items are backed up;
//! - the XML is minidom's pretty print with tabs and CRLF line ends: `<Product>` holds
//!   `<SchemeName>`, `<RebootByAT>`, `<FlashTypeID>`, `<Mode>`, `<NVBackup>` and
//!   `<Chips enable="0">` with two `<ChipItem>`s; each `<File>` holds `<ID>`, `<IDAlias>`,
//!   `<Type>`, `<Block>` with `<Base>` and the fixed `<Size>` (the region, not the data length),
//!   `<Flag>`, `<CheckFlag>` (the force-check flag) and `<Description>`.

use quick_xml::escape::escape;

use crate::flash::unisoc::nv;
use crate::flash::unisoc::wire::payload::{UIMAGE_HEADER, uimage as wire_uimage};
use crate::image::fields::put_utf16;
use crate::image::pac::describe::{ADDR_ERASE_NV, ADDR_NV, ADDR_PHASECHECK};
use crate::image::pac::entry::{self, ENTRY_SIZE, FLAG_FILE, FLAG_OPERATION, FLAG_XML};
use crate::image::pac::header::{self, CRC16, HEADER_SIZE, MAGIC, PacVersion, offsets};

/// One file (or operation) of a PAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacFileSpec {
    /// `szFileID` and the XML `<ID>`.
    pub id: String,
    /// `szFileName`.
    pub name: String,
    /// The XML `<Type>`: FDL, FDL2, HOST_FDL, CODE, NV, EraseFlash, ...
    pub kind: String,
    /// `nFileFlag`.
    pub flag: u32,
    /// Address (`dwAddr[0]`, XML `<Base>`).
    pub address: u32,
    /// The region's fixed size (XML `<Size>`).
    pub fixed_size: u32,
    /// `nCheckFlag` (pacgen's default-check flag).
    pub check: u32,
    /// `dwCanOmitFlag`.
    pub can_omit: u32,
    /// XML `<CheckFlag>` (pacgen's force-check flag).
    pub force_check: u32,
    /// XML `<Description>`.
    pub description: String,
    /// The data (empty for operations).
    pub data: Vec<u8>,
}

impl PacFileSpec {
    /// A file written at `address` into a region of `fixed_size` bytes, with pacgen's flags:
    /// FDLs (`cfg-host-fdl`, `cfg-fdl2`, `cfg-fdl`) are checked and force-checked, images
    /// (`cfg-image`) checked only.
    pub fn file(id: &str, name: &str, kind: &str, address: u32, fixed_size: u32, data: Vec<u8>) -> PacFileSpec {
        let fdl = kind.contains("FDL");
        PacFileSpec {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            flag: FLAG_FILE,
            address,
            fixed_size,
            check: 1,
            can_omit: 0,
            force_check: u32::from(fdl),
            description: id.into(),
            data,
        }
    }

    /// An operation with no data (an erase, PhaseCheck), omissible, as pacgen writes them.
    pub fn operation(id: &str, kind: &str, description: &str, address: u32, fixed_size: u32) -> PacFileSpec {
        PacFileSpec {
            id: id.into(),
            name: String::new(),
            kind: kind.into(),
            flag: FLAG_OPERATION,
            address,
            fixed_size,
            check: 1,
            can_omit: 1,
            force_check: 0,
            description: description.into(),
            data: Vec::new(),
        }
    }
}

/// A firmware image of `len` bytes carrying `revision` in plain text, as real images do.
fn firmware_image(revision: &str, len: usize) -> Vec<u8> {
    super::asr::firmware_image(revision, len)
}

/// `dwFlashType` and `<FlashTypeID>`: QuecPython's build calls pacgen with `--flashtype 1`.
pub const FLASH_TYPE: u32 = 1;
/// `dwNandStrategy`, which pacgen always writes as 1.
pub const NAND_STRATEGY: u32 = 1;

/// One way to damage a built PAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacDamage {
    /// A wrong header CRC (CRC1).
    HeaderCrc,
    /// A data byte flipped after the CRCs were computed (CRC2 fails).
    DataCrc,
    /// The last 1000 bytes cut off.
    Truncated,
    /// `dwMagic` zeroed.
    WrongMagic,
    /// The first file entry declares more bytes than the file has (CRCs recomputed).
    SizeBeyondFile,
    /// The second file's data overlaps the first's (CRCs recomputed).
    Overlap,
    /// `nFileCount` of 0xFFFFFFFF (CRCs recomputed).
    AbsurdCount,
    /// XML that does not parse (CRCs correct).
    BadXml,
}

/// Builds a PAC.
#[derive(Debug, Clone)]
pub struct PacBuilder {
    /// Header layout.
    pub version: PacVersion,
    /// `szPrdName`.
    pub product_name: String,
    /// `szPrdVersion`.
    pub product_version: String,
    /// `szPrdAlias`.
    pub product_alias: String,
    /// Files and operations, in order; the XML is added after them.
    pub files: Vec<PacFileSpec>,
    /// Whether to embed the XML scheme.
    pub xml: bool,
    /// NV items backed up (`<NVBackup backup="1">`); empty for none.
    pub nv_backup: Vec<String>,
    /// Damage to apply.
    pub damage: Vec<PacDamage>,
}

/// A U-Boot legacy uImage of `len` bytes in all named `label`, its payload the label repeated
/// (the 8910 FDLs and boot loader are uImages: waybyte/logicromsdk `lib/rda8910/fdl1.img`).
fn uimage(label: &str, len: usize) -> Vec<u8> {
    let payload: Vec<u8> = label.bytes().cycle().take(len.saturating_sub(UIMAGE_HEADER)).collect();
    wire_uimage(label, &payload)
}

/// The NV item image of the fixture PACs, `NV_SIZE` bytes: a default IMEI (item 5), a default
/// calibration (item 0x100, the id `with_nv_steps` backs up as `Calibration`) and an RF setting
/// (item 0x200), in the item format of the Unisoc loaders ([`nv::encode`]), padded with 0xFF.
pub fn nv_items() -> Vec<u8> {
    let mut image = nv::encode(&[
        (0x5, vec![0x0F; 8]),
        (NV_CALIBRATION, vec![0; 64]),
        (0x200, b"fixture band and RF settings".to_vec()),
    ]);
    image.resize(NV_SIZE, 0xFF);
    image
}

/// The NV region's size in the fixture PACs (`cfg-nv -s 0x400`).
pub const NV_SIZE: usize = 0x400;
/// The id of the NV item `with_nv_steps` backs up as `Calibration`.
pub const NV_CALIBRATION: u16 = 0x100;
/// The id of the NV item `with_nv_steps` backs up as `IMEI`.
pub const NV_IMEI_BACKUP: u16 = 0x101;

/// Writes one XML element of minidom's pretty print: `indent` tabs, then the element, CRLF.
fn leaf(x: &mut String, indent: usize, tag: &str, text: &str) {
    x.push_str(&"\t".repeat(indent));
    x.push_str(&format!("<{tag}>{}</{tag}>\r\n", escape(text)));
}

impl PacBuilder {
    /// An EC200U-EU OpenCPU PAC named by the 8910 build target, revision
    /// `EC200UEUAAR02A02M08_OCPU`, with FDL1, FDL2, boot and app images.
    pub fn ec200u_eu() -> PacBuilder {
        PacBuilder::uis8910("EC200UEUAAR02A02M08_OCPU")
    }

    /// A UIS8910 PAC whose app image is named after `revision` and carries it in plain text
    /// (the FDLs and the boot loader are uImages, as the real ones are),
    /// with the addresses and region sizes of waybyte/logicromsdk `lib/rda8910/core_config.json`
    /// (FDL1 0x8000C0 / 0xFF40, FDL2 0x810000 / 0x30000, boot 0x60000000 / 0x10000, app
    /// 0x60010000 / 0x220000).
    pub fn uis8910(revision: &str) -> PacBuilder {
        PacBuilder {
            version: PacVersion::R1,
            product_name: "UIX8910_MODEM".into(),
            product_version: "8910 MODULE".into(),
            product_alias: "8915DM_cat1_open".into(),
            files: vec![
                PacFileSpec::file("HOST_FDL", "fdl1.img", "HOST_FDL", 0x0080_00C0, 0xFF40, uimage("fdl1", 0x900)),
                PacFileSpec::file("FDL2", "fdl2.img", "FDL2", 0x0081_0000, 0x3_0000, uimage("fdl2", 0x1100)),
                PacFileSpec::file("BOOT", "boot.img", "CODE", 0x6000_0000, 0x1_0000, uimage("8910 boot", 0x800)),
                PacFileSpec::file(
                    "AP",
                    &format!("8915DM_cat1_open_{revision}.img"),
                    "CODE",
                    0x6001_0000,
                    0x22_0000,
                    firmware_image(revision, 0x2803),
                ),
            ],
            xml: true,
            nv_backup: Vec::new(),
            damage: Vec::new(),
        }
    }

    /// Adds pacgen's NV steps: `cfg-clear-nv` (ID `FLASH`, EraseFlash at 0xFE000001),
    /// `cfg-phase-check` (ID `PhaseCheck`, 0xFE000002, 0x100 bytes) and `cfg-nv` (ID `NV`,
    /// 0xFE000003, a real NV item image: [`nv_items`]), backing up `Calibration` (item 0x100)
    /// and `IMEI` (0x101).
    pub fn with_nv_steps(mut self) -> PacBuilder {
        self.files.push(PacFileSpec::operation("FLASH", "EraseFlash", "Erase NV", ADDR_ERASE_NV, 0));
        self.files.push(PacFileSpec::operation(
            "PhaseCheck",
            "CODE",
            "Producting phases information section",
            ADDR_PHASECHECK,
            0x100,
        ));
        let mut nv = PacFileSpec::file("NV", "nvitem.bin", "NV", ADDR_NV, NV_SIZE as u32, nv_items());
        nv.can_omit = 1;
        self.files.push(nv);
        self.nv_backup = vec!["Calibration".into(), "IMEI".into()];
        self
    }

    /// The XML file name, `<PrdName>.xml`.
    pub fn xml_name(&self) -> String {
        format!("{}.xml", self.product_name)
    }

    /// The XML scheme text, as pacgen's minidom pretty print lays it out. `<Block>` carries no
    /// `id`, as in the UIS8910 PACs RDA's generator writes (openLuat/Luat_CSDK_Air724U
    /// `tools/pacgen.py`): with an id, amitv87/unisoc_dloader downloads by partition name, which
    /// the 8910 FDL2 does not have.
    pub fn xml_text(&self) -> String {
        if self.damage.contains(&PacDamage::BadXml) {
            return "<BMAConfig><ProductList><Product name=\"x\"></ProductList></BMAConfig>".into();
        }
        let name = escape(self.product_name.as_str()).into_owned();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<BMAConfig>\r\n\t<ProductList>\r\n");
        x += &format!("\t\t<Product name=\"{name}\">\r\n");
        leaf(&mut x, 3, "SchemeName", &self.product_name);
        leaf(&mut x, 3, "RebootByAT", "1");
        leaf(&mut x, 3, "FlashTypeID", &FLASH_TYPE.to_string());
        leaf(&mut x, 3, "Mode", "0");
        let backup = u8::from(!self.nv_backup.is_empty());
        if self.nv_backup.is_empty() {
            x += "\t\t\t<NVBackup backup=\"0\"/>\r\n";
        } else {
            x += &format!("\t\t\t<NVBackup backup=\"{backup}\">\r\n");
            for (i, item) in self.nv_backup.iter().enumerate() {
                x += &format!("\t\t\t\t<NVItem name=\"{}\" backup=\"1\">\r\n", escape(item.as_str()));
                leaf(&mut x, 5, "ID", &format!("{:#x}", 0x100 + i));
                x += "\t\t\t\t\t<BackupFlag use=\"1\">\r\n\t\t\t\t\t\t<NVFlag name=\"Continue\" check=\"1\"/>\r\n\t\t\t\t\t</BackupFlag>\r\n";
                x += "\t\t\t\t</NVItem>\r\n";
            }
            x += "\t\t\t</NVBackup>\r\n";
        }
        x += "\t\t\t<Chips enable=\"0\">\r\n\t\t\t\t<ChipItem id=\"0x2222\" name=\"L2\"/>\r\n\t\t\t\t<ChipItem id=\"0x7777\" name=\"L7\"/>\r\n\t\t\t</Chips>\r\n";
        x += "\t\t</Product>\r\n\t</ProductList>\r\n\t<SchemeList>\r\n";
        x += &format!("\t\t<Scheme name=\"{name}\">\r\n");
        for f in &self.files {
            x += "\t\t\t<File>\r\n";
            leaf(&mut x, 4, "ID", &f.id);
            leaf(&mut x, 4, "IDAlias", &f.id);
            leaf(&mut x, 4, "Type", &f.kind);
            x += "\t\t\t\t<Block>\r\n";
            leaf(&mut x, 5, "Base", &format!("{:#x}", f.address));
            leaf(&mut x, 5, "Size", &format!("{:#x}", f.fixed_size));
            x += "\t\t\t\t</Block>\r\n";
            leaf(&mut x, 4, "Flag", &f.flag.to_string());
            leaf(&mut x, 4, "CheckFlag", &f.force_check.to_string());
            leaf(&mut x, 4, "Description", &f.description);
            x += "\t\t\t</File>\r\n";
        }
        x += "\t\t</Scheme>\r\n\t</SchemeList>\r\n</BMAConfig>\r\n";
        x
    }

    /// The PAC bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut files = self.files.clone();
        if self.xml {
            files.push(PacFileSpec {
                id: String::new(),
                name: self.xml_name(),
                kind: String::new(),
                flag: FLAG_XML,
                address: 0,
                fixed_size: 0,
                check: 0,
                can_omit: 0,
                force_check: 0,
                description: String::new(),
                data: self.xml_text().into_bytes(),
            });
        }
        let table_end = HEADER_SIZE + files.len() * ENTRY_SIZE;
        let mut out = vec![0u8; table_end];
        let mut offset = table_end as u64;
        for (i, f) in files.iter().enumerate() {
            let at = HEADER_SIZE + i * ENTRY_SIZE;
            write_entry(&mut out[at..at + ENTRY_SIZE], self.version, f, offset);
            offset += f.data.len() as u64;
        }
        for f in &files {
            out.extend_from_slice(&f.data);
        }
        self.write_header(&mut out, files.len() as u32);
        self.apply_damage(&mut out);
        out
    }

    fn write_header(&self, out: &mut [u8], count: u32) {
        let total = out.len() as u64;
        let h = &mut out[..HEADER_SIZE];
        match self.version {
            PacVersion::R1 => put_utf16(&mut h[0..48], self.version.text()),
            PacVersion::R2 => {
                put_utf16(&mut h[0..44], self.version.text());
                h[offsets::HI_SIZE..offsets::HI_SIZE + 4].copy_from_slice(&((total >> 32) as u32).to_le_bytes());
            }
        }
        h[offsets::SIZE..offsets::SIZE + 4].copy_from_slice(&(total as u32).to_le_bytes());
        put_utf16(&mut h[offsets::PRD_NAME..offsets::PRD_NAME + 512], &self.product_name);
        put_utf16(&mut h[offsets::PRD_VERSION..offsets::PRD_VERSION + 512], &self.product_version);
        put_utf16(&mut h[offsets::PRD_ALIAS..offsets::PRD_ALIAS + 200], &self.product_alias);
        h[offsets::FILE_COUNT..offsets::FILE_COUNT + 4].copy_from_slice(&count.to_le_bytes());
        h[offsets::FILE_OFFSET..offsets::FILE_OFFSET + 4].copy_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
        // dwMode, dwFlashType, dwNandStrategy, dwIsNvBackup, dwNandPageType.
        let nv_backup = u32::from(!self.nv_backup.is_empty());
        for (k, v) in [0, FLASH_TYPE, NAND_STRATEGY, nv_backup, 0].into_iter().enumerate() {
            h[offsets::MODE + 4 * k..offsets::MODE + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
        }
        // dwOmaDmProductFlag, dwIsOmaDM, dwIsPreload: pacgen's defaults.
        for (k, v) in [0u32, 1, 1].into_iter().enumerate() {
            h[offsets::OMA_DM + 4 * k..offsets::OMA_DM + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
        }
        h[header::MAGIC_OFFSET..header::MAGIC_OFFSET + 4].copy_from_slice(&MAGIC.to_le_bytes());
        seal(out);
    }

    fn apply_damage(&self, out: &mut Vec<u8>) {
        let entry_field = |i: usize, off: usize| HEADER_SIZE + i * ENTRY_SIZE + off;
        for d in &self.damage {
            match d {
                PacDamage::HeaderCrc => out[header::CRC1_OFFSET] ^= 0xFF,
                PacDamage::DataCrc => {
                    let last = out.len() - 1;
                    out[last] ^= 0x01;
                }
                PacDamage::Truncated => out.truncate(out.len().saturating_sub(1000)),
                PacDamage::WrongMagic => out[header::MAGIC_OFFSET..header::MAGIC_OFFSET + 4].fill(0),
                PacDamage::SizeBeyondFile => {
                    let at = entry_field(0, entry::offsets::LO_SIZE);
                    let size = (out.len() as u32).saturating_add(1);
                    out[at..at + 4].copy_from_slice(&size.to_le_bytes());
                    seal(out);
                }
                PacDamage::Overlap => {
                    let first = entry_field(0, entry::offsets::LO_OFFSET);
                    let second = entry_field(1, entry::offsets::LO_OFFSET);
                    let mut v = [0u8; 4];
                    v.copy_from_slice(&out[first..first + 4]);
                    let shifted = u32::from_le_bytes(v) + 16;
                    out[second..second + 4].copy_from_slice(&shifted.to_le_bytes());
                    seal(out);
                }
                PacDamage::AbsurdCount => {
                    out[offsets::FILE_COUNT..offsets::FILE_COUNT + 4].fill(0xFF);
                    seal(out);
                }
                PacDamage::BadXml => {}
            }
        }
    }
}

fn write_entry(e: &mut [u8], version: PacVersion, f: &PacFileSpec, data_offset: u64) {
    use entry::offsets as o;
    e[0..4].copy_from_slice(&(ENTRY_SIZE as u32).to_le_bytes());
    put_utf16(&mut e[o::FILE_ID..o::FILE_ID + 512], &f.id);
    put_utf16(&mut e[o::FILE_NAME..o::FILE_NAME + 512], &f.name);
    let size = f.data.len() as u64;
    if version == PacVersion::R2 {
        e[o::HI_SIZE..o::HI_SIZE + 4].copy_from_slice(&((size >> 32) as u32).to_le_bytes());
        e[o::HI_OFFSET..o::HI_OFFSET + 4].copy_from_slice(&((data_offset >> 32) as u32).to_le_bytes());
    }
    // pacgen leaves szFileVersion empty.
    let fields = [
        (o::LO_SIZE, size as u32),
        (o::FLAG, f.flag),
        (o::CHECK_FLAG, f.check),
        (o::LO_OFFSET, data_offset as u32),
        (o::CAN_OMIT, f.can_omit),
        (o::ADDR_NUM, 1),
        (o::ADDR, f.address),
    ];
    for (at, v) in fields {
        e[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// Recomputes both CRCs of a PAC held in `out`: CRC2 first (it covers the data), then CRC1
/// (it covers the header, which holds CRC2 only after CRC1's range).
pub fn seal(out: &mut [u8]) {
    if out.len() < HEADER_SIZE {
        return;
    }
    let crc2 = CRC16.checksum(&out[HEADER_SIZE..]);
    out[header::CRC2_OFFSET..header::CRC2_OFFSET + 2].copy_from_slice(&crc2.to_le_bytes());
    let crc1 = CRC16.checksum(&out[..header::CRC1_OFFSET]);
    out[header::CRC1_OFFSET..header::CRC1_OFFSET + 2].copy_from_slice(&crc1.to_le_bytes());
}
