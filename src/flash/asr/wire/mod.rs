//! The ASR download formats, written once and used by both the host ([`crate::flash::asr`]) and
//! the simulated module (`crate::sim`): SMUX framing, the aboot command language, Android sparse
//! pieces, and the flasher's flash-probe log lines.

pub mod aboot;
pub mod probe;
pub mod smux;
pub mod sparse;
