//! The one integration-test binary: every test module is listed here.

mod asr;
mod asr_flash;
mod cli;
mod database;
mod discovery;
mod engine;
mod flash;
mod flash_unisoc;
mod grammar;
mod image;
mod live;
mod packages;
mod processes;
mod qualcomm;
mod sim;
mod terminal;
mod util;
