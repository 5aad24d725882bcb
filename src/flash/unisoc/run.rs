//! One step of a [`DownloadPlan`](super::scheme::DownloadPlan) on FDL2: the loop a flashing
//! driver runs is `for step in &plan.steps { apply(...) }`, with its own journal, gate and
//! backups around each call. Whether a protected step runs at all is the caller's decision
//! (the flashing core's gate); `apply` does what the step says.

use std::io::{Read, Seek};

use super::error::UnisocError;
use super::fdl::Fdl2Session;
use super::nv;
use super::scheme::{Action, MAX_NV, Step};
use super::source::PacSource;
use crate::image::pac::PacFile;

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// It read these bytes (a backup).
    Read(Vec<u8>),
    /// It erased or wrote.
    Done,
    /// It wrote NV, carrying over these item ids from the module.
    NvWritten(Vec<u16>),
    /// It sent nothing.
    Skipped(String),
    /// It asked the module to reset; the session is over (call
    /// [`Fdl2Session::normal_reset`] instead of applying this step to end it).
    ResetPending,
}

/// Runs `step` on `fdl2`, streaming data from `source` (the PAC `pac` was read from).
/// `module_nv` is the module's NV as its backup step read it; NV is never written without it.
pub fn apply<R: Read + Seek>(
    fdl2: &mut Fdl2Session<'_>,
    step: &Step,
    pac: &PacFile,
    source: &mut PacSource<R>,
    module_nv: Option<&[u8]>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Applied, UnisocError> {
    let entry = |index: usize| {
        pac.entries.get(index).ok_or_else(|| UnisocError::Invalid {
            what: format!("step {}", step.id),
            detail: format!("no file entry {index} in the package"),
        })
    };
    match &step.action {
        Action::Backup { address, size } => {
            let mut out = Vec::with_capacity(*size as usize);
            fdl2.read(*address, 0, *size, &mut out, progress)?;
            Ok(Applied::Read(out))
        }
        Action::Erase { address, size } => {
            fdl2.erase(*address, *size)?;
            Ok(Applied::Done)
        }
        Action::Write { entry: index, address, size } => {
            let mut data = source.entry(entry(*index)?)?;
            fdl2.write(*address, &mut data, *size, &step.id, progress)?;
            Ok(Applied::Done)
        }
        Action::WriteNv { entry: index, address, keep, .. } => {
            let module = module_nv.ok_or_else(|| UnisocError::Invalid {
                what: format!("step {}", step.id),
                detail: "the module's NV was not read first; NV is never written without it".into(),
            })?;
            let mut image = source.entry_bytes(entry(*index)?, MAX_NV)?;
            let kept = nv::merge(module, &mut image, keep)
                .map_err(|e| UnisocError::Invalid { what: format!("step {}", step.id), detail: e.to_string() })?;
            fdl2.write_nv(*address, image, progress)?;
            Ok(Applied::NvWritten(kept))
        }
        Action::Skip { reason } => Ok(Applied::Skipped(reason.clone())),
        Action::Reset => Ok(Applied::ResetPending),
    }
}
