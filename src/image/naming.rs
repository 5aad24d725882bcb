//! What a package's file name claims, and whether the content agrees (`identity-conflict`).

use std::path::Path;

use crate::identity::{ImageKind, ImageName, Revision, strip_archive_suffix};

/// The package's file (or folder) name without its archive suffix: `EC25EFAR06A17M4G_20.200.20.200`.
pub fn stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    strip_archive_suffix(&name).to_string()
}

/// A path component without its archive suffix.
pub fn strip(component: &str) -> &str {
    strip_archive_suffix(component)
}

/// What the file name of `path` claims, if it names anything.
pub fn claim(path: &Path) -> Option<ImageName> {
    ImageName::parse(&stem(path)).ok()
}

/// Whether a name's revision and the content's revision name the same build: same base
/// (product, baseline, minor, memory), same flavour, and the same app version where both give one.
pub fn same_build(name: &Revision, content: &Revision) -> bool {
    let apps_agree = match (name.app_version(), content.app_version()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    name.base() == content.base() && name.flavour() == content.flavour() && apps_agree
}

/// The file name's claim when it disagrees with the content revision, for
/// [`crate::image::Inspection::name_conflict`].
pub fn conflict(path: &Path, content: &Revision) -> Option<String> {
    let claim = claim(path)?;
    match &claim.kind {
        ImageKind::Build(r) if same_build(r, content) => None,
        ImageKind::Build(r) => Some(r.to_string()),
        _ => Some(stem(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(s: &str) -> Revision {
        Revision::parse(s).unwrap()
    }

    #[test]
    fn conflicts() {
        let content = rev("EC25EFAR06A17M4G_20.200.20.200");
        assert_eq!(conflict(Path::new("/x/EC25EFAR06A17M4G_20.200.20.200.zip"), &content), None);
        assert_eq!(conflict(Path::new("EC25EFAR06A17M4G.7z"), &content), None);
        assert_eq!(conflict(Path::new("firmware.zip"), &content), None);
        assert_eq!(
            conflict(Path::new("EC25EFAR08A01M4G_01.001.01.001.zip"), &content).as_deref(),
            Some("EC25EFAR08A01M4G_01.001.01.001")
        );
        assert!(conflict(Path::new("EC25EFAR06A17M4G_20.201.20.201.zip"), &content).is_some());
    }
}
