//! What a package's file name claims, checked against what its content says. A file name can
//! lie; when it disagrees with the content the disagreement goes into
//! [`Inspection::name_conflict`](super::Inspection::name_conflict).

use std::path::Path;

use crate::identity::{FlashKind, ImageKind, ImageName, Revision, normalise_model, strip_archive_suffix};

use super::fields::file_name;

/// The first full-build revision named by any of `texts` (file names, header strings).
/// A file extension (`.json`, `.img`) is dropped before parsing; an app version's `.200` is not
/// an extension. The folders of a path are tried after its file name.
pub(crate) fn revision_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Revision> {
    texts.into_iter().find_map(|t| {
        let name = file_name(t);
        let stem = match name.rsplit_once('.') {
            Some((stem, ext)) if (1..=7).contains(&ext.len()) && ext.bytes().any(|c| c.is_ascii_alphabetic()) => stem,
            _ => name,
        };
        let folders = t.split(['/', '\\']).rev().skip(1);
        std::iter::once(stem).chain(folders).find_map(|c| match ImageName::parse(c) {
            Ok(ImageName { kind: ImageKind::Build(r), .. }) => Some(r),
            _ => None,
        })
    })
}

/// Sets `insp.revision` and `insp.product` from the content's revision; when the content names
/// none, from what the package's file name claims (a QuecPython name gives the product only).
pub(crate) fn fill_identity(insp: &mut super::Inspection, content: Option<&Revision>) {
    if let Some(r) = content {
        insp.revision = Some(r.to_string());
        insp.product = Some(r.product().to_string());
    } else if let Some(name) = name_claim(&insp.path) {
        insp.revision = name.revision().map(ToString::to_string);
        insp.product = Some(name.product().to_string());
    }
}

/// The package's file (or folder) name without its archive suffix: `EC25EFAR06A17M4G_20.200.20.200`.
pub(crate) fn stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    strip_archive_suffix(&name).to_string()
}

/// Whether two revisions name the same build: same base (product, baseline, minor, memory),
/// same flavour, and the same app version where both give one.
pub(crate) fn same_build(a: &Revision, b: &Revision) -> bool {
    let apps_agree = match (a.app_version(), b.app_version()) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    a.base() == b.base() && a.flavour() == b.flavour() && apps_agree
}

/// What the file name of `package_path` claims, if it names anything.
pub(crate) fn name_claim(package_path: &str) -> Option<ImageName> {
    ImageName::parse(file_name(package_path)).ok()
}

/// Compares the package's file name with the content: the content's revision and, when the
/// content gives one, the flash size in MiB it is built for. Returns one sentence naming both
/// sides, or `None` when they agree or the name claims nothing.
pub(crate) fn name_conflict(
    package_path: &str,
    content: Option<&Revision>,
    content_flash_mib: Option<u64>,
) -> Option<String> {
    let name = name_claim(package_path)?;
    let shown = file_name(package_path);
    let mut found = Vec::new();
    if let Some(rc) = content {
        let np = normalise_model(name.product());
        let cp = normalise_model(rc.product());
        if np != cp {
            found.push(format!("the file name {shown:?} is for product {np}, the content is {rc} (product {cp})"));
        } else if let Some(rn) = name.revision() {
            if (rn.baseline(), rn.minor(), rn.infix()) != (rc.baseline(), rc.minor(), rc.infix()) {
                found.push(format!("the file name {shown:?} says {}, the content says {}", rn.base(), rc.base()));
            }
            if let (Some(mn), Some(mc)) = (rn.memory(), rc.memory())
                && mn != mc
            {
                found.push(format!("the file name {shown:?} has memory code {mn}, the content {mc}"));
            }
            if let (Some(an), Some(ac)) = (rn.app_version(), rc.app_version())
                && an != ac
            {
                found.push(format!("the file name {shown:?} has app version {an}, the content {ac}"));
            }
            if rn.flavour() != rc.flavour() && name.flavour() != rc.flavour() {
                found.push(format!(
                    "the file name {shown:?} is {} firmware, the content is {}",
                    rn.flavour(),
                    rc.flavour()
                ));
            }
        }
    }
    if let (Some(mib), Some(code)) = (content_flash_mib, name.revision().and_then(Revision::memory))
        && code.kind() == FlashKind::Nor
        && u64::from(code.size_mib()) != mib
    {
        found.push(format!(
            "the file name {shown:?} has memory code {code} ({} MB flash), the content is built for {mib} MB flash",
            code.size_mib()
        ));
    }
    if found.is_empty() { None } else { Some(found.join("; ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(s: &str) -> Revision {
        Revision::parse(s).unwrap()
    }

    #[test]
    fn agreeing_and_conflicting_names() {
        let r = rev("EC200UEUAAR02A02M08_OCPU");
        assert_eq!(name_conflict("/x/8915DM_cat1_open_EC200UEUAAR02A02M08_OCPU_merge.pac", Some(&r), None), None);
        let c = name_conflict("EC200UCNAAR02A02M08.pac", Some(&r), None).unwrap();
        assert!(c.contains("EC200UCNAA") && c.contains("EC200UEUAA"), "{c}");
        let c = name_conflict("EC200UEUAAR03A01M08.pac", Some(&r), None).unwrap();
        assert!(c.contains("R03A01") && c.contains("R02A02"), "{c}");
        assert_eq!(name_conflict("firmware.pac", Some(&r), None), None);
    }

    #[test]
    fn flash_size_against_memory_code() {
        assert!(name_conflict("EC800MCNLFR01A01M04.zip", None, Some(8)).is_some());
        assert_eq!(name_conflict("EC800MCNLFR01A01M04.zip", None, Some(4)), None);
        let q = rev("EC800MCNLFR01A01M04");
        assert_eq!(name_conflict("QPY_OCPU_V0004_EC800M_CNLF_FW.zip", Some(&q), None), None);
        assert!(name_conflict("QPY_OCPU_V0004_EC800M_CNLE_FW.zip", Some(&q), None).is_some());
    }

    #[test]
    fn revisions_in_texts() {
        assert_eq!(revision_in(["download.json", "EC800MCNLFR01A01M04_OCPU.json"]).unwrap().product(), "EC800MCNLF");
        assert!(revision_in(["a", "QPY_OCPU_V0004_EC800M_CNLF_FW"]).is_none());
        assert_eq!(revision_in(["EC25EFAR06A17M4G_20.200.20.200/x/cp.bin"]).unwrap().base(), "EC25EFAR06A17M4G");
    }
}
