//! The crate's one error type.

use http::StatusCode;
use tack_http::{IntoResponse, Problem, Response};

/// A type-erased error from a backend (a database driver, say).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in authentication.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The username or password is wrong, or the account is inactive. One
    /// message for all three, so that it reveals nothing.
    #[error("please enter a correct username and password (both may be case-sensitive)")]
    InvalidCredentials,
    /// Too many failed sign-ins for this username or client address.
    #[error("too many failed sign-in attempts: try again in {retry_after_secs} s")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// The `Authorization: Bearer` token is unknown, revoked or expired.
    #[error("the API token is invalid, revoked or expired: create a new one")]
    InvalidToken,
    /// A new password broke one or more validators.
    #[error("the password was rejected: {}", messages.join(" "))]
    PasswordRejected {
        /// One message per broken rule.
        messages: Vec<String>,
    },
    /// A username that cannot be stored.
    #[error("invalid username {username:?}: {reason}")]
    InvalidUsername {
        /// The username given.
        username: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An email address that does not look like one.
    #[error("invalid email address {email:?}: it needs one `@` with text on both sides")]
    InvalidEmail {
        /// The address given.
        email: String,
    },
    /// A permission that is not stored (grant it after creating it with
    /// `ensure_permissions` or `create_permissions`), or is malformed.
    #[error("permission {permission:?} cannot be used: {reason}")]
    UnknownPermission {
        /// The permission as `app_label.codename`.
        permission: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A password reset token that does not verify.
    #[error("the password reset link is invalid ({reason}): request a new one")]
    InvalidResetToken {
        /// `malformed`, `bad signature`, `expired`, `already used or password changed`
        /// or `unknown user`.
        reason: &'static str,
    },
    /// Hashing failed (bad Argon2 parameters, say).
    #[error("{0}")]
    Hashing(String),
    /// The session could not be read or written.
    #[error(transparent)]
    Session(#[from] tack_sessions::Error),
    /// A user, token or throttle backend failed (the database is unreachable, say).
    #[error("the authentication backend failed while trying to {action}: {source}")]
    Backend {
        /// What the backend was doing, e.g. `load user 42`.
        action: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// Wraps a backend error; for backend implementations.
    pub fn backend(action: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Backend {
            action: action.into(),
            source: source.into(),
        }
    }

    /// The HTTP status a response should carry for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidCredentials | Error::InvalidToken => StatusCode::UNAUTHORIZED,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PasswordRejected { .. }
            | Error::InvalidUsername { .. }
            | Error::InvalidEmail { .. }
            | Error::UnknownPermission { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::InvalidResetToken { .. } => StatusCode::BAD_REQUEST,
            Error::Session(error) => error.status(),
            Error::Backend { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Hashing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error as RFC 9457 problem details. Server faults get a generic
    /// detail (the real one goes to the log, not to the client).
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let problem = Problem::new(status);
        match self {
            Error::PasswordRejected { messages } => messages
                .iter()
                .fold(problem.with_detail("Fix the password."), |p, m| {
                    p.with_field_error("password", m.clone())
                }),
            Error::InvalidUsername { .. } => problem
                .with_detail("Fix the username.")
                .with_field_error("username", self.to_string()),
            Error::InvalidEmail { .. } => problem
                .with_detail("Fix the email address.")
                .with_field_error("email", self.to_string()),
            Error::Throttled { retry_after_secs } => problem
                .with_detail(self.to_string())
                .with_extension("retry_after", (*retry_after_secs).into()),
            _ if status.is_server_error() => {
                tracing::error!(error = %self, "authentication failure");
                problem.with_detail("Authentication is unavailable right now; try again later.")
            }
            _ => problem.with_detail(self.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        crate::guard::problem_response(&self)
    }
}
