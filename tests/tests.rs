//! The one integration-test binary.

mod sim;
