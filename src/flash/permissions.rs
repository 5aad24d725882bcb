//! What the user allowed, checked where the damage would happen: every erase and write passes
//! through [`Guard`], which refuses to change a protected area unless `--allow-protected` was
//! given and a verified backup of the protected areas was taken in this run (as probe-rs checks
//! its `Permissions` inside the erase itself rather than only when planning:
//! <https://github.com/probe-rs/probe-rs>, `probe-rs/src/flashing/flash_algorithm.rs`).

use std::io::Read;

use serde::Serialize;

use super::driver::{Connection, DriverError, Region};
use super::error::FlashError;
use super::plan::Step;

/// What the user allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Permissions {
    /// `--accept-warnings`: flash although the verdict warns.
    pub accept_warnings: bool,
    /// `--allow-protected`: change protected areas (calibration, NV, IMEI), once a verified
    /// backup of them was taken in the same run.
    pub allow_protected: bool,
}

impl Permissions {
    /// Nothing allowed.
    pub fn new() -> Permissions {
        Permissions::default()
    }

    /// Also flash when the verdict warns.
    pub fn accept_warnings(mut self) -> Permissions {
        self.accept_warnings = true;
        self
    }

    /// Also change protected areas (after a verified backup).
    pub fn allow_protected(mut self) -> Permissions {
        self.allow_protected = true;
        self
    }
}

/// A connection whose erases and writes are checked against the protected areas.
pub struct Guard<'c> {
    conn: &'c mut dyn Connection,
    protected: Vec<(Region, String)>,
    permissions: Permissions,
    backup_verified: bool,
}

impl<'c> Guard<'c> {
    /// Guards `conn`: `protected` are the areas and what they hold.
    pub fn new(conn: &'c mut dyn Connection, protected: Vec<(Region, String)>, permissions: Permissions) -> Guard<'c> {
        Guard { conn, protected, permissions, backup_verified: false }
    }

    /// Records that a verified backup of every protected area was taken in this run.
    pub fn backup_verified(&mut self) {
        self.backup_verified = true;
    }

    /// The connection, for what changes nothing (reads, digests, reset).
    pub fn conn(&mut self) -> &mut dyn Connection {
        self.conn
    }

    /// Refuses `step` if it changes a protected area without permission and backup.
    fn check(&self, step: &Step) -> Result<(), FlashError> {
        for (region, holds) in &self.protected {
            if !region.overlaps(&step.region) {
                continue;
            }
            let why = match (self.permissions.allow_protected, self.backup_verified) {
                (true, true) => continue,
                (false, _) => "--allow-protected was not given",
                (true, false) => "no verified backup of the protected areas was taken in this run",
            };
            return Err(FlashError::ProtectedTouched {
                step: format!("{} ({})", step.index, step.describe()),
                area: format!("{region} ({holds})"),
                why: why.into(),
            });
        }
        Ok(())
    }

    /// Erases the step's region, if allowed.
    pub fn erase(&mut self, step: &Step) -> Result<(), FlashError> {
        self.check(step)?;
        self.conn.erase(&step.region).map_err(|source| driver(step, source))
    }

    /// Has the device patch the step's region, if allowed.
    pub fn patch(&mut self, step: &Step) -> Result<(), FlashError> {
        self.check(step)?;
        let Some(patch) = &step.patch else {
            return Err(FlashError::Plan(format!("step {} patches without saying what", step.index)));
        };
        self.conn.patch(&step.region, patch).map_err(|source| driver(step, source))
    }

    /// Writes the step's region from `data`, if allowed.
    pub fn write(&mut self, step: &Step, data: &mut dyn Read, progress: &mut dyn FnMut(u64)) -> Result<(), FlashError> {
        self.check(step)?;
        self.conn.write(&step.region, data, progress).map_err(|source| driver(step, source))
    }
}

fn driver(step: &Step, source: DriverError) -> FlashError {
    FlashError::Driver { operation: format!("step {} ({})", step.index, step.describe()), source }
}
