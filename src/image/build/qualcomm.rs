//! Quectel Qualcomm packages built from code, in the layout of a real EC25-E package and its
//! 512 MiB NAND (`defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`), with options for geometry, revision, files, md5.txt and
//! damaged variants.
//!
//! Every file is written in the structure of the real ones, checked against the EG25-G package
//! of Biktorgj/quectel_eg25_recovery (branch EG25GGBR07A08M2G_30.006.30.006): md5.txt in the
//! vendor layout ([`md5sum::format_md5_txt`]), `update/partition_nand.xml` with its magic
//! numbers, version, sizes, attributes and image names, `update/partition.mbn` built from it
//! ([`user_table`]), the four-page MIBIB `partition_complete_<geometry>.mbn` ([`mibib`]), the
//! patch XML with the two MIBIB patches, and `NON-HLOS.ubi` carrying the revision in plain text.
//! The programmer is a real MDM9607 Firehose programmer image and `sbl1.mbn` a NAND boot loader
//! ([`super::programmer`]), so the simulated module accepts, boots and reports what the package
//! installs.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod};

use super::Content;
use super::programmer::{self, Target};
use crate::identity::NandGeometry;
use crate::image::qualcomm::md5sum;
use crate::image::qualcomm::mibib::{self, MibibEntry};
use crate::image::qualcomm::user_table::{self, UserEntry};

/// One partition of the fixture layout.
struct Part {
    /// The name in Firehose labels and fwguard's findings (`sbl`).
    name: &'static str,
    /// The name in partition_nand.xml and the MIBIB (`0:SBL`).
    table_name: &'static str,
    /// Start, in pages.
    start: u64,
    /// Length, in pages.
    pages: u64,
    /// The image in `update/` written there; `None`: not flashed (the MIBIB is written from
    /// `update/firehose/`).
    image: Option<&'static str>,
    /// The four `<attr>` values of partition_nand.xml.
    attrs: [u8; 4],
}

const ATTR_BOOT: [u8; 4] = [0xFF, 0x01, 0x00, 0xFE];
const ATTR_MIBIB: [u8; 4] = [0xFF, 0x01, 0xFF, 0xFE];
const ATTR_EFS: [u8; 4] = [0xFF, 0x01, 0xFF, 0xFF];
const ATTR_PLAIN: [u8; 4] = [0xFF, 0x01, 0x00, 0xFF];

const fn part(
    name: &'static str,
    table_name: &'static str,
    start: u64,
    pages: u64,
    image: Option<&'static str>,
    attrs: [u8; 4],
) -> Part {
    Part { name, table_name, start, pages, image, attrs }
}

/// The EC25-E layout (defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md, an `edl printgpt` of a real module),
/// contiguous from page 0 to the last page of the 512 MiB NAND (131072 pages of 4 KiB) as
/// Qualcomm's generator lays it out. The table the reference gives leaves three ranges
/// unnamed (pages 14592+1600, 19776+4224, 39872+320); the fixture names them with the EG25-G
/// table's `cust_info`, `usr_data` and `misc`. The attributes are the EG25-G table's.
const EC25_LAYOUT: &[Part] = &[
    part("sbl", "0:SBL", 0, 640, Some("sbl1.mbn"), ATTR_BOOT),
    part("mibib", "0:MIBIB", 640, 640, None, ATTR_MIBIB),
    part("efs2", "0:EFS2", 1280, 5632, None, ATTR_EFS),
    part("sys_rev", "0:sys_rev", 6912, 1280, None, ATTR_PLAIN),
    part("rawdata", "0:RAWDATA", 8192, 768, None, ATTR_PLAIN),
    part("tz", "0:TZ", 8960, 320, Some("tz.mbn"), ATTR_PLAIN),
    part("rpm", "0:RPM", 9280, 384, Some("rpm.mbn"), ATTR_PLAIN),
    part("aboot", "0:aboot", 9664, 320, Some("appsboot.mbn"), ATTR_PLAIN),
    part("boot", "0:boot", 9984, 2304, Some("mdm9607-perf-boot.img"), ATTR_PLAIN),
    part("recovery", "0:recovery", 12288, 2304, Some("mdm9607-perf-boot.img"), ATTR_PLAIN),
    part("cust_info", "0:cust_info", 14592, 1600, None, ATTR_PLAIN),
    part("recoveryfs_b", "0:recoveryfs_b", 16192, 3584, Some("mdm-perf-recovery-image-mdm9607-perf.ubi"), ATTR_PLAIN),
    part("usr_data", "0:usr_data", 19776, 4224, None, ATTR_PLAIN),
    part("modem", "0:modem", 24000, 15872, Some("NON-HLOS.ubi"), ATTR_PLAIN),
    part("misc", "0:misc", 39872, 320, None, ATTR_PLAIN),
    part("recoveryfs", "0:recoveryfs", 40192, 7680, Some("mdm-perf-recovery-image-mdm9607-perf.ubi"), ATTR_PLAIN),
    part("qdsp6sw_b", "0:qdsp6sw_b", 47872, 14336, Some("NON-HLOS.ubi"), ATTR_PLAIN),
    part("sys_back", "0:sys_back", 62208, 14848, Some("mdm9607-perf-sysfs.ubi"), ATTR_PLAIN),
    part("system", "0:system", 77056, 54016, Some("mdm9607-perf-sysfs.ubi"), ATTR_PLAIN),
];

/// Pages of the layout: 512 MiB of 4 KiB pages.
const TOTAL_PAGES: u64 = 131_072;
/// Pages per erase block, on every geometry the builder writes.
const PAGES_PER_BLOCK: u64 = 64;

/// The main firmware image: it carries the revision in plain text, as real ones do.
pub const MODEM_IMAGE: &str = "NON-HLOS.ubi";

/// Loader files of the streaming path, present in real packages (defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md).
/// `partition.mbn` is written from the layout.
const LOADERS: &[&str] = &["ENPRG9x07.mbn", "NPRG9x07.mbn"];

/// How md5.txt is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Md5Mode {
    /// Correct lines for contents.xml and every file under `update/`, and a line for
    /// `upgrade\targetfiles.zip`, which is not shipped (as in real packages).
    Correct,
    /// No md5.txt.
    Missing,
    /// Correct lines, except a wrong MD5 for this path relative to the root (`update/tz.mbn`).
    Wrong(String),
}

/// A Qualcomm package to build. Start from [`QualcommBuilder::ec25`] and change fields.
#[derive(Debug, Clone)]
pub struct QualcommBuilder {
    /// The revision, used as the top folder name and written into `NON-HLOS.ubi`.
    pub revision: String,
    /// Whether the members sit under a `<revision>/` folder (real packages do).
    pub top_folder: bool,
    /// NAND geometry, used in the XML attributes and the rawprogram, patch and MIBIB names.
    pub geometry: NandGeometry,
    /// The programmer's file name in `update/firehose/`; `None` leaves it out.
    pub programmer: Option<String>,
    /// Size in bytes of each distinct image file in `update/`.
    pub image_size: u64,
    /// md5.txt mode.
    pub md5: Md5Mode,
    /// Write contents.xml (a file list); with a build name when this is `Some`.
    pub contents: Option<Option<String>>,
    /// Name the rawprogram `_factory` instead of `_update`.
    pub factory: bool,
    /// Add an `<erase>` with no sector size (erases the whole device).
    pub erase_all: bool,
    /// Add a write of `efs2.mbn` over the efs2 (calibration) partition.
    pub calibration_write: bool,
    /// Write a MIBIB with good magic words (else filler bytes).
    pub good_mibib: bool,
    /// More files, by path relative to the root.
    pub extra: Vec<(String, Content)>,
    /// Deflate zip members (else store them).
    pub deflate: bool,
}

impl QualcommBuilder {
    /// An EC25-E package of `revision` on a 4 KiB-page, 256 KiB-block NAND, with small images.
    pub fn ec25(revision: &str) -> QualcommBuilder {
        QualcommBuilder {
            revision: revision.to_string(),
            top_folder: true,
            geometry: NandGeometry { page_kib: 4, block_kib: 256 },
            programmer: Some("prog_nand_firehose_9x07.mbn".into()),
            image_size: 8 << 10,
            md5: Md5Mode::Correct,
            contents: Some(None),
            factory: false,
            erase_all: false,
            calibration_write: false,
            good_mibib: true,
            extra: Vec::new(),
            deflate: true,
        }
    }

    /// Sets the image size so that the images add up to about `total` bytes.
    pub fn total_size(mut self, total: u64) -> QualcommBuilder {
        let images = self.image_names().len() as u64;
        self.image_size = total / images.max(1);
        self
    }

    /// The default package file name: `<revision>.zip` (or `.7z`, or no suffix for a folder).
    pub fn file_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.revision)
    }

    fn image_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&str> = EC25_LAYOUT.iter().filter_map(|p| p.image).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    fn sector(&self) -> u64 {
        u64::from(self.geometry.page_kib) * 1024
    }

    fn pages_per_block(&self) -> u64 {
        u64::from(self.geometry.block_kib / self.geometry.page_kib.max(1))
    }

    /// The MIBIB file name, `partition_complete_p4K_b256K.mbn`.
    pub fn mibib_name(&self) -> String {
        format!("partition_complete_{}.mbn", self.geometry)
    }

    /// The rawprogram file name.
    pub fn rawprogram_name(&self) -> String {
        format!("rawprogram_nand_{}_{}.xml", self.geometry, if self.factory { "factory" } else { "update" })
    }

    /// The patch file name, `patch_p4K_b256K.xml`.
    pub fn patch_name(&self) -> String {
        format!("patch_{}.xml", self.geometry)
    }

    fn rawprogram(&self) -> String {
        let attrs = |start: u64, n: u64| {
            format!(
                "PAGES_PER_BLOCK=\"{}\" SECTOR_SIZE_IN_BYTES=\"{}\" num_partition_sectors=\"{n}\" physical_partition_number=\"0\" start_sector=\"{start}\"",
                self.pages_per_block(),
                self.sector()
            )
        };
        // The header comments are those of the real rawprogram_nand_p2K_b128K_update.xml.
        let mut x =
            String::from("<?xml version=\"1.0\" ?>\n<data>\n  <!--NOTE: This is an ** Autogenerated file **-->\n");
        x.push_str(&format!(
            "  <!--BlockSize = {} KB-->\n  <!--PageSize  = {} KB-->\n  <!--NUM_PARTITION_SECTORS  = {TOTAL_PAGES}-->\n",
            self.geometry.block_kib, self.geometry.page_kib
        ));
        if self.erase_all {
            x.push_str("  <erase num_partition_sectors=\"0\" physical_partition_number=\"0\" start_sector=\"0\"/>\n");
        }
        for p in EC25_LAYOUT.iter().filter(|p| matches!(p.name, "sbl" | "mibib" | "tz")) {
            x.push_str(&format!("  <erase {}/>\n", attrs(p.start, p.pages)));
        }
        if self.calibration_write {
            // As a factory layout does: the partition is erased before its program (on NAND,
            // a programmer only erases ahead of its last write).
            x.push_str(&format!("  <erase {}/>\n", attrs(1280, 5632)));
        }
        for p in EC25_LAYOUT {
            let file = match (p.name, p.image) {
                ("mibib", _) => self.mibib_name(),
                (_, Some(f)) => format!("..\\{f}"),
                _ => continue,
            };
            x.push_str(&format!("  <program {} filename=\"{file}\"/>\n", attrs(p.start, p.pages)));
        }
        if self.calibration_write {
            x.push_str(&format!("  <program {} filename=\"..\\efs2.mbn\"/>\n", attrs(1280, 5632)));
        }
        x.push_str("</data>\n");
        x
    }

    /// The blocks of a partition.
    fn blocks(p: &Part) -> u64 {
        p.pages / PAGES_PER_BLOCK
    }

    /// `update/partition_nand.xml` with the fields of the real one: the user table's magic
    /// numbers and version, then per partition its name, size and padding (`size_blks` /
    /// `pad_blks` for SBL and MIBIB, `size_kb` / `pad_kb` for the others, `flags` for the last,
    /// which takes the rest of the flash), `which_flash`, four `attr` and the image name.
    fn partition_nand(&self) -> String {
        let block_kib = u64::from(self.geometry.block_kib);
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<nandboot>\n\t<magic_numbers>\n");
        x.push_str(&format!(
            "\t\t<usr_part_magic1>0x{:08X}</usr_part_magic1>\n\t\t<usr_part_magic2>0x{:08X}</usr_part_magic2>\n\t</magic_numbers>\n",
            user_table::USER_MAGIC[0],
            user_table::USER_MAGIC[1]
        ));
        x.push_str(&format!(
            "\t<partition_version length=\"4\">0x{:X}</partition_version>\n\t<partitions>\n",
            user_table::USER_VERSION
        ));
        for (i, p) in EC25_LAYOUT.iter().enumerate() {
            x.push_str(&format!(
                "\t\t<partition>\n\t\t\t<name length=\"16\" type=\"string\">{}</name>\n",
                p.table_name
            ));
            let blocks = Self::blocks(p);
            if i + 1 == EC25_LAYOUT.len() {
                x.push_str("\t\t\t<flags length=\"4\">0xFFFFFFFF</flags>\n\t\t\t<flags length=\"4\">0xFFFF</flags>\n");
            } else if matches!(p.name, "sbl" | "mibib") {
                let pad = if p.name == "sbl" { 2 } else { 4 };
                x.push_str(&format!(
                    "\t\t\t<size_blks length=\"4\">0x{:X}</size_blks>\n\t\t\t<pad_blks length=\"4\">0x{pad:X}</pad_blks>\n",
                    blocks - pad
                ));
            } else {
                x.push_str(&format!(
                    "\t\t\t<size_kb length=\"4\">{}</size_kb>\n\t\t\t<pad_kb length=\"4\">{block_kib}</pad_kb>\n",
                    (blocks - 1) * block_kib
                ));
            }
            x.push_str("\t\t\t<which_flash>0</which_flash>\n");
            for a in p.attrs {
                x.push_str(&format!("\t\t\t<attr>0x{a:02X}</attr>\n"));
            }
            let image = if p.name == "mibib" { Some("partition.mbn") } else { p.image };
            if let Some(f) = image {
                x.push_str(&format!("\t\t\t<img_name type=\"string\">{f}</img_name>\n"));
            }
            x.push_str("\t\t</partition>\n");
        }
        x.push_str("\t</partitions>\n</nandboot>\n");
        x
    }

    /// `update/partition.mbn`: the user table of partition_nand.xml, in its units.
    fn partition_mbn(&self) -> Vec<u8> {
        let block_kib = u64::from(self.geometry.block_kib);
        let entries: Vec<UserEntry> = EC25_LAYOUT
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let blocks = Self::blocks(p);
                let (size, pad) = if i + 1 == EC25_LAYOUT.len() {
                    (0xFFFF_FFFF, 0xFFFF)
                } else if matches!(p.name, "sbl" | "mibib") {
                    let pad = if p.name == "sbl" { 2 } else { 4 };
                    (blocks - pad, pad)
                } else {
                    ((blocks - 1) * block_kib, block_kib)
                };
                let u32_of = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
                UserEntry { name: p.table_name.into(), size: u32_of(size), pad: u32_of(pad), attrs: p.attrs }
            })
            .collect();
        user_table::write_user_table(user_table::USER_VERSION, &entries)
    }

    /// The MIBIB: the layout in erase blocks, the last partition up to the end of the flash.
    fn mibib(&self) -> Vec<u8> {
        let entries: Vec<MibibEntry> = EC25_LAYOUT
            .iter()
            .map(|p| MibibEntry {
                name: p.table_name.into(),
                offset_blocks: (p.start / PAGES_PER_BLOCK) as u32,
                length_blocks: Self::blocks(p) as u32,
                attrs: [p.attrs[0], p.attrs[1], p.attrs[2]],
                which_flash: 0,
            })
            .collect();
        mibib::write_mibib(usize::try_from(self.sector()).unwrap_or(4096), &entries)
    }

    /// The patch XML: the two MIBIB patches of a real package. The first sets the last
    /// partition's length to what is left of the device (`NUM_DISK_BLOCKS-<its offset>.`, at
    /// byte 16 + 28 × count − 8 of page 1); the second recomputes the CRC on page 3
    /// (`CRC32(0,<two pages>)`). Real values for 17 partitions on p2K_b128K: byte_offset 484,
    /// `NUM_DISK_BLOCKS-1458.`, `CRC32(0,4096)`.
    fn patch_xml(&self) -> String {
        let last = EC25_LAYOUT.last().map_or(0, |p| p.start / PAGES_PER_BLOCK);
        let offset = mibib::HEADER_SIZE + EC25_LAYOUT.len() * mibib::ENTRY_SIZE - 8;
        let sector = self.sector();
        let name = self.mibib_name();
        let mut x =
            String::from("<?xml version=\"1.0\" ?>\n<patches>\n  <!--NOTE: This is an ** Autogenerated file **-->\n");
        x.push_str("  <!--NOTE: Patching is in little endian format, i.e. 0xAABBCCDD will look like DD CC BB AA in the file or on disk-->\n");
        x.push_str(&format!(
            "  <patch SECTOR_SIZE_IN_BYTES=\"{sector}\" byte_offset=\"{offset}\" filename=\"{name}\" physical_partition_number=\"0\" size_in_bytes=\"4\" start_sector=\"1\" value=\"NUM_DISK_BLOCKS-{last}.\" what=\"Update MIBIB partition last sector size limit\"/>\n"
        ));
        x.push_str(&format!(
            "  <patch SECTOR_SIZE_IN_BYTES=\"{sector}\" byte_offset=\"12\" filename=\"{name}\" physical_partition_number=\"0\" size_in_bytes=\"4\" start_sector=\"3\" value=\"CRC32(0,{})\" what=\"Update MIBIB partition with CRC of MIBIB header sector and Syster partition sector.\"/>\n",
            2 * sector
        ));
        x.push_str("</patches>\n");
        x
    }

    fn contents_xml(&self, build: Option<&str>, files: &[(String, Content)]) -> String {
        let mut x = String::from("<?xml version=\"1.0\" ?>\n<contents>\n  <builds_flat>\n    <build>\n");
        x.push_str(&format!("      <name>{}</name>\n", build.unwrap_or("common")));
        for (path, _) in files {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            x.push_str(&format!(
                "      <download_file>\n        <file_name>{name}</file_name>\n        <file_path>{dir}/</file_path>\n      </download_file>\n"
            ));
        }
        x.push_str("    </build>\n  </builds_flat>\n</contents>\n");
        x
    }

    /// The content of image `name` (seed `seed`): the boot loader is a NAND boot image the
    /// simulated module boots, the modem image carries the revision in plain text in its middle
    /// (as real `NON-HLOS.ubi` files do), the others are filler.
    fn image(&self, name: &str, seed: u64) -> Content {
        match name {
            "sbl1.mbn" => {
                let code = self.image_size.saturating_sub(0x4800).max(1024);
                Content::Bytes(programmer::nand_sbl(Target::MDM9607, code))
            }
            MODEM_IMAGE => {
                Content::marked(self.image_size, seed, self.image_size / 2, &format!("\0{}\0", self.revision))
            }
            _ => Content::Filler { len: self.image_size, seed },
        }
    }

    /// Every file of the package, with paths relative to the storage root.
    pub fn files(&self) -> io::Result<Vec<(String, Content)>> {
        let mut files: Vec<(String, Content)> = Vec::new();
        for (i, name) in self.image_names().iter().enumerate() {
            files.push((format!("update/{name}"), self.image(name, 100 + i as u64)));
        }
        for (i, name) in LOADERS.iter().enumerate() {
            files.push((format!("update/{name}"), Content::Filler { len: 2048, seed: 200 + i as u64 }));
        }
        files.push(("update/partition.mbn".into(), Content::Bytes(self.partition_mbn())));
        if self.calibration_write {
            files.push(("update/efs2.mbn".into(), Content::Filler { len: 4096, seed: 300 }));
        }
        files.push(("update/partition_nand.xml".into(), Content::text(&self.partition_nand())));
        let fh = "update/firehose";
        if let Some(p) = &self.programmer {
            files.push((format!("{fh}/{p}"), Content::Bytes(programmer::programmer(Target::MDM9607, 64 << 10))));
        }
        files.push((format!("{fh}/{}", self.rawprogram_name()), Content::text(&self.rawprogram())));
        files.push((format!("{fh}/{}", self.patch_name()), Content::text(&self.patch_xml())));
        let mib = if self.good_mibib { self.mibib() } else { vec![0x5Au8; 4 * 4096] };
        files.push((format!("{fh}/{}", self.mibib_name()), Content::Bytes(mib)));
        files.extend(self.extra.iter().cloned());
        if let Some(build) = &self.contents {
            let xml = self.contents_xml(build.as_deref(), &files);
            files.push(("contents.xml".into(), Content::text(&xml)));
        }
        if self.md5 != Md5Mode::Missing {
            let mut entries = Vec::new();
            for (path, content) in files.iter().filter(|(p, _)| p.starts_with("update/") || p == "contents.xml") {
                let mut md5 = content.md5()?;
                if self.md5 == Md5Mode::Wrong(path.clone()) {
                    md5 = md5.chars().rev().collect();
                }
                entries.push((path.clone(), md5));
            }
            // Real packages list the delta-build input they do not ship (QFirehose skips it).
            entries.push((md5sum::TARGETFILES.to_string(), "222eaa53a6c111e7f2e248587d6ea079".to_string()));
            files.push(("md5.txt".into(), Content::text(&md5sum::format_md5_txt(&entries))));
        }
        if self.top_folder {
            for (path, _) in &mut files {
                *path = format!("{}/{path}", self.revision);
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }

    /// Writes the package as a folder tree under `parent`; returns the package folder
    /// (`parent/<revision>` with a top folder, else `parent`).
    pub fn write_folder(&self, parent: &Path) -> io::Result<PathBuf> {
        for (path, content) in self.files()? {
            let target = parent.join(&path);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut out = io::BufWriter::new(fs::File::create(&target)?);
            io::copy(&mut content.reader(), &mut out)?;
            out.flush()?;
        }
        Ok(if self.top_folder { parent.join(&self.revision) } else { parent.to_path_buf() })
    }

    /// Writes the package as a zip at `path`.
    pub fn write_zip(&self, path: &Path) -> io::Result<()> {
        super::zip::write_zip(path, &self.files()?, self.deflate)
    }

    /// Writes the package as a 7z at `path` (LZMA2, or stored when `deflate` is off).
    pub fn write_7z(&self, path: &Path) -> io::Result<()> {
        let mut w = ArchiveWriter::create(path).map_err(io::Error::other)?;
        if !self.deflate {
            w.set_content_methods(vec![EncoderConfiguration::new(EncoderMethod::COPY)]);
        }
        for (name, content) in self.files()? {
            w.push_archive_entry(ArchiveEntry::new_file(&name), Some(content.reader())).map_err(io::Error::other)?;
        }
        w.finish()?;
        Ok(())
    }
}
