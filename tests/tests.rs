//! The one integration-test binary: every test module is listed here.

mod cli;
mod database;
mod db_diff;
mod db_support;
mod db_trust;
mod db_update;
mod engine;
mod grammar;
mod http_server;
mod image;
mod live;
mod packages;
mod sim;
mod util;
