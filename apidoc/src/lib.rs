//! Tack's API documentation: OpenAPI 3.1 documents from the code, served with a docs page.
//!
//! Work in progress: this crate is being built (see the project issues).
