//! What the engine judges: facts about a module and about a candidate image, however they were
//! obtained (typed by hand, read over AT, read from a package).

use crate::identity::{FlashId, NandGeometry};

/// What is known about the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    /// The ATI model line (`EC25`, `EC800MCN_LA`), if known.
    pub model: Option<String>,
    /// What AT+QGMR (or its fallbacks) answered; raw text with echo, URCs and `OK` is accepted.
    pub revision: String,
    /// The flash ID read from the bootloader, if known.
    pub flash_id: Option<FlashId>,
    /// Whether the module enforces signed images (AT+QSECBOOT / secbootstat), if known.
    pub secure_boot: Option<bool>,
    /// The IMEI (AT+GSN), if read.
    pub imei: Option<String>,
}

/// What is known about the candidate image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// The identity to judge: a revision string, a package file name or a path inside a package.
    /// For an inspected package this is the revision its content gives.
    pub name: String,
    /// The package path, when a package was read.
    pub path: Option<String>,
    /// NAND geometry from the package's rawprogram/MIBIB files (overrides the name's).
    pub nand: Option<NandGeometry>,
    /// The flash chips the package accepts (ASR `flashinfo.bin`), when the package lists them.
    pub flash_chips: Option<Vec<FlashId>>,
    /// Steps in the package that erase or overwrite calibration, NV or IMEI areas.
    pub erases: Vec<String>,
    /// Whether the package is signed, when the package says.
    pub signed: Option<bool>,
    /// How the file name and the content disagree, as a sentence naming both (`identity-conflict`).
    pub name_conflict: Option<String>,
    /// Problems the package reader found that did not stop it (`package-problem`).
    pub problems: Vec<String>,
}
