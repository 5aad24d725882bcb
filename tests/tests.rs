//! The one integration-test binary: every test module is listed here.

mod cli;
mod database;
mod engine;
mod grammar;
mod image;
mod live;
mod packages;
mod processes;
mod sim;
mod terminal;
mod util;
