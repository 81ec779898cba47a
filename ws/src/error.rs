//! The crate's one error type.

use http::StatusCode;
use tack_http::{IntoResponse, Problem, Response};

/// Everything that can go wrong in `tack-ws`.
///
/// Handshake errors know their HTTP status ([`Error::status`]) and become a
/// response in one place ([`Error::into_response`]): `application/problem+json`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The upgrade request is not a valid RFC 6455 opening handshake.
    #[error("bad websocket handshake: {0}")]
    Handshake(String),

    /// The client speaks a websocket version other than 13 (RFC 6455).
    #[error("Sec-WebSocket-Version {version} is not supported: use 13")]
    UnsupportedVersion {
        /// The version the client asked for.
        version: String,
    },

    /// The request's `Origin` is not allowed (cross-site websocket hijacking guard).
    #[error(
        "websocket origin {origin:?} is not allowed: add it to the endpoint's allowed origins \
         (`WsConfig::with_allowed_origin`) or serve the page from the same host"
    )]
    OriginNotAllowed {
        /// The `Origin` header the browser sent.
        origin: String,
    },

    /// The request carries no hyper upgrade handle, so the connection cannot run.
    #[error(
        "the request cannot be upgraded: serve the websocket endpoint with hyper 1 \
         (or a framework on it, such as axum) and enable upgrades \
         (`http1::Builder::serve_connection(..).with_upgrades()`)"
    )]
    NoUpgrade,

    /// The connection is closed (or closing): nothing more can be sent.
    #[error("websocket connection {id} is closed")]
    Closed {
        /// The connection's id.
        id: u64,
    },

    /// The connection's send queue is full: the client reads too slowly and is
    /// being disconnected (close code 1008).
    #[error(
        "websocket connection {id} is too slow: its send queue of {capacity} messages is full, \
         so it is being disconnected (raise `WsConfig::with_send_queue` if bursts are expected)"
    )]
    QueueFull {
        /// The connection's id.
        id: u64,
        /// The queue's capacity in messages.
        capacity: usize,
    },

    /// A group or channel name that cannot be used.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A message could not be serialized to JSON.
    #[error("cannot serialize the websocket message to JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// The channel layer's backend failed (connection lost, query refused).
    #[error("channel layer failure: {message}")]
    Layer {
        /// What failed, naming the server or channel.
        message: String,
        /// The backend's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// The HTTP status this error answers when it happens during the handshake.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Handshake(_) | Error::UnsupportedVersion { .. } => StatusCode::BAD_REQUEST,
            Error::OriginNotAllowed { .. } => StatusCode::FORBIDDEN,
            Error::InvalidName { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 9457 problem document for this error.
    pub fn to_problem(&self) -> Problem {
        Problem::new(self.status()).with_detail(self.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        let origin = Error::OriginNotAllowed {
            origin: "https://evil.example".into(),
        };
        assert_eq!(origin.status(), StatusCode::FORBIDDEN);
        assert!(origin.to_string().contains("https://evil.example"));
        let response = Error::Handshake("missing Sec-WebSocket-Key".into()).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            tack_http::PROBLEM_JSON
        );
    }
}
