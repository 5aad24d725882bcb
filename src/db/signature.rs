//! Database signatures in minisign's format (<https://jedisct1.github.io/minisign/>): key pairs,
//! `DB.minisig` files, and checking a file's bytes against a set of trusted keys.
//!
//! The files are minisign's own, so the standard `minisign` tool makes and checks the same
//! signatures (`minisign -Vm DB -p KEY.pub`). fwguard's trusted comment records what it signed:
//! `timestamp:... file:... version:... sha256:...`, which lets a refusal name both hashes.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ct_codecs::{Base64, Decoder};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};
use sha2::{Digest, Sha256};

use super::DbError;

/// The longest `.minisig` file read: a real one is a few hundred bytes.
pub const MAX_SIGNATURE_BYTES: u64 = 8 * 1024;

/// A minisign key id: 8 bytes, printed as minisign prints it (16 upper-case hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl KeyId {
    fn from_slice(b: &[u8]) -> KeyId {
        let mut id = [0u8; 8];
        id.copy_from_slice(&b[..8.min(b.len())]);
        KeyId(id)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016X}", u64::from_le_bytes(self.0))
    }
}

/// A public key and where it was read from.
#[derive(Debug, Clone)]
pub struct NamedKey {
    /// Its key id.
    pub id: KeyId,
    /// The key.
    pub key: PublicKey,
    /// The file it came from, or `FWGUARD_TRUSTED_KEYS` for a key given inline.
    pub from: String,
}

impl NamedKey {
    /// Parses a minisign public key: a `.pub` file's text (comment line and key) or the bare
    /// base64 key that `minisign -P` takes.
    pub fn parse(text: &str, from: &str) -> Result<NamedKey, DbError> {
        let text = text.trim();
        let key = if text.lines().count() >= 2 {
            PublicKey::from_box(PublicKeyBox::from_string(text).map_err(|e| key_err(from, e))?)
        } else {
            PublicKey::from_base64(text)
        }
        .map_err(|e| key_err(from, e))?;
        Ok(NamedKey { id: KeyId::from_slice(key.keynum()), key, from: from.to_string() })
    }

    /// Reads a `.pub` file.
    pub fn read(path: &Path) -> Result<NamedKey, DbError> {
        let text = read_small(path, MAX_SIGNATURE_BYTES)?;
        NamedKey::parse(&String::from_utf8_lossy(&text), &path.display().to_string())
    }
}

fn key_err(from: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Key { path: from.to_string(), problem: format!("not a minisign key: {e}") }
}

/// Reads a file of at most `limit` bytes.
pub(crate) fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, DbError> {
    use std::io::Read;
    let io = |source| DbError::Io { path: path.display().to_string(), source };
    let mut out = Vec::new();
    std::fs::File::open(path).map_err(io)?.take(limit + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > limit {
        return Err(DbError::Invalid {
            path: path.display().to_string(),
            problem: format!("larger than {limit} bytes"),
        });
    }
    Ok(out)
}

/// The files `keygen` wrote.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    /// The secret key, `NAME.key`.
    pub secret: PathBuf,
    /// The public key, `NAME.pub`.
    pub public: PathBuf,
    /// Its key id.
    pub id: KeyId,
}

/// Makes a key pair and writes `NAME.key` (mode 0600) and `NAME.pub`, minisign's files. With a
/// password the secret key is encrypted as minisign encrypts it (scrypt); without, it is stored
/// in the clear, for tests and automation. Existing files are never overwritten.
pub fn keygen(name: &Path, password: Option<String>) -> Result<GeneratedKey, DbError> {
    let secret = with_suffix(name, ".key");
    let public = with_suffix(name, ".pub");
    for p in [&secret, &public] {
        if p.exists() {
            return Err(DbError::Key {
                path: p.display().to_string(),
                problem: "already exists; not overwritten".into(),
            });
        }
    }
    let key_err = |e: minisign::PError| DbError::Key { path: secret.display().to_string(), problem: e.to_string() };
    let (pair, comment) = match password {
        Some(pw) => (KeyPair::generate_encrypted_keypair(Some(pw)).map_err(key_err)?, "minisign encrypted secret key"),
        None => (KeyPair::generate_unencrypted_keypair().map_err(key_err)?, "minisign secret key (no password)"),
    };
    let sk_text = pair.sk.to_box(Some(comment)).map_err(key_err)?.into_string();
    let pk_text = pair.pk.to_box().map_err(key_err)?.into_string();
    write_new(&secret, sk_text.as_bytes(), 0o600)?;
    write_new(&public, pk_text.as_bytes(), 0o644)?;
    Ok(GeneratedKey { secret, public, id: KeyId::from_slice(pair.pk.keynum()) })
}

/// `path` with `suffix` appended to its file name: `db.sqlite` -> `db.sqlite.minisig`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Creates a file that must not exist yet, writes it and syncs it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), DbError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| DbError::Io { path: path.display().to_string(), source };
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)
}

/// A secret key file, read but perhaps still locked by its password.
pub struct SecretKeyFile {
    path: PathBuf,
    text: String,
    encrypted: bool,
}

impl SecretKeyFile {
    /// Reads a minisign secret key file (`fwguard db keygen` or `minisign -G`).
    pub fn read(path: &Path) -> Result<SecretKeyFile, DbError> {
        let text = String::from_utf8_lossy(&read_small(path, MAX_SIGNATURE_BYTES)?).into_owned();
        let raw = secret_bytes(&text).ok_or_else(|| DbError::Key {
            path: path.display().to_string(),
            problem: "not a minisign secret key: expected a comment line and a base64 key".into(),
        })?;
        let encrypted = raw.get(2..4).is_some_and(|kdf| kdf != [0, 0]);
        Ok(SecretKeyFile { path: path.to_path_buf(), text, encrypted })
    }

    /// Whether a password is needed.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Unlocks the key (the password is ignored for a key stored in the clear).
    pub fn unlock(self, password: Option<String>) -> Result<SecretKey, DbError> {
        let err = |problem: String| DbError::Key { path: self.path.display().to_string(), problem };
        let sk_box = SecretKeyBox::from_string(&self.text).map_err(|e| err(e.to_string()))?;
        if self.encrypted {
            let Some(pw) = password else { return Err(err("the key is encrypted and no password was given".into())) };
            return SecretKey::from_box(sk_box, Some(pw)).map_err(|e| err(e.to_string()));
        }
        match sk_box.into_unencrypted_secret_key() {
            Ok(sk) => Ok(sk),
            // `minisign -G -W` leaves the checksum of a key without password zero.
            Err(_) => match secret_bytes(&self.text) {
                Some(raw) if raw.len() >= 32 && raw[raw.len() - 32..].iter().all(|&b| b == 0) => {
                    SecretKey::from_bytes(&raw).map_err(|e| err(e.to_string()))
                }
                _ => Err(err("the key is damaged: its checksum does not match".into())),
            },
        }
    }
}

fn secret_bytes(text: &str) -> Option<Vec<u8>> {
    let line = text.lines().nth(1)?.trim();
    Base64::decode_to_vec(line, None).ok().filter(|b| b.len() > 4)
}

/// What fwguard puts in the trusted (signed) comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedFacts {
    /// The file name when it was signed.
    pub file: Option<String>,
    /// The database version.
    pub version: Option<u32>,
    /// SHA-256 of the file's bytes when it was signed.
    pub sha256: Option<String>,
    /// Seconds since the Unix epoch.
    pub timestamp: Option<u64>,
}

impl SignedFacts {
    /// Reads `key:value` pairs separated by tabs; pairs fwguard does not know are ignored, so a
    /// comment written by the `minisign` tool reads as no facts.
    pub fn parse(comment: &str) -> SignedFacts {
        let mut f = SignedFacts::default();
        for (k, v) in comment.split('\t').filter_map(|p| p.split_once(':')) {
            match k {
                "file" => f.file = Some(v.to_string()),
                "version" => f.version = v.parse().ok(),
                "sha256" => f.sha256 = Some(v.to_string()),
                "timestamp" => f.timestamp = v.parse().ok(),
                _ => {}
            }
        }
        f
    }

    fn render(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.timestamp {
            parts.push(format!("timestamp:{t}"));
        }
        if let Some(f) = &self.file {
            parts.push(format!("file:{}", f.replace(['\t', '\n', '\r'], " ")));
        }
        if let Some(v) = self.version {
            parts.push(format!("version:{v}"));
        }
        if let Some(s) = &self.sha256 {
            parts.push(format!("sha256:{s}"));
        }
        parts.join("\t")
    }
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs `bytes` (the database file `name`, version `version`) and returns the `.minisig` text.
/// The signature is checked against the key's own public half before it is returned.
pub fn sign_bytes(sk: &SecretKey, bytes: &[u8], name: &str, version: u32) -> Result<(String, KeyId), DbError> {
    let pk = PublicKey::from_secret_key(sk).map_err(|e| DbError::Key { path: name.into(), problem: e.to_string() })?;
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).ok();
    let facts = SignedFacts {
        file: Some(name.to_string()),
        version: Some(version),
        sha256: Some(sha256_hex(bytes)),
        timestamp,
    };
    let untrusted = format!("fwguard database signature: version {version}");
    let sig = minisign::sign(Some(&pk), sk, Cursor::new(bytes), Some(&facts.render()), Some(&untrusted))
        .map_err(|e| DbError::Key { path: name.into(), problem: format!("signing failed: {e}") })?;
    Ok((sig.into_string(), KeyId::from_slice(pk.keynum())))
}

/// A signature that verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The key that made it.
    pub key: NamedKey,
    /// The trusted comment, as signed.
    pub comment: String,
}

/// Checks `bytes` (the file at `path`) against the signature text `sig_text` (read from
/// `sig_path`) and the trusted keys. Every refusal names the file and both values.
pub fn verify_bytes(
    path: &Path,
    bytes: &[u8],
    sig_path: &Path,
    sig_text: &str,
    trusted: &[NamedKey],
    places: &str,
) -> Result<Verified, DbError> {
    let bad = |problem: String| DbError::BadSignature {
        path: path.display().to_string(),
        signature: sig_path.display().to_string(),
        problem,
    };
    let sig = SignatureBox::from_string(sig_text.trim_end_matches(['\r', '\n']))
        .map_err(|e| bad(format!("not a minisign signature: {e}")))?;
    let id = KeyId::from_slice(sig.keynum());
    let Some(key) = trusted.iter().find(|k| k.id == id) else {
        let ids: Vec<String> = trusted.iter().map(|k| format!("{} ({})", k.id, k.from)).collect();
        return Err(DbError::UnknownKey {
            path: path.display().to_string(),
            key_id: id.to_string(),
            trusted: if ids.is_empty() { format!("none ({places})") } else { ids.join(", ") },
        });
    };
    if !sig.is_prehashed() {
        return Err(bad("a legacy (not prehashed) signature, which fwguard does not accept".into()));
    }
    let comment = sig.trusted_comment().map_err(|e| bad(format!("its trusted comment cannot be read: {e}")))?;
    if let Err(e) = minisign::verify(&key.key, &sig, Cursor::new(bytes), true, false, false) {
        let actual = sha256_hex(bytes);
        return Err(match SignedFacts::parse(&comment).sha256 {
            Some(signed) if signed != actual => DbError::Altered {
                path: path.display().to_string(),
                key_id: id.to_string(),
                actual,
                signed: Some(signed),
            },
            Some(_) => bad(format!(
                "it does not verify with trusted key {id} ({}), although the file's SHA-256 {actual} is the one it names: the signature file was altered ({e})",
                key.from
            )),
            None => DbError::Altered { path: path.display().to_string(), key_id: id.to_string(), actual, signed: None },
        });
    }
    Ok(Verified { key: key.clone(), comment })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path) -> (SecretKey, NamedKey) {
        let k = keygen(&dir.join("k"), None).unwrap();
        (SecretKeyFile::read(&k.secret).unwrap().unlock(None).unwrap(), NamedKey::read(&k.public).unwrap())
    }

    #[test]
    fn signs_and_verifies_and_names_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (sk, pk) = pair(dir.path());
        let (sig, id) = sign_bytes(&sk, b"database bytes", "x.db", 7).unwrap();
        assert_eq!(id, pk.id);
        let p = Path::new("x.db");
        let ok = verify_bytes(p, b"database bytes", p, &sig, std::slice::from_ref(&pk), "test").unwrap();
        let facts = SignedFacts::parse(&ok.comment);
        assert_eq!((facts.version, facts.file.as_deref()), (Some(7), Some("x.db")));
        assert_eq!(facts.sha256.as_deref(), Some(sha256_hex(b"database bytes").as_str()));
        match verify_bytes(p, b"database bytez", p, &sig, &[pk], "test") {
            Err(DbError::Altered { actual, signed, .. }) => {
                assert_eq!(actual, sha256_hex(b"database bytez"));
                assert_eq!(signed, Some(sha256_hex(b"database bytes")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_signatures_and_keys_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pk) = pair(dir.path());
        let p = Path::new("x.db");
        for text in
            ["", "\n\n\n\n", "untrusted comment: x\nRWQ=\ntrusted comment: y\nAAAA\n", "a\nb\nc\nd", "\u{0}\u{1}"]
        {
            assert!(verify_bytes(p, b"x", p, text, std::slice::from_ref(&pk), "t").is_err(), "{text:?}");
            assert!(NamedKey::parse(text, "t").is_err(), "{text:?}");
        }
        assert_eq!(SignedFacts::parse("timestamp:x\tversion:\tsha256"), SignedFacts::default());
    }

    #[test]
    fn a_key_id_prints_as_minisign_prints_it() {
        // `minisign -G` printed this key with the id 9176122637864327.
        let key = NamedKey::parse("RWQnQ4Y3JhJ2kXpK7PaKE3i7bMI+BoITwCZvCiEXrzmMkjEyB60c9G6S", "t").unwrap();
        assert_eq!(key.id.to_string(), "9176122637864327");
    }
}
