//! Revision patterns in rules: a revision whose baseline, minor and app-version digits may be `x`,
//! with omitted parts matching anything: `EC25EFAR06AxxM4G_20.2xx.20.2xx`, `EC200TCNHAR02Axx`.

use std::fmt;

use crate::identity::{Revision, Tag};

/// A parsed revision pattern: the revision it is shaped like, and where `x` stands for any digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionPattern {
    raw: String,
    /// The pattern with every wildcard digit written as `0`, parsed with the revision grammar.
    shape: Revision,
    /// Baseline and minor digits, `X` where any digit matches.
    baseline: [u8; 2],
    minor: [u8; 2],
    /// The app version as written (`20.2XX.20.2XX`), if the pattern gives one.
    app: Option<String>,
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
    /// the app version; parts left out match anything. Everything else follows the revision
    /// grammar ([`Revision::parse`]).
    pub fn parse(text: &str) -> Result<RevisionPattern, PatternError> {
        let up = text.trim().to_ascii_uppercase();
        let err = |reason: String| PatternError { input: text.to_string(), reason };
        if let Some(c) = up.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.')) {
            return Err(err(format!("it contains {c:?}; a pattern has only letters, digits, '_', '.' and x")));
        }
        let core_len = up.find('_').unwrap_or(up.len());
        let b = up.as_bytes();
        let at = (1..core_len.saturating_sub(5))
            .find(|&i| {
                b[i] == b'R'
                    && digit_or_x(b[i + 1])
                    && digit_or_x(b[i + 2])
                    && b[i + 3] == b'A'
                    && digit_or_x(b[i + 4])
                    && digit_or_x(b[i + 5])
            })
            .ok_or_else(|| err("no R<nn>A<nn> after a product code (use x for any digit: R06Axx)".into()))?;
        // Wildcards only stand in the release digits and the app version; a product code may
        // itself contain X (EC25EUXGA).
        let mut concrete = b.to_vec();
        for i in [at + 1, at + 2, at + 4, at + 5] {
            if concrete[i] == b'X' {
                concrete[i] = b'0';
            }
        }
        let mut app = None;
        if core_len < up.len() {
            for (start, tag) in tag_spans(&up, core_len + 1) {
                if tag.contains('.') {
                    concrete[start..start + tag.len()].iter_mut().filter(|c| **c == b'X').for_each(|c| *c = b'0');
                    app = Some(tag.to_string());
                }
            }
        }
        let concrete = String::from_utf8(concrete).map_err(|_| err("it is not text".into()))?;
        let shape = Revision::parse(&concrete).map_err(|e| err(e.reason))?;
        Ok(RevisionPattern {
            raw: text.trim().to_string(),
            shape,
            baseline: [b[at + 1], b[at + 2]],
            minor: [b[at + 4], b[at + 5]],
            app,
        })
    }

    /// The product code the pattern is for.
    pub fn product(&self) -> &str {
        self.shape.product()
    }

    /// Whether a revision matches: same product; baseline, minor and app version digit by digit
    /// with `x` matching any digit; the infix, memory code and tags where the pattern gives them.
    pub fn matches(&self, r: &Revision) -> bool {
        let two = |p: [u8; 2], n: u8| {
            let s = format!("{n:02}");
            let s = s.as_bytes();
            s.len() == 2 && (p[0] == b'X' || p[0] == s[0]) && (p[1] == b'X' || p[1] == s[1])
        };
        let shape = &self.shape;
        r.product() == shape.product()
            && two(self.baseline, r.baseline())
            && two(self.minor, r.minor())
            && shape.infix().is_none_or(|v| r.infix() == Some(v))
            && shape.memory().is_none_or(|m| r.memory() == Some(m))
            && self.app.as_deref().is_none_or(|p| {
                r.app_version().is_some_and(|v| {
                    let v = v.to_string();
                    v.len() == p.len() && v.bytes().zip(p.bytes()).all(|(c, q)| q == b'X' || c == q)
                })
            })
            && shape.tags().iter().filter(|t| !matches!(t, Tag::App(_))).all(|t| r.tags().contains(t))
    }
}

/// The `_`-separated tags of `text` from byte `from` on, with their start offsets.
fn tag_spans(text: &str, from: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut start = from;
    text[from..].split('_').map(move |t| {
        let span = (start, t);
        start += t.len() + 1;
        span
    })
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
