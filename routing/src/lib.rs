#![doc = include_str!("../README.md")]

mod access_log;
mod error;
mod method;
mod page;
mod pattern;
mod request;
mod route;
mod router;
mod serve_dir;
mod urls;

pub use access_log::{AccessLog, AccessLogFuture, AccessLogLayer};
pub use error::Error;
pub use method::{MethodRouter, any, delete, get, head, on, options, patch, post, put};
pub use page::{ErrorPage, prefers_json};
pub use request::{BodyLimit, DEFAULT_BODY_LIMIT, PathParams, RequestExt};
pub use route::{Handler, HttpService, ResponseFuture, Route};
pub use router::{OriginalUri, Resolved, Router};
pub use serve_dir::ServeDir;
pub use urls::Urls;

#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
