//! Where the database in effect came from, why it is the one in effect, and why it is trusted.

use serde::Serialize;

use super::accepted::Accepted;

/// Why a database is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    /// Compiled into this binary: trusted as part of it.
    BuiltIn,
    /// A file signed by a trusted key.
    Signed,
    /// A file without a valid signature by a trusted key, used because `--allow-unsigned` was
    /// given (or compiled from rules for a test run).
    Unsigned,
}

impl std::fmt::Display for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trust::BuiltIn => "built-in",
            Trust::Signed => "signed",
            Trust::Unsigned => "unsigned",
        })
    }
}

/// The trust decision and the reason a database is in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// Built-in, signed or unsigned.
    pub trust: Trust,
    /// The key id that signed it.
    pub signer: Option<String>,
    /// The trusted key file (or `FWGUARD_TRUSTED_KEYS`) that key came from.
    pub signer_key: Option<String>,
    /// Whether `--allow-unsigned` was given.
    pub allow_unsigned: bool,
    /// Why a database in use is not trusted (with `--allow-unsigned`): what its signature lacks.
    pub untrusted_because: Option<String>,
    /// Why this database is the one in effect.
    pub why: String,
    /// For the built-in database: a newer one this station accepted before, if any.
    pub outdated_by: Option<Accepted>,
}

impl Provenance {
    /// A database compiled into the binary.
    pub fn built_in(why: &str) -> Provenance {
        Provenance {
            trust: Trust::BuiltIn,
            signer: None,
            signer_key: None,
            allow_unsigned: false,
            untrusted_because: None,
            why: why.to_string(),
            outdated_by: None,
        }
    }

    /// A database compiled from rules or read without a trust decision.
    pub fn unchecked(why: &str) -> Provenance {
        Provenance { trust: Trust::Unsigned, ..Provenance::built_in(why) }
    }

    /// One line for people: `signed by key 1234... (support.pub)`, `UNSIGNED (...)`.
    pub fn describe(&self) -> String {
        match self.trust {
            Trust::BuiltIn => "built into this fwguard binary".to_string(),
            Trust::Signed => format!(
                "signed by key {} ({})",
                self.signer.as_deref().unwrap_or("?"),
                self.signer_key.as_deref().unwrap_or("?")
            ),
            Trust::Unsigned if self.allow_unsigned => format!(
                "UNSIGNED, used because --allow-unsigned was given: {}",
                self.untrusted_because.as_deref().unwrap_or("no valid signature by a trusted key")
            ),
            Trust::Unsigned => "unsigned".to_string(),
        }
    }
}
