//! Identity: one grammar for Quectel revision strings, package names and flash IDs, shared by
//! what the module says (`device`) and what a package claims (`image`).

mod app_version;
mod at_text;
mod flash_id;
mod memory;
mod name;
mod revision;

pub use app_version::AppVersion;
pub use at_text::{AtTextError, revision_from_at_text};
pub use flash_id::{FlashId, FlashIdError};
pub use memory::{FlashKind, MemoryCode, NandGeometry};
pub use name::{ARCHIVE_SUFFIXES, ImageKind, ImageName, strip_archive_suffix};
pub use revision::{Flavour, Revision, RevisionError, Tag};

/// Normalises an ATI model line or product code for comparison: upper case, without `-`, `_`
/// and spaces (`EC800MCN_LA` and `EC800MCNLA` are the same).
pub fn normalise_model(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}
