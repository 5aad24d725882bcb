//! The one integration-test binary: every test module is listed here.

mod asr;
mod cli;
mod database;
mod engine;
mod grammar;
mod image;
mod live;
mod packages;
mod sim;
mod util;
