//! A package stored as a 7z archive, read with the pure-Rust `sevenz-rust2` decoder. Members are
//! streamed from the archive, never extracted.
//!
//! The decoder (0.24) bounds the counts it reads from the 7z header and allocates for them
//! fallibly; fwguard still checks what it can first: the signature, that the file list lies inside
//! the file and is at most [`MAX_7Z_HEADER`] bytes, the coders (copy, LZMA, LZMA2, BCJ, delta),
//! names, links and the caps in [`super::limits`]. A panic inside the decoder is caught and
//! reported as a damaged package.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use sevenz_rust2::{ArchiveReader, EncoderMethod, Password};

use super::guard::{self, Bounded};
use super::limits::{Census, MAX_RATIO, RATIO_FLOOR};
use crate::image::package::Visitor;
use crate::image::{FileEntry, ImageError, Member, Package};

/// The 7z signature: `37 7A BC AF 27 1C`.
pub const SEVEN_Z_MAGIC: [u8; 6] = [b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C];

/// Largest 7z header (the encoded file list) accepted: 16 MiB. A package's list is a few KiB.
pub const MAX_7Z_HEADER: u64 = 16 << 20;

/// Windows attribute bit telling that the high 16 bits hold a Unix mode.
const UNIX_EXTENSION: u32 = 0x8000;
/// Windows attribute of a reparse point (a link).
const REPARSE_POINT: u32 = 0x400;

/// A package stored as a 7z archive.
pub struct SevenZPackage {
    path: String,
    reader: ArchiveReader<BufReader<File>>,
    members: Vec<Member>,
    /// Name as stored to the member path.
    names: HashMap<String, String>,
}

impl SevenZPackage {
    /// Opens the 7z at `path` and checks its header and entries before any member is read.
    pub fn open(path: &Path) -> Result<SevenZPackage, ImageError> {
        let shown = path.display().to_string();
        let io = |e| ImageError::Io { path: shown.clone(), source: e };
        let malformed = |part: &str, problem: String| ImageError::Malformed {
            path: shown.clone(),
            part: part.to_string(),
            problem,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut start = Vec::with_capacity(32);
        (&mut file).take(32).read_to_end(&mut start).map_err(io)?;
        if start.len() < 6 || start[..6] != SEVEN_Z_MAGIC {
            let shown_bytes = super::zip::spaced(&start[..start.len().min(6)]);
            return Err(malformed(
                "7z header",
                format!("wrong magic: expected {}, found {shown_bytes}", super::zip::spaced(&SEVEN_Z_MAGIC)),
            ));
        }
        if start.len() < 32 {
            return Err(malformed("7z header", format!("truncated: {} bytes, the start header needs 32", start.len())));
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&start[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let (list_offset, list_size) = (word(12), word(20));
        let list_end = 32u64.saturating_add(list_offset).saturating_add(list_size);
        if list_end > file_len {
            return Err(malformed(
                "7z file list",
                format!(
                    "declared at {}..{list_end}, past the end of the file ({file_len} bytes): truncated",
                    32 + list_offset
                ),
            ));
        }
        if list_size > MAX_7Z_HEADER {
            return Err(ImageError::Unsafe {
                path: shown.clone(),
                problem: format!(
                    "a 7z file list of {list_size} bytes, over the {MAX_7Z_HEADER}-byte cap (MAX_7Z_HEADER)"
                ),
            });
        }
        let source = BufReader::with_capacity(guard::STREAM_BUFFER, File::open(path).map_err(io)?);
        let mut reader = catch_unwind(AssertUnwindSafe(|| ArchiveReader::new(source, Password::empty())))
            .map_err(|_| malformed("7z header", "the decoder could not make sense of it".into()))?
            .map_err(|e| malformed("7z header", e.to_string()))?;
        reader.set_thread_count(1);
        check_coders(&reader).map_err(|problem| malformed("7z coders", problem))?;
        let mut census = Census::new(&shown);
        let mut members = Vec::new();
        let mut names = HashMap::new();
        for entry in &reader.archive().files {
            census.count_entry()?;
            let name = super::path::normalise(entry.name()).map_err(|why| ImageError::Unsafe {
                path: shown.clone(),
                problem: format!("member {:?}: {why}", entry.name()),
            })?;
            let attrs = if entry.has_windows_attributes { entry.windows_attributes() } else { 0 };
            let unix_link = attrs & UNIX_EXTENSION != 0 && (attrs >> 16) & 0o170000 == 0o120000;
            if unix_link || attrs & REPARSE_POINT != 0 {
                return Err(ImageError::Unsafe {
                    path: shown.clone(),
                    problem: format!("member {name}: a symbolic link; links are never followed out of a package"),
                });
            }
            if entry.is_anti_item() {
                return Err(malformed(&name, "an anti-item (a deletion record); not a package".into()));
            }
            if entry.is_directory() {
                continue;
            }
            census.admit(&name, entry.size(), None)?;
            names.insert(entry.name().to_string(), name.clone());
            members.push(Member { path: name, size: entry.size() });
        }
        let total = census.total();
        if total > RATIO_FLOOR && total > file_len.saturating_mul(MAX_RATIO) {
            return Err(ImageError::Unsafe {
                path: shown.clone(),
                problem: format!(
                    "members expand from {file_len} to {total} bytes, over the {MAX_RATIO}:1 cap (MAX_RATIO): an archive bomb"
                ),
            });
        }
        members.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(SevenZPackage { path: shown, reader, members, names })
    }

    /// Streams the members in archive order; `only` restricts the visits to one member (the
    /// others are still decoded, as a solid 7z requires).
    fn stream(&mut self, only: Option<&str>, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let package = self.path.clone();
        let names = &self.names;
        let mut failure: Option<ImageError> = None;
        let mut done = false;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.reader.for_each_entries(|entry, raw| {
                let Some(path) = names.get(entry.name()).filter(|_| !entry.is_directory()) else {
                    return Ok(true);
                };
                let member = Member { path: path.clone(), size: entry.size() };
                let mut reader = Bounded::new(raw, member.size);
                let wanted = only.is_none_or(|o| o == member.path);
                let result = if wanted { visit(&member, &mut reader) } else { Ok(()) };
                let result = result.and_then(|()| {
                    guard::drain(&mut reader).map(|_| ()).map_err(|e| guard::read_failure(&package, &member.path, e))
                });
                match result {
                    Ok(()) if wanted && only.is_some() => {
                        done = true;
                        Ok(false)
                    }
                    Ok(()) => Ok(true),
                    Err(e) => {
                        failure = Some(e);
                        Ok(false)
                    }
                }
            })
        }));
        if let Some(e) = failure {
            return Err(e);
        }
        match outcome {
            Err(_) => Err(ImageError::Malformed {
                path: package,
                part: "7z data".into(),
                problem: "the decoder could not make sense of it".into(),
            }),
            Ok(Err(e)) => Err(ImageError::Malformed { path: package, part: "7z data".into(), problem: e.to_string() }),
            Ok(Ok(())) if only.is_some() && !done => Err(guard::no_member(&self.path, only.unwrap_or_default())),
            Ok(Ok(())) => Ok(()),
        }
    }
}

/// Refuses coders fwguard does not decode: encryption and methods outside the pure-Rust set.
fn check_coders(reader: &ArchiveReader<BufReader<File>>) -> Result<(), String> {
    let allowed: &[&[u8]] = &[
        EncoderMethod::ID_COPY,
        EncoderMethod::ID_LZMA,
        EncoderMethod::ID_LZMA2,
        EncoderMethod::ID_DELTA,
        EncoderMethod::ID_BCJ_X86,
        EncoderMethod::ID_BCJ_ARM,
        EncoderMethod::ID_BCJ_ARM64,
        EncoderMethod::ID_BCJ_ARM_THUMB,
        EncoderMethod::ID_BCJ_PPC,
        EncoderMethod::ID_BCJ_SPARC,
        EncoderMethod::ID_BCJ_IA64,
    ];
    for block in &reader.archive().blocks {
        for coder in &block.coders {
            let id = coder.encoder_method_id();
            if id == EncoderMethod::ID_AES256_SHA256 {
                return Err("encrypted (AES-256); fwguard reads only unencrypted packages".into());
            }
            if !allowed.contains(&id) {
                return Err(format!(
                    "compressed with method {}; fwguard reads copy, LZMA, LZMA2, BCJ and delta",
                    super::zip::spaced(id)
                ));
            }
        }
    }
    Ok(())
}

impl Package for SevenZPackage {
    fn path(&self) -> &str {
        &self.path
    }

    fn members(&self) -> &[Member] {
        &self.members
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let package = self.path.clone();
        let mut out = None;
        self.stream(Some(member), &mut |m, reader| {
            if m.size > limit {
                return Err(guard::over_limit(&package, &m.path, m.size, limit));
            }
            let data = guard::read_limited(reader, limit)
                .map_err(|e| guard::read_failure(&package, &m.path, e))?
                .map_err(|limit| guard::over_limit(&package, &m.path, m.size, limit))?;
            out = Some(data);
            Ok(())
        })?;
        out.ok_or_else(|| guard::no_member(&self.path, member))
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let package = self.path.clone();
        let mut out = None;
        self.stream(Some(member), &mut |m, reader| {
            let d = guard::digest(reader, false).map_err(|e| guard::read_failure(&package, &m.path, e))?;
            out = Some(d.entry(&m.path));
            Ok(())
        })?;
        out.ok_or_else(|| guard::no_member(&self.path, member))
    }

    fn stream_member(&mut self, member: &str, offset: u64, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        crate::image::package::find_member(&self.path, &self.members, member, offset)?;
        let package = self.path.clone();
        self.stream(Some(member), &mut |m, reader| {
            crate::image::package::skip(reader, offset).map_err(|e| guard::read_failure(&package, &m.path, e))?;
            visit(m, reader)
        })
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        self.stream(None, visit)
    }
}
