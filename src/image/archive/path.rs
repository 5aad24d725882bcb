//! Member names: what an archive or folder stores, checked and normalised to `a/b/c`.

use super::limits::MAX_PATH_LEN;

/// Normalises a stored member name to a relative `/`-separated path, or says why it is refused.
///
/// Backslashes count as separators (Windows tools read them so), and the result is refused when
/// it is absolute (`/x`, `\\server\x`), names a drive (`C:x`), leaves the package (`..`), holds
/// control characters or `:`, or has a component of dots only or ending in a dot or space
/// (Windows strips those, so two names could land on one file).
pub fn normalise(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("an empty name".into());
    }
    if raw.len() > MAX_PATH_LEN {
        return Err(format!("a name longer than {MAX_PATH_LEN} bytes (cap MAX_PATH_LEN)"));
    }
    if raw.chars().any(char::is_control) {
        return Err("a name with control characters".into());
    }
    let unified = raw.replace('\\', "/");
    let bytes = unified.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("an absolute Windows path with a drive letter".into());
    }
    if unified.starts_with('/') {
        return Err("an absolute path".into());
    }
    if unified.contains(':') {
        return Err("a name with ':' (a drive or an alternate data stream on Windows)".into());
    }
    let mut parts = Vec::new();
    for comp in unified.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err("a path that climbs out of the package with '..'".into()),
            c if c.chars().all(|ch| ch == '.') => {
                return Err(format!("a component {c:?} made of dots"));
            }
            c if c.ends_with(' ') || c.ends_with('.') => {
                return Err(format!("a component {c:?} ending in a space or dot, which Windows strips"));
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err("a name with no file in it".into());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn accepts_package_paths() {
        assert_eq!(normalise("EC25/update/sbl1.mbn").unwrap(), "EC25/update/sbl1.mbn");
        assert_eq!(normalise("EC25\\update\\firehose\\x.xml").unwrap(), "EC25/update/firehose/x.xml");
        assert_eq!(normalise("./a//b").unwrap(), "a/b");
    }

    #[test]
    fn refuses_tricks() {
        for bad in [
            "../evil",
            "a/../../evil",
            "..\\..\\evil",
            "/etc/passwd",
            "\\\\server\\share\\x",
            "C:\\Windows\\x",
            "c:x",
            "a/file.mbn:stream",
            "a/...",
            "a/b. ",
            "",
            "./",
            "a\u{0}b",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
    }
}
