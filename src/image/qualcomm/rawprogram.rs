//! Firehose rawprogram and patch XML (as `linux-msm/qdl:program.c` and `patch.c` read them;
//! a real EC25 snippet in `defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`): the
//! `<program>`, `<erase>` and
//! `<patch>` steps a flasher sends, in file order.

use super::xml;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `<program>`: write a file.
    Program,
    /// `<erase>`: erase sectors (or, with no sector size, the whole device).
    Erase,
    /// `<patch>`: change bytes in place.
    Patch,
}

impl StepKind {
    /// The element name.
    pub fn tag(self) -> &'static str {
        match self {
            StepKind::Program => "program",
            StepKind::Erase => "erase",
            StepKind::Patch => "patch",
        }
    }
}

/// One step of a rawprogram or patch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// Position among the steps of its file, from 1.
    pub number: usize,
    /// `label`, on eMMC/UFS layouts.
    pub label: Option<String>,
    /// `filename` as written (Windows-style, relative to `update/firehose/`), when not empty.
    pub filename: Option<String>,
    /// `start_sector` as written (patches may give expressions such as `NUM_DISK_SECTORS-1.`).
    pub start_sector_text: Option<String>,
    /// `start_sector` as a number, when it is one.
    pub start_sector: Option<u64>,
    /// `num_partition_sectors`.
    pub num_sectors: Option<u64>,
    /// `SECTOR_SIZE_IN_BYTES`: the NAND page size.
    pub sector_size: Option<u64>,
    /// `PAGES_PER_BLOCK`.
    pub pages_per_block: Option<u64>,
    /// `physical_partition_number`.
    pub physical_partition: Option<u64>,
}

impl Step {
    /// Start as a byte address, when both the start sector and the sector size are numbers.
    pub fn start_byte(&self) -> Option<u64> {
        self.start_sector?.checked_mul(self.sector_size?)
    }

    /// Length in bytes, when both the sector count and size are numbers.
    pub fn size_bytes(&self) -> Option<u64> {
        self.num_sectors?.checked_mul(self.sector_size?)
    }

    /// An erase with no sector size: QFirehose drops it, other tools erase the whole device.
    pub fn erases_whole_device(&self) -> bool {
        self.kind == StepKind::Erase && self.sector_size.is_none()
    }

    /// A short form for messages: `<erase start_sector="1280" num_partition_sectors="5632">`.
    pub fn describe(&self) -> String {
        let mut s = format!("<{}", self.kind.tag());
        if let Some(l) = &self.label {
            s.push_str(&format!(" label=\"{l}\""));
        }
        if let Some(f) = &self.filename {
            s.push_str(&format!(" filename=\"{f}\""));
        }
        if let Some(t) = &self.start_sector_text {
            s.push_str(&format!(" start_sector=\"{t}\""));
        }
        if let Some(n) = self.num_sectors {
            s.push_str(&format!(" num_partition_sectors=\"{n}\""));
        }
        if let Some(n) = self.sector_size {
            s.push_str(&format!(" SECTOR_SIZE_IN_BYTES=\"{n}\""));
        }
        s.push('>');
        s
    }
}

/// Parses a rawprogram or patch file into its steps. Other elements (`<data>`, `<log>`,
/// comments) are skipped; numbers that are not decimal stay `None`.
pub fn parse_steps(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for el in xml::elements(text)? {
        let kind = match el.name.to_ascii_lowercase().as_str() {
            "program" => StepKind::Program,
            "erase" => StepKind::Erase,
            "patch" => StepKind::Patch,
            _ => continue,
        };
        let number = |key: &str| el.attr(key).and_then(decimal);
        let start_text = el.attr("start_sector").map(|s| s.trim().to_string());
        steps.push(Step {
            kind,
            number: steps.len() + 1,
            label: el.attr("label").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            filename: el.attr("filename").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            start_sector: start_text.as_deref().and_then(decimal),
            start_sector_text: start_text,
            num_sectors: number("num_partition_sectors"),
            sector_size: number("SECTOR_SIZE_IN_BYTES"),
            pages_per_block: number("PAGES_PER_BLOCK"),
            physical_partition: number("physical_partition_number"),
        });
    }
    Ok(steps)
}

/// A decimal number; hosts parse these attributes as decimal (`linux-msm/qdl:program.c`).
fn decimal(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Resolves a step's `filename` (relative to `update/firehose/`, `..\` meaning `update/`) to a
/// member path under `firehose_dir`. `None` if it climbs out of the package root.
pub fn resolve(firehose_dir: &str, filename: &str, root: &str) -> Option<String> {
    let mut parts: Vec<&str> = firehose_dir.split('/').filter(|p| !p.is_empty()).collect();
    let floor = root.split('/').filter(|p| !p.is_empty()).count();
    for comp in filename.split(['\\', '/']) {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.len() <= floor {
                    return None;
                }
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAND: &str = r#"<?xml version="1.0" ?>
<data>
  <!-- comment -->
  <erase PAGES_PER_BLOCK="64" SECTOR_SIZE_IN_BYTES="4096" num_partition_sectors="640" physical_partition_number="0" start_sector="0"/>
  <program PAGES_PER_BLOCK="64" SECTOR_SIZE_IN_BYTES="4096" filename="..\tz.mbn" num_partition_sectors="320" physical_partition_number="0" start_sector="8960"/>
  <program SECTOR_SIZE_IN_BYTES="4096" filename="" num_partition_sectors="1" start_sector="1"/>
  <erase num_partition_sectors="0" start_sector="0"/>
</data>"#;

    #[test]
    fn reads_nand_steps() {
        let steps = parse_steps(NAND).unwrap();
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[1].kind, StepKind::Program);
        assert_eq!(steps[1].filename.as_deref(), Some("..\\tz.mbn"));
        assert_eq!(steps[1].start_byte(), Some(8960 * 4096));
        assert_eq!(steps[1].size_bytes(), Some(320 * 4096));
        assert_eq!(steps[2].filename, None);
        assert!(steps[3].erases_whole_device());
        assert!(!steps[0].erases_whole_device());
    }

    #[test]
    fn patch_expressions_stay_text() {
        let steps = parse_steps(
            r#"<patches><patch SECTOR_SIZE_IN_BYTES="512" filename="DISK" start_sector="NUM_DISK_SECTORS-1." value="0"/></patches>"#,
        )
        .unwrap();
        assert_eq!(steps[0].start_sector, None);
        assert_eq!(steps[0].start_sector_text.as_deref(), Some("NUM_DISK_SECTORS-1."));
    }

    #[test]
    fn resolves_windows_paths() {
        let fh = "EC25/update/firehose";
        assert_eq!(resolve(fh, "..\\tz.mbn", "EC25").as_deref(), Some("EC25/update/tz.mbn"));
        assert_eq!(resolve(fh, "x.mbn", "EC25").as_deref(), Some("EC25/update/firehose/x.mbn"));
        assert_eq!(resolve(fh, "..\\..\\..\\etc", "EC25"), None);
    }

    #[test]
    fn bad_xml_is_an_error() {
        assert!(parse_steps("<data><program filename=\"a\"></data>").is_err());
        assert!(parse_steps("<data><program filename=a/></data>").is_err());
    }
}
