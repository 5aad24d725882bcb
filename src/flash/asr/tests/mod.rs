//! The host side against the simulated module, in process: the session layers
//! ([`session`]) and the driver's recipe and connection ([`driver`]).

mod driver;
mod session;
