//! The public keys a station trusts to sign databases: every `*.pub` file in
//! `$FWGUARD_HOME/trusted-keys/`, and the entries of `FWGUARD_TRUSTED_KEYS` (separated by `:`,
//! each a `.pub` file, a directory of them, or a bare base64 key as `minisign -P` takes it).
//!
//! A key file that cannot be read is an error, not skipped: a station should not silently trust
//! fewer keys than its operator installed.

use std::ffi::OsStr;
use std::path::Path;

use super::DbError;
use super::signature::NamedKey;

/// The environment variable naming more trusted keys.
pub const TRUSTED_KEYS_ENV: &str = "FWGUARD_TRUSTED_KEYS";

/// The keys a station trusts, and where they were looked for.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<NamedKey>,
    places: Vec<String>,
}

impl TrustedKeys {
    /// The keys in `home/trusted-keys/` and in `FWGUARD_TRUSTED_KEYS`.
    pub fn load(home: &Path) -> Result<TrustedKeys, DbError> {
        TrustedKeys::from_places(&home.join("trusted-keys"), std::env::var_os(TRUSTED_KEYS_ENV).as_deref())
    }

    /// The keys in `dir` and in `env` (the value of `FWGUARD_TRUSTED_KEYS`).
    pub fn from_places(dir: &Path, env: Option<&OsStr>) -> Result<TrustedKeys, DbError> {
        let mut t = TrustedKeys { keys: Vec::new(), places: vec![dir.display().to_string()] };
        if dir.is_dir() {
            t.add_dir(dir)?;
        }
        if let Some(env) = env.filter(|v| !v.is_empty()) {
            t.places.push(TRUSTED_KEYS_ENV.to_string());
            for entry in std::env::split_paths(env).filter(|p| !p.as_os_str().is_empty()) {
                if entry.is_dir() {
                    t.add_dir(&entry)?;
                } else if entry.is_file() {
                    t.add(NamedKey::read(&entry)?);
                } else {
                    let text = entry.to_string_lossy();
                    let key = NamedKey::parse(&text, TRUSTED_KEYS_ENV).map_err(|_| DbError::Key {
                        path: TRUSTED_KEYS_ENV.into(),
                        problem: format!("{text:?} is neither a file, a directory nor a minisign public key"),
                    })?;
                    t.add(key);
                }
            }
        }
        Ok(t)
    }

    fn add_dir(&mut self, dir: &Path) -> Result<(), DbError> {
        let io = |source| DbError::Io { path: dir.display().to_string(), source };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect();
        files.sort();
        for f in files {
            self.add(NamedKey::read(&f)?);
        }
        Ok(())
    }

    fn add(&mut self, key: NamedKey) {
        if !self.keys.iter().any(|k| k.id == key.id) {
            self.keys.push(key);
        }
    }

    /// The keys.
    pub fn keys(&self) -> &[NamedKey] {
        &self.keys
    }

    /// Where keys were looked for, for messages.
    pub fn places(&self) -> String {
        self.places.join(", ")
    }
}
