//! Tack's templates: a minijinja environment with Django's comforts.
//!
//! Work in progress: this crate is being built (see the project issues).
