//! Revision patterns in rules: a revision whose baseline, minor and app-version digits may be `x`,
//! with omitted parts matching anything: `EC25EFAR06AxxM4G_20.2xx.20.2xx`, `EC200TCNHAR02Axx`.

use std::fmt;

use crate::identity::{AppVersion, MemoryCode, Revision};

/// A parsed revision pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionPattern {
    raw: String,
    product: String,
    baseline: [u8; 2],
    minor: [u8; 2],
    infix: Option<u8>,
    memory: Option<String>,
    app: Option<String>,
    tags: Vec<String>,
}

/// Why a pattern did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revision pattern {input:?}: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub input: String,
    /// What is wrong.
    pub reason: String,
}

fn digit_or_x(c: u8) -> bool {
    c.is_ascii_digit() || c == b'X'
}

impl RevisionPattern {
    /// Parses a pattern. `x` (either case) stands for any digit in the baseline, the minor and
    /// the app version; parts left out match anything.
    pub fn parse(text: &str) -> Result<RevisionPattern, PatternError> {
        let up = text.trim().to_ascii_uppercase();
        let err = |reason: &str| PatternError { input: text.to_string(), reason: reason.to_string() };
        if let Some(c) = up.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.')) {
            return Err(err(&format!("it contains {c:?}; a pattern has only letters, digits, '_', '.' and x")));
        }
        let (core, tags) = match up.find('_') {
            Some(i) => (&up[..i], Some(&up[i + 1..])),
            None => (up.as_str(), None),
        };
        let b = core.as_bytes();
        let at = (1..b.len().saturating_sub(5))
            .find(|&i| {
                b[i] == b'R'
                    && digit_or_x(b[i + 1])
                    && digit_or_x(b[i + 2])
                    && b[i + 3] == b'A'
                    && digit_or_x(b[i + 4])
                    && digit_or_x(b[i + 5])
            })
            .ok_or_else(|| err("no R<nn>A<nn> after a product code (use x for any digit: R06Axx)"))?;
        let product = &core[..at];
        if !product.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(err("the product code has characters other than letters and digits"));
        }
        let mut rest = &core[at + 6..];
        let mut infix = None;
        if rest.len() >= 3 && rest.starts_with('V') && rest[1..3].bytes().all(|c| c.is_ascii_digit()) {
            infix = rest[1..3].parse().ok();
            rest = &rest[3..];
        }
        let memory = if rest.is_empty() {
            None
        } else {
            MemoryCode::parse(rest).ok_or_else(|| err(&format!("{rest:?} is not a memory code")))?;
            Some(rest.to_string())
        };
        let mut app = None;
        let mut tag_list = Vec::new();
        for t in tags.into_iter().flat_map(|t| t.split('_')) {
            if t.is_empty() {
                return Err(err("empty '_' field"));
            }
            if t.contains('.') {
                if AppVersion::parse(&t.replace('X', "0")).is_none() {
                    return Err(err(&format!("{t:?} is not an app version pattern (like 20.2xx.20.2xx)")));
                }
                if app.replace(t.to_string()).is_some() {
                    return Err(err("two app versions"));
                }
            } else {
                tag_list.push(t.to_string());
            }
        }
        Ok(RevisionPattern {
            raw: text.trim().to_string(),
            product: product.to_string(),
            baseline: [b[at + 1], b[at + 2]],
            minor: [b[at + 4], b[at + 5]],
            infix,
            memory,
            app,
            tags: tag_list,
        })
    }

    /// The product code the pattern is for.
    pub fn product(&self) -> &str {
        &self.product
    }

    /// Whether a revision matches.
    pub fn matches(&self, r: &Revision) -> bool {
        let two = |p: [u8; 2], n: u8| {
            let s = format!("{n:02}");
            let s = s.as_bytes();
            s.len() == 2 && (p[0] == b'X' || p[0] == s[0]) && (p[1] == b'X' || p[1] == s[1])
        };
        r.product() == self.product
            && two(self.baseline, r.baseline())
            && two(self.minor, r.minor())
            && self.infix.is_none_or(|v| r.infix() == Some(v))
            && self.memory.as_deref().is_none_or(|m| r.memory().map(|x| x.as_str()) == Some(m))
            && self.app.as_deref().is_none_or(|p| {
                r.app_version().is_some_and(|v| {
                    let v = v.to_string();
                    v.len() == p.len() && v.bytes().zip(p.bytes()).all(|(c, q)| q == b'X' || c == q)
                })
            })
            && self.tags.iter().all(|t| r.tags().iter().any(|rt| rt.to_string() == *t))
    }
}

impl fmt::Display for RevisionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, r: &str) -> bool {
        RevisionPattern::parse(p).unwrap().matches(&Revision::parse(r).unwrap())
    }

    #[test]
    fn quectel_support_phrasing() {
        let p = "EC25EFAR06AxxM4G_20.2xx.20.2xx";
        assert!(m(p, "EC25EFAR06A17M4G_20.200.20.200"));
        assert!(m(p, "EC25EFAR06A18M4G_20.201.20.201"));
        assert!(!m(p, "EC25EFAR08A01M4G_01.001.01.001"));
        assert!(!m(p, "EC25EFAR06A17M4G_01.001.01.001"));
        assert!(!m(p, "EC25EFAR06A17M4G"));
    }

    #[test]
    fn open_tail() {
        assert!(m("EC200TCNHAR02Axx", "EC200TCNHAR02A14M16"));
        assert!(!m("EC200TCNHAR02Axx", "EC200TCNHAR05A03M16"));
        assert!(m("EC800MCNLAR01A01_OCPU", "EC800MCNLAR01A01V02M08_OCPU_QPY"));
    }

    #[test]
    fn bad_patterns() {
        // The last one was found by the identity fuzzer: a multi-byte character where the infix is.
        for p in [
            "EC25EFA",
            "EC25EFAR6A17",
            "EC25EFAR06A17Q9_20.200",
            "EC25EFAR06A17M4G__X",
            "EC25-EFAR06A17",
            "EC20EQAR02A05V0\u{2f4}CNCCR07A01M02-R32A09V02.zxp",
        ] {
            assert!(RevisionPattern::parse(p).is_err(), "{p}");
        }
    }
}
