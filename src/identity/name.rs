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
    /// A QuecPython image named by model and OC suffix: `QPY_OCPU_V0004_EC800M_CNLF_FW`, or
    /// without a release as the QuecPython download page names them: `QPY_OCPU_EC800M_CNLE_FW`.
    QuecPython {
        /// Model and OC suffix joined, the product code it targets: `EC800MCNLF`.
        product: String,
        /// `V0004` or `BETA0004`; empty when the name carries no release.
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
    /// A second, different build named elsewhere in the same name or path, as a sentence naming
    /// both (`identity-conflict`).
    pub conflict: Option<String>,
    /// A file of the path that is a factory layout or an erase-all recipe
    /// (`rawprogram_nand_p4K_b256K_factory.xml`), which writes calibration and NV areas.
    pub factory: Option<String>,
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

    /// Whether the name marks a test build: a test tag in the revision (`BETA0416`, `TP`), or a
    /// QuecPython `BETA<nnnn>` release.
    pub fn is_test_build(&self) -> bool {
        match &self.kind {
            ImageKind::QuecPython { release, .. } => release.starts_with("BETA"),
            _ => self.revision().is_some_and(Revision::is_beta),
        }
    }

    /// A short label for messages: the revision, the QuecPython image, or `SRC -> DST`.
    pub fn label(&self) -> String {
        match &self.kind {
            ImageKind::Build(r) => r.to_string(),
            ImageKind::QuecPython { product, release } if release.is_empty() => {
                format!("QuecPython (no release named) for {product}")
            }
            ImageKind::QuecPython { product, release } => format!("QuecPython {release} for {product}"),
            ImageKind::Delta { source, target } => format!("delta {source} -> {target}"),
        }
    }

    /// Parses a revision string, a package file name or a path inside a package.
    ///
    /// The first component that names a build decides what the image is; a later component that
    /// names a different build is recorded in [`ImageName::conflict`], and a factory layout or
    /// erase-all recipe in [`ImageName::factory`].
    pub fn parse(text: &str) -> Result<ImageName, RevisionError> {
        let raw = text.trim().to_string();
        let components: Vec<&str> = raw.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
        let nand = components.iter().rev().find_map(|c| NandGeometry::find_in(c));
        let factory = components.iter().find(|c| is_factory_layout(c)).map(|c| c.to_string());
        let mut first_error = None;
        let mut found: Option<ImageKind> = None;
        let mut conflict = None;
        for comp in &components {
            match parse_component(comp) {
                Ok(Some(kind)) => match &found {
                    None => found = Some(kind),
                    Some(first) => {
                        if conflict.is_none() {
                            conflict = disagreement(first, &kind);
                        }
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match found {
            Some(kind) => Ok(ImageName { raw, kind, nand, conflict, factory }),
            None => Err(first_error.unwrap_or_else(|| RevisionError {
                input: raw.clone(),
                reason: "no revision, QuecPython image name or delta name in it".into(),
            })),
        }
    }
}

/// A sentence when two components of one name name different builds: a product, base or flavour
/// that differs, or app versions that differ on the fields both carry.
fn disagreement(first: &ImageKind, other: &ImageKind) -> Option<String> {
    let build = |k: &ImageKind| match k {
        ImageKind::Build(r) => Some(r.clone()),
        ImageKind::Delta { target, .. } => Some(target.clone()),
        ImageKind::QuecPython { .. } => None,
    };
    let (a, b) = (build(first)?, build(other)?);
    let apps_agree = match (a.app_version(), b.app_version()) {
        (Some(x), Some(y)) => x.same_as(y),
        _ => true,
    };
    let same = a.base() == b.base() && a.flavour() == b.flavour() && apps_agree;
    (!same).then(|| format!("the name carries two different revisions, {a} and {b}"))
}

/// Whether a path component is a factory layout or an erase-all recipe: Firehose
/// `rawprogram*factory*.xml`, a factory package (`RM500QGLAAR01A01M4G_BETA_20200428F_factory`), or a
/// file or folder named for erasing everything.
fn is_factory_layout(component: &str) -> bool {
    let lower = component.to_ascii_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    (lower.starts_with("rawprogram") && lower.contains("factory"))
        || strip_archive_suffix(&lower).ends_with("_factory")
        || squashed.contains("eraseall")
        || squashed.contains("fullerase")
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
    // A factory package is named for its build plus `_factory`: the suffix says what the package
    // is (see `is_factory_layout`), not which build.
    let upper = upper.strip_suffix("_FACTORY").filter(|s| !s.is_empty()).unwrap_or(&upper).to_string();
    if let Some(kind) = parse_quecpython(&upper) {
        return Ok(Some(kind));
    }
    if let Some((src, dst)) = upper.split_once('-')
        && find_release(src.as_bytes()).is_some()
    {
        let source = Revision::parse(src)?;
        // The target is written short (`R02A09V02`) or in full; a full one may start with R too
        // (`RM520NGLAAR01A03M4G`), so only a release at its very start makes it short.
        let d = dst.as_bytes();
        let short = d.len() >= 6
            && d[0] == b'R'
            && d[1..3].iter().all(u8::is_ascii_digit)
            && d[3] == b'A'
            && d[4..6].iter().all(u8::is_ascii_digit);
        let dst_full = if short { format!("{}{}", source.product(), dst) } else { dst.to_string() };
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

/// `QPY_[OCPU_][(V|BETA)<nnnn>_]<MODEL>_<SUFFIX>_FW[_<yyyymmdd>-<hhmm>]`; the trailing date and
/// time is what QuecPython's production tool appends to a merged package
/// (`QPY_OCPU_V0006_EC600N_CNLC_FW_20230410-1322.zip`).
fn parse_quecpython(upper: &str) -> Option<ImageKind> {
    let rest = upper.strip_prefix("QPY_")?;
    let rest = rest.strip_prefix("OCPU_").unwrap_or(rest);
    let mut parts: Vec<&str> = rest.split('_').collect();
    let merge_stamp = |p: &str| {
        let (date, time) = p.split_once('-').unwrap_or((p, "0000"));
        date.len() == 8 && time.len() == 4 && date.bytes().chain(time.bytes()).all(|c| c.is_ascii_digit())
    };
    if parts.len() > 2 && parts[parts.len() - 2] == "FW" && merge_stamp(parts[parts.len() - 1]) {
        parts.pop();
    }
    let is_release = |p: &str| {
        p.strip_prefix("BETA")
            .or_else(|| p.strip_prefix('V'))
            .is_some_and(|d| d.len() == 4 && d.bytes().all(|c| c.is_ascii_digit()))
    };
    let release = match parts.first() {
        Some(p) if is_release(p) => parts.remove(0).to_string(),
        _ => String::new(),
    };
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric());
    let product = match parts.as_slice() {
        [model, suffix, "FW"] if alnum(model) && alnum(suffix) => format!("{model}{suffix}"),
        [model, "FW"] if alnum(model) => model.to_string(),
        _ => return None,
    };
    // A model starts with a letter; a lone release without a model is no image name.
    product.starts_with(|c: char| c.is_ascii_alphabetic()).then_some(ImageKind::QuecPython { product, release })
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
        let full = ImageName::parse("RM520NGLAAR01A01M4G_01.001.01.001-RM520NGLAAR01A03M4G_01.001.01.001.zip").unwrap();
        assert_eq!(full.product(), "RM520NGLAA", "a full target that starts with R is not a short one");
        let merged = ImageName::parse("QPY_OCPU_V0006_EC600N_CNLC_FW_20230410-1322.zip").unwrap();
        assert_eq!(merged.product(), "EC600NCNLC");
        assert!(ImageName::parse("QPY_OCPU_V0006_EC600N_CNLC_FW_2023041-1322.zip").is_err());
        let n = ImageName::parse("QPY_OCPU_V0004_EC800M_CNLF_FW.bin").unwrap();
        assert_eq!(n.kind, ImageKind::QuecPython { product: "EC800MCNLF".into(), release: "V0004".into() });
        assert_eq!(product("QPY_V0007_EC600U_CNLB_FW"), "EC600UCNLB");
        assert_eq!(product("QPY_OCPU_BETA0001_FCM360W_FW"), "FCM360W");
        let n = ImageName::parse("QPY_OCPU_EC800M_CNLE_FW.zip").unwrap();
        assert_eq!(n.kind, ImageKind::QuecPython { product: "EC800MCNLE".into(), release: String::new() });
        assert!(n.label().contains("no release"), "{}", n.label());
        assert!(ImageName::parse("QPY_OCPU_V0004_FW").is_err());
    }

    #[test]
    fn two_revisions_in_one_name_conflict() {
        let n = ImageName::parse("EC25EFAR06A17M4G_20.200.20.200/EC25EUGAR06A07M4G_01.001.01.001.zip").unwrap();
        assert_eq!(n.product(), "EC25EFA");
        assert!(n.conflict.as_deref().is_some_and(|c| c.contains("EC25EUGAR06A07M4G")), "{n:?}");
        // The same build under its base name and its full name is no conflict.
        let same = ImageName::parse("EC25EFAR06A17M4G/EC25EFAR06A17M4G_20.200.20.200.zip").unwrap();
        assert_eq!(same.conflict, None);
        let other_app = ImageName::parse("EC25EFAR06A17M4G_20.200.20.200/EC25EFAR06A17M4G_20.201.20.201").unwrap();
        assert!(other_app.conflict.is_some());
    }

    #[test]
    fn factory_layouts_are_named() {
        let n =
            ImageName::parse("EC25EFAR06A17M4G_20.200.20.200/update/firehose/rawprogram_nand_p4K_b256K_factory.xml")
                .unwrap();
        assert_eq!(n.factory.as_deref(), Some("rawprogram_nand_p4K_b256K_factory.xml"));
        let pkg = ImageName::parse(
            "RM500QGLAAR01A01M4G_BETA_20200428F_factory/update/firehose/rawprogram_nand_p4K_b256K_factory.xml",
        )
        .unwrap();
        assert_eq!(pkg.factory.as_deref(), Some("RM500QGLAAR01A01M4G_BETA_20200428F_factory"));
        assert_eq!(pkg.revision().unwrap().to_string(), "RM500QGLAAR01A01M4G_BETA_20200428F");
        let e = ImageName::parse("EC200UCNAAR03A03M08/erase_all.xml").unwrap();
        assert_eq!(e.factory.as_deref(), Some("erase_all.xml"));
        let u = ImageName::parse("EC25EFAR06A17M4G_20.200.20.200/update/firehose/rawprogram_nand_p4K_b256K_update.xml")
            .unwrap();
        assert_eq!(u.factory, None);
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
        let n =
            ImageName::parse("EC25EUGAR06A07M4G_01.001.01.001/update/firehose/rawprogram_nand_p2K_b128K_update.xml")
                .unwrap();
        assert_eq!(n.product(), "EC25EUGA");
        assert_eq!(n.nand.unwrap().to_string(), "p2K_b128K");
    }

    #[test]
    fn unparseable_names() {
        for s in
            ["8910DM_LOGICROM_EC200UCN-AA_VOLTE", "firmware.zip", "", "update/firehose/x.xml", "EC25EFAR06A17M4G_20.2"]
        {
            assert!(ImageName::parse(s).is_err(), "{s}");
        }
    }
}
