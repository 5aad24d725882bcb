//! `md5.txt` at the package root, in the layout Quectel ships (Biktorgj/quectel_eg25_recovery
//! `md5.txt`, the EG25GGBR07A08M2G_30.006.30.006 package), CRLF line ends:
//!
//! ```text
//! VERSION:1.0
//! FILE:START
//! FILE:\contents.xml:5B15ED398BC0F9612B6BFB1FC8B844C8
//! FILE:\update\appsboot.mbn:8DC7E825841DDB7E0769060B464F2739
//! ...
//! FILE:\upgrade\targetfiles.zip:222EAA53A6C111E7F2E248587D6EA079
//! FILE:END
//! ```
//!
//! An entry holds `:\`, then a Windows path relative to the package root up to the next `:`,
//! then 32 hex digits. QFirehose (nippynetworks/qfirehose `md5.c` `md5_check`) skips lines
//! without `:\` (so the `VERSION:`, `FILE:START` and `FILE:END` lines, which are the format
//! itself) and every line naming `targetfiles.zip` (the delta-build input Quectel lists but
//! does not ship). It compares only the first 16 hex digits; fwguard compares all 32.

/// Largest md5.txt read: 1 MiB.
pub const MAX_MD5_TXT: u64 = 1 << 20;

/// The `VERSION:` line Quectel writes.
pub const VERSION_LINE: &str = "VERSION:1.0";
/// The line before the entries.
pub const START_LINE: &str = "FILE:START";
/// The line after the entries.
pub const END_LINE: &str = "FILE:END";
/// The entry Quectel lists for its delta-build input without shipping the file.
pub const TARGETFILES: &str = "upgrade/targetfiles.zip";

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
    /// The value of the `VERSION:` line (`1.0`), when there is one.
    pub version: Option<String>,
    /// Whether the entries are framed by `FILE:START` and `FILE:END`.
    pub framed: bool,
    /// Lines naming a file and its MD5.
    pub entries: Vec<Md5Line>,
    /// Lines naming `targetfiles.zip`, which QFirehose skips: (line number, path as written).
    pub skipped: Vec<(usize, String)>,
    /// Non-blank lines that are neither an entry, a format line nor skipped: (line number, why).
    pub unreadable: Vec<(usize, String)>,
}

/// Parses md5.txt. Never fails: what it cannot read is listed in `unreadable`.
pub fn parse_md5_txt(text: &str) -> Md5Txt {
    let mut out = Md5Txt::default();
    let (mut started, mut ended) = (false, false);
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        if let Some(v) = upper.strip_prefix("VERSION:").filter(|_| !line.contains(":\\")) {
            out.version.get_or_insert_with(|| line[line.len() - v.len()..].trim().to_string());
            continue;
        }
        if upper == START_LINE {
            started = true;
            continue;
        }
        if upper == END_LINE {
            ended = true;
            continue;
        }
        if upper.contains("TARGETFILES.ZIP") {
            out.skipped.push((number, raw_path_of(line).unwrap_or(line).to_string()));
            continue;
        }
        match parse_line(line) {
            Ok((raw_path, path, md5)) => out.entries.push(Md5Line { line: number, raw_path, path, md5 }),
            Err(why) => out.unreadable.push((number, why)),
        }
    }
    out.framed = started && ended;
    out
}

/// The text between `:\` and the next `:`, with its leading `\`.
fn raw_path_of(line: &str) -> Option<&str> {
    let start = line.find(":\\")? + 1;
    let rest = &line[start..];
    Some(&rest[..rest.find(':')?])
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
    let digits = rest[colon + 1..].trim();
    let md5 = digits.get(..32).ok_or("fewer than 32 hex digits after the path")?;
    if !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{md5:?} is not 32 hex digits"));
    }
    if digits.len() > 32 {
        return Err(format!("{:?} after the path is longer than an MD5 (32 hex digits)", digits));
    }
    Ok((raw_path, path, md5.to_ascii_lowercase()))
}

/// Writes one entry line as Quectel does: `FILE:\update\sbl1.mbn:52AC9148230560CBB752869835752DDF`
/// (Windows separators, upper-case hex), without its line end.
pub fn format_line(path: &str, md5: &str) -> String {
    format!("FILE:\\{}:{}", path.replace('/', "\\"), md5.to_ascii_uppercase())
}

/// Writes a whole md5.txt in the vendor layout: `VERSION:1.0`, `FILE:START`, the entries in
/// ASCII-case-insensitive path order (the order of the real file), `FILE:END`, every line ended
/// by CRLF. `entries` are (path relative to the package root, MD5 hex).
pub fn format_md5_txt(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by_key(|(p, _)| p.to_ascii_lowercase());
    let mut out = format!("{VERSION_LINE}\r\n{START_LINE}\r\n");
    for (path, md5) in sorted {
        out.push_str(&format_line(path, md5));
        out.push_str("\r\n");
    }
    out.push_str(END_LINE);
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head, two entries and the tail of the real EG25-G md5.txt
    /// (Biktorgj/quectel_eg25_recovery `md5.txt`, branch EG25GGBR07A08M2G_30.006.30.006).
    const REAL: &str = "VERSION:1.0\r\nFILE:START\r\n\
        FILE:\\contents.xml:5B15ED398BC0F9612B6BFB1FC8B844C8\r\n\
        FILE:\\update\\firehose\\partition_complete_p2K_b128K.mbn:4ADACDA14D6EEEDAA37E37CAB5C14DA4\r\n\
        FILE:\\upgrade\\targetfiles.zip:222EAA53A6C111E7F2E248587D6EA079\r\n\
        FILE:END\r\n";

    #[test]
    fn the_vendor_layout_is_the_format_not_a_problem() {
        let m = parse_md5_txt(REAL);
        assert_eq!(m.version.as_deref(), Some("1.0"));
        assert!(m.framed);
        assert!(m.unreadable.is_empty(), "{:?}", m.unreadable);
        assert_eq!(m.entries.len(), 2);
        assert_eq!((m.entries[0].line, m.entries[0].path.as_str()), (3, "contents.xml"));
        assert_eq!(m.entries[0].md5, "5b15ed398bc0f9612b6bfb1fc8b844c8");
        assert_eq!(m.entries[1].raw_path, "\\update\\firehose\\partition_complete_p2K_b128K.mbn");
        assert_eq!(m.skipped, vec![(5, "\\upgrade\\targetfiles.zip".to_string())]);
    }

    #[test]
    fn reads_lines() {
        let text = "MD5:\\update\\firehose\\prog_nand_firehose_9x07.mbn:0123456789ABCDEF0123456789abcdef\r\n\
                    \r\n\
                    x:\\update\\targetfiles.zip:0123456789abcdef0123456789abcdef\n\
                    garbage\n\
                    a:\\update\\sbl1.mbn:1234\n\
                    FILE:\\update\\tz.mbn:0123456789abcdef0123456789abcdef0\n";
        let m = parse_md5_txt(text);
        assert_eq!(m.entries.len(), 1);
        assert_eq!(m.entries[0].path, "update/firehose/prog_nand_firehose_9x07.mbn");
        assert_eq!(m.entries[0].md5, "0123456789abcdef0123456789abcdef");
        assert_eq!(m.unreadable.iter().map(|u| u.0).collect::<Vec<_>>(), [4, 5, 6]);
        assert!(!m.framed && m.version.is_none());
    }

    #[test]
    fn writes_the_vendor_layout_and_reads_it_back() {
        let entries = vec![
            ("update/sbl1.mbn".to_string(), "52ac9148230560cbb752869835752ddf".to_string()),
            ("update/ENPRG9x07.mbn".to_string(), "e943dc0ff594b6a66c197c0197d73e9e".to_string()),
            ("contents.xml".to_string(), "5b15ed398bc0f9612b6bfb1fc8b844c8".to_string()),
        ];
        let text = format_md5_txt(&entries);
        assert_eq!(
            text,
            "VERSION:1.0\r\nFILE:START\r\nFILE:\\contents.xml:5B15ED398BC0F9612B6BFB1FC8B844C8\r\n\
             FILE:\\update\\ENPRG9x07.mbn:E943DC0FF594B6A66C197C0197D73E9E\r\n\
             FILE:\\update\\sbl1.mbn:52AC9148230560CBB752869835752DDF\r\n\
             FILE:END\r\n"
        );
        let m = parse_md5_txt(&text);
        assert!(m.framed && m.unreadable.is_empty());
        assert_eq!(
            m.entries.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["contents.xml", "update/ENPRG9x07.mbn", "update/sbl1.mbn"]
        );
    }

    #[test]
    fn odd_text_never_panics() {
        for t in [":\\", ":\\:", "é:\\é:é", ":\\a:0123456789abcdef0123456789abcdeé", "VERSION:", "\u{feff}VERSION:1"]
        {
            let _ = parse_md5_txt(t);
        }
    }
}
