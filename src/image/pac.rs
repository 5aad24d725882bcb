//! Unisoc `.pac` packages (`ilyakurdyukov/spreadtrum_flash:unpac/unpac.c`, `openLuat/Luat_CSDK_Air724U:tools/pacgen.py`): header (both versions) with CRC1, file entries,
//! CRC2 over everything after the header, the embedded XML scheme, and identity.
//!
//! The file is read in one sequential pass through a fixed buffer that feeds CRC2 and the
//! SHA-256 of every entry at once, so a multi-gigabyte PAC never sits in memory; only the XML
//! scheme (capped) is kept.

pub mod entry;
pub mod header;
pub mod scheme;

pub mod describe;
#[cfg(test)]
mod tests;

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

pub use self::describe::describe;
use self::entry::{ENTRY_SIZE, MAX_ENTRIES, PacEntry};
pub use self::header::is_pac;
use self::header::{CRC16, HEADER_SIZE, PacHeader};
use self::scheme::{MAX_XML, Scheme};
use super::archive::{STREAM_BUFFER, hex, read_up_to};
use super::fields::{io_error, malformed, stream_len};
use super::{ImageError, Inspection};

/// `Inspection::format` of a PAC.
pub const FORMAT: &str = "unisoc-pac";

/// Everything read from a PAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacFile {
    /// The header.
    pub header: PacHeader,
    /// The file entries, in table order.
    pub entries: Vec<PacEntry>,
    /// SHA-256 of each entry's data, by entry index (empty data hashes too).
    pub sha256: Vec<String>,
    /// The XML scheme, when the PAC carries one.
    pub scheme: Option<Scheme>,
    /// The file's length.
    pub file_len: u64,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

/// Opens, checks and hashes the PAC at `path`.
pub fn inspect_pac(path: &Path) -> Result<Inspection, ImageError> {
    let shown = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| io_error(&shown, e))?;
    inspect_pac_reader(&mut file, &shown)
}

/// Checks and hashes a PAC from any seekable reader; `path` is its name, used for messages and
/// for the identity its file name claims.
pub fn inspect_pac_reader<R: Read + Seek>(reader: &mut R, path: &str) -> Result<Inspection, ImageError> {
    let pac = read_pac(reader, path)?;
    let mut insp = Inspection { path: path.to_string(), ..Inspection::default() };
    describe(&pac, &mut insp);
    Ok(insp)
}

/// Reads a PAC: header, entries, bounds, both CRCs, per-entry SHA-256 and the XML scheme.
pub fn read_pac<R: Read + Seek>(reader: &mut R, path: &str) -> Result<PacFile, ImageError> {
    let file_len = stream_len(reader).map_err(|e| io_error(path, e))?;
    let mut head = vec![0u8; HEADER_SIZE];
    reader.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    let got = read_up_to(reader, &mut head).map_err(|e| io_error(path, e))?;
    head.truncate(got);
    let header = PacHeader::parse(&head, path)?;
    let mut problems = Vec::new();
    header.check_size(file_len, path, &mut problems)?;
    let entries = read_entries(reader, &header, file_len, path)?;
    let table_end = u64::from(header.file_offset) + u64::from(header.file_count) * ENTRY_SIZE as u64;
    entry::check_bounds(&entries, table_end, file_len, path)?;
    let xml_index =
        entries.iter().position(|e| e.flag == entry::FLAG_XML || e.file_name.to_ascii_lowercase().ends_with(".xml"));
    let capture = xml_index.filter(|&i| entries[i].size <= MAX_XML && entries[i].size > 0);
    if let Some(i) = xml_index.filter(|&i| entries[i].size > MAX_XML) {
        problems.push(format!("the XML scheme {} is larger than {MAX_XML} bytes and was not read", entries[i].label()));
    }
    let pass = stream_pass(reader, &entries, file_len, capture, path)?;
    if pass.crc2 != header.crc2 {
        return Err(malformed(
            path,
            "PAC data",
            format!(
                "CRC-16 of the data after the header (CRC2) mismatch: the header stores {:#06x}, the data gives {:#06x}",
                header.crc2, pass.crc2
            ),
        ));
    }
    let scheme = match (capture, pass.xml) {
        (Some(i), Some(bytes)) => Some(
            scheme::parse_scheme(&bytes)
                .map_err(|p| malformed(path, &format!("PAC XML scheme {}", entries[i].label()), p))?,
        ),
        _ => None,
    };
    Ok(PacFile { header, entries, sha256: pass.sha256, scheme, file_len, problems })
}

fn read_entries<R: Read + Seek>(
    reader: &mut R,
    header: &PacHeader,
    file_len: u64,
    path: &str,
) -> Result<Vec<PacEntry>, ImageError> {
    let bad = |p: String| malformed(path, "PAC header", p);
    if header.file_count > MAX_ENTRIES {
        return Err(bad(format!("nFileCount {} is absurd (at most {MAX_ENTRIES} are read)", header.file_count)));
    }
    let offset = u64::from(header.file_offset);
    if offset < HEADER_SIZE as u64 {
        return Err(bad(format!("dwFileOffset {offset:#x} points inside the header (expected {HEADER_SIZE:#x})")));
    }
    let table_end = offset + u64::from(header.file_count) * ENTRY_SIZE as u64;
    if table_end > file_len {
        return Err(bad(format!(
            "truncated: {} file entries from {offset:#x} need {table_end} bytes, the file has {file_len}",
            header.file_count
        )));
    }
    reader.seek(SeekFrom::Start(offset)).map_err(|e| io_error(path, e))?;
    let mut buf = vec![0u8; ENTRY_SIZE];
    let mut entries = Vec::with_capacity(header.file_count as usize);
    for i in 0..header.file_count as usize {
        reader.read_exact(&mut buf).map_err(|e| io_error(path, e))?;
        entries.push(PacEntry::parse(&buf, header.version, i, path)?);
    }
    Ok(entries)
}

struct Pass {
    crc2: u16,
    sha256: Vec<String>,
    xml: Option<Vec<u8>>,
}

/// One sequential pass from the end of the header to the end of the file: CRC2 over all of it,
/// SHA-256 over each entry's span (spans are sorted and disjoint, checked before), and a copy
/// of the XML entry.
fn stream_pass<R: Read + Seek>(
    reader: &mut R,
    entries: &[PacEntry],
    file_len: u64,
    capture: Option<usize>,
    path: &str,
) -> Result<Pass, ImageError> {
    let mut order: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].size > 0).collect();
    order.sort_by_key(|&i| entries[i].offset);
    let mut hashers: Vec<Sha256> = entries.iter().map(|_| Sha256::new()).collect();
    let mut xml = capture.map(|i| Vec::with_capacity(usize::try_from(entries[i].size).unwrap_or(0)));
    let mut crc = CRC16.digest();
    let mut buf = vec![0u8; STREAM_BUFFER];
    let mut pos = HEADER_SIZE as u64;
    let mut next = 0;
    reader.seek(SeekFrom::Start(pos)).map_err(|e| io_error(path, e))?;
    while pos < file_len {
        let want = usize::try_from((file_len - pos).min(STREAM_BUFFER as u64)).unwrap_or(STREAM_BUFFER);
        let chunk = &mut buf[..want];
        reader.read_exact(chunk).map_err(|e| io_error(path, e))?;
        crc.update(chunk);
        let end = pos + want as u64;
        while next < order.len() && entries[order[next]].offset + entries[order[next]].size <= pos {
            next += 1;
        }
        let mut k = next;
        while k < order.len() && entries[order[k]].offset < end {
            let e = &entries[order[k]];
            let from = e.offset.max(pos);
            let to = (e.offset + e.size).min(end);
            if from < to {
                let slice = &chunk[(from - pos) as usize..(to - pos) as usize];
                hashers[order[k]].update(slice);
                if capture == Some(order[k])
                    && let Some(x) = xml.as_mut()
                {
                    x.extend_from_slice(slice);
                }
            }
            k += 1;
        }
        pos = end;
    }
    Ok(Pass { crc2: crc.finalize(), sha256: hashers.into_iter().map(|h| hex(&h.finalize())).collect(), xml })
}
