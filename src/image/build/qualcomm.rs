//! Quectel Qualcomm packages built from code, in the layout of a real EC25-E package and its
//! 512 MiB NAND (`defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`), with options for geometry, revision, files, md5.txt and
//! damaged variants. The programmer is a real MDM9607 Firehose programmer image, `sbl1.mbn` a
//! NAND boot loader and `NON-HLOS.ubi` carries the revision in plain text, so the simulated
//! module accepts, boots and reports what the package installs
//! ([`super::programmer`]).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod};

use super::Content;
use super::programmer::{self, Target};
use crate::identity::NandGeometry;
use crate::image::qualcomm::{md5sum, mibib};

/// The EC25-E layout (`defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`): partition, start sector, sectors, image in `update/`
/// (`None`: not flashed). The MIBIB is written from `update/firehose/`.
const EC25_LAYOUT: &[(&str, u64, u64, Option<&str>)] = &[
    ("sbl", 0, 640, Some("sbl1.mbn")),
    ("mibib", 640, 640, None),
    ("tz", 8960, 320, Some("tz.mbn")),
    ("rpm", 9280, 384, Some("rpm.mbn")),
    ("aboot", 9664, 320, Some("appsboot.mbn")),
    ("boot", 9984, 2304, Some("mdm9607-perf-boot.img")),
    ("recovery", 12288, 2304, Some("mdm9607-perf-boot.img")),
    ("recoveryfs_b", 16192, 3584, Some("mdm-perf-recovery-image-mdm9607-perf.ubi")),
    ("modem", 24000, 15872, Some("NON-HLOS.ubi")),
    ("recoveryfs", 40192, 7680, Some("mdm-perf-recovery-image-mdm9607-perf.ubi")),
    ("qdsp6sw_b", 47872, 14336, Some("NON-HLOS.ubi")),
    ("sys_back", 62208, 14848, Some("mdm9607-perf-sysfs.ubi")),
    ("system", 77056, 54016, Some("mdm9607-perf-sysfs.ubi")),
];

/// Loader files of the streaming path, present in real packages (the same document's tree).
const LOADERS: &[&str] = &["ENPRG9x07.mbn", "NPRG9x07.mbn", "partition.mbn"];

/// How md5.txt is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Md5Mode {
    /// Correct lines for every file under `update/`.
    Correct,
    /// No md5.txt.
    Missing,
    /// Correct lines, except a wrong MD5 for this path relative to the root (`update/tz.mbn`).
    Wrong(String),
}

/// A Qualcomm package to build. Start from [`QualcommBuilder::ec25`] and change fields.
#[derive(Debug, Clone)]
pub struct QualcommBuilder {
    /// The revision, used as the top folder name.
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
        let mut names: Vec<&str> = EC25_LAYOUT.iter().filter_map(|(_, _, _, f)| *f).collect();
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

    fn mibib_name(&self) -> String {
        format!("partition_complete_{}.mbn", self.geometry)
    }

    /// The rawprogram file name.
    pub fn rawprogram_name(&self) -> String {
        format!("rawprogram_nand_{}_{}.xml", self.geometry, if self.factory { "factory" } else { "update" })
    }

    fn rawprogram(&self) -> String {
        let attrs = |start: u64, n: u64| {
            format!(
                "PAGES_PER_BLOCK=\"{}\" SECTOR_SIZE_IN_BYTES=\"{}\" num_partition_sectors=\"{n}\" physical_partition_number=\"0\" start_sector=\"{start}\"",
                self.pages_per_block(),
                self.sector()
            )
        };
        let mut x = String::from("<?xml version=\"1.0\" ?>\n<data>\n");
        if self.erase_all {
            x.push_str("  <erase num_partition_sectors=\"0\" physical_partition_number=\"0\" start_sector=\"0\"/>\n");
        }
        for (_, start, n, _) in EC25_LAYOUT.iter().filter(|(name, ..)| matches!(*name, "sbl" | "mibib" | "tz")) {
            x.push_str(&format!("  <erase {}/>\n", attrs(*start, *n)));
        }
        for (name, start, n, file) in EC25_LAYOUT {
            let file = match (name, file) {
                (&"mibib", _) => self.mibib_name(),
                (_, Some(f)) => format!("..\\{f}"),
                _ => continue,
            };
            x.push_str(&format!("  <program {} filename=\"{file}\"/>\n", attrs(*start, *n)));
        }
        if self.calibration_write {
            x.push_str(&format!("  <program {} filename=\"..\\efs2.mbn\"/>\n", attrs(1280, 5632)));
        }
        x.push_str("</data>\n");
        x
    }

    fn partition_nand(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" ?>\n<nandboot>\n  <partitions>\n");
        for (name, _, _, file) in EC25_LAYOUT {
            x.push_str(&format!("    <partition>\n      <name>0:{}</name>\n", name.to_ascii_uppercase()));
            if let Some(f) = file {
                x.push_str(&format!("      <img_name>{f}</img_name>\n"));
            }
            x.push_str("    </partition>\n");
        }
        x.push_str("  </partitions>\n</nandboot>\n");
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
    /// simulated module boots, the modem image carries the revision in plain text (as real
    /// `NON-HLOS.ubi` files do), the others are filler.
    fn image(&self, name: &str, seed: u64) -> Content {
        match name {
            "sbl1.mbn" => {
                let code = self.image_size.saturating_sub(0x4800).max(1024);
                Content::Bytes(programmer::nand_sbl(Target::MDM9607, code))
            }
            "NON-HLOS.ubi" => Content::Stamped {
                stamp: [&[0u8][..], self.revision.as_bytes(), &[0]].concat(),
                len: self.image_size,
                seed,
            },
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
        if self.calibration_write {
            files.push(("update/efs2.mbn".into(), Content::Filler { len: 4096, seed: 300 }));
        }
        files.push(("update/partition_nand.xml".into(), Content::text(&self.partition_nand())));
        let fh = "update/firehose";
        if let Some(p) = &self.programmer {
            files.push((format!("{fh}/{p}"), Content::Bytes(programmer::programmer(Target::MDM9607, 64 << 10))));
        }
        files.push((format!("{fh}/{}", self.rawprogram_name()), Content::text(&self.rawprogram())));
        files.push((
            format!("{fh}/patch_{}.xml", self.geometry),
            Content::text("<?xml version=\"1.0\" ?>\n<patches>\n</patches>\n"),
        ));
        let mut mib = if self.good_mibib {
            mibib::magic_pages(usize::try_from(self.sector()).unwrap_or(4096))
        } else {
            vec![0x5Au8; 2 * 4096]
        };
        mib.resize(16 << 10, 0xFF);
        files.push((format!("{fh}/{}", self.mibib_name()), Content::Bytes(mib)));
        files.extend(self.extra.iter().cloned());
        if let Some(build) = &self.contents {
            let xml = self.contents_xml(build.as_deref(), &files);
            files.push(("contents.xml".into(), Content::text(&xml)));
        }
        if self.md5 != Md5Mode::Missing {
            let mut text = String::new();
            for (path, content) in files.iter().filter(|(p, _)| p.starts_with("update/")) {
                let mut md5 = content.md5()?;
                if self.md5 == Md5Mode::Wrong(path.clone()) {
                    md5 = md5.chars().rev().collect();
                }
                text.push_str(&md5sum::format_line(path, &md5));
                text.push_str("\r\n");
            }
            files.push(("md5.txt".into(), Content::text(&text)));
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
