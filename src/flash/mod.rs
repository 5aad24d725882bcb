//! Flashing: the platform protocols, host side.

pub mod unisoc;
