//! The ORM's one error type.

use std::collections::BTreeMap;

use http::StatusCode;

/// Per-field validation messages, keyed by field name (`"__all__"` for the
/// model as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.fields
            .entry(field.into())
            .or_default()
            .push(message.into());
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The messages for one field.
    pub fn get(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// Every field with its messages, in field-name order.
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.fields
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, messages) in &self.fields {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in the ORM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `get` found no row.
    #[error("no {model} matches the query")]
    NotFound {
        /// The model's name.
        model: &'static str,
    },
    /// `get` found more than one row.
    #[error("{count} {model} rows match a query that should match one: narrow the filter")]
    MultipleFound {
        /// The model's name.
        model: &'static str,
        /// How many rows matched (at least two).
        count: u64,
    },
    /// A unique constraint refused the write.
    #[error("unique constraint {constraint} violated: a row with this value already exists")]
    UniqueViolation {
        /// The constraint, or `table.column` on SQLite.
        constraint: String,
        /// The database's own message.
        #[source]
        source: Source,
    },
    /// Another integrity rule refused the write (foreign key, not null, check),
    /// including deleting a row that protected rows still refer to.
    #[error("integrity error: {message}")]
    Integrity {
        /// What was refused.
        message: String,
        /// The database's error.
        #[source]
        source: Source,
    },
    /// The database connection broke; the pool replaces it.
    #[error("the database connection was lost: {source}")]
    ConnectionLost {
        /// The driver's error.
        #[source]
        source: Source,
    },
    /// The database is busy (locked, or no pooled connection became free in time).
    #[error("the database is busy: {message}")]
    Busy {
        /// What was busy.
        message: String,
    },
    /// The model's data is invalid; nothing was written.
    #[error("invalid {model}: {errors}")]
    Validation {
        /// The model's name.
        model: &'static str,
        /// The messages per field.
        errors: ValidationErrors,
    },
    /// A field name (from code or a query string) that the model does not have.
    #[error("{model} has no field {field:?}{hint}")]
    UnknownField {
        /// The model searched.
        model: &'static str,
        /// The name asked for.
        field: String,
        /// Extra detail (the fields it has, or a wrong lookup).
        hint: String,
    },
    /// A value that cannot be used for a field.
    #[error("invalid value for {field}: {message}")]
    InvalidValue {
        /// The field (or path) the value was for.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// The database URL is not one this build understands.
    #[error("cannot use database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL (without a password).
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other database error, with the SQL that failed.
    #[error("database error: {source} (in: {sql})")]
    Database {
        /// The statement that failed.
        sql: String,
        /// The driver's error.
        #[source]
        source: Source,
    },
    /// A query or API misuse that the ORM refuses, said in words.
    #[error("{0}")]
    Query(String),
}

/// The ORM's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status this error should answer with: 404 not found, 409
    /// integrity, 422 validation, 400 bad field names or values, 503 when the
    /// database is unreachable or busy, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::UniqueViolation { .. } | Error::Integrity { .. } => StatusCode::CONFLICT,
            Error::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::UnknownField { .. } | Error::InvalidValue { .. } => StatusCode::BAD_REQUEST,
            Error::ConnectionLost { .. } | Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// The validation messages, when this is [`Error::Validation`].
    pub fn validation_errors(&self) -> Option<&ValidationErrors> {
        match self {
            Error::Validation { errors, .. } => Some(errors),
            _ => None,
        }
    }

    pub(crate) fn query(message: impl Into<String>) -> Self {
        Error::Query(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases = [
            (Error::NotFound { model: "Article" }, 404),
            (
                Error::MultipleFound {
                    model: "Article",
                    count: 2,
                },
                500,
            ),
            (
                Error::Busy {
                    message: "locked".into(),
                },
                503,
            ),
            (
                Error::Validation {
                    model: "Article",
                    errors: ValidationErrors::new(),
                },
                422,
            ),
            (
                Error::UnknownField {
                    model: "Article",
                    field: "x".into(),
                    hint: String::new(),
                },
                400,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
        }
    }
}
