//! The verdict engine: (device, image, database) to a verdict with findings.

mod facts;

pub use facts::{DeviceFacts, ImageFacts};
