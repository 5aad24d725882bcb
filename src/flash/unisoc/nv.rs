//! NV images in the item format of the Unisoc loaders, and keeping a module's items when a
//! package's NV replaces them (amitv87/unisoc_dloader `nv.c`: `build_nv_list`, `IsMultiCore`,
//! `MergeNV`).
//!
//! A single-core image is a 4-byte timestamp, then items `LE16 id, LE16 length, data padded to 4
//! bytes`, ending at id 0xFFFF or 0xFFFE or at the end. A multi-core image starts with an index
//! item (id 0) holding magic `INDX`, version 0, a core count and per core a 16-byte name, an
//! offset and a size; each core's data is an item list with no timestamp.
//!
//! [`merge`] copies the items to keep from the module's image into the package's, where both
//! have them at the same length. Unlike unisoc_dloader it refuses rather than guesses: an item
//! the module has and the package lacks, or whose length differs, stops the merge (writing the
//! package's NV then would lose it).

/// Most items read from one list (unisoc_dloader stops at 1024).
pub const MAX_ITEMS: usize = 8192;
/// The index item's magic, `INDX` (`INDEX_MAGIC`).
pub const INDEX_MAGIC: u32 = 0x5844_4E49;

/// Why an NV image cannot be read or merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NvError {
    /// The bytes are not an item list.
    #[error("{which} NV: {problem}")]
    Malformed {
        /// "the module's" or "the package's".
        which: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The two images are laid out differently.
    #[error("the module's NV and the package's are laid out differently: {0}")]
    Layout(String),
    /// An item to keep cannot be carried over.
    #[error("NV item {id:#06x}: {problem}")]
    Item {
        /// The item id.
        id: u16,
        /// Why.
        problem: String,
    },
}

/// One item: its id and where its data lies in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvItem {
    /// The id.
    pub id: u16,
    /// Offset of its data in the image.
    pub data: usize,
    /// Length of its data.
    pub len: usize,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The items of the list in `image[start..end]` (offsets are into `image`).
fn list(image: &[u8], start: usize, end: usize, which: &'static str) -> Result<Vec<NvItem>, NvError> {
    let bad = |problem: String| NvError::Malformed { which, problem };
    let mut items = Vec::new();
    let mut at = start;
    while at + 4 <= end {
        let (Some(id), Some(len)) = (le16(image, at), le16(image, at + 2)) else { break };
        if id == 0xFFFF || id == 0xFFFE {
            return Ok(items);
        }
        let len = usize::from(len);
        if at + 4 + len > end {
            return Err(bad(format!("item {id:#06x} at {at:#x} declares {len} bytes past the end ({end:#x})")));
        }
        if items.len() == MAX_ITEMS {
            return Err(bad(format!("more than {MAX_ITEMS} items")));
        }
        items.push(NvItem { id, data: at + 4, len });
        at += 4 + len.next_multiple_of(4);
    }
    Ok(items)
}

/// The item lists of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvLayout {
    /// Whether it has a core index.
    pub multi_core: bool,
    /// One list for a single-core image, one per core otherwise.
    pub lists: Vec<Vec<NvItem>>,
}

/// Reads the item lists of an image.
pub fn parse(image: &[u8], which: &'static str) -> Result<NvLayout, NvError> {
    let bad = |problem: String| NvError::Malformed { which, problem };
    let index = le16(image, 4).zip(le16(image, 6));
    let multi = matches!(index, Some((0, len)) if len >= 8) && le32(image, 8) == Some(INDEX_MAGIC);
    if !multi {
        if image.len() < 4 {
            return Err(bad(format!("{} bytes, shorter than the timestamp", image.len())));
        }
        return Ok(NvLayout { multi_core: false, lists: vec![list(image, 4, image.len(), which)?] });
    }
    if le16(image, 12) != Some(0) {
        return Err(bad("the core index has an unknown version".into()));
    }
    let count = usize::from(le16(image, 14).unwrap_or(0));
    let mut cores = Vec::with_capacity(count.min(64));
    for k in 0..count {
        let at = 16 + 24 * k;
        let (Some(offset), Some(size)) = (le32(image, at + 16), le32(image, at + 20)) else {
            return Err(bad(format!("the core index ends inside entry {k}")));
        };
        let (offset, size) = (offset as usize, size as usize);
        if offset.checked_add(size).is_none_or(|end| end > image.len()) {
            return Err(bad(format!("core {k} ({offset:#x}+{size:#x}) lies past the end ({:#x})", image.len())));
        }
        cores.push(list(image, offset, offset + size, which)?);
    }
    Ok(NvLayout { multi_core: true, lists: cores })
}

/// A single-core NV image of `items` (id, data): the 4-byte timestamp (zero), then each item as
/// `LE16 id, LE16 length, data padded to 4 bytes`, then the end marker 0xFFFF. The inverse of
/// [`parse`] (package builders and the simulated module write NV with it).
pub fn encode(items: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0u8; 4];
    for (id, data) in items {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(&data[..data.len().min(usize::from(u16::MAX))]);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out.extend_from_slice(&[0xFF, 0xFF, 0, 0]);
    out
}

/// How many bytes of `image` the NV image takes: for a multi-core image the end of its last
/// core, for a single-core one up to and with its end marker (0xFFFF or 0xFFFE). `None` when
/// `image` is no NV image or its end is not inside it (read more of it).
pub fn image_len(image: &[u8]) -> Option<usize> {
    let layout = parse(image, "the module's").ok()?;
    if layout.multi_core {
        let count = usize::from(le16(image, 14)?);
        return (0..count)
            .map(|k| {
                let at = 16 + 24 * k;
                Some(le32(image, at + 16)? as usize + le32(image, at + 20)? as usize)
            })
            .try_fold(0usize, |end, core| core.map(|c| end.max(c)));
    }
    let mut at = 4;
    while at + 4 <= image.len() {
        let id = le16(image, at)?;
        if id == 0xFFFF || id == 0xFFFE {
            return Some(at + 4);
        }
        at += 4 + usize::from(le16(image, at + 2)?).next_multiple_of(4);
    }
    None
}

/// Copies the items `keep` from `module` into `package` in place. Returns the ids carried over;
/// an id the module does not have is left as the package has it.
pub fn merge(module: &[u8], package: &mut [u8], keep: &[u16]) -> Result<Vec<u16>, NvError> {
    let from = parse(module, "the module's")?;
    let to = parse(package, "the package's")?;
    if from.multi_core != to.multi_core || from.lists.len() != to.lists.len() {
        let shape = |l: &NvLayout| match l.multi_core {
            true => format!("{} core(s)", l.lists.len()),
            false => "a single-core image".to_string(),
        };
        return Err(NvError::Layout(format!("{} on the module, {} in the package", shape(&from), shape(&to))));
    }
    let mut kept = Vec::new();
    for (src, dst) in from.lists.iter().zip(&to.lists) {
        for &id in keep {
            let Some(s) = src.iter().find(|i| i.id == id) else { continue };
            let Some(d) = dst.iter().find(|i| i.id == id) else {
                return Err(NvError::Item { id, problem: "the module has it and the package's NV does not".into() });
            };
            if s.len != d.len {
                return Err(NvError::Item {
                    id,
                    problem: format!("{} bytes on the module, {} in the package", s.len, d.len),
                });
            }
            package[d.data..d.data + d.len].copy_from_slice(&module[s.data..s.data + s.len]);
            if !kept.contains(&id) {
                kept.push(id);
            }
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::unisoc::layout::{imei_bcd, module_nv, nv_image};

    #[test]
    fn keeps_the_module_items() {
        let module = module_nv("861234000000052");
        let mut package = nv_image(&[
            (5, imei_bcd("999999999999999")),
            (0x100, vec![0; 64]),
            (2, vec![0xCA; 64]),
            (9, vec![1, 2, 3]),
        ]);
        let kept = merge(&module, &mut package, &[5, 0x101]).unwrap();
        assert_eq!(kept, [5]);
        let items = &parse(&package, "x").unwrap().lists[0];
        let imei = items.iter().find(|i| i.id == 5).unwrap();
        assert_eq!(&package[imei.data..imei.data + imei.len], imei_bcd("861234000000052").as_slice());
        let cal = items.iter().find(|i| i.id == 2).unwrap();
        assert_eq!(&package[cal.data..cal.data + cal.len], &[0xCA; 64]);
        assert_eq!(items.len(), 4);
        let cal = items.iter().find(|i| i.id == 0x100).unwrap();
        assert_eq!(&package[cal.data..cal.data + cal.len], &[0; 64], "not in the keep list: the package's");
        assert_eq!(image_len(&package), Some(package.len()));
        assert_eq!(image_len(&module), Some(module.len()));
        assert_eq!(image_len(&module[..module.len() - 4]), None, "the end marker is not inside");
    }

    #[test]
    fn refuses_what_it_cannot_keep() {
        let module = module_nv("861234000000052");
        let mut no_imei = nv_image(&[(2, vec![0; 64])]);
        assert!(matches!(merge(&module, &mut no_imei, &[5]), Err(NvError::Item { id: 5, .. })));
        let mut short = nv_image(&[(5, vec![0; 3])]);
        assert!(matches!(merge(&module, &mut short, &[5]), Err(NvError::Item { id: 5, .. })));
        let mut junk = vec![0x4E; 0x400];
        assert!(matches!(merge(&module, &mut junk, &[5]), Err(NvError::Malformed { .. })));
    }

    #[test]
    fn multi_core_images() {
        let core = nv_image(&[(5, vec![7; 8])]);
        let core = &core[4..]; // no timestamp inside a core
        let mut image = vec![0u8; 4];
        image.extend_from_slice(&0u16.to_le_bytes());
        image.extend_from_slice(&(12u16 + 24).to_le_bytes());
        image.extend_from_slice(&INDEX_MAGIC.to_le_bytes());
        image.extend_from_slice(&0u16.to_le_bytes());
        image.extend_from_slice(&1u16.to_le_bytes());
        image.extend_from_slice(b"modem\0\0\0\0\0\0\0\0\0\0\0");
        let offset = image.len() + 8;
        image.extend_from_slice(&(offset as u32).to_le_bytes());
        image.extend_from_slice(&(core.len() as u32).to_le_bytes());
        image.extend_from_slice(core);
        let cores = parse(&image, "x").unwrap();
        assert!(cores.multi_core);
        assert_eq!(cores.lists.len(), 1);
        assert_eq!(cores.lists[0][0].id, 5);
        let mut bad = image.clone();
        bad[16 + 16] = 0xFF;
        assert!(parse(&bad, "x").is_err());
        assert!(matches!(merge(&module_nv("1"), &mut image, &[5]), Err(NvError::Layout(_))));
    }
}
