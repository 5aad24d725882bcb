//! Fixture builders.
