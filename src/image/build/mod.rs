//! Builders of real-format packages, and of damaged ones, for tests, benchmarks and the simulator.

pub mod asr;
pub mod binpkg;
pub mod memory;
pub mod pac;
pub mod quecpython;
