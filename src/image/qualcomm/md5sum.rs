//! `md5.txt` at the package root (as QFirehose reads it: `nippynetworks/qfirehose:md5.c`): each
//! line holds `:\`, then a Windows path
//! relative to the package root up to the next `:`, then 32 hex digits of MD5. Lines naming
//! `targetfiles.zip` are skipped, as QFirehose does.

/// Largest md5.txt read: 1 MiB.
pub const MAX_MD5_TXT: u64 = 1 << 20;

/// One checked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md5Line {
    /// Line number, from 1.
    pub line: usize,
    /// The path as written, e.g. `\update\firehose\x.mbn`.
    pub raw_path: String,
    /// The path relative to the package root, `/`-separated: `update/firehose/x.mbn`.
    pub path: String,
    /// The MD5, lower-case hex.
    pub md5: String,
}

/// What md5.txt says: the lines understood, and those not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Md5Txt {
    /// Lines naming a file and its MD5.
    pub entries: Vec<Md5Line>,
    /// Non-blank lines that are neither an entry nor skipped: (line number, why).
    pub unreadable: Vec<(usize, String)>,
}

/// Parses md5.txt. Never fails: what it cannot read is listed in `unreadable`.
pub fn parse_md5_txt(text: &str) -> Md5Txt {
    let mut out = Md5Txt::default();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let line = line.trim();
        if line.is_empty() || line.to_ascii_lowercase().contains("targetfiles.zip") {
            continue;
        }
        match parse_line(line) {
            Ok((raw_path, path, md5)) => out.entries.push(Md5Line { line: number, raw_path, path, md5 }),
            Err(why) => out.unreadable.push((number, why)),
        }
    }
    out
}

fn parse_line(line: &str) -> Result<(String, String, String), String> {
    let start = line.find(":\\").ok_or("no ':\\' before a path")? + 1;
    let rest = &line[start..];
    let colon = rest.find(':').ok_or("no ':' after the path")?;
    let raw_path = rest[..colon].trim().to_string();
    let path = raw_path.split('\\').filter(|c| !c.is_empty()).collect::<Vec<_>>().join("/");
    if path.is_empty() {
        return Err("an empty path".into());
    }
    let digits = rest[colon + 1..].trim_start();
    let md5 = digits.get(..32).ok_or("fewer than 32 hex digits after the path")?;
    if !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{md5:?} is not 32 hex digits"));
    }
    Ok((raw_path, path, md5.to_ascii_lowercase()))
}

/// Writes one md5.txt line in the form [`parse_md5_txt`] reads.
pub fn format_line(path: &str, md5: &str) -> String {
    format!("MD5:\\{}:{md5}", path.replace('/', "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines() {
        let text = "MD5:\\update\\firehose\\prog_nand_firehose_9x07.mbn:0123456789ABCDEF0123456789abcdef\r\n\
                    \r\n\
                    x:\\update\\targetfiles.zip:0123456789abcdef0123456789abcdef\n\
                    garbage\n\
                    a:\\update\\sbl1.mbn:1234\n";
        let m = parse_md5_txt(text);
        assert_eq!(m.entries.len(), 1);
        assert_eq!(m.entries[0].path, "update/firehose/prog_nand_firehose_9x07.mbn");
        assert_eq!(m.entries[0].md5, "0123456789abcdef0123456789abcdef");
        assert_eq!(m.unreadable.len(), 2);
        assert_eq!(m.unreadable[0].0, 4);
    }

    #[test]
    fn round_trips() {
        let line = format_line("update/sbl1.mbn", "00112233445566778899aabbccddeeff");
        let m = parse_md5_txt(&line);
        assert_eq!(m.entries[0].path, "update/sbl1.mbn");
    }

    #[test]
    fn odd_text_never_panics() {
        for t in [":\\", ":\\:", "é:\\é:é", ":\\a:0123456789abcdef0123456789abcdeé"] {
            let _ = parse_md5_txt(t);
        }
    }
}
