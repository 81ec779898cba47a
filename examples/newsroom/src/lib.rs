//! Newsroom, Tack's example app: every battery composed the way we recommend.
//!
//! The binary (`src/main.rs`) reads [`Settings`] and serves [`app`]; tests
//! build the same [`app`] and drive it in process or over a socket.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod checks;
pub mod db;
pub mod health;
pub mod models;
pub mod pages;
pub mod settings;
pub mod write;

pub use app::{App, Newsroom, StartError, app, app_with_database, app_with_readiness};
pub use settings::Settings;

/// The root README's examples compile (`cargo test` runs them as doc tests).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
