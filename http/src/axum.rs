//! axum support (feature `axum`): tack's responses, problems and errors as
//! axum responses, and the macros with which each tack crate makes its
//! errors axum responses and its request extensions axum extractors.

use crate::{Html, IntoResponse, Json, Problem, Response};

#[doc(hidden)]
pub use axum_core as __axum_core;
#[doc(hidden)]
pub use http as __http;

/// A tack response as an axum response (the body is boxed once more).
pub fn to_axum(response: Response) -> axum_core::response::Response {
    response.map(axum_core::body::Body::new)
}

/// Implements axum's `IntoResponse` for types that implement tack's
/// [`IntoResponse`]: `tack_http::impl_axum_response!(Error);` in a crate
/// whose feature `axum` enables `tack-http/axum`.
#[macro_export]
macro_rules! impl_axum_response {
    ($($type:ty),+ $(,)?) => {$(
        impl $crate::axum::__axum_core::response::IntoResponse for $type {
            fn into_response(self) -> $crate::axum::__axum_core::response::Response {
                $crate::axum::to_axum($crate::IntoResponse::into_response(self))
            }
        }
    )+};
}

/// Implements axum's `FromRequestParts` for a `Clone` type that a tack
/// layer puts into the request's extensions; without the layer the
/// rejection is a 500 problem saying which layer to add:
/// `tack_http::impl_axum_extension!(Session, "tack_sessions::SessionLayer");`.
#[macro_export]
macro_rules! impl_axum_extension {
    ($type:ident $(<$param:ident>)?, $layer:literal) => {
        impl<S: Send + Sync $(, $param: Clone + Send + Sync + 'static)?>
            $crate::axum::__axum_core::extract::FromRequestParts<S> for $type $(<$param>)?
        {
            type Rejection = $crate::Problem;

            async fn from_request_parts(
                parts: &mut $crate::axum::__http::request::Parts,
                _state: &S,
            ) -> Result<Self, $crate::Problem> {
                parts.extensions.get::<Self>().cloned().ok_or_else(|| {
                    $crate::axum::missing_layer(stringify!($type), $layer)
                })
            }
        }
    };
}

/// The problem an extractor answers when the layer it needs is missing:
/// a mistake in the app's composition, so a 500 that says the fix.
#[doc(hidden)]
pub fn missing_layer(extractor: &str, layer: &str) -> Problem {
    Problem::new(http::StatusCode::INTERNAL_SERVER_ERROR).with_detail(format!(
        "the {extractor} extractor needs {layer} around this route: add it with \
         Router::layer (inside the layers it depends on)"
    ))
}

impl_axum_response!(Problem);

impl<T: serde::Serialize> axum_core::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum_core::response::Response {
        to_axum(IntoResponse::into_response(self))
    }
}

impl<T: Into<crate::Body>> axum_core::response::IntoResponse for Html<T> {
    fn into_response(self) -> axum_core::response::Response {
        to_axum(IntoResponse::into_response(self))
    }
}

/// A tack service (a CRUD controller, a tack router) as an axum service:
/// requests on axum's body are handed on with tack's [`Body`](crate::Body),
/// so `axum::Router::nest_service("/api/posts", mount(crud))` works. The
/// service sees the path without the prefix, as axum nests it.
pub fn mount<S>(service: S) -> Mount<S> {
    Mount {
        inner: service,
        prefix: None,
    }
}

/// [`mount`] for a service that wants the whole path back (the admin, made
/// with its own prefix): `nest_service("/admin", mount_at("/admin", site))`
/// puts `/admin` in front of the path axum hands on.
pub fn mount_at<S>(prefix: &str, service: S) -> Mount<S> {
    Mount {
        inner: service,
        prefix: Some(std::sync::Arc::from(prefix.trim_end_matches('/'))),
    }
}

/// The service [`mount`] and [`mount_at`] make.
#[derive(Clone, Debug)]
pub struct Mount<S> {
    inner: S,
    prefix: Option<std::sync::Arc<str>>,
}

impl<S> tower_service::Service<http::Request<axum_core::body::Body>> for Mount<S>
where
    S: tower_service::Service<http::Request<crate::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<axum_core::body::Body>) -> S::Future {
        let mut request = request.map(crate::Body::new);
        if let Some(prefix) = &self.prefix {
            let uri = request.uri();
            let tail = uri.path_and_query().map_or("/", |pq| pq.as_str());
            let mut parts = uri.clone().into_parts();
            // A prefix and a path that both parse as URI parts make one.
            if let Ok(whole) = format!("{prefix}{tail}").parse() {
                parts.path_and_query = Some(whole);
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        self.inner.call(request)
    }
}
