//! QuecPython firmware for the Eigencomm modules (EC600E, EC800E), as it is distributed: a
//! folder holding `at_command.binpkg`, `quec_download_config.ini` and the files QuecPython
//! burns beside the binpkg, alone or in a zip with `platform_config.json` (`"EIGEN"`) at the
//! root.
//!
//! What QuecPython's download tool does with it (QuecPython/download_tool `qpy.py`,
//! `eigen_config`): it reads `[File] File_Count` and, for `[File_1]` to `[File_3]` (and
//! `[File_4]` when the count is 4), `START_ADDR` and `MAX_SIZE`, and burns `ap_application.bin`,
//! `ap_updater.bin`, `customer_fs.bin` and `customer_backup_fs.bin` from the same folder at
//! those addresses (Eigencomm flash tool `flexfile2` to `flexfile5`, on `ap_flash`). The ini is
//! read as Python's configparser reads it: `[section]`, `key = value` or `key: value`, option
//! names without regard to case, `#` and `;` comment lines.

use crate::image::pac::scheme::parse_number;

/// The download configuration's file name.
pub const DOWNLOAD_CONFIG: &str = "quec_download_config.ini";
/// The firmware package's file name.
pub const BINPKG: &str = "at_command.binpkg";
/// The files burnt for `[File_1]` to `[File_4]`, in order.
pub const FLEX_FILES: [&str; 4] = ["ap_application.bin", "ap_updater.bin", "customer_fs.bin", "customer_backup_fs.bin"];
/// Largest `quec_download_config.ini` read.
pub const MAX_CONFIG: u64 = 64 << 10;

/// One region the configuration gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlexRegion {
    /// `[File_N]`, from 1.
    pub index: usize,
    /// The file burnt there (`ap_application.bin`).
    pub file: &'static str,
    /// `START_ADDR`.
    pub start: u64,
    /// `MAX_SIZE`.
    pub max_size: u64,
}

impl FlexRegion {
    /// End of the region (exclusive), saturating.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.max_size)
    }
}

/// The sections of an ini text: (section, [(option lower-cased, value)]), in order. Lines
/// before any section are ignored, as are lines that are neither a section, an option nor a
/// comment (configparser would refuse them; QuecPython's tool then gives up on the file, so
/// the caller is told by [`parse_download_config`] when what it needs is missing).
fn sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines().take(10_000) {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let Some(at) = line.find(['=', ':']) else { continue };
        if let Some((_, options)) = out.last_mut() {
            options.push((line[..at].trim().to_ascii_lowercase(), line[at + 1..].trim().to_string()));
        }
    }
    out
}

/// The value of `option` in `section` (the last one given wins, as in configparser).
fn value<'a>(sections: &'a [(String, Vec<(String, String)>)], section: &str, option: &str) -> Option<&'a str> {
    sections
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(section))
        .flat_map(|(_, options)| options.iter())
        .filter(|(k, _)| k == option)
        .map(|(_, v)| v.as_str())
        .next_back()
}

/// Parses `quec_download_config.ini` into the regions QuecPython burns. Refuses a missing or
/// unreadable `File_Count`, START_ADDR or MAX_SIZE, and a count other than 3 or 4.
pub fn parse_download_config(text: &str) -> Result<Vec<FlexRegion>, String> {
    let sections = sections(text);
    let count_text = value(&sections, "File", "file_count").ok_or("no [File] File_Count")?;
    let count: usize = count_text.parse().map_err(|_| format!("[File] File_Count {count_text:?} is not a number"))?;
    if !(3..=4).contains(&count) {
        return Err(format!("[File] File_Count is {count}; QuecPython's download tool burns 3 or 4 files"));
    }
    let mut regions = Vec::with_capacity(count);
    for (i, file) in FLEX_FILES.iter().enumerate().take(count) {
        let section = format!("File_{}", i + 1);
        let number = |option: &str| -> Result<u64, String> {
            let upper = option.to_ascii_uppercase();
            let raw = value(&sections, &section, option).ok_or_else(|| format!("[{section}] has no {upper}"))?;
            parse_number(raw).ok_or_else(|| format!("[{section}] {upper} {raw:?} is not a number"))
        };
        regions.push(FlexRegion { index: i + 1, file, start: number("start_addr")?, max_size: number("max_size")? });
    }
    for (i, a) in regions.iter().enumerate() {
        for b in &regions[..i] {
            if a.max_size > 0 && b.max_size > 0 && a.start < b.end() && b.start < a.end() {
                return Err(format!(
                    "[File_{}] ({}: {:#x}+{:#x}) overlaps [File_{}] ({}: {:#x}+{:#x})",
                    a.index, a.file, a.start, a.max_size, b.index, b.file, b.start, b.max_size
                ));
            }
        }
    }
    Ok(regions)
}

/// Writes a `quec_download_config.ini` for `regions` (`[File]` and `[File_N]` sections,
/// addresses in hex), as [`parse_download_config`] reads it.
pub fn format_download_config(regions: &[(u64, u64)]) -> String {
    let mut out = format!("[File]\r\nFile_Count = {}\r\n", regions.len());
    for (i, (start, max)) in regions.iter().enumerate() {
        out.push_str(&format!("\r\n[File_{}]\r\nSTART_ADDR = {start:#X}\r\nMAX_SIZE = {max:#X}\r\n", i + 1));
    }
    out.replace("0X", "0x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_download_tool_reads() {
        let text = "; QuecPython\n[File]\nFILE_COUNT: 4\n[File_1]\nSTART_ADDR = 0x200000\nMAX_SIZE=0x1B4000\n\
                    [File_2]\nstart_addr=0x3B4000\nmax_size=131072\n[File_3]\nSTART_ADDR=0x3D4000\nMAX_SIZE=0x1C000\n\
                    [File_4]\nSTART_ADDR=0x3F0000\nMAX_SIZE=0x10000\n";
        let r = parse_download_config(text).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].file, r[0].start, r[0].max_size), ("ap_application.bin", 0x20_0000, 0x1B_4000));
        assert_eq!((r[1].file, r[1].max_size), ("ap_updater.bin", 0x2_0000));
        assert_eq!(r[3].file, "customer_backup_fs.bin");
        let written = format_download_config(&[(0x20_0000, 0x1B_4000), (0x3B_4000, 0x2_0000), (0x3D_4000, 0x1_C000)]);
        assert!(written.contains("[File_2]\r\nSTART_ADDR = 0x3B4000\r\nMAX_SIZE = 0x20000\r\n"), "{written}");
        assert_eq!(parse_download_config(&written).unwrap().len(), 3);
    }

    #[test]
    fn refuses_what_it_cannot_burn() {
        for (text, why) in [
            ("", "File_Count"),
            ("[File]\nFile_Count=x", "not a number"),
            ("[File]\nFile_Count=2", "3 or 4"),
            ("[File]\nFile_Count=3\n[File_1]\nSTART_ADDR=0\nMAX_SIZE=1", "[File_2] has no START_ADDR"),
            ("[File]\nFile_Count=3\n[File_1]\nSTART_ADDR=zz\nMAX_SIZE=1", "START_ADDR \"zz\""),
            (
                "[File]\nFile_Count=3\n[File_1]\nSTART_ADDR=0\nMAX_SIZE=0x100\n[File_2]\nSTART_ADDR=0x80\nMAX_SIZE=0x100\n\
                 [File_3]\nSTART_ADDR=0x1000\nMAX_SIZE=1",
                "overlaps",
            ),
        ] {
            let e = parse_download_config(text).unwrap_err();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }
}
