//! Zip writers: ordinary zips of fixture files, and hostile zips that a reader must refuse.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::Content;

/// Writes `files` (path in the zip, content) to a zip at `path`, deflated or stored.
pub fn write_zip(path: &Path, files: &[(String, Content)], deflate: bool) -> io::Result<()> {
    let mut zip = ZipWriter::new(File::create(path)?);
    let method = if deflate { CompressionMethod::Deflated } else { CompressionMethod::Stored };
    for (name, content) in files {
        let options =
            SimpleFileOptions::default().compression_method(method).large_file(content.len() >= u64::from(u32::MAX));
        zip.start_file(name.as_str(), options).map_err(io::Error::other)?;
        io::copy(&mut content.reader(), &mut zip)?;
    }
    zip.finish().map_err(io::Error::other)?.flush()
}

/// Hostile zips, each of which a reader must refuse without writing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// A member named `../../evil.sh`.
    Traversal,
    /// A member named `..\..\evil.bat` (traversal with Windows separators).
    BackslashTraversal,
    /// A member named `/etc/cron.d/evil`.
    AbsolutePath,
    /// A member named `C:\Windows\evil.dll`.
    DriveLetter,
    /// A member that is a Unix symbolic link to `/etc/passwd`.
    Symlink,
    /// A member of 8 MiB of zeros, deflated about 1000:1.
    Bomb,
    /// Two members whose names differ only in case.
    CaseDuplicate,
    /// A good zip with its end cut off (no end of central directory record).
    Truncated,
    /// A good zip whose first four bytes are not `PK\x03\x04`.
    WrongMagic,
    /// A stored member whose sizes in the directory claim far more data than the file has.
    DeclaredSizeTooLarge,
}

impl Hostile {
    /// Every hostile variant.
    pub const ALL: &'static [Hostile] = &[
        Hostile::Traversal,
        Hostile::BackslashTraversal,
        Hostile::AbsolutePath,
        Hostile::DriveLetter,
        Hostile::Symlink,
        Hostile::Bomb,
        Hostile::CaseDuplicate,
        Hostile::Truncated,
        Hostile::WrongMagic,
        Hostile::DeclaredSizeTooLarge,
    ];

    /// A file name for the variant: `hostile-traversal.zip`.
    pub fn file_name(self) -> String {
        format!("hostile-{self:?}.zip").to_ascii_lowercase()
    }

    /// Writes the hostile zip to `path`.
    pub fn write(self, path: &Path) -> io::Result<()> {
        let root = "EC25EFAR06A17M4G_20.200.20.200";
        let good = |extra: Vec<(String, Content)>| {
            let mut files = vec![
                (format!("{root}/update/firehose/prog_nand_firehose_9x07.mbn"), Content::Filler { len: 4096, seed: 1 }),
                (format!("{root}/update/sbl1.mbn"), Content::Filler { len: 4096, seed: 2 }),
            ];
            files.extend(extra);
            files
        };
        let one = |name: &str| vec![(name.to_string(), Content::text("#!/bin/sh\necho owned\n"))];
        match self {
            Hostile::Traversal => write_zip(path, &good(one("../../evil.sh")), true),
            Hostile::BackslashTraversal => write_zip(path, &good(one("..\\..\\evil.bat")), true),
            Hostile::AbsolutePath => write_zip(path, &good(one("/etc/cron.d/evil")), true),
            Hostile::DriveLetter => write_zip(path, &good(one("C:\\Windows\\evil.dll")), true),
            Hostile::Symlink => {
                let mut zip = ZipWriter::new(File::create(path)?);
                for (name, content) in good(Vec::new()) {
                    zip.start_file(name.as_str(), SimpleFileOptions::default()).map_err(io::Error::other)?;
                    io::copy(&mut content.reader(), &mut zip)?;
                }
                zip.add_symlink(format!("{root}/update/NON-HLOS.ubi"), "/etc/passwd", SimpleFileOptions::default())
                    .map_err(io::Error::other)?;
                zip.finish().map_err(io::Error::other)?.flush()
            }
            Hostile::Bomb => {
                let zeros = Content::Bytes(vec![0u8; 8 << 20]);
                write_zip(path, &good(vec![(format!("{root}/update/NON-HLOS.ubi"), zeros)]), true)
            }
            Hostile::CaseDuplicate => write_zip(
                path,
                &good(vec![(format!("{root}/update/SBL1.MBN"), Content::Filler { len: 4096, seed: 9 })]),
                true,
            ),
            Hostile::Truncated => {
                write_zip(path, &good(Vec::new()), true)?;
                let len = fs::metadata(path)?.len();
                OpenOptions::new().write(true).open(path)?.set_len(len.saturating_sub(40))
            }
            Hostile::WrongMagic => {
                write_zip(path, &good(Vec::new()), true)?;
                let mut f = OpenOptions::new().write(true).open(path)?;
                f.write_all(b"MZ\x90\x00")
            }
            Hostile::DeclaredSizeTooLarge => {
                write_zip(path, &good(Vec::new()), false)?;
                inflate_first_entry_sizes(path, 0x7000_0000)
            }
        }
    }
}

/// Rewrites the sizes of the first entry, in its local header and the central directory, to
/// `size`. The zip must have no comment and no zip64 records.
fn inflate_first_entry_sizes(path: &Path, size: u32) -> io::Result<()> {
    let mut f = OpenOptions::new().read(true).write(true).open(path)?;
    let len = f.metadata()?.len();
    let mut eocd = [0u8; 22];
    f.seek(SeekFrom::Start(len - 22))?;
    f.read_exact(&mut eocd)?;
    if eocd[..4] != *b"PK\x05\x06" {
        return Err(io::Error::other("no end of central directory record where expected"));
    }
    let cd = u64::from(u32::from_le_bytes([eocd[16], eocd[17], eocd[18], eocd[19]]));
    for (at, field) in [(18u64, 0u64), (22, 0), (cd + 20, 0), (cd + 24, 0)] {
        f.seek(SeekFrom::Start(at + field))?;
        f.write_all(&size.to_le_bytes())?;
    }
    f.flush()
}
