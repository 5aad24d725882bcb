//! The rule ids of the verdict policy. A file of its own because `build.rs` compiles the rule
//! linter, which checks `rules/policy.toml` against them, from the library's own sources.

/// Every rule id the engine can report.
pub const RULE_IDS: &[&str] = &[
    "malformed-revision",
    "unknown-device",
    "unknown-image",
    "identity-conflict",
    "product-mismatch",
    "memory-mismatch",
    "flash-chip-mismatch",
    "flash-id-unverified",
    "installed-version-unknown",
    "cross-baseline",
    "app-stream-change",
    "anti-rollback",
    "downgrade",
    "flavour-switch",
    "known-bad",
    "secure-boot",
    "abnormal-installed-version",
    "delta-source-mismatch",
    "calibration-erase",
    "package-problem",
    "reinstall",
    "database-outdated",
];

/// The rule ids an explicit `[[step]]` in `rules/` may allow.
pub const OVERRIDABLE_RULES: &[&str] = &["cross-baseline", "app-stream-change", "downgrade", "flavour-switch"];
