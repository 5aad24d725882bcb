//! A package stored as a zip. Members are read straight from the archive, never extracted.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::buffer::SeekBuffer;
use super::guard::{self, Bounded};
use super::inflate::Inflater;
use super::limits::{Census, MAX_MEMBERS};
use crate::image::package::Visitor;
use crate::image::{FileEntry, ImageError, Member, Package};

/// The magic of a zip that starts with a member: `PK\x03\x04`.
pub const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";
/// The magic of an empty zip (only the end record): `PK\x05\x06`.
pub const EMPTY_ZIP_MAGIC: [u8; 4] = *b"PK\x05\x06";

/// A package stored as a zip archive: a file, or bytes in memory (a zip inside a package).
pub struct ZipPackage<R: Read + Seek = SeekBuffer<File>> {
    path: String,
    archive: ZipArchive<R>,
    members: Vec<Member>,
    /// The archive index of each member, in the order of `members` (sorted by path, so a
    /// member is found by binary search without a second copy of every name).
    archive_index: Vec<usize>,
    /// Archive indices in the order of their data.
    data_order: Vec<usize>,
    /// One decompressor for every member, so memory stays flat however many members there are.
    inflater: Inflater,
}

struct Listed {
    index: usize,
    path: String,
    size: u64,
    compressed: u64,
    header_start: u64,
}

impl ZipPackage {
    /// Opens the zip at `path` and checks every entry before any is read: names, links, sizes,
    /// compression ratio, data ranges and overlaps (see [`super::limits`]).
    pub fn open(path: &Path) -> Result<ZipPackage, ImageError> {
        let shown = path.display().to_string();
        let io = |e| ImageError::Io { path: shown.clone(), source: e };
        let file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        ZipPackage::from_reader(SeekBuffer::new(file, guard::STREAM_BUFFER), shown, file_len)
    }
}

impl ZipPackage<Cursor<Vec<u8>>> {
    /// A zip held in memory, e.g. a zip inside another package; `shown` names it in messages.
    /// It gets the same checks as a zip file.
    pub fn from_bytes(shown: &str, bytes: Vec<u8>) -> Result<Self, ImageError> {
        let len = bytes.len() as u64;
        ZipPackage::from_reader(Cursor::new(bytes), shown.to_string(), len)
    }
}

impl<R: Read + Seek> ZipPackage<R> {
    /// Checks every entry of the zip `file` (of `file_len` bytes) before any is read.
    fn from_reader(mut file: R, shown: String, file_len: u64) -> Result<Self, ImageError> {
        let io = |e| ImageError::Io { path: shown.clone(), source: e };
        let malformed = |part: &str, problem: String| ImageError::Malformed {
            path: shown.clone(),
            part: part.to_string(),
            problem,
        };
        let mut magic = [0u8; 4];
        let got = guard::read_up_to(&mut file, &mut magic).map_err(io)?;
        if got < 4 || (magic != ZIP_MAGIC && magic != EMPTY_ZIP_MAGIC) {
            return Err(malformed(
                "zip header",
                format!("wrong magic: expected {} (PK..), found {}", spaced(&ZIP_MAGIC), spaced(&magic[..got])),
            ));
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut archive = ZipArchive::new(file).map_err(|e| {
            malformed("central directory", format!("missing, truncated or damaged ({e}); the download is incomplete"))
        })?;
        if archive.len() > MAX_MEMBERS {
            return Err(ImageError::Unsafe {
                path: shown.clone(),
                problem: format!("{} entries, over the {MAX_MEMBERS}-entry cap (MAX_MEMBERS)", archive.len()),
            });
        }
        if archive.has_duplicate_names() {
            return Err(ImageError::Unsafe {
                path: shown.clone(),
                problem: "two entries have the same name; which one a flasher takes is undefined".into(),
            });
        }
        let mut census = Census::new(&shown);
        let mut listed = Vec::new();
        for i in 0..archive.len() {
            census.count_entry()?;
            let entry = archive.by_index_data(i).map_err(|e| malformed(&format!("entry {i}"), e.to_string()))?;
            let raw_name = entry.name().map_err(|e| malformed(&format!("entry {i}"), e.to_string()))?.into_owned();
            let name = super::path::normalise(&raw_name).map_err(|why| ImageError::Unsafe {
                path: shown.clone(),
                problem: format!("member {raw_name:?}: {why}"),
            })?;
            if entry.is_symlink() {
                return Err(ImageError::Unsafe {
                    path: shown.clone(),
                    problem: format!("member {name}: a symbolic link; links are never followed out of a package"),
                });
            }
            if entry.is_dir() {
                continue;
            }
            if entry.encrypted() {
                return Err(malformed(&name, "encrypted; fwguard reads only unencrypted packages".into()));
            }
            let method = entry.compression();
            if method != CompressionMethod::Stored && method != CompressionMethod::Deflated {
                return Err(malformed(
                    &name,
                    format!("compressed with {method}; fwguard reads stored and deflate members"),
                ));
            }
            let (size, compressed) = (entry.size(), entry.compressed_size());
            if method == CompressionMethod::Stored && size != compressed {
                return Err(malformed(&name, format!("stored uncompressed but declares {size} bytes in {compressed}")));
            }
            census.admit(&name, size, Some(compressed))?;
            listed.push(Listed { index: i, path: name, size, compressed, header_start: entry.header_start() });
        }
        let data_end = archive.central_directory_start().min(file_len);
        for l in &listed {
            let data_start = archive
                .by_index_raw(l.index)
                .map_err(|e| malformed(&l.path, format!("its local header is damaged: {e}")))?
                .data_start()
                .unwrap_or(l.header_start);
            if data_start.saturating_add(l.compressed) > data_end {
                return Err(malformed(
                    &l.path,
                    format!(
                        "declares {} bytes of data at offset {data_start}, past the end of the member data at {data_end} (the file is {file_len} bytes)",
                        l.compressed
                    ),
                ));
            }
        }
        if archive.has_overlapping_files().map_err(|e| malformed("entries", e.to_string()))? {
            return Err(ImageError::Unsafe {
                path: shown.clone(),
                problem: "entries share the same compressed data (overlapping entries, a zip bomb technique)".into(),
            });
        }
        let mut data_order: Vec<&Listed> = listed.iter().collect();
        data_order.sort_by_key(|l| l.header_start);
        let data_order = data_order.iter().map(|l| l.index).collect();
        listed.sort_by(|a, b| a.path.cmp(&b.path));
        let archive_index = listed.iter().map(|l| l.index).collect();
        let members = listed.into_iter().map(|l| Member { path: l.path, size: l.size }).collect();
        Ok(ZipPackage { path: shown, archive, members, archive_index, data_order, inflater: Inflater::new() })
    }

    /// Calls `body` with the member at `index` and a reader of its bytes: the raw data read
    /// from the archive, inflated by the package's one [`Inflater`], CRC-checked at its end and
    /// held to its declared size.
    fn with_member<T>(
        &mut self,
        index: usize,
        body: impl FnOnce(&Member, &mut dyn Read) -> Result<T, ImageError>,
    ) -> Result<T, ImageError> {
        let path = self.path.clone();
        let raw = self.archive.by_index_raw(index).map_err(|e| zip_failure(&path, index, e))?;
        let name = super::path::normalise(&raw.name().map_err(|e| zip_failure(&path, index, e))?).unwrap_or_default();
        let member = Member { path: name, size: raw.size() };
        let deflated = match raw.compression() {
            CompressionMethod::Stored => false,
            CompressionMethod::Deflated => true,
            other => {
                return Err(ImageError::Malformed {
                    path,
                    part: member.path,
                    problem: format!("compressed with {other}; fwguard reads stored and deflate members"),
                });
            }
        };
        let crc = raw.crc32();
        let mut reader = Bounded::new(self.inflater.member(raw, deflated, crc), member.size);
        body(&member, &mut reader)
    }

    fn index_of(&self, member: &str) -> Result<usize, ImageError> {
        self.members
            .binary_search_by(|m| m.path.as_str().cmp(member))
            .map(|i| self.archive_index[i])
            .map_err(|_| guard::no_member(&self.path, member))
    }
}

fn zip_failure(package: &str, index: usize, e: ZipError) -> ImageError {
    match e {
        ZipError::Io(io) => guard::read_failure(package, &format!("entry {index}"), io),
        other => ImageError::Malformed {
            path: package.to_string(),
            part: format!("entry {index}"),
            problem: other.to_string(),
        },
    }
}

impl<R: Read + Seek> Package for ZipPackage<R> {
    fn path(&self) -> &str {
        &self.path
    }

    fn members(&self) -> &[Member] {
        &self.members
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let index = self.index_of(member)?;
        let package = self.path.clone();
        self.with_member(index, |m, reader| {
            if m.size > limit {
                return Err(guard::over_limit(&package, &m.path, m.size, limit));
            }
            guard::read_limited(reader, limit)
                .map_err(|e| guard::read_failure(&package, &m.path, e))?
                .map_err(|limit| guard::over_limit(&package, &m.path, m.size, limit))
        })
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let index = self.index_of(member)?;
        let package = self.path.clone();
        self.with_member(index, |m, reader| {
            let d = guard::digest(reader, false).map_err(|e| guard::read_failure(&package, &m.path, e))?;
            Ok(d.entry(&m.path))
        })
    }

    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        crate::image::package::find_member(&self.path, &self.members, member, offset)?;
        let index = self.index_of(member)?;
        let package = self.path.clone();
        self.with_member(index, |m, reader| {
            crate::image::package::skip(reader, offset).map_err(|e| guard::read_failure(&package, &m.path, e))?;
            visit(m, reader)
        })
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        for index in self.data_order.clone() {
            self.with_member(index, |m, reader| visit(m, reader))?;
        }
        Ok(())
    }
}

/// `50 4B 03 04`, or `nothing` for no bytes.
pub(crate) fn spaced(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (an empty file)".into();
    }
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}
