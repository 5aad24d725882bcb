//! Fetching a published database and its signature: over HTTP(S), or from a path (a share).
//!
//! Both are bounded in size and time; any error, including a connection cut off mid-body, fails
//! the whole fetch before anything is installed.

use std::path::Path;
use std::time::Duration;

use super::DbError;
use super::signature::{MAX_SIGNATURE_BYTES, read_small, with_suffix};

/// The largest database file fwguard reads (a 10,000-family database is about 20 MiB).
pub const MAX_DATABASE_BYTES: u64 = 256 * 1024 * 1024;

/// A published database as fetched: its bytes and its signature's text.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the database came from.
    pub from: String,
    /// Where the signature came from.
    pub signature_from: String,
    /// The database file's bytes.
    pub bytes: Vec<u8>,
    /// The `.minisig` text.
    pub signature: String,
}

/// Whether `from` names an HTTP(S) URL rather than a path.
pub fn is_url(from: &str) -> bool {
    let lower = from.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The signature's URL: `.minisig` appended to the path, before any query.
fn signature_url(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => format!("{path}.minisig?{query}"),
        None => format!("{url}.minisig"),
    }
}

/// Fetches the database named by `from` (a URL or a path) and `from` + `.minisig`.
pub fn fetch(from: &str) -> Result<Fetched, DbError> {
    if is_url(from) {
        let agent = agent();
        let sig_url = signature_url(from);
        let bytes = get(&agent, from, MAX_DATABASE_BYTES)?;
        let sig = get(&agent, &sig_url, MAX_SIGNATURE_BYTES)?;
        let signature = String::from_utf8(sig)
            .map_err(|_| DbError::Fetch { from: sig_url.clone(), problem: "the signature is not text".into() })?;
        return Ok(Fetched { from: from.to_string(), signature_from: sig_url, bytes, signature });
    }
    let path = Path::new(from);
    let sig_path = with_suffix(path, ".minisig");
    let fetch_err = |p: &Path, e: DbError| DbError::Fetch { from: p.display().to_string(), problem: inner(e) };
    let bytes = read_small(path, MAX_DATABASE_BYTES).map_err(|e| fetch_err(path, e))?;
    let sig = read_small(&sig_path, MAX_SIGNATURE_BYTES).map_err(|e| fetch_err(&sig_path, e))?;
    Ok(Fetched {
        from: from.to_string(),
        signature_from: sig_path.display().to_string(),
        bytes,
        signature: String::from_utf8_lossy(&sig).into_owned(),
    })
}

/// The problem of an error without its path (the caller names the path).
fn inner(e: DbError) -> String {
    match e {
        DbError::Io { source, .. } => source.to_string(),
        DbError::Invalid { problem, .. } => problem,
        other => other.to_string(),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(300)))
        .user_agent(concat!("fwguard/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Vec<u8>, DbError> {
    let err = |problem: String| DbError::Fetch { from: url.to_string(), problem };
    let mut response = agent.get(url).call().map_err(|e| err(describe(e)))?;
    response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| match e {
        ureq::Error::BodyExceedsLimit(n) => err(format!("larger than {n} bytes")),
        other => err(format!("the download failed part way: {}", describe(other))),
    })
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_urls() {
        assert_eq!(signature_url("https://x/db/rules.db"), "https://x/db/rules.db.minisig");
        assert_eq!(signature_url("https://x/rules.db?token=1"), "https://x/rules.db.minisig?token=1");
        assert!(is_url("HTTPS://x") && is_url("http://127.0.0.1:1/a") && !is_url("/srv/share/rules.db"));
    }
}
