//! The crate's one error type.

use http::StatusCode;

/// A type-erased error from a store's backend (a database driver, say).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in sessions, signing and messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The signature does not match: the value was changed, or signed with
    /// a key (or salt) that is neither the current key nor a fallback key.
    #[error(
        "bad signature: the value was changed or signed with another key or salt \
         (add the old key with `with_fallback_keys` when rotating keys)"
    )]
    BadSignature,
    /// The signature is valid but older than the maximum age allowed.
    #[error("signature expired: signed {age_secs} s ago, but at most {max_age_secs} s are allowed")]
    SignatureExpired {
        /// Seconds since the value was signed.
        age_secs: u64,
        /// The maximum age allowed, in seconds.
        max_age_secs: u64,
    },
    /// A session value (or a signed object) could not be converted to or
    /// from JSON.
    #[error("session value `{key}` could not be converted to or from JSON: {source}")]
    Json {
        /// The session key (or `signed value` for signed objects).
        key: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The signed-cookie store was asked to save more than a cookie holds.
    #[error(
        "the session cookie would be {size} bytes, over the {limit}-byte limit: \
         keep less in the session, or use a server-side store (memory or database)"
    )]
    CookieTooLarge {
        /// The size of the signed cookie value.
        size: usize,
        /// The limit configured on the store.
        limit: usize,
    },
    /// The session was deleted while the request ran (a logout in a
    /// concurrent request, say): it is not saved back (Django's
    /// `SessionInterrupted`), and the request answers 400.
    #[error(
        "the request's session was deleted before the request completed; \
         the user may have signed out in a concurrent request"
    )]
    SessionInterrupted,
    /// A store's backend failed (the database is unreachable, say).
    #[error("the session store failed while trying to {action}: {source}")]
    Store {
        /// What the store was doing: `load`, `save`, `delete` or `clear expired`.
        action: &'static str,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// The HTTP status a response should carry for this error: 503 when the
    /// store is unavailable, 400 for an interrupted session, 500 otherwise
    /// (a bad cookie never becomes an error, it starts a fresh session).
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Store { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::SessionInterrupted => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Wraps a backend error; for store implementations.
    pub fn store(action: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Store {
            action,
            source: source.into(),
        }
    }
}

/// The error as a response: its status, with a generic problem (the cause
/// is for the log, not the client), except for an interrupted session,
/// which says so.
impl tack_http::IntoResponse for Error {
    fn into_response(self) -> tack_http::Response {
        let status = self.status();
        let problem = tack_http::Problem::new(status);
        let problem = if matches!(self, Error::SessionInterrupted) {
            problem.with_detail(self.to_string())
        } else {
            problem.with_detail("The session could not be loaded or saved.")
        };
        tack_http::IntoResponse::into_response(problem)
    }
}
