//! The one integration-test binary: every test module is listed here.

mod cli;
mod database;
mod engine;
mod flash_unisoc;
mod grammar;
mod image;
mod live;
mod packages;
mod sim;
mod util;
