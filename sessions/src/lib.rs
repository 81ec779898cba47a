//! Tack's sessions: a tower layer, session stores, signing and flash messages.
//!
//! Work in progress: this crate is being built (see the project issues).
