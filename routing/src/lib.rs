//! Routing for Tack: a tower Service router with typed path converters, reverse URLs, request helpers, error responses and static files.
//!
//! Work in progress: this crate is being built (see the project issues).
