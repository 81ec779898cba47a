#![doc = include_str!("../README.md")]

mod debug_page;
mod error;
pub mod filters;
mod globals;
mod request;
mod templates;

pub use error::Error;
pub use globals::ReverseUrl;
pub use minijinja::value::{Serde, Value, merge_maps};
pub use minijinja::{AutoEscape, Environment, context};
pub use request::RequestView;
pub use templates::{Templates, TemplatesBuilder, default_autoescape};

/// The template engine, for what this crate does not wrap.
pub use minijinja;

#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
