//! The rule ids of the verdict policy: every id `rules/policy.toml` must describe, and the ones a
//! `[[step]]` may allow. They live with the rule model so the linter needs nothing from the
//! engine; the engine re-exports them.

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
    "build-tag-change",
    "anti-rollback",
    "downgrade",
    "build-order-unknown",
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
pub const OVERRIDABLE_RULES: &[&str] =
    &["cross-baseline", "app-stream-change", "build-tag-change", "downgrade", "flavour-switch"];
