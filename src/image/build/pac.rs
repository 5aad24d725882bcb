//! Builds real-format Unisoc PAC files (both header versions, both CRCs, an XML scheme) and
//! damaged variants.

use quick_xml::escape::escape;

use crate::image::fields::put_utf16;
use crate::image::pac::describe::{ADDR_ERASE_NV, ADDR_NV};
use crate::image::pac::entry::{self, ENTRY_SIZE, FLAG_FDL, FLAG_FILE, FLAG_OPERATION, FLAG_XML};
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
    /// The data (empty for operations).
    pub data: Vec<u8>,
}

impl PacFileSpec {
    /// A file written at `address`.
    pub fn file(id: &str, name: &str, kind: &str, address: u32, data: Vec<u8>) -> PacFileSpec {
        let flag = if kind.contains("FDL") { FLAG_FDL } else { FLAG_FILE };
        PacFileSpec { id: id.into(), name: name.into(), kind: kind.into(), flag, address, data }
    }

    /// An operation with no data (an erase).
    pub fn operation(id: &str, kind: &str, address: u32) -> PacFileSpec {
        PacFileSpec {
            id: id.into(),
            name: String::new(),
            kind: kind.into(),
            flag: FLAG_OPERATION,
            address,
            data: Vec::new(),
        }
    }
}

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

fn uimage(label: &str, len: usize) -> Vec<u8> {
    let mut d = vec![0x27, 0x05, 0x19, 0x56];
    d.resize(64, 0);
    d.extend(label.bytes().cycle().take(len.saturating_sub(64)));
    d
}

impl PacBuilder {
    /// An EC200U-EU OpenCPU PAC named by the 8910 build target, revision
    /// `EC200UEUAAR02A02M08_OCPU`, with FDL1, FDL2, boot and app images.
    pub fn ec200u_eu() -> PacBuilder {
        PacBuilder::uis8910("EC200UEUAAR02A02M08_OCPU")
    }

    /// A UIS8910 PAC whose app image is named after `revision`.
    pub fn uis8910(revision: &str) -> PacBuilder {
        PacBuilder {
            version: PacVersion::R1,
            product_name: "UIX8910_MODEM".into(),
            product_version: "8910 MODULE".into(),
            product_alias: "8915DM_cat1_open".into(),
            files: vec![
                PacFileSpec::file("HOST_FDL", "fdl1.img", "HOST_FDL", 0x0080_00C0, uimage("fdl1", 0x900)),
                PacFileSpec::file("FDL2", "fdl2.img", "FDL2", 0x0081_0000, uimage("fdl2", 0x1100)),
                PacFileSpec::file("BOOT", "boot.img", "CODE", 0x6000_0000, vec![0xB0; 0x800]),
                PacFileSpec::file(
                    "AP",
                    &format!("8915DM_cat1_open_{revision}.img"),
                    "CODE",
                    0x6001_0000,
                    (0..0x2803u32).map(|i| (i * 7) as u8).collect(),
                ),
            ],
            xml: true,
            nv_backup: Vec::new(),
            damage: Vec::new(),
        }
    }

    /// Adds an NV erase step (address 0xFE000001) and an NV write (0xFE000003) backing up
    /// `Calibration` and `IMEI`.
    pub fn with_nv_steps(mut self) -> PacBuilder {
        self.files.push(PacFileSpec::operation("ERASE_NV", "EraseFlash", ADDR_ERASE_NV));
        self.files.push(PacFileSpec::file("NV", "nvitem.bin", "NV", ADDR_NV, vec![0x4E; 0x400]));
        self.nv_backup = vec!["Calibration".into(), "IMEI".into()];
        self
    }

    /// The XML file name, `<PrdName>.xml`.
    pub fn xml_name(&self) -> String {
        format!("{}.xml", self.product_name)
    }

    /// The XML scheme text. `<Block>` carries no `id`, as in the UIS8910 PACs RDA's generator
    /// writes (openLuat/Luat_CSDK_Air724U `tools/pacgen.py`): with an id, amitv87/unisoc_dloader
    /// downloads by partition name, which the 8910 FDL2 does not have.
    pub fn xml_text(&self) -> String {
        if self.damage.contains(&PacDamage::BadXml) {
            return "<BMAConfig><ProductList><Product name=\"x\"></ProductList></BMAConfig>".into();
        }
        let name = escape(self.product_name.as_str()).into_owned();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BMAConfig>\n <ProductList>\n");
        x += &format!(
            "  <Product name=\"{name}\">\n   <SchemeName>{name}</SchemeName>\n   <FlashTypeID>0</FlashTypeID>\n   <Mode>0</Mode>\n"
        );
        x += &format!("   <NVBackup backup=\"{}\">\n", u8::from(!self.nv_backup.is_empty()));
        for (i, item) in self.nv_backup.iter().enumerate() {
            x += &format!(
                "    <NVItem name=\"{}\" backup=\"1\"><ID>{:#x}</ID><BackupFlag use=\"1\"><NVFlag name=\"Replace\" check=\"0\"/></BackupFlag></NVItem>\n",
                escape(item.as_str()),
                0x100 + i
            );
        }
        x += "   </NVBackup>\n   <Chips/>\n  </Product>\n </ProductList>\n <SchemeList>\n";
        x += &format!("  <Scheme name=\"{name}\">\n");
        for f in &self.files {
            x += &format!(
                "   <File><ID>{id}</ID><IDAlias>{id}</IDAlias><Type>{}</Type><Block><Base>{:#x}</Base><Size>{:#x}</Size></Block><Flag>1</Flag><CheckFlag>1</CheckFlag><Description>{} &amp; more</Description></File>\n",
                escape(f.kind.as_str()),
                f.address,
                f.data.len(),
                escape(f.name.as_str()),
                id = escape(f.id.as_str()),
            );
        }
        x += "  </Scheme>\n </SchemeList>\n</BMAConfig>\n";
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
                data: self.xml_text().into_bytes(),
            });
        }
        let table_end = HEADER_SIZE + files.len() * ENTRY_SIZE;
        let mut out = vec![0u8; table_end];
        let mut offset = table_end as u64;
        for (i, f) in files.iter().enumerate() {
            let at = HEADER_SIZE + i * ENTRY_SIZE;
            let data_offset = if f.data.is_empty() { 0 } else { offset };
            write_entry(&mut out[at..at + ENTRY_SIZE], self.version, f, data_offset);
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
        h[offsets::MODE + 12..offsets::MODE + 16].copy_from_slice(&u32::from(!self.nv_backup.is_empty()).to_le_bytes());
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
    match version {
        PacVersion::R1 => put_utf16(&mut e[o::FILE_VERSION..o::FILE_VERSION + 512], "V1"),
        PacVersion::R2 => {
            put_utf16(&mut e[o::FILE_VERSION..o::FILE_VERSION + 504], "V1");
            e[o::HI_SIZE..o::HI_SIZE + 4].copy_from_slice(&((size >> 32) as u32).to_le_bytes());
            e[o::HI_OFFSET..o::HI_OFFSET + 4].copy_from_slice(&((data_offset >> 32) as u32).to_le_bytes());
        }
    }
    e[o::LO_SIZE..o::LO_SIZE + 4].copy_from_slice(&(size as u32).to_le_bytes());
    e[o::FLAG..o::FLAG + 4].copy_from_slice(&f.flag.to_le_bytes());
    e[o::CHECK_FLAG..o::CHECK_FLAG + 4].copy_from_slice(&1u32.to_le_bytes());
    e[o::LO_OFFSET..o::LO_OFFSET + 4].copy_from_slice(&(data_offset as u32).to_le_bytes());
    let addr_num = u32::from(f.flag != FLAG_XML);
    e[o::ADDR_NUM..o::ADDR_NUM + 4].copy_from_slice(&addr_num.to_le_bytes());
    e[o::ADDR..o::ADDR + 4].copy_from_slice(&f.address.to_le_bytes());
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
