//! Safety caps for reading packages, and the census that enforces them while members are listed.

use std::collections::HashMap;

use crate::image::ImageError;

/// Largest total uncompressed size of all members of one package: 8 GiB. Real Quectel packages
/// are well under 1 GiB; anything larger is refused before a byte is decompressed.
pub const MAX_TOTAL_SIZE: u64 = 8 << 30;

/// Largest uncompressed size of one member: 4 GiB (the largest NAND in the Quectel range is
/// 4 Gbit = 512 MiB, so no real image comes near it).
pub const MAX_MEMBER_SIZE: u64 = 4 << 30;

/// Most members (files, folders and links) in one package: 100,000. A Quectel package has a few
/// dozen.
pub const MAX_MEMBERS: usize = 100_000;

/// Highest compression ratio accepted for a member larger than [`RATIO_FLOOR`]: 200:1. Firmware
/// images are dense (UBI, ELF, signed MBN) and deflate to 1.5-3:1; a ratio over 200:1 is a bomb.
pub const MAX_RATIO: u64 = 200;

/// Members up to this size (1 MiB) are not held to [`MAX_RATIO`]: small text and zero-filled
/// padding compress very well and cannot do harm.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// Deepest folder nesting in a package: 32 levels below its root.
pub const MAX_DEPTH: usize = 32;

/// Longest member path: 1,024 bytes.
pub const MAX_PATH_LEN: usize = 1024;

/// Most bytes one pass over a package ([`crate::image::scan::scan`]) keeps in memory, all kept
/// members together: 32 MiB. Readers keep only small members (XML of up to 4 MiB each, md5.txt,
/// the first pages of a MIBIB), a few dozen KiB in a real package; a package that would make
/// them hold more is refused rather than read into memory.
pub const MAX_KEPT_TOTAL: u64 = 32 << 20;

/// Counts members while a package is listed and refuses it as soon as a cap is passed.
#[derive(Debug)]
pub(crate) struct Census {
    package: String,
    count: usize,
    total: u64,
    /// Lower-cased path to the path as stored, to catch names that differ only in case.
    seen: HashMap<String, String>,
}

impl Census {
    pub(crate) fn new(package: &str) -> Census {
        Census { package: package.to_string(), count: 0, total: 0, seen: HashMap::new() }
    }

    fn refuse(&self, problem: String) -> ImageError {
        ImageError::Unsafe { path: self.package.clone(), problem }
    }

    /// Counts one entry of any kind (file, folder, link) against [`MAX_MEMBERS`].
    pub(crate) fn count_entry(&mut self) -> Result<(), ImageError> {
        self.count += 1;
        if self.count > MAX_MEMBERS {
            return Err(self.refuse(format!("more than {MAX_MEMBERS} entries (cap MAX_MEMBERS)")));
        }
        Ok(())
    }

    /// Admits a file member of `size` bytes, stored in `stored` bytes when compressed.
    pub(crate) fn admit(&mut self, path: &str, size: u64, stored: Option<u64>) -> Result<(), ImageError> {
        if size > MAX_MEMBER_SIZE {
            return Err(self.refuse(format!(
                "member {path}: {size} bytes uncompressed, over the {MAX_MEMBER_SIZE}-byte cap per member (MAX_MEMBER_SIZE)"
            )));
        }
        self.total = self.total.saturating_add(size);
        if self.total > MAX_TOTAL_SIZE {
            return Err(self.refuse(format!(
                "member {path}: the members add up to more than {MAX_TOTAL_SIZE} bytes uncompressed (cap MAX_TOTAL_SIZE)"
            )));
        }
        if let Some(stored) = stored
            && size > RATIO_FLOOR
            && size > stored.saturating_mul(MAX_RATIO)
        {
            let ratio = size.checked_div(stored).map_or_else(|| "unbounded".to_string(), |r| format!("{r}:1"));
            return Err(self.refuse(format!(
                "member {path}: expands from {stored} to {size} bytes, a ratio of {ratio}, over the {MAX_RATIO}:1 cap (MAX_RATIO) for members over {RATIO_FLOOR} bytes: a zip bomb"
            )));
        }
        let folded = path.to_lowercase();
        if let Some(earlier) = self.seen.get(&folded) {
            let problem = if earlier == path {
                format!("member {path} appears twice; which copy a flasher takes is undefined")
            } else {
                format!("members {earlier} and {path} differ only in letter case; on Windows one overwrites the other")
            };
            return Err(self.refuse(problem));
        }
        self.seen.insert(folded, path.to_string());
        Ok(())
    }

    /// The total uncompressed size admitted so far.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}
