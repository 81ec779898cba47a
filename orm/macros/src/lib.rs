//! Derive macros for tack-orm.
//!
//! Work in progress: this crate is being built (see the project issues).
