//! What a `source` in `rules/` may say: something a user can open.
//!
//! ```text
//! source    := item { ";" item }                ; ";" inside (...) or "..." does not split
//! item      := reference [remark]
//!            | "inferred from " reference { ("," | "and") reference } ":" reasoning
//! reference := URL                              ; http(s)://host.tld/..., never elided with "…"
//!            | owner "/" repo ["@" commit] ":" path      ; a file in a public repository
//! ```
//!
//! A reasoned inference names what it is inferred from and says how; it is the only way a rule
//! may rest on something no source states outright. Notes that point nowhere ("location not
//! recorded", internal design or reference notes) are refused.

/// One reference of a source, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A full web address.
    Url(String),
    /// A file in a repository: `torvalds/linux:drivers/usb/serial/option.c`.
    RepoPath {
        /// `owner/repo`, with `@commit` when one is given.
        repo: String,
        /// The path inside it.
        path: String,
    },
}

/// One `;`-separated item of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Citation {
    /// A reference, with whatever remark follows it.
    Cited(Reference),
    /// A reasoned inference and the references it is drawn from.
    Inferred(Vec<Reference>),
}

/// Phrases that mark a source nobody can open, or one that points at fwguard's own notes.
const REFUSED: &[&str] = &["not recorded", "fwguard verdict policy", "design.md", "../shared", "internal note"];

/// Whether a word of the source points into fwguard's own reference notes (`reference/usb-ids.md`).
fn names_internal_notes(source: &str) -> bool {
    source
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '`' | '"' | ',' | ';'))
        .any(|w| w.starts_with("reference/") || w.starts_with("shared/"))
}

/// Checks a source and returns its items; the error says what is wrong with which item.
pub fn parse_source(source: &str) -> Result<Vec<Citation>, String> {
    let lower = source.to_lowercase();
    if let Some(bad) = REFUSED.iter().find(|p| lower.contains(*p)) {
        return Err(format!("it says {bad:?}: cite a URL or owner/repo:path a user can open"));
    }
    if names_internal_notes(source) {
        return Err("it points at fwguard's own notes: cite the public source itself".into());
    }
    if source.contains('…') {
        return Err("it elides part of an address with \"…\": give the full URL".into());
    }
    let items = split_items(source);
    if items.is_empty() {
        return Err("it is empty".into());
    }
    items.iter().map(|item| parse_item(item)).collect()
}

fn parse_item(item: &str) -> Result<Citation, String> {
    if let Some(rest) = item.strip_prefix("inferred from ") {
        let mut refs = Vec::new();
        let mut rest = rest.trim_start();
        loop {
            let (token, after) = split_token(rest);
            let Some(r) = reference(token) else { break };
            refs.push(r);
            rest = after.trim_start();
            rest = rest.strip_prefix("and ").unwrap_or(rest).trim_start();
        }
        if refs.is_empty() {
            return Err(format!("{item:?}: an inference must name the URL or owner/repo:path it is inferred from"));
        }
        let reasoning = rest.trim_start_matches([':', '(', ' ']).trim();
        if reasoning.len() < 10 {
            return Err(format!("{item:?}: an inference must say, after a colon, what is inferred and how"));
        }
        return Ok(Citation::Inferred(refs));
    }
    let (token, _) = split_token(item);
    match reference(token) {
        Some(r) => Ok(Citation::Cited(r)),
        None => Err(format!(
            "{item:?} is neither a URL (https://...) nor owner/repo:path, nor \"inferred from <them>: <reasoning>\""
        )),
    }
}

/// The first whitespace-delimited token, without a trailing `,`, and the rest.
fn split_token(text: &str) -> (&str, &str) {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (token, rest) = text.split_at(end);
    match token.strip_suffix(',') {
        Some(t) => (t, rest),
        None => (token, rest),
    }
}

fn reference(token: &str) -> Option<Reference> {
    url(token).or_else(|| repo_path(token))
}

fn url(token: &str) -> Option<Reference> {
    let rest = token.strip_prefix("https://").or_else(|| token.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_ok = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':'));
    (host_ok && !token.contains("...")).then(|| Reference::Url(token.to_string()))
}

fn repo_path(token: &str) -> Option<Reference> {
    let (repo, path) = token.split_once(':')?;
    let (name, commit) = match repo.split_once('@') {
        Some((n, c)) => (n, Some(c)),
        None => (repo, None),
    };
    let (owner, project) = name.split_once('/')?;
    let ident = |s: &str| {
        !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    let commit_ok = commit.is_none_or(|c| (7..=40).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let path_ok = !path.is_empty() && !path.starts_with('/') && !path.contains("...") && !path.starts_with("//");
    (ident(owner) && ident(project) && commit_ok && path_ok)
        .then(|| Reference::RepoPath { repo: repo.to_string(), path: path.to_string() })
}

/// Splits on `;` outside parentheses, brackets and double quotes.
fn split_items(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut cur) = (0usize, false, String::new());
    for c in source.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth = depth.saturating_sub(1),
            ';' if depth == 0 && !quoted => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openable_sources_pass() {
        for s in [
            "https://forums.quectel.com/t/ec25-always-in-emergency-download-mode-05c6-9008-usb-device/44652",
            "torvalds/linux:drivers/usb/serial/option.c (2c7c:0125 EC25)",
            "fwupd/fwupd:plugins/modem-manager/fu-mm-device.c; https://github.com/fwupd/fwupd/issues/8223 (10.010 to 20.020)",
            "NebraLtd/hm-diag@1a40d4819fc2:hw_diag/utilities/quectel.py",
            "https://example.org/a (note; with a semicolon in brackets)",
            "https://python.quectel.com/doc/API_reference/en/index.html",
            "inferred from https://github.com/FoxExe/ZX908/issues/8 and waybyte/logicromsdk:lib/asr160x/pack/flashinfo_8M.bin: the capacity byte gives the flash size",
        ] {
            assert!(parse_source(s).is_ok(), "{s}: {:?}", parse_source(s));
        }
    }

    #[test]
    fn unopenable_sources_fail() {
        for s in [
            "",
            "forums.quectel.com/t/…/38341",
            "https://forums.quectel.com/t/…/38341",
            "EC25AFAR05A07M4G_30.005.30.005 (not recorded)",
            "ROOter EC25 band-mask script prefix (location not recorded)",
            "fwguard verdict policy (inferred)",
            "github.com/defencore/tech_documentation 002-quectel-ec25-firmware-flashing.md",
            "lowellinstruments/ddt_quectel",
            "QuecPython docs, firmware selection page",
            "inferred from the rollback reports",
            "inferred from https://github.com/FoxExe/ZX908/issues/8",
            "https://nohost/path",
            "https://forums.quectel.com/t/x; see reference/identity.md",
        ] {
            assert!(parse_source(s).is_err(), "{s:?} passed");
        }
    }

    #[test]
    fn items_keep_their_kind() {
        let c = parse_source(
            "https://a.example/x; inferred from owner/repo:file.c, https://b.example/y: the two agree on the id",
        )
        .unwrap();
        assert!(matches!(c[0], Citation::Cited(Reference::Url(_))));
        assert!(matches!(&c[1], Citation::Inferred(refs) if refs.len() == 2));
    }
}
