//! fwguard: a pre-flight validator, compatibility database and guarded flasher for Quectel
//! cellular modules.
//!
//! The library judges a module and a candidate firmware image ([`engine::judge`]) against a
//! versioned compatibility database ([`db::Database`]) compiled from the TOML rules in `rules/`
//! ([`rules`]), and explains every refusal. The `fwguard` binary (feature `cli`) is a thin
//! front end.

#![warn(missing_docs)]

pub mod acquire;
pub mod db;
pub mod device;
pub mod diagnostic;
pub mod engine;
pub mod flash;
pub mod history;
pub mod identity;
pub mod image;
pub mod platform;
pub mod progress;
pub mod rules;
pub mod sim;
