//! The USB id table (`rules/usb.toml`, embedded): which VID:PID is which platform and mode, and
//! what each interface of it carries.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

pub use crate::platform::Mode;
use crate::platform::Platform;
use crate::rules::model::UsbFile;

/// The table as shipped, `rules/usb.toml`.
pub const USB_TOML: &str = include_str!("../../rules/usb.toml");

/// A USB vendor and product id, written `2c7c:0125` (four lower-case hex digits each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsbId {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
}

impl UsbId {
    /// The id `vid:pid`.
    pub const fn new(vid: u16, pid: u16) -> UsbId {
        UsbId { vid, pid }
    }

    /// Parses `VID:PID`, each exactly four hex digits in either case: `2c7c:0125`. Nothing else
    /// is accepted: no spaces, signs or `0x`.
    pub fn parse(text: &str) -> Option<UsbId> {
        let (vid, pid) = text.split_once(':')?;
        Some(UsbId { vid: hex4(vid)?, pid: hex4(pid)? })
    }
}

/// Four hex digits, as USB ids are written.
fn hex4(text: &str) -> Option<u16> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(text, 16).ok()
}

impl fmt::Display for UsbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vid, self.pid)
    }
}

/// What one USB interface of a module carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The AT command port.
    At,
    /// DIAG/DM (QCDM), where the Qualcomm download switch goes.
    Diag,
    /// GNSS NMEA output.
    Nmea,
    /// Modem/PPP (also accepts AT).
    Modem,
    /// QMI/RmNet/MBIM network interface.
    Net,
    /// The port a download mode speaks on.
    Download,
    /// No source says.
    Unknown,
}

impl Role {
    /// Parses the table's spelling.
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "at" => Role::At,
            "diag" => Role::Diag,
            "nmea" => Role::Nmea,
            "modem" => Role::Modem,
            "net" => Role::Net,
            "download" => Role::Download,
            _ => return None,
        })
    }

    /// The table's spelling (`unknown` for [`Role::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::At => "at",
            Role::Diag => "diag",
            Role::Nmea => "nmea",
            Role::Modem => "modem",
            Role::Net => "net",
            Role::Download => "download",
            Role::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One id of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbEntry {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// Normal mode or which download mode.
    pub mode: Mode,
    /// The chip platform; `None` for `other` (a USB bridge chip that is no module platform).
    pub platform: Option<Platform>,
    /// The modules seen with this id.
    pub modules: Vec<String>,
    /// Interface number to role, where a source states it.
    pub interfaces: BTreeMap<u8, Role>,
    /// Where the id comes from.
    pub source: String,
}

impl UsbEntry {
    /// The role of interface `number`: [`Role::Unknown`] when no source states it.
    pub fn role(&self, number: u8) -> Role {
        self.interfaces.get(&number).copied().unwrap_or(Role::Unknown)
    }

    /// The id, `2c7c:0125` when printed.
    pub fn id(&self) -> UsbId {
        UsbId::new(self.vid, self.pid)
    }
}

/// Why the table did not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("USB id table: {0}")]
pub struct UsbTableError(pub String);

/// The USB id table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbTable {
    entries: Vec<UsbEntry>,
}

pub use crate::platform::{OTHER_PLATFORM, parse_usb_platform};

/// The USB table's spelling of a platform: its name, or [`OTHER_PLATFORM`].
pub fn usb_platform_name(platform: Option<Platform>) -> &'static str {
    platform.map_or(OTHER_PLATFORM, Platform::as_str)
}

/// Serializes an optional USB platform as the table spells it (`other` for none).
pub(crate) fn serialize_usb_platform<S: serde::Serializer>(p: &Option<Platform>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(usb_platform_name(*p))
}

impl UsbTable {
    /// The table built into fwguard.
    pub fn builtin() -> Result<&'static UsbTable, UsbTableError> {
        static TABLE: OnceLock<Result<UsbTable, UsbTableError>> = OnceLock::new();
        TABLE.get_or_init(|| UsbTable::parse(USB_TOML)).as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a table in the `rules/usb.toml` format.
    pub fn parse(text: &str) -> Result<UsbTable, UsbTableError> {
        let file: UsbFile = toml::from_str(text).map_err(|e| UsbTableError(e.to_string()))?;
        UsbTable::from_ids(&file.ids)
    }

    /// Builds and checks a table from the USB ids of a rule set (a compiled database carries them).
    pub fn from_ids(ids: &[crate::rules::model::UsbId]) -> Result<UsbTable, UsbTableError> {
        let mut entries: Vec<UsbEntry> = Vec::new();
        for id in ids.iter().cloned() {
            let at = format!("{}:{}", id.vid, id.pid);
            let Some(UsbId { vid, pid }) = UsbId::parse(&at) else {
                return Err(UsbTableError(format!("{at}: vid and pid must be 4 hex digits")));
            };
            let mode =
                Mode::parse(&id.mode).ok_or_else(|| UsbTableError(format!("{at}: unknown mode {:?}", id.mode)))?;
            let platform = parse_usb_platform(&id.platform)
                .ok_or_else(|| UsbTableError(format!("{at}: unknown platform {:?}", id.platform)))?;
            if id.source.trim().is_empty() {
                return Err(UsbTableError(format!("{at}: no source")));
            }
            let mut interfaces = BTreeMap::new();
            for (number, role) in &id.interfaces {
                let n: u8 =
                    number.parse().map_err(|_| UsbTableError(format!("{at}: interface {number:?} is not a number")))?;
                let r = Role::parse(role).ok_or_else(|| UsbTableError(format!("{at}: unknown role {role:?}")))?;
                interfaces.insert(n, r);
            }
            if entries.iter().any(|e| e.vid == vid && e.pid == pid) {
                return Err(UsbTableError(format!("{at}: listed twice")));
            }
            entries.push(UsbEntry { vid, pid, mode, platform, modules: id.modules, interfaces, source: id.source });
        }
        Ok(UsbTable { entries })
    }

    /// The entry for a VID:PID, if it is a Quectel id.
    pub fn lookup(&self, vid: u16, pid: u16) -> Option<&UsbEntry> {
        self.entries.iter().find(|e| e.vid == vid && e.pid == pid)
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[UsbEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads() {
        let t = UsbTable::builtin().unwrap();
        let ec25 = t.lookup(0x2c7c, 0x0125).unwrap();
        assert_eq!(ec25.mode, Mode::At);
        assert_eq!(ec25.platform, Some(Platform::Qualcomm));
        assert_eq!(t.lookup(0x10c4, 0xea70).unwrap().platform, None);
        assert_eq!(ec25.role(0), Role::Diag);
        assert_eq!(ec25.role(2), Role::At);
        assert_eq!(ec25.role(9), Role::Unknown);
        assert_eq!(t.lookup(0x2c7c, 0x030a).unwrap().role(3), Role::Diag);
        assert_eq!(t.lookup(0x05c6, 0x9008).unwrap().mode, Mode::Edl);
        assert_eq!(t.lookup(0x2ecc, 0x3004).unwrap().mode, Mode::Arom);
        assert_eq!(t.lookup(0x0525, 0xa4a7).unwrap().mode, Mode::Unisoc);
        assert_eq!(t.lookup(0x18d1, 0xd00d).unwrap().mode, Mode::Fastboot);
        assert_eq!(t.lookup(0x05c6, 0x900e).unwrap().mode, Mode::Dump);
        assert_eq!(t.lookup(0x17d1, 0x0001).unwrap().mode, Mode::Eigencomm);
        assert!(t.lookup(0x1234, 0x5678).is_none());
        assert!(t.entries().len() > 60);
    }

    #[test]
    fn usb_ids_parse_and_print() {
        let id = UsbId::parse("2C7C:0125").unwrap();
        assert_eq!(id, UsbId::new(0x2c7c, 0x0125));
        assert_eq!(id.to_string(), "2c7c:0125");
        assert_eq!(UsbId::new(0x5c6, 0x9008).to_string(), "05c6:9008");
        for bad in [
            "",
            "2c7c",
            "2c7c:",
            ":0125",
            "2c7c:125",
            "2c7c:01255",
            "2c7c-0125",
            " 2c7c:0125",
            "+c7c:0125",
            "2c7c:0x25",
            "2c7c:0125:1",
            "2c7ç:0125",
        ] {
            assert_eq!(UsbId::parse(bad), None, "{bad:?}");
        }
        let t = UsbTable::builtin().unwrap();
        for e in t.entries() {
            assert_eq!(UsbId::parse(&e.id().to_string()), Some(e.id()));
        }
    }

    #[test]
    fn bad_tables() {
        let base = "[[usb]]\nvid = \"2c7c\"\npid = \"0125\"\nmode = \"at\"\nplatform = \"qualcomm\"\nsource = \"x\"\n";
        assert!(UsbTable::parse(base).is_ok());
        assert!(UsbTable::parse(&base.replace("\"at\"", "\"bogus\"")).is_err());
        assert!(UsbTable::parse(&base.replace("2c7c", "2c7")).is_err());
        assert!(UsbTable::parse(&base.replace("2c7c", "+c7c")).is_err());
        assert!(UsbTable::parse(&base.replace("\"0125\"", "\"01:5\"")).is_err());
        assert!(UsbTable::parse(&base.replace("qualcomm", "nokia")).is_err());
        assert!(UsbTable::parse(&format!("{base}{base}")).is_err());
        assert!(UsbTable::parse(&format!("{base}interfaces = {{ x = \"at\" }}\n")).is_err());
        assert!(UsbTable::parse(&format!("{base}extra = 1\n")).is_err());
    }
}
