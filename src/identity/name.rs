//! Firmware package names: full builds (`EC25EFAR06A17M4G_20.200.20.200.zip`), QuecPython images
//! (`QPY_OCPU_V0004_EC800M_CNLF_FW.bin`), Unisoc build names
//! (`8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac`), DFOTA deltas
//! (`EC20EQAR02A05V03-R02A09V02.zip`) and paths inside a package
//! (`.../update/firehose/rawprogram_nand_p2K_b128K_update.xml`).

use super::memory::NandGeometry;
use super::revision::{Flavour, Revision, RevisionError, find_release};

/// Archive and image suffixes stripped from a package name before it is parsed.
pub const ARCHIVE_SUFFIXES: &[&str] = &[".tar.gz", ".tgz", ".zip", ".7z", ".pac", ".binpkg", ".bin"];

/// Build-system words that follow the revision in Unisoc and QuecPython file names.
const PACKAGING_WORDS: &[&str] = &["MERGE", "FW", "UPDATE", "FACTORY", "ALL"];

/// What a package name says the package is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageKind {
    /// A full build of one revision.
    Build(Revision),
    /// A QuecPython image named by model and OC suffix: `QPY_OCPU_V0004_EC800M_CNLF_FW`.
    QuecPython {
        /// Model and OC suffix joined, the product code it targets: `EC800MCNLF`.
        product: String,
        /// `V0004` or `BETA0004`.
        release: String,
    },
    /// A DFOTA delta from one build to another.
    Delta {
        /// The build the delta applies to.
        source: Revision,
        /// The build it produces.
        target: Revision,
    },
}

/// A parsed package name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// The name or path as given.
    pub raw: String,
    /// What it names.
    pub kind: ImageKind,
    /// NAND geometry named by a file in the path, if any.
    pub nand: Option<NandGeometry>,
}

impl ImageName {
    /// The product code the image is built for.
    pub fn product(&self) -> &str {
        match &self.kind {
            ImageKind::Build(r) => r.product(),
            ImageKind::QuecPython { product, .. } => product,
            ImageKind::Delta { target, .. } => target.product(),
        }
    }

    /// The revision the image installs, when the name gives one.
    pub fn revision(&self) -> Option<&Revision> {
        match &self.kind {
            ImageKind::Build(r) => Some(r),
            ImageKind::QuecPython { .. } => None,
            ImageKind::Delta { target, .. } => Some(target),
        }
    }

    /// The flavour of the image.
    pub fn flavour(&self) -> Flavour {
        match &self.kind {
            ImageKind::QuecPython { .. } => Flavour::QuecPython,
            _ => self.revision().map(Revision::flavour).unwrap_or(Flavour::Standard),
        }
    }

    /// A short label for messages: the revision, the QuecPython image, or `SRC -> DST`.
    pub fn label(&self) -> String {
        match &self.kind {
            ImageKind::Build(r) => r.to_string(),
            ImageKind::QuecPython { product, release } => format!("QuecPython {release} for {product}"),
            ImageKind::Delta { source, target } => format!("delta {source} -> {target}"),
        }
    }

    /// Parses a revision string, a package file name or a path inside a package.
    pub fn parse(text: &str) -> Result<ImageName, RevisionError> {
        let raw = text.trim().to_string();
        let components: Vec<&str> = raw.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
        let nand = components.iter().rev().find_map(|c| NandGeometry::find_in(c));
        let mut first_error = None;
        for comp in &components {
            match parse_component(comp) {
                Ok(Some(kind)) => return Ok(ImageName { raw, kind, nand }),
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| RevisionError {
            input: raw.clone(),
            reason: "no revision, QuecPython image name or delta name in it".into(),
        }))
    }
}

/// Strips a known archive suffix (case-insensitive).
pub fn strip_archive_suffix(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    for s in ARCHIVE_SUFFIXES {
        if lower.ends_with(s) && name.len() > s.len() {
            return &name[..name.len() - s.len()];
        }
    }
    name
}

/// `Ok(None)`: this path component names nothing (a folder such as `update`).
fn parse_component(comp: &str) -> Result<Option<ImageKind>, RevisionError> {
    let stem = strip_archive_suffix(comp);
    let upper = stem.to_ascii_uppercase();
    if let Some(kind) = parse_quecpython(&upper) {
        return Ok(Some(kind));
    }
    if let Some((src, dst)) = upper.split_once('-')
        && find_release(src.as_bytes()).is_some()
    {
        let source = Revision::parse(src)?;
        let dst_full = if dst.starts_with('R') { format!("{}{}", source.product(), dst) } else { dst.to_string() };
        let target = Revision::parse(&dst_full)?;
        return Ok(Some(ImageKind::Delta { source, target }));
    }
    if find_release(upper.as_bytes()).is_none() {
        return Ok(None);
    }
    match Revision::parse(&upper) {
        Ok(r) => Ok(Some(ImageKind::Build(r))),
        Err(direct) => {
            // An embedded revision: `8915DM_cat1_open_<REVISION>_..._merge`.
            let tokens: Vec<&str> = upper.split('_').collect();
            let Some(start) = tokens.iter().position(|t| find_release(t.as_bytes()).is_some()) else {
                return Err(direct);
            };
            let mut end = tokens.len();
            while end > start + 1 && PACKAGING_WORDS.contains(&tokens[end - 1]) {
                end -= 1;
            }
            if start == 0 && end == tokens.len() {
                return Err(direct);
            }
            Revision::parse(&tokens[start..end].join("_")).map(|r| Some(ImageKind::Build(r)))
        }
    }
}

/// `QPY_[OCPU_](V|BETA)<nnnn>_<MODEL>_<SUFFIX>_FW`.
fn parse_quecpython(upper: &str) -> Option<ImageKind> {
    let rest = upper.strip_prefix("QPY_")?;
    let rest = rest.strip_prefix("OCPU_").unwrap_or(rest);
    let parts: Vec<&str> = rest.split('_').collect();
    let release = parts.first()?;
    let digits = release.strip_prefix("BETA").or_else(|| release.strip_prefix('V'))?;
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric());
    let product = match parts.as_slice() {
        [_, model, suffix, "FW"] if alnum(model) && alnum(suffix) => format!("{model}{suffix}"),
        [_, model, "FW"] if alnum(model) => model.to_string(),
        _ => return None,
    };
    Some(ImageKind::QuecPython { product, release: release.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(s: &str) -> String {
        ImageName::parse(s).unwrap_or_else(|e| panic!("{e}")).product().to_string()
    }

    #[test]
    fn package_names() {
        assert_eq!(product("EC25EFAR06A17M4G_20.200.20.200.zip"), "EC25EFA");
        assert_eq!(product("RG520NEUDCR01A01M4G_01.001.01.001.7z"), "RG520NEUDC");
        assert_eq!(product("8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac"), "EC200UEUAA");
        let n = ImageName::parse("8915DM_cat1_open_EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300_merge.pac").unwrap();
        assert_eq!(n.revision().unwrap().to_string(), "EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300");
        assert_eq!(n.flavour(), Flavour::QuecPython);
    }

    #[test]
    fn quecpython_names() {
        let n = ImageName::parse("QPY_OCPU_V0004_EC800M_CNLF_FW.bin").unwrap();
        assert_eq!(n.kind, ImageKind::QuecPython { product: "EC800MCNLF".into(), release: "V0004".into() });
        assert_eq!(product("QPY_V0007_EC600U_CNLB_FW"), "EC600UCNLB");
        assert_eq!(product("QPY_OCPU_BETA0001_FCM360W_FW"), "FCM360W");
    }

    #[test]
    fn delta_names() {
        let n = ImageName::parse("EC20EQAR02A05V03-R02A09V02.zip").unwrap();
        match n.kind {
            ImageKind::Delta { source, target } => {
                assert_eq!(source.to_string(), "EC20EQAR02A05V03");
                assert_eq!(target.to_string(), "EC20EQAR02A09V02");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_give_geometry() {
        let n = ImageName::parse("EC25EUGAR06A07M4G_01.001.01.001/update/firehose/rawprogram_nand_p2K_b128K_update.xml")
            .unwrap();
        assert_eq!(n.product(), "EC25EUGA");
        assert_eq!(n.nand.unwrap().to_string(), "p2K_b128K");
    }

    #[test]
    fn unparseable_names() {
        for s in ["8910DM_LOGICROM_EC200UCN-AA_VOLTE", "firmware.zip", "", "update/firehose/x.xml", "EC25EFAR06A17M4G_20.2"] {
            assert!(ImageName::parse(s).is_err(), "{s}");
        }
    }
}
