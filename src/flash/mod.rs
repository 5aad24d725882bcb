//! Guarded flashing: one folder of protocol code per platform.

pub mod qualcomm;
