//! The aboot command language inside ABOOT_CMD frames: commands (host) and replies (device),
//! one grammar for both sides.
//!
//! aboot is fastboot-shaped ASCII with no length prefix or checksum beyond the SMUX frame. The
//! device answers `OKAY<text>`, `FAIL<reason>`, `DATA<8 hex digits>` (a transfer of that many
//! bytes follows), and any number of `INFO<text>` (and `PROG<n>`) lines before the final one
//! (amitv87/asr_aboot `aboot.c` `aboot_transport_rx_cmd`; ASR's aboot-tiny
//! `aboot-transport.c` `aboot_transport_rx_callback`, which also names `PROG`).

use std::fmt;

/// The longest command line the published host tools read from a script, and the longest reply
/// they keep: both hold lines in 128-byte buffers, NUL included (amitv87/asr_aboot `aboot.c`
/// `ABOOT_COMMAND_SZ`, `ABOOT_RESPONSE_SZ`; asr_aboot copies every reply into `char rsp[128]`).
/// fwguard refuses longer commands, and its simulated module never sends a longer reply.
pub const MAX_LINE: usize = 127;

/// The boot ROM of the first Crane chip (ASR1601): the published tools send `nop` instead of
/// `call` to it (amitv87/asr_aboot `aboot.c` `crane_version_bootrom`, `aboot_download_process`).
pub const CRANE_BOOTROM: &str = "2019.01.15";

/// The `getvar` keys a boot ROM answers, in the order ASR's tools read them.
pub const ROM_VARIABLES: &[&str] =
    &["version", "version-bootrom", "platform", "boardid", "product", "max-download-size"];

/// One aboot command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `getvar:<key>`.
    GetVar(String),
    /// `download:<8 hex digits>`: that many bytes follow as ABOOT_DATA once the device says `DATA`.
    Download(u32),
    /// `verify`: authenticate the downloaded stage.
    Verify,
    /// `call`: run the verified stage.
    Call,
    /// `nop`: sent instead of `call` to the 2019.01.15 boot ROM.
    Nop,
    /// `partition`: the last download is `flashinfo.bin` or `partition.bin`.
    Partition,
    /// `flash:<partition>`: write the last download there.
    Flash(String),
    /// `erase:<partition>`.
    Erase(String),
    /// `progress:<weight>`.
    Progress(String),
    /// `enable` (before the first flash, per ASR's notes).
    Enable,
    /// `loadpt`: load the partition table from the module's flash.
    LoadPt,
    /// `useflash:<device>`, e.g. `useflash:qspi`.
    UseFlash(String),
    /// `ulstage:<start>:<size>` (hex): the flash range the next `upload` sends.
    UlStage {
        /// Start address on the flash.
        start: u32,
        /// Length in bytes.
        size: u32,
    },
    /// `upload:<name>`: the device answers `DATA<size>` and sends the bytes as ABOOT_DATA.
    Upload(String),
    /// `reboot`.
    Reboot,
    /// `complete`.
    Complete,
    /// `disconnect`.
    Disconnect,
    /// Anything else, as sent.
    Other(String),
}

impl Command {
    /// The command line as sent.
    pub fn line(&self) -> String {
        match self {
            Command::GetVar(k) => format!("getvar:{k}"),
            Command::Download(n) => format!("download:{n:08x}"),
            Command::Verify => "verify".into(),
            Command::Call => "call".into(),
            Command::Nop => "nop".into(),
            Command::Partition => "partition".into(),
            Command::Flash(p) => format!("flash:{p}"),
            Command::Erase(p) => format!("erase:{p}"),
            Command::Progress(w) => format!("progress:{w}"),
            Command::Enable => "enable".into(),
            Command::LoadPt => "loadpt".into(),
            Command::UseFlash(d) => format!("useflash:{d}"),
            Command::UlStage { start, size } => format!("ulstage:{start:x}:{size:x}"),
            Command::Upload(n) => format!("upload:{n}"),
            Command::Reboot => "reboot".into(),
            Command::Complete => "complete".into(),
            Command::Disconnect => "disconnect".into(),
            Command::Other(s) => s.clone(),
        }
    }

    /// Reads a command line as the device receives it. Sizes take 1 to 8 hex digits (the
    /// published tools send 8; annkirin/asr-flash sends `%x`); a size that does not parse makes
    /// the command [`Command::Other`], which the device refuses.
    pub fn parse(line: &[u8]) -> Command {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\0', '\r', '\n']);
        let (verb, arg) = match text.split_once(':') {
            Some((v, a)) => (v, Some(a)),
            None => (text, None),
        };
        let other = || Command::Other(text.to_string());
        match (verb, arg) {
            ("getvar", Some(k)) => Command::GetVar(k.into()),
            ("download", Some(n)) => parse_hex32(n).map_or_else(other, Command::Download),
            ("verify", None) => Command::Verify,
            ("call", None) => Command::Call,
            ("nop", None) => Command::Nop,
            ("partition", None) => Command::Partition,
            ("flash", Some(p)) if !p.is_empty() => Command::Flash(p.into()),
            ("erase", Some(p)) if !p.is_empty() => Command::Erase(p.into()),
            ("progress", Some(w)) => Command::Progress(w.into()),
            ("enable", None) => Command::Enable,
            ("loadpt", None) => Command::LoadPt,
            ("useflash", Some(d)) => Command::UseFlash(d.into()),
            ("ulstage", Some(range)) => {
                let parsed = range.split_once(':').and_then(|(s, n)| Some((parse_hex32(s)?, parse_hex32(n)?)));
                parsed.map_or_else(other, |(start, size)| Command::UlStage { start, size })
            }
            ("upload", Some(n)) if !n.is_empty() => Command::Upload(n.into()),
            ("reboot", None) => Command::Reboot,
            ("complete", None) => Command::Complete,
            ("disconnect", None) => Command::Disconnect,
            _ => other(),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// Reads 1 to 8 hex digits, with or without `0x`.
pub fn parse_hex32(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// One reply line from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OKAY<text>`: done; the text is the value of a `getvar`.
    Okay(String),
    /// `FAIL<reason>`.
    Fail(String),
    /// `DATA<8 hex digits>`: ready for (download) or about to send (upload) that many bytes.
    Data(u32),
    /// `INFO<text>`: progress or log text; the final reply is still to come.
    Info(String),
    /// `PROG<n>`: progress in percent; the final reply is still to come.
    Progress(String),
    /// Anything else (including a `DATA` whose size does not parse), as received.
    Other(String),
}

impl Reply {
    /// Reads a reply frame's payload.
    pub fn parse(payload: &[u8]) -> Reply {
        let text = String::from_utf8_lossy(payload);
        let text = text.trim_end_matches(['\0', '\r', '\n']);
        let (tag, rest) = match (text.get(..4), text.get(4..)) {
            (Some(tag), Some(rest)) => (tag, rest),
            _ => return Reply::Other(text.into()),
        };
        match tag {
            "OKAY" => Reply::Okay(rest.into()),
            "FAIL" => Reply::Fail(rest.into()),
            "DATA" => parse_hex32(rest).map_or_else(|| Reply::Other(text.into()), Reply::Data),
            "INFO" => Reply::Info(rest.into()),
            "PROG" => Reply::Progress(rest.into()),
            _ => Reply::Other(text.into()),
        }
    }

    /// The reply as the device sends it, cut to [`MAX_LINE`] bytes on a character boundary.
    pub fn line(&self) -> String {
        let mut s = match self {
            Reply::Okay(t) => format!("OKAY{t}"),
            Reply::Fail(t) => format!("FAIL{t}"),
            Reply::Data(n) => format!("DATA{n:08x}"),
            Reply::Info(t) => format!("INFO{t}"),
            Reply::Progress(t) => format!("PROG{t}"),
            Reply::Other(t) => t.clone(),
        };
        if s.len() > MAX_LINE {
            let mut end = MAX_LINE;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        s
    }

    /// Whether this ends a command's exchange (`OKAY`, `FAIL` or `DATA`).
    pub fn is_final(&self) -> bool {
        matches!(self, Reply::Okay(_) | Reply::Fail(_) | Reply::Data(_))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// Whether a `getvar:<key>` answer satisfies a recipe's `require <key>=<expected>`, as ASR's
/// aboot-tiny checks it (`aboot-download.c` `download_handle_getvar`): `max-download-size` must be
/// at least the expected size (both hex); `version-bootrom` must match exactly; any other key
/// must equal one of the `|`-separated alternatives.
pub fn require_matches(key: &str, expected: &str, actual: &str) -> bool {
    match key {
        "max-download-size" => match (parse_hex32(expected.trim()), parse_hex32(actual.trim())) {
            (Some(e), Some(a)) => a >= e,
            _ => false,
        },
        "version-bootrom" => expected == actual,
        _ => expected.split('|').any(|alt| alt == actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_round_trip() {
        let all = [
            Command::GetVar("version-bootrom".into()),
            Command::Download(0x14),
            Command::Verify,
            Command::Call,
            Command::Nop,
            Command::Partition,
            Command::Flash("user_app".into()),
            Command::Erase("nvm".into()),
            Command::Progress("0".into()),
            Command::Enable,
            Command::LoadPt,
            Command::UseFlash("qspi".into()),
            Command::UlStage { start: 0x760000, size: 0x80000 },
            Command::Upload("nvm".into()),
            Command::Reboot,
            Command::Complete,
            Command::Disconnect,
            Command::Other("oem foo".into()),
        ];
        for c in all {
            assert_eq!(Command::parse(c.line().as_bytes()), c, "{c}");
        }
        // The published byte strings.
        assert_eq!(Command::Download(0x14).line(), "download:00000014");
        assert_eq!(Command::parse(b"download:14"), Command::Download(0x14));
        for bad in [&b"download:"[..], b"download:123456789", b"download:xyz", b"flash:", b"ulstage:10"] {
            assert!(matches!(Command::parse(bad), Command::Other(_)), "{bad:?}");
        }
    }

    #[test]
    fn replies() {
        assert_eq!(Reply::parse(b"OKAY2019.01.15"), Reply::Okay("2019.01.15".into()));
        assert_eq!(Reply::parse(b"OKAY"), Reply::Okay(String::new()));
        assert_eq!(Reply::parse(b"DATA00000014"), Reply::Data(0x14));
        assert_eq!(Reply::Data(0x14).line(), "DATA00000014");
        assert_eq!(
            Reply::parse(b"FAILparse flash information table failed"),
            Reply::Fail("parse flash information table failed".into())
        );
        assert_eq!(Reply::parse(b"INFOjumping"), Reply::Info("jumping".into()));
        assert_eq!(Reply::parse(b"DATAzz"), Reply::Other("DATAzz".into()));
        assert_eq!(Reply::parse(b"OK"), Reply::Other("OK".into()));
        assert!(Reply::Fail("é".repeat(100)).line().len() <= MAX_LINE);
    }

    #[test]
    fn require_rules() {
        assert!(require_matches("product", "arom|arom-tiny", "arom-tiny"));
        assert!(!require_matches("product", "arom|arom-tiny", "arom-tin"));
        assert!(require_matches("version-bootrom", "2020.07.30", "2020.07.30"));
        assert!(!require_matches("version-bootrom", "2020.07.30|2022.11.06", "2022.11.06"));
        assert!(require_matches("max-download-size", "0x100000", "001c0000"));
        assert!(!require_matches("max-download-size", "0x200000", "0x1c0000"));
        assert!(!require_matches("max-download-size", "0x200000", "lots"));
    }
}
