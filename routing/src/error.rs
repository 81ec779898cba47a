//! The crate's one error type and how errors become responses.

use http::StatusCode;
use http::header::{ALLOW, HeaderValue};
use tack_http::{BoxError, IntoResponse, Problem, Response};

/// Everything that can go wrong in routing: building routes, reversing
/// URLs, and reading requests.
///
/// Every variant knows its HTTP status ([`Error::status`]). Returned from a
/// handler (`Result<T, Error>`), it becomes an error response that the
/// [`Router`](crate::Router) renders for the client: problem+json for
/// clients that prefer JSON, the HTML error page for the others.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No route matches the path (404).
    #[error("no route matches {path}")]
    NotFound {
        /// The request path.
        path: String,
    },
    /// A route matches the path but not the method (405).
    #[error("{method} is not allowed on {path}; allowed: {allow}")]
    MethodNotAllowed {
        /// The request method.
        method: http::Method,
        /// The request path.
        path: String,
        /// The allowed methods, comma-separated.
        allow: String,
    },
    /// The request body is larger than the limit (413).
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body's media type is not the one the handler reads (415).
    #[error("expected a body with Content-Type {expected}, got {found}")]
    UnsupportedMediaType {
        /// The media type the handler reads.
        expected: &'static str,
        /// The request's Content-Type (or "none").
        found: String,
    },
    /// The body is not valid JSON for the expected type (400).
    #[error("the JSON body is invalid: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The body is not a valid form for the expected type (400).
    #[error("the form body is invalid: {0}")]
    InvalidForm(#[source] serde_urlencoded::de::Error),
    /// The query string does not fit the expected type (400).
    #[error("the query string is invalid: {0}")]
    InvalidQuery(#[source] serde_urlencoded::de::Error),
    /// The body could not be read (400).
    #[error("the request body could not be read: {0}")]
    BodyRead(#[source] BoxError),
    /// A path parameter does not convert to the type asked for (404, as a
    /// value that does not match a route's converter).
    #[error("the path parameter '{name}' = {value:?} is invalid: {reason}")]
    InvalidPathParam {
        /// The parameter's name.
        name: String,
        /// Its value.
        value: String,
        /// Why it does not convert.
        reason: String,
    },
    /// A handler asked for a path parameter its route does not have (500).
    #[error("the route {route} has no path parameter '{name}'")]
    MissingPathParam {
        /// The parameter asked for.
        name: String,
        /// The matched route's pattern (or "no route" outside the router).
        route: String,
    },
    /// A handler panicked (500). The message shows only in debug mode.
    #[error("the handler panicked: {message}")]
    Panic {
        /// The panic's message.
        message: String,
    },
    /// A mounted service failed (500). The error shows only in debug mode.
    #[error("the service failed: {0}")]
    Service(#[source] BoxError),
    /// Any status with a message, for handlers (`Error::http(403, "...")`).
    #[error("{detail}")]
    Http {
        /// The status to answer.
        status: StatusCode,
        /// What went wrong, shown to the client.
        detail: String,
    },
    /// A route pattern is malformed.
    #[error("invalid route pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A route pattern conflicts with one already registered.
    #[error("the route {pattern:?} conflicts with {existing}")]
    RouteConflict {
        /// The pattern being added.
        pattern: String,
        /// The route it conflicts with (or the matcher's explanation).
        existing: String,
    },
    /// Two routes got the same name.
    #[error("the route name {name:?} is already used by {pattern:?}")]
    DuplicateName {
        /// The name.
        name: String,
        /// The pattern that has it.
        pattern: String,
    },
    /// No route has this name.
    #[error("no route is named {name:?}")]
    UnknownRoute {
        /// The name asked for.
        name: String,
    },
    /// Reversing without a parameter the pattern needs.
    #[error("reversing {route:?} ({pattern}) needs the parameter '{param}'")]
    MissingReverseParam {
        /// The route's name.
        route: String,
        /// The missing parameter.
        param: String,
        /// The route's pattern.
        pattern: String,
    },
    /// Reversing with a parameter the pattern does not have.
    #[error("the route {route:?} ({pattern}) has no parameter '{param}'")]
    UnexpectedReverseParam {
        /// The route's name.
        route: String,
        /// The unknown parameter.
        param: String,
        /// The route's pattern.
        pattern: String,
    },
    /// Reversing with a value its converter does not accept.
    #[error("the value {value:?} for '{param}' of {route:?} is not a valid {converter}")]
    InvalidReverseParam {
        /// The route's name.
        route: String,
        /// The parameter.
        param: String,
        /// The value given.
        value: String,
        /// The converter's name (`int`, `slug`, ...).
        converter: &'static str,
    },
}

impl Error {
    /// An error with any status and a message for the client.
    pub fn http(status: StatusCode, detail: impl Into<String>) -> Self {
        Error::Http {
            status,
            detail: detail.into(),
        }
    }

    /// The HTTP status this error answers.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } | Error::InvalidPathParam { .. } => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::InvalidJson(_)
            | Error::InvalidForm(_)
            | Error::InvalidQuery(_)
            | Error::BodyRead(_) => StatusCode::BAD_REQUEST,
            Error::Http { status, .. } => *status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message and its sources, one per line.
    fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(error) = source {
            let line = error.to_string();
            if !text.contains(&line) {
                text.push_str("\ncaused by: ");
                text.push_str(&line);
            }
            source = error.source();
        }
        text
    }
}

/// What the router needs to render an error response; travels in the
/// response's extensions from wherever the error was made.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub(crate) status: StatusCode,
    /// Safe to show to anyone.
    pub(crate) detail: String,
    /// Shown only in debug mode.
    pub(crate) debug: Option<String>,
}

impl IntoResponse for Error {
    /// A problem+json response carrying what the router needs to render
    /// the page the client prefers. Server errors (5xx) hide their cause
    /// from the client unless the router's debug mode is on.
    fn into_response(self) -> Response {
        let status = self.status();
        let (detail, debug) = if status.is_server_error() {
            let public = "The server could not answer this request.".to_owned();
            (public, Some(self.chain()))
        } else {
            (self.to_string(), None)
        };
        let mut response = Problem::new(status)
            .with_detail(detail.clone())
            .into_response();
        if let Error::MethodNotAllowed { allow, .. } = &self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.headers_mut().insert(ALLOW, value);
        }
        response.extensions_mut().insert(ErrorInfo {
            status,
            detail,
            debug,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases = [
            (Error::NotFound { path: "/x".into() }, 404),
            (Error::PayloadTooLarge { limit: 1 }, 413),
            (Error::http(StatusCode::FORBIDDEN, "no"), 403),
            (
                Error::Panic {
                    message: "boom".into(),
                },
                500,
            ),
            (Error::UnknownRoute { name: "x".into() }, 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
        }
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let response = Error::Panic {
            message: "secret".into(),
        }
        .into_response();
        let info = response.extensions().get::<ErrorInfo>().unwrap();
        assert!(!info.detail.contains("secret"));
        assert!(info.debug.as_deref().unwrap().contains("secret"));
    }
}
