//! Simulated modules: the built-in profiles (`profiles.toml`, embedded) and profiles described on
//! the command line.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::error::SimError;
use crate::device::usb::UsbEntry;
use crate::device::{Mode, Role, UsbId, UsbTable};
use crate::identity::{FlashId, Revision};
pub use crate::platform::Platform;

/// The built-in profiles as shipped.
pub const PROFILES_TOML: &str = include_str!("profiles.toml");

/// The platforms the simulator has modules of (it has no MediaTek profile or download mode).
pub const SIMULATED_PLATFORMS: [Platform; 4] =
    [Platform::Qualcomm, Platform::Asr, Platform::Unisoc, Platform::Eigencomm];

/// Which command reports the secure-boot state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecbootQuery {
    /// `AT+QSECBOOT="status"` (newer firmware).
    Qsecboot,
    /// `AT+QCFG="secbootstat"` (older firmware).
    Qcfg,
    /// Neither: both answer `ERROR`.
    None,
}

/// Behaviours of real modules a profile can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// Old firmware: `AT+QGMR` answers `ERROR`.
    NoQgmr,
    /// `AT+CGMR` prints `+CGMR: <revision>`.
    CgmrPrefix,
    /// Stuck in factory test mode: `+CFUN: 5`, and `AT+CFUN=1` gives `+CME ERROR: 3`.
    Ftm,
    /// Echo off from power-up (ATE0 saved with AT&W).
    EchoOff,
    /// No SIM: `AT+CPIN?` gives `+CME ERROR: 10`, and no `+CPIN: READY` URC.
    NoSim,
}

/// The flash as the download modes will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashSpec {
    /// `nand` or `nor`.
    pub kind: String,
    /// Size in bytes (for NAND: main area only).
    pub size: u64,
    /// NAND page size in bytes, when known.
    pub page: Option<u32>,
    /// NAND block size in bytes, when known.
    pub block: Option<u32>,
}

/// A simulated module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile id, e.g. `ec25-e`.
    pub name: String,
    /// One line about it.
    pub summary: String,
    /// ATI's first line.
    pub manufacturer: String,
    /// ATI's model line.
    pub model: String,
    /// What AT+CGMM prints.
    pub cgmm: String,
    /// What AT+QGMR prints.
    pub revision: String,
    /// What ATI prints after `Revision:` and AT+CGMR/AT+GMR print.
    pub ati_revision: String,
    /// The platform.
    pub platform: Platform,
    /// The chipset.
    pub chipset: String,
    /// Normal-mode USB id.
    pub usb: UsbId,
    /// Download-mode USB id.
    pub download_usb: Option<UsbId>,
    /// Interface number to role, in normal mode (no `net`: those have no tty).
    pub interfaces: Vec<(u8, Role)>,
    /// What the boot loader reports as flash ID.
    pub flash_id: Option<FlashId>,
    /// The flash.
    pub flash: FlashSpec,
    /// What AT+GSN prints.
    pub imei: String,
    /// Which command reports secure boot.
    pub secboot_query: SecbootQuery,
    /// The secure-boot state reported.
    pub secure_boot: bool,
    /// Quirks.
    pub quirks: Vec<Quirk>,
    /// Where the facts come from.
    pub source: String,
}

impl Profile {
    /// Whether the profile has `quirk`.
    pub fn has(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }

    /// The interface whose port speaks AT.
    pub fn at_interface(&self) -> Option<u8> {
        self.interfaces.iter().find(|(_, r)| *r == Role::At).map(|(n, _)| *n)
    }

    /// A module described by hand: model line, full revision, flash ID and platform. The rest is
    /// filled in from the platform (USB ids from the USB table, no quirks, a synthetic IMEI).
    ///
    /// The normal-mode id is the platform's that lists the model in the USB table, else the
    /// platform's first; its interface layout is the table's where the table gives one with an AT
    /// interface, else the simulator puts AT on interface 2. The download id is the platform's
    /// first in its download mode.
    pub fn custom(
        model: &str,
        revision: &str,
        flash_id: Option<FlashId>,
        platform: Platform,
    ) -> Result<Profile, SimError> {
        if !SIMULATED_PLATFORMS.contains(&platform) {
            return Err(SimError::Profile(format!("the simulator has no {platform} modules")));
        }
        let table = UsbTable::builtin().map_err(|e| SimError::Profile(e.to_string()))?;
        let of_platform =
            |mode: Mode| table.entries().iter().filter(move |e| e.mode == mode && e.platform == Some(platform));
        let normal = of_platform(Mode::At)
            .find(|e| e.modules.iter().any(|m| names_model(m, model)))
            .or_else(|| of_platform(Mode::At).next())
            .ok_or_else(|| {
                SimError::Profile(format!("the USB table has no normal-mode id for {}", platform.as_str()))
            })?;
        let download_mode = super::download::for_platform(platform).mode();
        let download = of_platform(download_mode).next().map(UsbEntry::id);
        let has_at_layout = normal.interfaces.values().any(|r| *r == Role::At);
        let raw = RawProfile {
            name: "custom".into(),
            summary: format!("{model} {revision} (described on the command line)"),
            manufacturer: None,
            model: model.into(),
            cgmm: None,
            revision: revision.into(),
            ati_revision: None,
            platform: platform.as_str().into(),
            chipset: "unknown".into(),
            usb: normal.id().to_string(),
            download_usb: download.map(|id| id.to_string()),
            // The table's layout where it names the AT interface; else the simulator picks 2.
            interfaces: (!has_at_layout).then(|| BTreeMap::from([("2".to_string(), "at".to_string())])),
            flash_id: None,
            flash_kind: None,
            flash_mib: None,
            nand_page: None,
            nand_block: None,
            imei: "861234000000136".into(),
            secboot_query: SecbootQuery::Qcfg,
            secure_boot: false,
            quirks: Vec::new(),
            source: "command line".into(),
        };
        let mut profile = raw.build()?;
        if let Some(id) = flash_id {
            profile.set_flash_id(id);
        }
        Ok(profile)
    }

    /// Replaces the flash ID; a NOR ID also fixes the flash size from its capacity byte.
    pub fn set_flash_id(&mut self, id: FlashId) {
        if let Some(size) = id.nor_capacity_bytes() {
            self.flash = FlashSpec { kind: "nor".into(), size, page: None, block: None };
        }
        self.flash_id = Some(id);
    }

    /// Replaces the revision, and the ATI form derived from it.
    pub fn set_revision(&mut self, revision: &str) {
        self.revision = revision.trim().to_string();
        self.ati_revision = ati_form(&self.revision);
    }
}

/// The built-in profiles.
pub fn builtin() -> Result<&'static [Profile], SimError> {
    static PROFILES: OnceLock<Result<Vec<Profile>, SimError>> = OnceLock::new();
    PROFILES.get_or_init(|| parse_profiles(PROFILES_TOML)).as_ref().map(Vec::as_slice).map_err(Clone::clone)
}

/// The built-in profile called `name`.
pub fn find(name: &str) -> Result<Profile, SimError> {
    let all = builtin()?;
    all.iter().find(|p| p.name.eq_ignore_ascii_case(name)).cloned().ok_or_else(|| SimError::UnknownProfile {
        name: name.to_string(),
        known: all.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", "),
    })
}

/// Parses profiles in the `profiles.toml` format.
pub fn parse_profiles(text: &str) -> Result<Vec<Profile>, SimError> {
    let file: ProfilesFile = toml::from_str(text).map_err(|e| SimError::Profile(e.to_string()))?;
    let mut out: Vec<Profile> = Vec::new();
    for raw in file.profile {
        let p = raw.build()?;
        if out.iter().any(|q| q.name == p.name) {
            return Err(SimError::Profile(format!("{}: listed twice", p.name)));
        }
        out.push(p);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    profile: Vec<RawProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    summary: String,
    manufacturer: Option<String>,
    model: String,
    cgmm: Option<String>,
    revision: String,
    ati_revision: Option<String>,
    platform: String,
    chipset: String,
    usb: String,
    download_usb: Option<String>,
    interfaces: Option<BTreeMap<String, String>>,
    flash_id: Option<String>,
    flash_kind: Option<String>,
    flash_mib: Option<u32>,
    nand_page: Option<u32>,
    nand_block: Option<u32>,
    imei: String,
    secboot_query: SecbootQuery,
    secure_boot: bool,
    #[serde(default)]
    quirks: Vec<Quirk>,
    source: String,
}

/// Whether `listed`, a module as the USB table lists it (`EG25-G`, `EC800M (inferred)`), is the
/// module whose ATI model line is `model`: the same letters and digits, ignoring case and
/// punctuation, and the table's remarks in brackets.
fn names_model(listed: &str, model: &str) -> bool {
    let key =
        |s: &str| s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect::<String>();
    let name = listed.split_whitespace().next().unwrap_or("");
    !name.is_empty() && key(name) == key(model)
}

/// The revision without its app-version suffix, as ATI prints it.
fn ati_form(revision: &str) -> String {
    match Revision::parse(revision) {
        Ok(r) if r.app_version().is_some() => match revision.rfind('_') {
            Some(i) if revision[i + 1..].contains('.') => revision[..i].to_string(),
            _ => r.base(),
        },
        _ => revision.to_string(),
    }
}

impl RawProfile {
    fn build(self) -> Result<Profile, SimError> {
        let err = |what: String| SimError::Profile(format!("{}: {what}", self.name));
        let platform = Platform::parse_any_case(&self.platform)
            .filter(|p| SIMULATED_PLATFORMS.contains(p))
            .ok_or_else(|| err(format!("unknown platform {:?}", self.platform)))?;
        let usb = UsbId::parse(self.usb.trim()).ok_or_else(|| err(format!("usb {:?} is not VID:PID", self.usb)))?;
        let download_usb = match &self.download_usb {
            Some(text) => {
                Some(UsbId::parse(text.trim()).ok_or_else(|| err(format!("download_usb {text:?} is not VID:PID")))?)
            }
            None => None,
        };
        let interfaces = match &self.interfaces {
            Some(map) => {
                let mut v = Vec::new();
                for (n, r) in map {
                    let n: u8 = n.parse().map_err(|_| err(format!("interface {n:?} is not a number")))?;
                    let r = Role::parse(r).ok_or_else(|| err(format!("unknown role {r:?}")))?;
                    v.push((n, r));
                }
                v
            }
            None => {
                let table = UsbTable::builtin().map_err(|e| err(e.to_string()))?;
                let entry =
                    table.lookup(usb.vid, usb.pid).ok_or_else(|| err(format!("{usb} is not in rules/usb.toml")))?;
                entry.interfaces.iter().map(|(n, r)| (*n, *r)).collect()
            }
        };
        let mut interfaces: Vec<(u8, Role)> = interfaces.into_iter().filter(|(_, r)| *r != Role::Net).collect();
        interfaces.sort();
        if !interfaces.iter().any(|(_, r)| *r == Role::At) {
            return Err(err("no interface has the at role; give `interfaces`".into()));
        }
        let flash_id = match &self.flash_id {
            Some(text) => Some(FlashId::parse(text).map_err(|e| err(e.to_string()))?),
            None => None,
        };
        let memory_mib = Revision::parse(&self.revision).ok().and_then(|r| r.memory().map(|m| m.size_mib()));
        let nor_bytes = flash_id.as_ref().and_then(FlashId::nor_capacity_bytes);
        let size = match (self.flash_mib, nor_bytes, memory_mib) {
            (Some(mib), _, _) => u64::from(mib) << 20,
            (None, Some(bytes), _) => bytes,
            (None, None, Some(mib)) => u64::from(mib) << 20,
            (None, None, None) => 8 << 20,
        };
        let kind = self
            .flash_kind
            .clone()
            .unwrap_or_else(|| if nor_bytes.is_some() || size <= 64 << 20 { "nor".into() } else { "nand".into() });
        if kind != "nor" && kind != "nand" {
            return Err(err(format!("flash_kind {kind:?} is not nor or nand")));
        }
        let imei = self.imei.trim().to_string();
        if imei.len() != 15 || !imei.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!("imei {imei:?} is not 15 digits")));
        }
        Ok(Profile {
            manufacturer: self.manufacturer.clone().unwrap_or_else(|| "Quectel".into()),
            cgmm: self.cgmm.clone().unwrap_or_else(|| self.model.clone()),
            ati_revision: self.ati_revision.clone().unwrap_or_else(|| ati_form(&self.revision)),
            name: self.name,
            summary: self.summary,
            model: self.model,
            revision: self.revision,
            platform,
            chipset: self.chipset,
            usb,
            download_usb,
            interfaces,
            flash_id,
            flash: FlashSpec { kind, size, page: self.nand_page, block: self.nand_block },
            imei,
            secboot_query: self.secboot_query,
            secure_boot: self.secure_boot,
            quirks: self.quirks,
            source: self.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load() {
        let all = builtin().unwrap();
        for name in ["ec25-e", "ec200u-cn", "ec200u-eu", "ec800m-cn-la", "ec800m-cn-le", "ec800m-cn-lf", "ec800k-cn"] {
            assert!(all.iter().any(|p| p.name == name), "{name}");
        }
        let ec25 = find("ec25-e").unwrap();
        assert_eq!(ec25.ati_revision, "EC25EFAR06A17M4G");
        assert_eq!(ec25.at_interface(), Some(2));
        assert_eq!(ec25.interfaces.len(), 4);
        assert_eq!(ec25.flash.size, 512 << 20);
        assert_eq!(ec25.flash_id.as_ref().map(FlashId::hex).as_deref(), Some("98AC9026"));
        let la = find("ec800m-cn-la").unwrap();
        assert_eq!(la.ati_revision, "LTE01R06A04_VOLTE_C_SDK_A");
        assert_eq!(la.flash.size, 8 << 20);
        assert!(find("ec20-old").unwrap().has(Quirk::NoQgmr));
        assert!(matches!(find("nope"), Err(SimError::UnknownProfile { .. })));
    }

    #[test]
    fn custom_profiles() {
        let p =
            Profile::custom("EC800M", "EC800MCNLFR01A01M04", FlashId::parse("C8 60 16").ok(), Platform::Asr).unwrap();
        assert_eq!(p.flash.size, 4 << 20);
        assert_eq!(p.usb, UsbId::new(0x2c7c, 0x6001));
        assert_eq!(p.download_usb, Some(UsbId::new(0x2ecc, 0x3004)));
        // 2c7c:6001 takes its layout from rules/usb.toml: diagnostics on 2, AT on 3.
        assert_eq!(p.interfaces, [(2, Role::Diag), (3, Role::At)]);
        let q = Profile::custom("EC25", "EC25EFAR06A17M4G_20.200.20.200", None, Platform::Qualcomm).unwrap();
        assert_eq!(q.ati_revision, "EC25EFAR06A17M4G");
        assert_eq!(q.at_interface(), Some(2));
        assert_eq!((q.usb, q.download_usb), (UsbId::new(0x2c7c, 0x0125), Some(UsbId::new(0x05c6, 0x9008))));
        assert_eq!(q.interfaces.len(), 4);
    }

    #[test]
    fn custom_usb_ids_come_from_the_usb_table() {
        let table = UsbTable::builtin().unwrap();
        for platform in SIMULATED_PLATFORMS {
            // A model the table does not list gets the platform's first normal-mode id.
            let p = Profile::custom("XY123", "XY123AAR01A01M08", None, platform).unwrap();
            let normal = table.lookup(p.usb.vid, p.usb.pid).unwrap();
            assert_eq!((normal.mode, normal.platform), (Mode::At, Some(platform)), "{platform:?}");
            let first = table.entries().iter().find(|e| e.mode == Mode::At && e.platform == Some(platform));
            assert_eq!(Some(p.usb), first.map(UsbEntry::id), "{platform:?}");
            let id = p.download_usb.unwrap();
            let download = table.lookup(id.vid, id.pid).unwrap();
            assert_eq!(download.platform, Some(platform), "{platform:?}");
            assert_eq!(download.mode, super::super::download::for_platform(platform).mode(), "{platform:?}");
            assert!(p.at_interface().is_some());
        }
        // A model the table lists gets its own id.
        let eg25 = Profile::custom("EG25-G", "EG25GGBR07A08M2G_01.001.01.001", None, Platform::Qualcomm).unwrap();
        assert_eq!(eg25.usb, UsbId::new(0x2c7c, 0x0125));
        let ec200u = Profile::custom("EC200U", "EC200UCNAAR03A03M08", None, Platform::Unisoc).unwrap();
        assert_eq!(ec200u.usb, UsbId::new(0x2c7c, 0x0901));
        assert!(names_model("EC800M (inferred)", "ec800m") && !names_model("EC800M (inferred)", "EC800MCN_LA"));
    }

    #[test]
    fn ati_forms() {
        assert_eq!(ati_form("EC25EFAR06A01M4G_OCPU_01.001.01.001"), "EC25EFAR06A01M4G_OCPU");
        assert_eq!(ati_form("EG25GGBR07A07M2G_01.001.02"), "EG25GGBR07A07M2G");
        assert_eq!(ati_form("EC200UEUABR01A03M08_PY"), "EC200UEUABR01A03M08_PY");
    }
}
