//! The byte formats of the Qualcomm download path, shared by the host sessions
//! ([`super`]) and the simulated module (`crate::sim`): one codec per layer.

pub mod diag;
pub mod firehose;
pub mod hdlc;
pub mod mbn;
pub mod patch;
pub mod sahara;
