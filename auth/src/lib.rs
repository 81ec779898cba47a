//! Tack's authentication and authorization.
//!
//! Work in progress: this crate is being built (see the project issues).
