//! Guarded flashing: a plan made before the first byte moves, a gate on the storage the device
//! reports, a verified backup of the protected areas, every step journaled before and after,
//! every write verified, and the module found again and re-identified at the end.
//!
//! ```text
//! identify (AT) -> judge (engine) -> Plan -> Gate -> Backup -> steps (journaled, verified)
//!               -> reset -> re-identify -> history
//! ```
//!
//! The core names no platform. A platform implements [`Driver`] and [`Connection`] in its own
//! folder and adds itself to [`Registry::builtin`]. [`flash`] runs the whole command; the parts
//! ([`Plan`], [`gate`], [`Journal`], [`backup`], [`Flasher`]) are public for tools and tests.
//!
//! Platforms:
//! - [`asr`]: ASR Crane modules (AROM boot ROM, `preboot.img`, `flasher.img`), aboot commands
//!   over SMUX framing.
//! - [`unisoc`]: Unisoc UIS8910/UIS8850 modules (the 8910 ROM's PDL, BSL/FDL), PAC schemes.

pub mod asr;
pub mod backup;
mod driver;
mod error;
pub mod finder;
pub mod gate;
mod hashing;
pub mod journal;
mod permissions;
mod plan;
pub mod probe;
mod progress;
pub mod qualcomm;
mod registry;
pub mod resume;
mod run;
mod session;
mod steps;
pub mod unisoc;

pub use driver::{
    Connection, Driver, DriverError, Layout, NormalModule, PatchSpec, Region, Source, StepSpec, StorageClaim,
    StorageInfo, StorageKind, TargetInfo,
};
pub use error::FlashError;
pub use finder::{Discovery, Finder, Reidentified};
pub use hashing::{HashWriter, WriteReader, hash_sources};
pub use journal::{Journal, JournalError};
pub use permissions::{Guard, Permissions};
pub use plan::{
    ChipChoice, ExpectedStorage, FamilyChips, ModuleIdentity, Operation, PackageRef, Plan, PlanInput, ProtectedArea,
    Step,
};
pub use probe::{ProbeBounds, StorageRead, read_storage};
pub use progress::{Event, Phase, Progress, Silent};
pub use registry::Registry;
pub use run::{Flasher, Outcome, RunOptions, Start, same_build};
pub use session::{Request, flash, flash_with, package_sha256};

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
