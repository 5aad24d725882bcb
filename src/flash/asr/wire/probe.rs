//! The flasher's log lines about the flash chip, written by the simulated flasher and read by
//! the host into a [`FlashProbe`].
//!
//! The flasher logs with `printf("[%-4s: %-10s] ", level, module)` before each message (the
//! format string is in waybyte/logicromsdk `lib/asr160x/pack/ASR1601/flasher.img`). After
//! `partition` on `flashinfo.bin` it probes the chip and logs
//! `Manufacturer ID: 0x%02X, Device ID: 0x%04X` (same image), then either
//! `Found a known spi flash device "%s"` and `OKAY`, or
//! `[ERR : QspiNor   ] Flash device is different with specified!` and
//! `FAILparse flash information table failed` (github.com/FoxExe/ZX908/issues/8, an EC800MCN_LA
//! with an XM25QU64C, `20 41 17`, refused by a CNLF package). The device id is the JEDEC memory
//! type and capacity bytes, `(type << 8) | capacity`.

use crate::identity::FlashId;

/// The log module name of the QSPI NOR driver (github.com/FoxExe/ZX908/issues/8).
pub const QSPI_NOR: &str = "QspiNor";
/// What the flasher logs when the chip is not in the table.
pub const DIFFERENT: &str = "Flash device is different with specified!";
/// The reason of the `FAIL` that follows.
pub const PARSE_FAILED: &str = "parse flash information table failed";

const ID_PREFIX: &str = "Manufacturer ID: 0x";
const DEVICE_PREFIX: &str = "Device ID: 0x";
const KNOWN: &str = "Found a known spi flash device \"";
const SAME_MAKER: &str = "Found an unknown spi flash device which has same manufacture id with \"";

/// A log level of the flasher's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `INFO`.
    Info,
    /// `ERR`.
    Err,
}

/// One log line as the flasher prints it, newline included: `[INFO: QspiNor   ] message\n`.
pub fn log_line(level: Level, module: &str, message: &str) -> String {
    let level = match level {
        Level::Info => "INFO",
        Level::Err => "ERR",
    };
    format!("[{level:<4}: {module:<10}] {message}\n")
}

/// The probe line for a chip.
pub fn id_message(manufacturer: u16, device: u16) -> String {
    format!("{ID_PREFIX}{manufacturer:02X}, {DEVICE_PREFIX}{device:04X}")
}

/// The message naming a chip found in the table.
pub fn known_message(name: &str) -> String {
    format!("{KNOWN}{name}\"")
}

/// The message naming a chip of a known maker that is not in the table.
pub fn same_maker_message(name: &str) -> String {
    format!("{SAME_MAKER}{name}\"")
}

fn hex_after(text: &str, prefix: &str) -> Option<u16> {
    let at = text.find(prefix)? + prefix.len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_hexdigit).collect();
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    u16::from_str_radix(&digits, 16).ok()
}

fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)? + prefix.len();
    let rest = &text[at..];
    rest.find('"').map(|end| rest[..end].to_string())
}

/// What the flasher said about the flash chip after `partition` on `flashinfo.bin`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlashProbe {
    /// JEDEC manufacturer id, e.g. `0x20`.
    pub manufacturer: u16,
    /// JEDEC memory type and capacity, e.g. `0x4117`.
    pub device: u16,
    /// The table's name for the chip, when the flasher found it there.
    pub known_as: Option<String>,
    /// The table chip of the same maker the flasher named, when it logged one.
    pub same_maker_as: Option<String>,
    /// Whether the flasher logged "Flash device is different with specified!".
    pub different: bool,
    /// Whether the flasher accepted the table (`OKAY`).
    pub accepted: bool,
    /// The final reply, e.g. `FAILparse flash information table failed`.
    pub reply: String,
    /// The flasher's log lines about it, in order.
    pub log: Vec<String>,
}

impl FlashProbe {
    /// Reads the probe from the lines the flasher logged during `partition` and its final reply.
    /// `None` when no line names the manufacturer and device ids.
    pub fn from_log<'a>(lines: impl IntoIterator<Item = &'a str>, reply: &str, accepted: bool) -> Option<FlashProbe> {
        let mut probe: Option<FlashProbe> = None;
        let mut log = Vec::new();
        for line in lines {
            let line = line.trim_end();
            if let (Some(m), Some(d)) = (hex_after(line, ID_PREFIX), hex_after(line, DEVICE_PREFIX)) {
                probe = Some(FlashProbe {
                    manufacturer: m,
                    device: d,
                    known_as: None,
                    same_maker_as: None,
                    different: false,
                    accepted,
                    reply: reply.to_string(),
                    log: Vec::new(),
                });
                log.clear();
            }
            let Some(p) = probe.as_mut() else { continue };
            log.push(line.to_string());
            if let Some(name) = quoted_after(line, KNOWN) {
                p.known_as = Some(name);
            }
            if let Some(name) = quoted_after(line, SAME_MAKER) {
                p.same_maker_as = Some(name);
            }
            if line.contains(DIFFERENT.trim_end_matches('!')) {
                p.different = true;
            }
        }
        probe.map(|p| FlashProbe { log, ..p })
    }

    /// The chip's JEDEC bytes as modules report them: `20 41 17` (a 16-bit manufacturer id,
    /// which continuation codes give, keeps both bytes).
    pub fn flash_id(&self) -> FlashId {
        let mut b = Vec::with_capacity(4);
        if self.manufacturer > 0xFF {
            b.extend_from_slice(&self.manufacturer.to_be_bytes());
        } else {
            b.push(self.manufacturer as u8);
        }
        b.extend_from_slice(&self.device.to_be_bytes());
        FlashId::from_bytes(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zx908_log() {
        let lines =
            [log_line(Level::Info, QSPI_NOR, &id_message(0x20, 0x4117)), log_line(Level::Err, QSPI_NOR, DIFFERENT)];
        assert_eq!(lines[0], "[INFO: QspiNor   ] Manufacturer ID: 0x20, Device ID: 0x4117\n");
        assert_eq!(lines[1], "[ERR : QspiNor   ] Flash device is different with specified!\n");
        let reply = format!("FAIL{PARSE_FAILED}");
        let p = FlashProbe::from_log(lines.iter().map(String::as_str), &reply, false).unwrap();
        assert_eq!((p.manufacturer, p.device, p.different, p.accepted), (0x20, 0x4117, true, false));
        assert_eq!(p.flash_id().hex(), "204117");
        assert_eq!(p.log.len(), 2);
    }

    #[test]
    fn known_chip_and_other_spellings() {
        let lines =
            ["boot\n", "Manufacturer ID: 0x00C8, Device ID: 0x6017", "Found a known spi flash device \"GD25LQ64C\""];
        let p = FlashProbe::from_log(lines, "OKAY", true).unwrap();
        assert_eq!(p.known_as.as_deref(), Some("GD25LQ64C"));
        assert_eq!(p.flash_id().hex(), "C86017");
        assert!(FlashProbe::from_log(["Manufacturer ID: 0x, Device ID: 0x1"], "", false).is_none());
        assert!(FlashProbe::from_log(["Manufacturer ID: 0x12345, Device ID: 0x1"], "", false).is_none());
    }
}
