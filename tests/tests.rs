//! The one integration-test binary: every test module is listed here.

mod asr;
mod asr_flash;
mod cli;
mod database;
mod db_diff;
mod db_support;
mod db_trust;
mod db_update;
mod discovery;
mod engine;
mod flash;
mod flash_unisoc;
mod flash_unisoc_cli;
mod grammar;
mod http_server;
mod image;
mod live;
mod packages;
mod processes;
mod qualcomm;
mod qualcomm_flash;
mod qualcomm_rig;
mod sim;
mod terminal;
mod util;
