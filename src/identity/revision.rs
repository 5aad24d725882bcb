//! The Quectel revision string: `EC25EFAR06A17M4G_20.200.20.200`.
//!
//! ```text
//! revision := product R<nn> A<nn> [V<nn>] [memory] { "_" tag }
//! tag      := app version | OCPU | QPY | PY | OCPY | test tag | customer code
//! test tag := BETA | BETA<digits> | BETA_<yyyymmdd>[letter] | TP | TP<digits>
//! ```
//!
//! Customer, carrier and OEM codes (`LNV`, `MSFT`, `JP`, `SKT`, `HJ`, `BT`, `VOLTE`, ...) are part
//! of the build's identity: [`Revision::identity_tags`].

use std::cmp::Ordering;
use std::fmt;

use super::app_version::AppVersion;
use super::memory::MemoryCode;

/// Standard, OpenCPU (QuecOpen) or QuecPython firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Stock AT firmware.
    Standard,
    /// QuecOpen / OpenCPU (`OCPU`).
    OpenCpu,
    /// QuecPython (`QPY`, `PY`, the `OCPY` misspelling).
    QuecPython,
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavour::Standard => "standard",
            Flavour::OpenCpu => "OpenCPU",
            Flavour::QuecPython => "QuecPython",
        })
    }
}

/// One `_`-separated tag after the core of a revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// The app version, `20.200.20.200`.
    App(AppVersion),
    /// `OCPU`.
    OpenCpu,
    /// `QPY`, `PY` or `OCPY`, kept as written.
    QuecPython(String),
    /// A test build: `BETA`, `BETA<digits>`, `BETA_<yyyymmdd>[letter]` (kept as one tag) or `TP`.
    Beta(String),
    /// A customer or feature code (`SKT`, `LNV`, `VOLTE`, `BT`, ...).
    Custom(String),
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::App(v) => v.fmt(f),
            Tag::OpenCpu => f.write_str("OCPU"),
            Tag::QuecPython(s) | Tag::Beta(s) | Tag::Custom(s) => f.write_str(s),
        }
    }
}

/// Why a revision string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revision {input:?} does not parse: {reason}")]
pub struct RevisionError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed revision string. Printing gives back the string it was parsed from (upper-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revision {
    product: String,
    baseline: u8,
    minor: u8,
    infix: Option<u8>,
    memory: Option<MemoryCode>,
    tags: Vec<Tag>,
}

/// Finds `R<nn>A<nn>` after a non-empty product; returns its byte offset.
pub(crate) fn find_release(s: &[u8]) -> Option<usize> {
    (1..s.len().saturating_sub(5)).find(|&i| {
        s[i] == b'R'
            && s[i + 1].is_ascii_digit()
            && s[i + 2].is_ascii_digit()
            && s[i + 3] == b'A'
            && s[i + 4].is_ascii_digit()
            && s[i + 5].is_ascii_digit()
    })
}

impl Revision {
    /// Parses a revision string. Surrounding white space is ignored; letters are upper-cased.
    pub fn parse(text: &str) -> Result<Revision, RevisionError> {
        let input = text.trim().to_ascii_uppercase();
        let err = |reason: String| RevisionError { input: text.trim().to_string(), reason };
        if input.is_empty() {
            return Err(err("it is empty".into()));
        }
        if input.len() > 128 {
            return Err(err("it is longer than any revision (128 characters)".into()));
        }
        if let Some(c) = input.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.')) {
            return Err(err(format!("it contains {c:?}; a revision has only letters, digits, '_' and '.'")));
        }
        let (core, tags) = match input.find('_') {
            Some(i) => (&input[..i], Some(&input[i + 1..])),
            None => (input.as_str(), None),
        };
        let b = core.as_bytes();
        let at = find_release(b).ok_or_else(|| err("no release R<nn>A<nn> after a product code".into()))?;
        let product = &core[..at];
        if !product.chars().all(|c| c.is_ascii_alphanumeric())
            || !product.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return Err(err(format!("product code {product:?} must start with a letter")));
        }
        let num = |s: &str| s.parse::<u8>().unwrap_or(0);
        let baseline = num(&core[at + 1..at + 3]);
        let minor = num(&core[at + 4..at + 6]);
        let mut rest = &core[at + 6..];
        let mut infix = None;
        if rest.len() >= 3 && rest.starts_with('V') && rest[1..3].bytes().all(|c| c.is_ascii_digit()) {
            infix = Some(num(&rest[1..3]));
            rest = &rest[3..];
        }
        let memory = if rest.is_empty() {
            None
        } else {
            Some(MemoryCode::parse(rest).ok_or_else(|| {
                err(format!("{rest:?} after R{baseline:02}A{minor:02} is not a memory code (M4G, M08, E2G, T4G)"))
            })?)
        };
        let mut parsed = Vec::new();
        if let Some(tags) = tags {
            for t in tags.split('_') {
                // `BETA_20240624A`: the build date belongs to the test tag before it.
                if let Some(Tag::Beta(b)) = parsed.last_mut()
                    && b == "BETA"
                    && is_build_date(t)
                {
                    b.push('_');
                    b.push_str(t);
                    continue;
                }
                parsed.push(parse_tag(t).map_err(err)?);
            }
            if parsed.iter().filter(|t| matches!(t, Tag::App(_))).count() > 1 {
                return Err(err("it has two app versions".into()));
            }
        }
        Ok(Revision { product: product.to_string(), baseline, minor, infix, memory, tags: parsed })
    }

    /// The product code: model, region variant and feature code, e.g. `EC25EFA`.
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The baseline number (`R06` is 6).
    pub fn baseline(&self) -> u8 {
        self.baseline
    }

    /// The baseline as written, `R06`.
    pub fn baseline_label(&self) -> String {
        format!("R{:02}", self.baseline)
    }

    /// The minor number (`A17` is 17).
    pub fn minor(&self) -> u8 {
        self.minor
    }

    /// The `V<nn>` infix, if any.
    pub fn infix(&self) -> Option<u8> {
        self.infix
    }

    /// The memory code, if any (BG95 and BG77 strings have none).
    pub fn memory(&self) -> Option<&MemoryCode> {
        self.memory.as_ref()
    }

    /// The tags after the core, in order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The app version, if the string carries one.
    pub fn app_version(&self) -> Option<&AppVersion> {
        self.tags.iter().find_map(|t| match t {
            Tag::App(v) => Some(v),
            _ => None,
        })
    }

    /// The app stream (`20.2xx`), if the string carries an app version.
    pub fn stream(&self) -> Option<String> {
        self.app_version().map(AppVersion::stream)
    }

    /// Standard, OpenCPU or QuecPython, from the tags.
    pub fn flavour(&self) -> Flavour {
        if self.tags.iter().any(|t| matches!(t, Tag::QuecPython(_))) {
            Flavour::QuecPython
        } else if self.tags.contains(&Tag::OpenCpu) {
            Flavour::OpenCpu
        } else {
            Flavour::Standard
        }
    }

    /// Whether a test tag (`BETA...`, `TP`) marks a test build.
    pub fn is_beta(&self) -> bool {
        self.tags.iter().any(|t| matches!(t, Tag::Beta(_)))
    }

    /// The customer, carrier and OEM codes (`LNV`, `MSFT`, `JP`, `SKT`, `BT`, ...), in order: part
    /// of the build's identity, so builds whose codes differ are different builds. A bare version
    /// number after a flavour (`_OCPU_V01`) is the flavour's version, not an identity code.
    pub fn identity_tags(&self) -> Vec<&str> {
        let version =
            |c: &str| c.strip_prefix('V').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        self.tags
            .iter()
            .filter_map(|t| match t {
                Tag::Custom(c) if !version(c) => Some(c.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The core without tags: `EC25EFAR06A17M4G`, what ATI prints as `Revision:`.
    pub fn base(&self) -> String {
        let mut s = format!("{}R{:02}A{:02}", self.product, self.baseline, self.minor);
        if let Some(v) = self.infix {
            s.push_str(&format!("V{v:02}"));
        }
        if let Some(m) = &self.memory {
            s.push_str(m.as_str());
        }
        s
    }

    /// Orders two builds of one line by what makes one newer: baseline, minor, infix, app version.
    /// A side without an app version compares equal on that field, and app versions compare on
    /// the fields both carry ([`AppVersion::cmp_shared`]). The engine's judgement, which also
    /// says which fields it could not compare, is in `engine::order`.
    pub fn build_cmp(&self, other: &Revision) -> Ordering {
        self.baseline
            .cmp(&other.baseline)
            .then(self.minor.cmp(&other.minor))
            .then(self.infix.cmp(&other.infix))
            .then_with(|| match (self.app_version(), other.app_version()) {
                (Some(a), Some(b)) => a.cmp_shared(b),
                _ => Ordering::Equal,
            })
    }
}

/// `20240624` or `20240624A`: the build date of a `BETA_` test build.
fn is_build_date(t: &str) -> bool {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits == 8 && t.len() <= 9 && t[8..].bytes().all(|c| c.is_ascii_uppercase())
}

fn parse_tag(t: &str) -> Result<Tag, String> {
    if t.is_empty() {
        return Err("it has an empty '_' field".into());
    }
    if t.contains('.') {
        return AppVersion::parse(t)
            .map(Tag::App)
            .ok_or_else(|| format!("{t:?} is not an app version (like 20.200.20.200 or 01.001.02)"));
    }
    Ok(match t {
        "OCPU" => Tag::OpenCpu,
        "QPY" | "PY" | "OCPY" => Tag::QuecPython(t.to_string()),
        _ if t.starts_with("BETA") && t[4..].bytes().all(|c| c.is_ascii_digit()) => Tag::Beta(t.to_string()),
        _ if t.starts_with("TP") && t[2..].bytes().all(|c| c.is_ascii_digit()) => Tag::Beta(t.to_string()),
        _ => Tag::Custom(t.to_string()),
    })
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base())?;
        for t in &self.tags {
            write!(f, "_{t}")?;
        }
        Ok(())
    }
}

impl Ord for Revision {
    /// A total order: product, then [`Revision::build_cmp`], then memory, then the text.
    fn cmp(&self, other: &Self) -> Ordering {
        self.product
            .cmp(&other.product)
            .then_with(|| self.build_cmp(other))
            .then_with(|| self.app_version().is_some().cmp(&other.app_version().is_some()))
            .then_with(|| self.memory.cmp(&other.memory))
            .then_with(|| self.to_string().cmp(&other.to_string()))
    }
}

impl PartialOrd for Revision {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::str::FromStr for Revision {
    type Err = RevisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Revision::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &[&str] = &[
        "EC25EFAR06A17M4G_20.200.20.200",
        "EC25EUGAR06A05M4G_BETA1108",
        "EC25ECGAR06A07M1G_01.006V03.01.006V03",
        "EC25EFAR06A01M4G_OCPU_01.001.01.001",
        "EC20EQAR02A04E2G",
        "EC20CEFASGR07A04V01M2G_OCPU",
        "EG25GGBR07A07M2G_01.001.02",
        "BG95M3LAR02A03_01.009.01.009",
        "BG77LAR02A04",
        "EM060KGLAAR01A12M2GA",
        "RM500QGLAAR01A01M4G_BETA_20200428F",
        "RG255CGLABR01A04M4G_A0.004.A0.004",
        "EC600MCNLAR01A01M08_XBND_OCPU_QPY_BETA0831",
        "EC800MCNLAR01A01V02M08_OCPU_QPY",
        "EC800KCNCCR07A01M02_OCPY_QPY_BETA1202",
        "EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300",
        "AG35EVDR08A13T4G_OCPU_01.001.02",
        "EC20EQAR02A05V03",
        "EM05CEFCR08A16M1G_LNV",
        "EC600UCNLBR03A01M08_BT_OCPU_QPY_BETA1107",
        "RM551EGL00AAR01A01M8G_BETA_20240624A_01.001.01.001",
        "EM05GFAR07A03M1G_01.004",
        "RM520NGLAAR03A03M4G_JP",
        "RM550VGL01AAR01A02M8G_01.001.01.001",
    ];

    #[test]
    fn real_strings_round_trip() {
        for s in REAL {
            let r = Revision::parse(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.to_string(), *s);
        }
    }

    #[test]
    fn fields() {
        let r = Revision::parse("EC25EFAR06A17M4G_20.200.20.200").unwrap();
        assert_eq!(r.product(), "EC25EFA");
        assert_eq!((r.baseline(), r.minor()), (6, 17));
        assert_eq!(r.memory().unwrap().as_str(), "M4G");
        assert_eq!(r.stream().as_deref(), Some("20.2xx"));
        assert_eq!(r.base(), "EC25EFAR06A17M4G");
        let r = Revision::parse("RM500QGLABR11A06M4G").unwrap();
        assert_eq!(r.product(), "RM500QGLAB");
        let r = Revision::parse("EC800KCNCCR07A01M02_OCPY_QPY_BETA1202").unwrap();
        assert_eq!(r.flavour(), Flavour::QuecPython);
        assert!(r.is_beta());
        assert_eq!(Revision::parse("EC20CEFASGR07A04V01M2G_OCPU").unwrap().flavour(), Flavour::OpenCpu);
        assert_eq!(Revision::parse("EC20CEFASGR07A04V01M2G_OCPU").unwrap().infix(), Some(1));
    }

    #[test]
    fn test_builds_and_identity_tags() {
        let r = Revision::parse("RM551EGL00AAR01A01M8G_BETA_20240624A_01.001.01.001").unwrap();
        assert!(r.is_beta());
        assert_eq!(r.tags().len(), 2, "{:?}", r.tags());
        assert!(r.identity_tags().is_empty());
        assert!(Revision::parse("EM05GFAR07A07M1G_TP").unwrap().is_beta());
        let lnv = Revision::parse("EM05CEFCR08A16M1G_LNV").unwrap();
        assert_eq!(lnv.identity_tags(), ["LNV"]);
        assert!(!lnv.is_beta());
        let bt = Revision::parse("EC600UCNLBR03A01M08_BT_OCPU_QPY_BETA1107").unwrap();
        assert_eq!(bt.identity_tags(), ["BT"]);
        // A date not after BETA is a customer code like any other.
        assert_eq!(Revision::parse("RM500QGLAAR01A01M4G_20200428F").unwrap().identity_tags(), ["20200428F"]);
    }

    #[test]
    fn malformed() {
        for s in [
            "",
            "garbage",
            "R06A17M4G",
            "EC25EFAR6A17M4G",
            "AS830MCNAAR01A0224H256_LATC_BPS_BP01.002",
            "LTE01R03A03_C_SDK_U_1.0.8.12",
            "EC25EFAR06A17M4G__20.200.20.200",
            "EC25EFAR06A17M4G_20.200.20.200_20.201.20.201",
            "EC25EFAR06A17M4G 20.200",
            "8910DM_LOGICROM_EC200UCN-AA_VOLTE",
        ] {
            assert!(Revision::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn non_standard_stock_string_parses_with_unknown_product() {
        // The EC800MCN_LA stock string parses; its product "LTE01" is in no family.
        let r = Revision::parse("LTE01R06A04_VOLTE_C_SDK_A").unwrap();
        assert_eq!(r.product(), "LTE01");
    }

    #[test]
    fn build_order() {
        let a = Revision::parse("EC25EFAR06A17M4G_20.200.20.200").unwrap();
        let b = Revision::parse("EC25EFAR06A17M4G_20.201.20.201").unwrap();
        let c = Revision::parse("EC25EFAR08A01M4G_01.001.01.001").unwrap();
        assert!(a < b && b < c);
        assert_eq!(a.build_cmp(&Revision::parse("EC25EFAR06A17M4G").unwrap()), Ordering::Equal);
    }
}
