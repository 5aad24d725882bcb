//! Flash chip IDs as the bootloaders report them (`20 41 17`, `98 AC 90 26`).

use std::fmt;

/// A flash chip ID: the JEDEC bytes in the order the chip sends them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlashId {
    bytes: Vec<u8>,
}

/// Why a flash ID could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("flash ID {input:?}: {reason}")]
pub struct FlashIdError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FlashId {
    /// Parses hex bytes, with or without `0x`, separated by spaces, colons, commas or nothing:
    /// `20 41 17`, `0x20 0x4117`, `20:41:17`, `204117`, `98 AC 90 26`.
    pub fn parse(text: &str) -> Result<FlashId, FlashIdError> {
        let err = |reason: &str| FlashIdError { input: text.to_string(), reason: reason.to_string() };
        let mut bytes = Vec::new();
        for token in text.split(|c: char| c.is_whitespace() || c == ':' || c == ',').filter(|t| !t.is_empty()) {
            let hex = token.strip_prefix("0x").or_else(|| token.strip_prefix("0X")).unwrap_or(token);
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(err(&format!("{token:?} is not hexadecimal")));
            }
            if hex.len() % 2 != 0 {
                return Err(err(&format!("{token:?} has an odd number of hex digits; write whole bytes")));
            }
            for pair in hex.as_bytes().chunks(2) {
                let s = std::str::from_utf8(pair).map_err(|_| err("not text"))?;
                bytes.push(u8::from_str_radix(s, 16).map_err(|_| err("not hexadecimal"))?);
            }
        }
        match bytes.len() {
            0 => Err(err("no bytes given")),
            1 => Err(err("one byte is only a manufacturer; give the whole ID (e.g. 20 41 17)")),
            n if n > 8 => Err(err("longer than 8 bytes")),
            _ => Ok(FlashId { bytes }),
        }
    }

    /// Builds an ID from raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> FlashId {
        FlashId { bytes: bytes.to_vec() }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The manufacturer byte.
    pub fn manufacturer(&self) -> u8 {
        self.bytes[0]
    }

    /// For a three-byte SPI NOR ID, the size its capacity byte names (log2 of bytes), in bytes.
    pub fn nor_capacity_bytes(&self) -> Option<u64> {
        match self.bytes.as_slice() {
            [_, _, cap] if (0x10..=0x22).contains(cap) => Some(1u64 << cap),
            _ => None,
        }
    }

    /// Upper-case hex without separators, e.g. `204117`: the form the database and JSON use.
    pub fn hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

impl fmt::Display for FlashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.bytes.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_contract_forms() {
        for s in ["20 41 17", "0x20 0x4117", "20:41:17", "204117", "0X20,0X41,0X17"] {
            assert_eq!(FlashId::parse(s).unwrap().hex(), "204117", "{s}");
        }
        let nand = FlashId::parse("98 AC 90 26").unwrap();
        assert_eq!(nand.hex(), "98AC9026");
        assert_eq!(nand.to_string(), "98 AC 90 26");
    }

    #[test]
    fn capacity() {
        assert_eq!(FlashId::parse("20 41 17").unwrap().nor_capacity_bytes(), Some(8 << 20));
        assert_eq!(FlashId::parse("C8 60 16").unwrap().nor_capacity_bytes(), Some(4 << 20));
        assert_eq!(FlashId::parse("98 AC 90 26").unwrap().nor_capacity_bytes(), None);
    }

    #[test]
    fn bad_ids() {
        for s in ["", "zz", "204", "20", "0x", "20 41 17 00 00 00 00 00 00"] {
            assert!(FlashId::parse(s).is_err(), "{s}");
        }
    }
}
