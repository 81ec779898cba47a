#![doc = include_str!("../README.md")]

mod crud;
mod doc;
mod error;
#[cfg(feature = "html")]
pub mod html;
mod json;
mod permission;
mod query;
mod service;

pub use crud::{AfterHook, BeforeHook, Crud, DEFAULT_MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE};
pub use error::Error;
#[cfg(feature = "html")]
pub use html::{CrudPages, TEMPLATES};
pub use permission::{Action, AllowAll, Permission, ReadOnly};
pub use query::MAX_SEARCH_WORDS;
pub use service::ResponseFuture;

#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
