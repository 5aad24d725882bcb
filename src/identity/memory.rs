//! Memory codes (`M4G`, `M08`, `E2G`, `T4G`) and NAND geometry (`p4K_b256K`).

use std::fmt;

/// What kind of flash a memory code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    /// NAND, sized in Gbit by the code.
    Nand,
    /// NOR, sized in MB by the code.
    Nor,
}

/// The memory code of a revision, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryCode {
    raw: String,
}

impl MemoryCode {
    /// Parses a memory code: `M<n>G[letter]` (NAND), `M<nn>` (NOR), `E<n>G` or `T<n>G` (old NAND forms).
    pub fn parse(text: &str) -> Option<MemoryCode> {
        let b = text.as_bytes();
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        let ok = match b {
            [b'M', rest @ ..] if rest.len() == 2 && digits(rest) => true,
            [b'M' | b'E' | b'T', rest @ ..] => {
                let g = rest.iter().position(|&c| c == b'G');
                match g {
                    Some(i) if i > 0 && i <= 2 && digits(&rest[..i]) => {
                        let tail = &rest[i + 1..];
                        tail.is_empty() || (b[0] == b'M' && tail.len() == 1 && tail[0].is_ascii_uppercase())
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        ok.then(|| MemoryCode { raw: text.to_string() })
    }

    /// NAND or NOR.
    pub fn kind(&self) -> FlashKind {
        if self.raw.contains('G') { FlashKind::Nand } else { FlashKind::Nor }
    }

    /// The flash size the code names, in MiB (NAND: Gbit x 128; NOR: MB).
    pub fn size_mib(&self) -> u32 {
        let digits: String = self.raw[1..].chars().take_while(char::is_ascii_digit).collect();
        let n: u32 = digits.parse().unwrap_or(0);
        match self.kind() {
            FlashKind::Nand => n * 128,
            FlashKind::Nor => n,
        }
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for MemoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// NAND page and block size, as Quectel package file names give them (`p4K_b256K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct NandGeometry {
    /// Page size in KiB.
    pub page_kib: u32,
    /// Erase block size in KiB.
    pub block_kib: u32,
}

impl NandGeometry {
    /// Parses `p4K_b256K` (also inside a longer file name such as `rawprogram_nand_p2K_b128K_update.xml`).
    pub fn find_in(text: &str) -> Option<NandGeometry> {
        let lower = text.to_ascii_lowercase();
        let mut rest = lower.as_str();
        while let Some(i) = rest.find('p') {
            let cand = &rest[i + 1..];
            if let Some(g) = Self::parse_after_p(cand) {
                return Some(g);
            }
            rest = cand;
        }
        None
    }

    fn parse_after_p(s: &str) -> Option<NandGeometry> {
        let (page, s) = take_number(s)?;
        let s = s.strip_prefix("k_b")?;
        let (block, s) = take_number(s)?;
        s.starts_with('k').then_some(NandGeometry { page_kib: page, block_kib: block })
    }

    /// Parses the exact form `p4K_b256K`.
    pub fn parse(text: &str) -> Option<NandGeometry> {
        let lower = text.to_ascii_lowercase();
        let g = Self::parse_after_p(lower.strip_prefix('p')?)?;
        (g.to_string().eq_ignore_ascii_case(text)).then_some(g)
    }
}

fn take_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 || end > 4 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

impl fmt::Display for NandGeometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}K_b{}K", self.page_kib, self.block_kib)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_codes() {
        let m = MemoryCode::parse("M4G").unwrap();
        assert_eq!((m.kind(), m.size_mib()), (FlashKind::Nand, 512));
        let m = MemoryCode::parse("M08").unwrap();
        assert_eq!((m.kind(), m.size_mib()), (FlashKind::Nor, 8));
        assert_eq!(MemoryCode::parse("M2GA").unwrap().size_mib(), 256);
        assert_eq!(MemoryCode::parse("E2G").unwrap().size_mib(), 256);
        assert_eq!(MemoryCode::parse("T4G").unwrap().kind(), FlashKind::Nand);
        for bad in ["M", "M8", "M123", "X4G", "M4GAB", "MG", "E2GA", "24H256"] {
            assert!(MemoryCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn geometry_in_paths() {
        let g = NandGeometry::find_in("update/firehose/rawprogram_nand_p2K_b128K_update.xml").unwrap();
        assert_eq!(g, NandGeometry { page_kib: 2, block_kib: 128 });
        assert_eq!(NandGeometry::find_in("partition_complete_p4K_b256K.mbn").unwrap().to_string(), "p4K_b256K");
        assert!(NandGeometry::find_in("prog_nand_firehose_9x07.mbn").is_none());
        assert_eq!(NandGeometry::parse("p4K_b256K").unwrap().block_kib, 256);
        assert!(NandGeometry::parse("p4K_b256Kx").is_none());
    }
}
