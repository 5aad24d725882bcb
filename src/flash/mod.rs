//! Guarded flashing: one folder of protocol code per platform.
//!
//! - [`asr`]: ASR Crane modules (AROM boot ROM, `preboot.img`, `flasher.img`), aboot commands
//!   over SMUX framing.

pub mod asr;
