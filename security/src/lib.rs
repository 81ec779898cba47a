#![doc = include_str!("../README.md")]

mod csrf;
mod error;
mod headers;
mod hosts;
mod multipart;
mod proxy;
mod token;

use std::future::Future;
use std::pin::Pin;

#[cfg(feature = "sessions")]
pub use csrf::SESSION_KEY;
pub use csrf::{Csrf, CsrfLayer, CsrfToken, FORM_FIELD, HEADER};
pub use error::{BoxError, Error};
pub use headers::{SecurityHeaders, SecurityHeadersLayer};
pub use hosts::{AllowedHosts, AllowedHostsLayer};
pub use proxy::{HttpsRedirect, HttpsRedirectLayer, Proxy, ProxyError, ProxyLayer};
/// Request body limits: tower-http's layer answers 413 past the limit.
pub use tower_http::limit::RequestBodyLimitLayer;

/// The future the CSRF service answers.
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

#[cfg(feature = "axum")]
tack_http::impl_axum_extension!(CsrfToken, "tack_security::CsrfLayer");
#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
