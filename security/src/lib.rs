//! Tack's security middleware: CSRF, security headers, allowed hosts.
//!
//! Work in progress: this crate is being built (see the project issues).
