//! Reading requests: path parameters, query strings, JSON and form bodies.

use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::{Error, Urls};

/// The body size limit of [`RequestExt`]'s readers when nothing sets one: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The body size limit for this request, in bytes. The router inserts it
/// (see [`Router::body_limit`](crate::Router::body_limit)); a handler or a
/// layer may replace it ([`RequestExt::set_body_limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// The path parameters of the matched route, percent-decoded, in pattern
/// order, with the route's pattern and name. The router inserts it in the
/// request's extensions, where layers and axum's `Extension` can read it.
#[derive(Debug, Clone, Default)]
pub struct PathParams {
    pub(crate) pattern: Option<Arc<str>>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) params: Vec<(Arc<str>, String)>,
}

impl PathParams {
    /// The value of one parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter as `(name, value)`, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (&**n, v.as_str()))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the route has no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The matched route's pattern, as written (`/articles/{slug:slug}/`).
    pub fn pattern(&self) -> Option<&str> {
        self.pattern.as_deref()
    }

    /// The matched route's name, namespace included (`admin:index`).
    pub fn route_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

mod sealed {
    pub trait Sealed {}
    impl<B> Sealed for http::Request<B> {}
}

/// Helpers to read a request inside a handler, on tack's [`Body`](tack_http::Body) or any
/// other body type with a default (axum's `Body`; hyper's `Incoming` has
/// none: map it into tack's `Body` first).
///
/// Errors are [`Error`]s with the right status (404 for a path parameter
/// that does not convert, 400 for a malformed query or body, 413 past the
/// body limit, 415 for the wrong media type), so a handler returns them
/// with `?`.
pub trait RequestExt: sealed::Sealed {
    /// One path parameter, parsed with `FromStr`.
    fn path_param<T>(&self, name: &str) -> Result<T, Error>
    where
        T: FromStr,
        T::Err: Display;

    /// All path parameters into a struct (field names are parameter names).
    fn path_params<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The query string into a type (missing query = empty).
    fn query<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The router's URL names, to reverse URLs.
    fn urls(&self) -> Option<&Urls>;

    /// Sets the body size limit for the readers below.
    fn set_body_limit(&mut self, bytes: usize) -> &mut Self;

    /// Takes the whole body, up to the body limit (413 past it).
    fn bytes(&mut self) -> impl Future<Output = Result<Bytes, Error>> + Send + 'static;

    /// Takes the body as JSON (`Content-Type: application/json` or `+json`).
    fn json<T: DeserializeOwned>(
        &mut self,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static;

    /// Takes the body as an urlencoded form
    /// (`Content-Type: application/x-www-form-urlencoded`).
    fn form<T: DeserializeOwned>(
        &mut self,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static;
}

impl<B> RequestExt for Request<B>
where
    B: http_body::Body<Data = Bytes> + Default + Send + 'static,
    B::Error: Into<tack_http::BoxError>,
{
    fn path_param<T>(&self, name: &str) -> Result<T, Error>
    where
        T: FromStr,
        T::Err: Display,
    {
        let params = self.extensions().get::<PathParams>();
        let value = params
            .and_then(|p| p.get(name))
            .ok_or_else(|| Error::MissingPathParam {
                name: name.to_owned(),
                route: params
                    .and_then(PathParams::pattern)
                    .unwrap_or("(no route)")
                    .to_owned(),
            })?;
        value.parse().map_err(|e: T::Err| Error::InvalidPathParam {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: e.to_string(),
        })
    }

    fn path_params<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let empty = PathParams::default();
        let params = self.extensions().get::<PathParams>().unwrap_or(&empty);
        // serde_urlencoded parses numbers and booleans from text, which is
        // exactly what path values are.
        let encoded =
            serde_urlencoded::to_string(params.iter().collect::<Vec<_>>()).unwrap_or_default();
        serde_urlencoded::from_str(&encoded).map_err(|e| Error::InvalidPathParam {
            name: params.iter().map(|(n, _)| n).collect::<Vec<_>>().join(", "),
            value: params.iter().map(|(_, v)| v).collect::<Vec<_>>().join(", "),
            reason: e.to_string(),
        })
    }

    fn query<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_urlencoded::from_str(self.uri().query().unwrap_or("")).map_err(Error::InvalidQuery)
    }

    fn urls(&self) -> Option<&Urls> {
        self.extensions().get::<Urls>()
    }

    fn set_body_limit(&mut self, bytes: usize) -> &mut Self {
        self.extensions_mut().insert(BodyLimit(bytes));
        self
    }

    fn bytes(&mut self) -> impl Future<Output = Result<Bytes, Error>> + Send + 'static {
        let limit = self
            .extensions()
            .get::<BodyLimit>()
            .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        let declared = self
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = std::mem::take(self.body_mut());
        async move {
            if declared.is_some_and(|length| length > limit as u64) {
                return Err(Error::PayloadTooLarge { limit });
            }
            match Limited::new(body, limit).collect().await {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(error) if error.is::<LengthLimitError>() => {
                    Err(Error::PayloadTooLarge { limit })
                }
                Err(error) => Err(Error::BodyRead(error)),
            }
        }
    }

    fn json<T: DeserializeOwned>(
        &mut self,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static {
        let media = media_type(self);
        let is_json = media == "application/json"
            || (media.starts_with("application/") && media.ends_with("+json"));
        let bytes = self.bytes();
        async move {
            if !is_json {
                return Err(Error::UnsupportedMediaType {
                    expected: "application/json",
                    found: media,
                });
            }
            serde_json::from_slice(&bytes.await?).map_err(Error::InvalidJson)
        }
    }

    fn form<T: DeserializeOwned>(
        &mut self,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static {
        let media = media_type(self);
        let bytes = self.bytes();
        async move {
            if media != "application/x-www-form-urlencoded" {
                return Err(Error::UnsupportedMediaType {
                    expected: "application/x-www-form-urlencoded",
                    found: media,
                });
            }
            serde_urlencoded::from_bytes(&bytes.await?).map_err(Error::InvalidForm)
        }
    }
}

/// The request's media type, lowercase, without parameters ("none" if absent).
fn media_type<B>(request: &Request<B>) -> String {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or_else(
            || "none".to_owned(),
            |v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            },
        )
}
