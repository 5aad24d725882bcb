//! The one integration-test binary: every test module is listed here.

mod cli;
mod database;
mod grammar;
mod util;
