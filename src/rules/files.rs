//! Rule files as text: read from a directory, or embedded in the binary at build time.

use std::path::Path;

use super::RulesError;
use super::source::RuleSource;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The rule files this binary was built with.
pub fn embedded_sources() -> Vec<RuleSource> {
    embedded::EMBEDDED.iter().map(|(n, t)| RuleSource { name: n.to_string(), text: t.to_string() }).collect()
}

/// Reads every `.toml` file below `dir`, sorted by path.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<RuleSource>, RulesError> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    if out.is_empty() {
        return Err(RulesError::Empty { dir: dir.display().to_string() });
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<RuleSource>) -> Result<(), RulesError> {
    let io = |e: std::io::Error| RulesError::Io { path: dir.display().to_string(), source: e };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| RulesError::Io { path: path.display().to_string(), source: e })?;
            let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push(RuleSource { name, text });
        }
    }
    Ok(())
}
