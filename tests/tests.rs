//! The one integration-test binary.

mod image;
