//! `requires_fwguard`: the fwguard versions a database is made for, as a semver requirement
//! (<https://docs.rs/semver>), checked against this binary's version before anything else in the
//! database is read, since a database for a newer fwguard may hold rules this one misreads.

use semver::{Version, VersionReq};

use super::DbError;

/// This binary's version.
pub const FWGUARD_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Refuses a database whose `requires_fwguard` this binary does not meet.
pub fn check_requirement(requires: Option<&str>, path: &str) -> Result<(), DbError> {
    let Some(requires) = requires else { return Ok(()) };
    let req = VersionReq::parse(requires).map_err(|e| DbError::Invalid {
        path: path.to_string(),
        problem: format!("requires_fwguard {requires:?} is not a semver requirement: {e}"),
    })?;
    let have = Version::parse(FWGUARD_VERSION).map_err(|e| DbError::Invalid {
        path: path.to_string(),
        problem: format!("this fwguard's version {FWGUARD_VERSION:?} does not parse: {e}"),
    })?;
    if req.matches(&have) {
        Ok(())
    } else {
        Err(DbError::Requires { path: path.to_string(), requires: requires.to_string(), have: FWGUARD_VERSION.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements() {
        assert!(check_requirement(None, "x").is_ok());
        assert!(check_requirement(Some(&format!(">={FWGUARD_VERSION}")), "x").is_ok());
        let e = check_requirement(Some(">=99.0.0"), "x.db").unwrap_err();
        assert!(e.to_string().contains(">=99.0.0") && e.to_string().contains(FWGUARD_VERSION), "{e}");
        assert!(matches!(check_requirement(Some("not a version"), "x"), Err(DbError::Invalid { .. })));
    }
}
