//! Tack's ORM: models, query sets, relations and transactions on SQLite and PostgreSQL.
//!
//! Work in progress: this crate is being built (see the project issues).
