//! Rules: the TOML model support staff write in `rules/`, its loader, lint and test runner.

pub mod model;
