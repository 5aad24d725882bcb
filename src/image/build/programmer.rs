//! Boot images in Qualcomm's signed-image (MBN) format, built from code: a Firehose programmer
//! for a chip (what Sahara uploads) and a NAND boot loader (`sbl1.mbn`), laid out as the real
//! files of the EG25-G package in Biktorgj/quectel_eg25_recovery are:
//!
//! - the programmer (`prog_nand_firehose_9x07.mbn`): ELF32 ARM; program header 0 covers the ELF
//!   and program headers (flags `0x07000000`); the hash segment at file offset 0x1000 (flags
//!   `0x02200000`, version-3 header, image id 13, one SHA-256 per program header); the code as
//!   one LOAD segment at file offset 0x2000, loaded at 0x08005800 on MDM9607;
//! - the boot loader (`sbl1.mbn`): the NAND boot magic `D1 DC 4B 84 34 10 D7 73 5A 43 0B 7D`,
//!   `0xFF` up to 0x2800, then an MBN image with image id 21.
//!
//! The format itself is read by [`crate::flash::qualcomm::wire::mbn`].

use sha2::{Digest, Sha256};

use super::Content;
use crate::flash::qualcomm::wire::mbn::{
    EHDR32_LEN, EHDR64_LEN, EM_AARCH64, EM_ARM, HASH_HEADER_LEN, PHDR32_LEN, PHDR64_LEN, PT_LOAD,
};

/// Sahara image id of a Firehose programmer on Quectel modules (QFirehose and fwupd accept 13).
pub const PROGRAMMER_IMAGE_ID: u32 = 13;
/// Image id of `sbl1.mbn` (the real EG25-G file's hash header says 21).
pub const SBL_IMAGE_ID: u32 = 21;
/// The NAND boot magic at the start of a real 9x07 `sbl1.mbn`.
pub const NAND_SBL_MAGIC: [u8; 12] = [0xD1, 0xDC, 0x4B, 0x84, 0x34, 0x10, 0xD7, 0x73, 0x5A, 0x43, 0x0B, 0x7D];
/// Where the ELF image starts in a real 9x07 `sbl1.mbn`.
pub const NAND_SBL_ELF_OFFSET: usize = 0x2800;

const HASH_OFFSET: usize = 0x1000;
const CODE_OFFSET: usize = 0x2000;
const FLAGS_HEADERS: u32 = 0x0700_0000;
const FLAGS_HASH: u32 = 0x0220_0000;
const FLAGS_CODE: u32 = 0x8000_0007;

/// The chip an image is built for: ELF class and machine, and where its code loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// ELF64 (else ELF32).
    pub class64: bool,
    /// `e_machine`.
    pub machine: u16,
    /// Where the code segment loads (`p_paddr`).
    pub load_address: u64,
}

impl Target {
    /// MDM9607 (EC25, EG25-G, EG91, EG95): ELF32 ARM at 0x08005800, as the EG25-G package's
    /// programmer.
    pub const MDM9607: Target = Target { class64: false, machine: EM_ARM, load_address: 0x0800_5800 };
    /// A 64-bit ARM image loading at 0x14680000: no MDM9x07 accepts it (a stand-in for a newer
    /// chip's programmer in tests).
    pub const AARCH64_OTHER: Target = Target { class64: true, machine: EM_AARCH64, load_address: 0x1468_0000 };
}

/// Builds one MBN image.
#[derive(Debug, Clone)]
pub struct MbnBuilder {
    target: Target,
    image_id: u32,
    code: Content,
    signature_len: u32,
}

impl MbnBuilder {
    /// An image for `target` with Sahara/hash image id `image_id` and 16 KiB of code.
    pub fn new(target: Target, image_id: u32) -> MbnBuilder {
        MbnBuilder { target, image_id, code: Content::Filler { len: 16 << 10, seed: 0x9_07 }, signature_len: 0 }
    }

    /// `len` bytes of deterministic code.
    pub fn code_len(mut self, len: u64) -> MbnBuilder {
        self.code = Content::Filler { len, seed: 0x9_07 ^ u64::from(self.image_id) };
        self
    }

    /// These code bytes.
    pub fn code(mut self, bytes: Vec<u8>) -> MbnBuilder {
        self.code = Content::Bytes(bytes);
        self
    }

    /// Appends a `len`-byte signature to the hash segment (signed images carry one).
    pub fn signature(mut self, len: u32) -> MbnBuilder {
        self.signature_len = len;
        self
    }

    /// The image's bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut code = Vec::new();
        // A Filler or Bytes reader never fails.
        let _ = std::io::copy(&mut self.code.reader(), &mut code);
        let t = self.target;
        let (ehdr_len, phdr_len) = if t.class64 { (EHDR64_LEN, PHDR64_LEN) } else { (EHDR32_LEN, PHDR32_LEN) };
        let phnum = 3usize;
        let headers_len = ehdr_len + phnum * phdr_len;
        let hashes_len = phnum * 32;
        let hash_len = HASH_HEADER_LEN + hashes_len + self.signature_len as usize;
        let hash_addr = (t.load_address + code.len() as u64 + 0xFFFF) & !0xFFFF;
        let phdrs: [(u32, u32, usize, u64, usize, u64); 3] = [
            (0, FLAGS_HEADERS, 0, 0, headers_len, 0),
            (0, FLAGS_HASH, HASH_OFFSET, hash_addr, hash_len, 0x1000),
            (PT_LOAD, FLAGS_CODE, CODE_OFFSET, t.load_address, code.len(), code.len() as u64),
        ];
        let mut out = vec![0u8; CODE_OFFSET + code.len()];
        out[..ehdr_len].copy_from_slice(&elf_header(t, phnum as u16));
        for (i, (p_type, flags, offset, addr, filesz, memsz)) in phdrs.iter().enumerate() {
            let at = ehdr_len + i * phdr_len;
            let ph = program_header(t.class64, *p_type, *flags, *offset as u64, *addr, *filesz as u64, *memsz);
            out[at..at + phdr_len].copy_from_slice(&ph);
        }
        out[CODE_OFFSET..].copy_from_slice(&code);
        // The hash segment: header, then SHA-256 of the headers, zeros (itself), the code.
        let dest = hash_addr + HASH_HEADER_LEN as u64;
        let sig_ptr = dest + hashes_len as u64;
        let header: [u32; 10] = [
            self.image_id,
            3,
            0,
            dest as u32,
            (hashes_len as u32) + self.signature_len,
            hashes_len as u32,
            sig_ptr as u32,
            self.signature_len,
            sig_ptr as u32 + self.signature_len,
            0,
        ];
        let mut hash = Vec::with_capacity(hash_len);
        header.iter().for_each(|w| hash.extend(w.to_le_bytes()));
        hash.extend(Sha256::digest(&out[..headers_len]));
        hash.extend([0u8; 32]);
        hash.extend(Sha256::digest(&code));
        hash.extend((0..self.signature_len).map(|i| (i * 7 + 3) as u8));
        out[HASH_OFFSET..HASH_OFFSET + hash.len()].copy_from_slice(&hash);
        out
    }
}

fn elf_header(t: Target, phnum: u16) -> Vec<u8> {
    let mut h = vec![0x7F, b'E', b'L', b'F', if t.class64 { 2 } else { 1 }, 1, 1, 0];
    h.resize(16, 0);
    h.extend(2u16.to_le_bytes()); // ET_EXEC
    h.extend(t.machine.to_le_bytes());
    h.extend(1u32.to_le_bytes());
    if t.class64 {
        h.extend(t.load_address.to_le_bytes()); // e_entry
        h.extend((EHDR64_LEN as u64).to_le_bytes()); // e_phoff
        h.extend(0u64.to_le_bytes()); // e_shoff
        h.extend(0u32.to_le_bytes()); // e_flags
        h.extend((EHDR64_LEN as u16).to_le_bytes());
        h.extend((PHDR64_LEN as u16).to_le_bytes());
    } else {
        h.extend((t.load_address as u32).to_le_bytes());
        h.extend((EHDR32_LEN as u32).to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h.extend(0x0500_0002u32.to_le_bytes()); // EABI5, as the real programmer
        h.extend((EHDR32_LEN as u16).to_le_bytes());
        h.extend((PHDR32_LEN as u16).to_le_bytes());
    }
    h.extend(phnum.to_le_bytes());
    h.extend((if t.class64 { 0x40u16 } else { 0x28 }).to_le_bytes()); // e_shentsize
    h.extend([0u8; 4]); // e_shnum, e_shstrndx
    h
}

fn program_header(class64: bool, p_type: u32, flags: u32, offset: u64, addr: u64, filesz: u64, memsz: u64) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(p_type.to_le_bytes());
    if class64 {
        p.extend(flags.to_le_bytes());
        for v in [offset, addr, addr, filesz, memsz, 0x1000] {
            p.extend(v.to_le_bytes());
        }
    } else {
        for v in [offset, addr, addr, filesz, memsz] {
            p.extend((v as u32).to_le_bytes());
        }
        p.extend(flags.to_le_bytes());
        p.extend(0x1000u32.to_le_bytes());
    }
    p
}

/// A Firehose programmer for `target`: image id 13, `code_len` bytes of code.
pub fn programmer(target: Target, code_len: u64) -> Vec<u8> {
    MbnBuilder::new(target, PROGRAMMER_IMAGE_ID).code_len(code_len).build()
}

/// A NAND boot loader (`sbl1.mbn`) for `target`: the NAND boot magic, `0xFF` to 0x2800, then an
/// MBN image (id 21) with `code_len` bytes of code.
pub fn nand_sbl(target: Target, code_len: u64) -> Vec<u8> {
    let mut out = NAND_SBL_MAGIC.to_vec();
    out.resize(NAND_SBL_ELF_OFFSET, 0xFF);
    out.extend(MbnBuilder::new(target, SBL_IMAGE_ID).code_len(code_len).build());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::qualcomm::wire::mbn::Mbn;

    #[test]
    fn both_classes_verify() {
        for t in [Target::MDM9607, Target::AARCH64_OTHER] {
            let img = MbnBuilder::new(t, 13).code_len(5000).signature(256).build();
            let m = Mbn::parse(&img).unwrap();
            assert_eq!(m.header.class64, t.class64);
            assert_eq!(m.loaded().next().unwrap().paddr, t.load_address);
            assert!(m.hash_table.is_signed());
            m.verify(&img).unwrap();
        }
        let sbl = nand_sbl(Target::MDM9607, 3000);
        assert_eq!(sbl[..12], NAND_SBL_MAGIC);
        let m = Mbn::parse(&sbl[NAND_SBL_ELF_OFFSET..]).unwrap();
        assert_eq!(m.hash_table.image_id, SBL_IMAGE_ID);
        m.verify(&sbl[NAND_SBL_ELF_OFFSET..]).unwrap();
    }
}
