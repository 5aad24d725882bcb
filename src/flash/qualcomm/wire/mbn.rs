//! Qualcomm signed-image format (MBN) as boot ROMs load it: an ELF file whose program headers
//! include a hash segment. The hash segment starts with a 40-byte header (version 3: image id,
//! version, source, destination, image size, code size, signature pointer and size, certificate
//! chain pointer and size) followed by one SHA-256 per program header: the ELF header and program
//! headers for the first, zeros for the hash segment itself, each segment's file bytes for the
//! rest. Signature and certificates follow the hashes when the image is signed.
//!
//! Facts from a real programmer, `update/firehose/prog_nand_firehose_9x07.mbn` of the EG25-G
//! package in Biktorgj/quectel_eg25_recovery: ELF32, ARM, three program headers (the headers
//! segment, flags `0x07000000`; the hash segment at file offset 0x1000, flags `0x02200000`, 0x88
//! bytes: header and three hashes, unsigned; one LOAD segment at 0x08005800), hash header image id
//! 13, version 3. The segment type is bits 24-26 of `p_flags` (2 = hash, 7 = headers).

use sha2::{Digest, Sha256};

/// `\x7fELF`.
pub const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
/// ELF32 header length.
pub const EHDR32_LEN: usize = 0x34;
/// ELF64 header length.
pub const EHDR64_LEN: usize = 0x40;
/// ELF32 program header length.
pub const PHDR32_LEN: usize = 0x20;
/// ELF64 program header length.
pub const PHDR64_LEN: usize = 0x38;
/// `e_machine` of 32-bit ARM.
pub const EM_ARM: u16 = 40;
/// `e_machine` of AArch64.
pub const EM_AARCH64: u16 = 183;
/// `p_type` of a loadable segment.
pub const PT_LOAD: u32 = 1;
/// Segment type (bits 24-26 of `p_flags`) of the hash segment.
pub const SEGMENT_HASH: u32 = 2;
/// Segment type of the segment holding the ELF and program headers.
pub const SEGMENT_HEADERS: u32 = 7;
/// Length of the version-3 hash segment header.
pub const HASH_HEADER_LEN: usize = 40;
/// The most program headers accepted (boot ROMs bound it; 0x20 is generous for a programmer).
pub const MAX_PHDRS: u16 = 32;

/// Why bytes are not a loadable image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MbnError {
    /// No ELF magic, or a header field no ARM image has.
    #[error("not an ELF image for this chip: {0}")]
    ElfHeader(String),
    /// More program headers than accepted.
    #[error("{0} program headers; at most {MAX_PHDRS} are accepted")]
    TooManyPhdrs(u16),
    /// `e_phentsize` is not the class's program header size.
    #[error("program headers of {got} bytes; ELF{class} uses {expected}")]
    PhdrSize {
        /// 32 or 64.
        class: u8,
        /// The class's size.
        expected: usize,
        /// The header's.
        got: u16,
    },
    /// The image ends before something it points to.
    #[error("the image ends at byte {len}; {what} needs bytes up to {end}")]
    Truncated {
        /// What was being read.
        what: String,
        /// Where it ends.
        end: u64,
        /// The image's length.
        len: u64,
    },
    /// No program header is a hash segment.
    #[error("no hash segment: the image is not in Qualcomm's signed-image (MBN) format")]
    NoHashSegment,
    /// The hash segment's header does not fit the image.
    #[error("hash segment: {0}")]
    HashTable(String),
    /// A segment's bytes do not match their hash.
    #[error("segment {index} does not match its SHA-256 in the hash segment")]
    HashMismatch {
        /// The program header's index.
        index: usize,
    },
}

/// The ELF header fields a boot ROM looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfHeader {
    /// ELF64 (else ELF32).
    pub class64: bool,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phnum`.
    pub phnum: u16,
}

fn le(bytes: &[u8], at: usize, n: usize) -> u64 {
    bytes[at..at + n].iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

impl ElfHeader {
    /// The header's length for its class.
    pub fn len(&self) -> usize {
        if self.class64 { EHDR64_LEN } else { EHDR32_LEN }
    }

    /// Always false: a header has a length.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Reads the header from the start of `bytes` (at least [`EHDR32_LEN`] bytes; 64 for ELF64).
    pub fn parse(bytes: &[u8]) -> Result<ElfHeader, MbnError> {
        let bad = |m: &str| MbnError::ElfHeader(m.to_string());
        if bytes.len() < 16 || bytes[..4] != ELF_MAGIC {
            return Err(bad("no \\x7fELF magic"));
        }
        let class64 = match bytes[4] {
            1 => false,
            2 => true,
            c => return Err(bad(&format!("ELF class {c}"))),
        };
        if bytes[5] != 1 {
            return Err(bad("not little-endian"));
        }
        let need = if class64 { EHDR64_LEN } else { EHDR32_LEN };
        if bytes.len() < need {
            return Err(MbnError::Truncated {
                what: "the ELF header".into(),
                end: need as u64,
                len: bytes.len() as u64,
            });
        }
        let h = if class64 {
            ElfHeader {
                class64,
                machine: le(bytes, 0x12, 2) as u16,
                entry: le(bytes, 0x18, 8),
                phoff: le(bytes, 0x20, 8),
                phentsize: le(bytes, 0x36, 2) as u16,
                phnum: le(bytes, 0x38, 2) as u16,
            }
        } else {
            ElfHeader {
                class64,
                machine: le(bytes, 0x12, 2) as u16,
                entry: le(bytes, 0x18, 4),
                phoff: le(bytes, 0x1C, 4),
                phentsize: le(bytes, 0x2A, 2) as u16,
                phnum: le(bytes, 0x2C, 2) as u16,
            }
        };
        let expected = if class64 { PHDR64_LEN } else { PHDR32_LEN };
        if usize::from(h.phentsize) != expected {
            return Err(MbnError::PhdrSize { class: if class64 { 64 } else { 32 }, expected, got: h.phentsize });
        }
        if h.phnum == 0 || h.phnum > MAX_PHDRS {
            return Err(MbnError::TooManyPhdrs(h.phnum));
        }
        Ok(h)
    }

    /// The bytes the program header table takes.
    pub fn phdrs_len(&self) -> usize {
        usize::from(self.phnum) * usize::from(self.phentsize)
    }
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags` (Qualcomm's segment type in bits 24-26).
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_paddr`: where the boot ROM loads it.
    pub paddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
}

impl ProgramHeader {
    /// Qualcomm's segment type: bits 24-26 of `p_flags`.
    pub fn segment_type(&self) -> u32 {
        (self.flags >> 24) & 7
    }

    /// Whether this is the hash segment.
    pub fn is_hash(&self) -> bool {
        self.p_type != PT_LOAD && self.segment_type() == SEGMENT_HASH
    }

    /// Whether a boot ROM loads this segment into memory.
    pub fn is_loaded(&self) -> bool {
        self.p_type == PT_LOAD && self.filesz > 0
    }
}

/// Reads the program header table (`bytes` holds exactly [`ElfHeader::phdrs_len`] bytes or more).
pub fn parse_phdrs(header: &ElfHeader, bytes: &[u8]) -> Result<Vec<ProgramHeader>, MbnError> {
    if bytes.len() < header.phdrs_len() {
        return Err(MbnError::Truncated {
            what: "the program headers".into(),
            end: header.phdrs_len() as u64,
            len: bytes.len() as u64,
        });
    }
    Ok(bytes
        .chunks(usize::from(header.phentsize))
        .take(usize::from(header.phnum))
        .map(|p| {
            if header.class64 {
                ProgramHeader {
                    p_type: le(p, 0, 4) as u32,
                    flags: le(p, 4, 4) as u32,
                    offset: le(p, 8, 8),
                    paddr: le(p, 0x18, 8),
                    filesz: le(p, 0x20, 8),
                    memsz: le(p, 0x28, 8),
                }
            } else {
                ProgramHeader {
                    p_type: le(p, 0, 4) as u32,
                    offset: le(p, 4, 4),
                    paddr: le(p, 0x0C, 4),
                    filesz: le(p, 0x10, 4),
                    memsz: le(p, 0x14, 4),
                    flags: le(p, 0x18, 4) as u32,
                }
            }
        })
        .collect())
}

/// The hash segment's header and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashTable {
    /// The image id (13 for a Firehose programmer).
    pub image_id: u32,
    /// The header version (3).
    pub version: u32,
    /// Bytes of hashes.
    pub code_size: u32,
    /// Bytes of signature (0: unsigned).
    pub signature_size: u32,
    /// Bytes of certificate chain.
    pub cert_chain_size: u32,
    /// One SHA-256 per program header.
    pub hashes: Vec<[u8; 32]>,
}

impl HashTable {
    /// Reads a hash segment for an image with `phnum` program headers.
    pub fn parse(bytes: &[u8], phnum: u16) -> Result<HashTable, MbnError> {
        let bad = |m: String| MbnError::HashTable(m);
        if bytes.len() < HASH_HEADER_LEN {
            return Err(bad(format!("{} bytes; the header alone has {HASH_HEADER_LEN}", bytes.len())));
        }
        let w = |i: usize| le(bytes, 4 * i, 4) as u32;
        let (image_id, version, code_size, signature_size, cert_chain_size) = (w(0), w(1), w(5), w(7), w(9));
        if version != 3 {
            return Err(bad(format!("header version {version}; version 3 is understood")));
        }
        let want = usize::from(phnum) * 32;
        if code_size as usize != want {
            return Err(bad(format!("{code_size} bytes of hashes for {phnum} program headers ({want} expected)")));
        }
        let end =
            HASH_HEADER_LEN as u64 + u64::from(code_size) + u64::from(signature_size) + u64::from(cert_chain_size);
        if end > bytes.len() as u64 {
            return Err(bad(format!(
                "hashes, signature and certificates end at {end}, the segment at {}",
                bytes.len()
            )));
        }
        let hashes = bytes[HASH_HEADER_LEN..HASH_HEADER_LEN + want]
            .chunks(32)
            .map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32]))
            .collect();
        Ok(HashTable { image_id, version, code_size, signature_size, cert_chain_size, hashes })
    }

    /// Whether the image carries a signature.
    pub fn is_signed(&self) -> bool {
        self.signature_size > 0
    }
}

/// A whole image in memory, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mbn {
    /// The ELF header.
    pub header: ElfHeader,
    /// The program headers.
    pub phdrs: Vec<ProgramHeader>,
    /// The hash segment's index among the program headers.
    pub hash_index: usize,
    /// The hash segment.
    pub hash_table: HashTable,
}

fn slice<'a>(image: &'a [u8], offset: u64, len: u64, what: &str) -> Result<&'a [u8], MbnError> {
    let end = offset.saturating_add(len);
    if end > image.len() as u64 {
        return Err(MbnError::Truncated { what: what.to_string(), end, len: image.len() as u64 });
    }
    Ok(&image[offset as usize..end as usize])
}

impl Mbn {
    /// Parses `image`: ELF header, program headers, hash segment.
    pub fn parse(image: &[u8]) -> Result<Mbn, MbnError> {
        let header = ElfHeader::parse(image)?;
        let table = slice(image, header.phoff, header.phdrs_len() as u64, "the program headers")?;
        let phdrs = parse_phdrs(&header, table)?;
        let hash_index = phdrs.iter().position(ProgramHeader::is_hash).ok_or(MbnError::NoHashSegment)?;
        let h = phdrs[hash_index];
        let hash_table = HashTable::parse(slice(image, h.offset, h.filesz, "the hash segment")?, header.phnum)?;
        Ok(Mbn { header, phdrs, hash_index, hash_table })
    }

    /// Checks every segment against its hash: each program header's file bytes (the first one
    /// covers the ELF and program headers), except the hash segment's own and empty segments.
    pub fn verify(&self, image: &[u8]) -> Result<(), MbnError> {
        for (index, (p, want)) in self.phdrs.iter().zip(&self.hash_table.hashes).enumerate() {
            if index == self.hash_index || p.filesz == 0 {
                continue;
            }
            let bytes = slice(image, p.offset, p.filesz, &format!("segment {index}"))?;
            if Sha256::digest(bytes).as_slice() != want {
                return Err(MbnError::HashMismatch { index });
            }
        }
        Ok(())
    }

    /// Checks only the first program header's bytes (the ELF and program headers) against
    /// their hash.
    pub fn verify_headers(&self, image: &[u8]) -> Result<(), MbnError> {
        let first = Mbn { phdrs: self.phdrs.iter().take(1).copied().collect(), ..self.clone() };
        first.verify(image)
    }

    /// The segments a boot ROM loads.
    pub fn loaded(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs.iter().filter(|p| p.is_loaded())
    }

    /// The last byte of the image the headers point to, plus one.
    pub fn end(&self) -> u64 {
        self.phdrs.iter().map(|p| p.offset.saturating_add(p.filesz)).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::build::programmer::{MbnBuilder, Target};

    #[test]
    fn built_images_parse_and_verify() {
        let image = MbnBuilder::new(Target::MDM9607, 13).code_len(9000).build();
        let mbn = Mbn::parse(&image).unwrap();
        assert!(!mbn.header.class64);
        assert_eq!(mbn.header.machine, EM_ARM);
        assert_eq!(mbn.phdrs.len(), 3);
        assert_eq!((mbn.hash_index, mbn.hash_table.image_id, mbn.hash_table.is_signed()), (1, 13, false));
        assert_eq!(mbn.loaded().count(), 1);
        mbn.verify(&image).unwrap();
        assert_eq!(mbn.end(), image.len() as u64);

        let mut bad = image.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(Mbn::parse(&bad).unwrap().verify(&bad), Err(MbnError::HashMismatch { index: 2 }));
        let mut bad = image.clone();
        bad[0x18] ^= 1; // e_entry: covered by the first hash
        assert_eq!(Mbn::parse(&bad).unwrap().verify(&bad), Err(MbnError::HashMismatch { index: 0 }));
    }

    #[test]
    fn broken_images_say_what_is_wrong() {
        assert!(matches!(Mbn::parse(b"MZ\x90\0"), Err(MbnError::ElfHeader(_))));
        let image = MbnBuilder::new(Target::MDM9607, 13).build();
        assert!(matches!(Mbn::parse(&image[..0x40]), Err(MbnError::Truncated { .. })));
        let mut no_hash = image.clone();
        no_hash[EHDR32_LEN + PHDR32_LEN + 0x18 + 3] = 0; // the hash segment's type byte
        assert_eq!(Mbn::parse(&no_hash), Err(MbnError::NoHashSegment));
        let mut phent = image.clone();
        phent[0x2A] = 0x38;
        assert!(matches!(Mbn::parse(&phent), Err(MbnError::PhdrSize { class: 32, .. })));
        let mut many = image;
        many[0x2C] = 200;
        assert_eq!(Mbn::parse(&many), Err(MbnError::TooManyPhdrs(200)));
    }
}
