//! The crate's one error type, and how it answers HTTP.

use http::StatusCode;
use http::header::{ALLOW, HeaderValue};
use tack_http::{IntoResponse, Problem, Response};
use tack_orm::ValidationErrors;

use crate::permission::Action;

/// Everything a CRUD request can fail with. Each error knows its status
/// ([`Error::status`]) and answers `application/problem+json`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No row with this primary key (or the key does not parse, or the row
    /// is outside the query-set scope).
    #[error("no {model} with {pk_name} {pk:?}")]
    NotFound {
        /// The model's name.
        model: &'static str,
        /// The primary key field's name.
        pk_name: &'static str,
        /// The key from the URL.
        pk: String,
    },
    /// The path is not the collection nor one object.
    #[error("no route for {path:?} here: use / for the collection and /{{pk}}/ for one object")]
    NoRoute {
        /// The path received.
        path: String,
    },
    /// The method is not served on this path.
    #[error("method {method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The method received.
        method: http::Method,
        /// The allowed methods, comma separated.
        allow: &'static str,
    },
    /// The permission check refused the action.
    #[error("you do not have permission to {action} {model} objects")]
    Forbidden {
        /// What was attempted.
        action: Action,
        /// The model's name.
        model: &'static str,
    },
    /// The request body is not JSON.
    #[error("send the body as application/json (got {content_type:?})")]
    UnsupportedMediaType {
        /// The content type received.
        content_type: String,
    },
    /// The request body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read or is not a JSON object.
    #[error("malformed JSON body: {message}")]
    MalformedJson {
        /// What the parser said.
        message: String,
    },
    /// The body names fields that cannot be written.
    #[error("unknown fields in the body: {}; writable fields: {}", fields.join(", "), writable.join(", "))]
    UnknownFields {
        /// The offending names.
        fields: Vec<String>,
        /// The fields that can be written.
        writable: Vec<&'static str>,
    },
    /// Query parameters that are not filters, search, ordering or pagination.
    #[error("unknown query parameters: {}; allowed: {}", params.join(", "), allowed.join(", "))]
    UnknownParameters {
        /// The offending names.
        params: Vec<String>,
        /// Every accepted name.
        allowed: Vec<String>,
    },
    /// `?ordering=` names fields that cannot be ordered by.
    #[error("cannot order by {}; ordering fields: {}", fields.join(", "), allowed.join(", "))]
    UnknownOrdering {
        /// The offending names.
        fields: Vec<String>,
        /// The fields accepted.
        allowed: Vec<String>,
    },
    /// A query parameter's value does not parse for its field.
    #[error("invalid value {value:?} for {param}: {message}")]
    InvalidParameter {
        /// The parameter.
        param: String,
        /// The value received.
        value: String,
        /// Why it was refused.
        message: String,
    },
    /// `?page=` beyond the last page.
    #[error("page {page} does not exist (there are {pages} pages)")]
    PageOutOfRange {
        /// The page asked for.
        page: u64,
        /// How many pages there are.
        pages: u64,
    },
    /// The data is invalid; nothing was written.
    #[error("invalid {model}: {errors}")]
    Invalid {
        /// The model's name.
        model: &'static str,
        /// Messages per field.
        errors: ValidationErrors,
    },
    /// A unique value is taken, or another row still refers to this one.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// Messages per field, when the field is known.
        errors: ValidationErrors,
    },
    /// A hook refused the request with its own problem.
    #[error("{0}")]
    Rejected(Box<Problem>),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] tack_orm::Error),
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } | Error::NoRoute { .. } | Error::PageOutOfRange { .. } => {
                StatusCode::NOT_FOUND
            }
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::MalformedJson { .. }
            | Error::UnknownFields { .. }
            | Error::UnknownParameters { .. }
            | Error::UnknownOrdering { .. }
            | Error::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::Rejected(problem) => problem.status_code(),
            Error::Database(error) => error.status(),
        }
    }

    /// The problem document this error answers with. Database errors that
    /// are not the client's fault keep their details out of the answer.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let mut problem = match self {
            Error::Rejected(problem) => return (**problem).clone(),
            Error::Database(_) if status.is_server_error() => {
                let detail = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "the database is unavailable; try again shortly"
                } else {
                    "the database failed to answer this request"
                };
                Problem::new(status).with_detail(detail)
            }
            _ => Problem::new(status).with_detail(self.to_string()),
        };
        let errors = match self {
            Error::Invalid { errors, .. } | Error::Conflict { errors, .. } => Some(errors),
            Error::Database(error) => error.validation_errors(),
            _ => None,
        };
        for (field, messages) in errors.map(ValidationErrors::fields).into_iter().flatten() {
            for message in messages {
                problem = problem.with_field_error(field.clone(), message.clone());
            }
        }
        if let Error::UnknownFields { fields, .. } = self {
            for field in fields {
                problem = problem.with_field_error(field.clone(), "this field cannot be written");
            }
        }
        problem
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::Rejected(Box::new(problem))
    }
}

impl IntoResponse for Error {
    /// The problem response; server errors are logged with their details
    /// (through `tracing`), which the answer keeps to itself.
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "tack-crud request failed");
        }
        let mut response = self.to_problem().into_response();
        if let Error::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases = [
            (
                Error::NotFound {
                    model: "Article",
                    pk_name: "id",
                    pk: "x".into(),
                },
                404,
            ),
            (
                Error::MethodNotAllowed {
                    method: http::Method::PUT,
                    allow: "GET",
                },
                405,
            ),
            (
                Error::Forbidden {
                    action: Action::Create,
                    model: "Article",
                },
                403,
            ),
            (
                Error::MalformedJson {
                    message: "eof".into(),
                },
                400,
            ),
            (
                Error::Invalid {
                    model: "Article",
                    errors: ValidationErrors::new(),
                },
                422,
            ),
            (
                Error::Conflict {
                    message: "slug".into(),
                    errors: ValidationErrors::new(),
                },
                409,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
        }
    }

    #[test]
    fn server_errors_hide_database_details() {
        let error = Error::Database(tack_orm::Error::Query("SELECT secret".into()));
        let problem = error.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.unwrap_or_default().contains("secret"));
    }

    #[test]
    fn method_not_allowed_sets_allow() {
        let response = Error::MethodNotAllowed {
            method: http::Method::PUT,
            allow: "GET, POST",
        }
        .into_response();
        assert_eq!(response.headers()[ALLOW], "GET, POST");
    }
}
