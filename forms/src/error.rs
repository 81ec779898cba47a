//! The one error type of tack-forms.

use http::StatusCode;

/// What went wrong reading or saving a form. Invalid input is not an
/// error: it is the form's [`Errors`](crate::Errors), shown beside the fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is larger than a limit (413).
    #[error(
        "the form body is larger than {limit} bytes: send less, or raise the limit in tack_forms::Limits"
    )]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// More fields than the limit (400).
    #[error("more than {limit} form fields were sent")]
    TooManyFields {
        /// The limit.
        limit: usize,
    },
    /// The body is not a readable form (400).
    #[error("{message}")]
    Malformed {
        /// What is wrong with it.
        message: String,
    },
    /// The body is not a form (415).
    #[error(
        "forms are sent as application/x-www-form-urlencoded or multipart/form-data, not {content_type}"
    )]
    UnsupportedMediaType {
        /// What was sent.
        content_type: String,
    },
    /// An upload could not be written or read (500).
    #[error("an uploaded file could not be stored: {0}")]
    Io(#[source] std::io::Error),
    /// A file field's upload was refused by its rules (size, type) or by storage (500).
    #[error("file storage refused {name}: {message}")]
    Storage {
        /// The file's name.
        name: String,
        /// Why.
        message: String,
    },
    /// The database failed while a model form read or saved.
    #[error(transparent)]
    Database(#[from] tack_orm::Error),
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyFields { .. } | Error::Malformed { .. } => StatusCode::BAD_REQUEST,
            Error::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Database(tack_orm::Error::NotFound { .. }) => StatusCode::NOT_FOUND,
            Error::Database(
                tack_orm::Error::ConnectionLost { .. } | tack_orm::Error::Busy { .. },
            ) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Io(_) | Error::Storage { .. } | Error::Database(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}
