//! Tack's CRUD controller.
//!
//! Work in progress: this crate is being built (see the project issues).
