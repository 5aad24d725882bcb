//! Qualcomm modules (EC2x, EG2x, EG9x, BG96, EM05, EP06, RM5xx): from normal mode through the
//! DIAG switch into emergency download (EDL), the boot ROM's Sahara protocol to upload the
//! Firehose programmer, and Firehose to read, erase and write the flash.

pub mod diag;
pub mod edl;
mod error;
pub mod link;
pub mod sahara;
pub mod wire;

pub use error::QualcommError;
pub mod firehose;
pub mod nand_order;
#[cfg(test)]
mod tests;
