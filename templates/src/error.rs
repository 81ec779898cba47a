//! The crate's one error type.

use std::fmt::Write as _;
use std::path::PathBuf;

use http::StatusCode;
use minijinja::ErrorKind;
use tack_http::{Html, IntoResponse, Response};

/// Everything that can go wrong while loading or rendering a template.
///
/// Template errors name the template, the line and the problem; an error
/// raised inside an included template also says where it was included from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No template directory nor embedded set has a template of this name.
    #[error(
        "template {name:?} was not found (looked in {searched}); check its name or add the file"
    )]
    NotFound {
        /// The name that was asked for.
        name: String,
        /// Where the environment looked, in order.
        searched: String,
    },
    /// The template source does not parse.
    #[error("syntax error in template {name:?}{}: {detail}", located(*line, source))]
    Syntax {
        /// The template whose source is wrong.
        name: String,
        /// The line of the mistake, when known.
        line: Option<usize>,
        /// What is wrong.
        detail: String,
        /// The engine's error (with the include chain as its sources).
        source: minijinja::Error,
    },
    /// The template parsed but failed while rendering (an unknown filter, a
    /// bad operation, a failing `url()`, a missing include…).
    #[error("error rendering template {name:?}{}: {detail}", located(*line, source))]
    Render {
        /// The template in which rendering failed.
        name: String,
        /// The line that failed, when known.
        line: Option<usize>,
        /// What went wrong.
        detail: String,
        /// The engine's error (with the include chain as its sources).
        source: minijinja::Error,
    },
    /// A template directory could not be read.
    #[error("template directory {} cannot be used: {source}", path.display())]
    Directory {
        /// The directory as configured.
        path: PathBuf,
        /// Why it cannot be used.
        source: std::io::Error,
    },
    /// An embedded template does not parse (checked when the environment is built).
    #[error("embedded template {name:?} line {line}: {detail}")]
    Embedded {
        /// The embedded template's name.
        name: String,
        /// The line of the mistake (0 when unknown).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The static files manifest is not a JSON object of names to hashed names.
    #[error("static manifest is not valid: {detail}")]
    Manifest {
        /// What is wrong with it.
        detail: String,
    },
}

/// ` line N` plus the include chain, for messages.
fn located(line: Option<usize>, source: &minijinja::Error) -> String {
    let mut out = String::new();
    if let Some(line) = line {
        let _ = write!(out, " line {line}");
    }
    let chain = include_chain(source);
    for (name, line) in chain.iter().rev() {
        let _ = write!(out, ", included from {name:?}");
        if let Some(line) = line {
            let _ = write!(out, " line {line}");
        }
    }
    out
}

/// The engine errors of a chain, outermost first.
fn engine_errors(error: &minijinja::Error) -> Vec<&minijinja::Error> {
    let mut errors = vec![error];
    let mut next = std::error::Error::source(error);
    while let Some(current) = next {
        if let Some(engine) = current.downcast_ref::<minijinja::Error>() {
            errors.push(engine);
        }
        next = current.source();
    }
    errors
}

/// The templates that included the failing one, outermost first.
fn include_chain(error: &minijinja::Error) -> Vec<(String, Option<usize>)> {
    let errors = engine_errors(error);
    errors[..errors.len() - 1]
        .iter()
        .filter(|e| e.kind() == ErrorKind::BadInclude)
        .filter_map(|e| Some((e.name()?.to_owned(), e.line())))
        .collect()
}

impl Error {
    /// Classifies an engine error by its innermost cause.
    pub(crate) fn from_engine(error: minijinja::Error, fallback_name: &str) -> Error {
        let errors = engine_errors(&error);
        // `engine_errors` always holds at least the error itself.
        let root = errors[errors.len() - 1];
        let name = root.name().unwrap_or(fallback_name).to_owned();
        let line = root.line();
        let detail = match root.detail() {
            Some(detail) => detail.to_owned(),
            None => root.kind().to_string(),
        };
        if root.kind() == ErrorKind::SyntaxError {
            Error::Syntax {
                name,
                line,
                detail,
                source: error,
            }
        } else {
            Error::Render {
                name,
                line,
                detail,
                source: error,
            }
        }
    }

    /// The HTTP status a page failing with this error answers: always 500,
    /// since every template problem is the server's.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The template at fault, when the error is about one.
    pub fn template_name(&self) -> Option<&str> {
        match self {
            Error::NotFound { name, .. }
            | Error::Syntax { name, .. }
            | Error::Render { name, .. }
            | Error::Embedded { name, .. } => Some(name),
            Error::Directory { .. } | Error::Manifest { .. } => None,
        }
    }

    /// The line at fault, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::Syntax { line, .. } | Error::Render { line, .. } => *line,
            Error::Embedded { line, .. } => Some(*line).filter(|line| *line > 0),
            _ => None,
        }
    }

    /// A detailed HTML page for developers: the message, then the source of
    /// each template involved around the failing line, all escaped.
    ///
    /// Sources are only known when the environment runs in debug mode; never
    /// show this page in production.
    pub fn debug_page(&self) -> String {
        crate::debug_page::render(self)
    }

    /// Sources around failing lines, innermost template first:
    /// `(template, line, source)`.
    pub(crate) fn sources(&self) -> Vec<(String, Option<usize>, String)> {
        let (Error::Syntax { source, .. } | Error::Render { source, .. }) = self else {
            return Vec::new();
        };
        engine_errors(source)
            .into_iter()
            .rev()
            .filter_map(|e| {
                let text = e.template_source()?;
                Some((
                    e.name().unwrap_or("<unknown>").to_owned(),
                    e.line(),
                    text.to_owned(),
                ))
            })
            .collect()
    }
}

/// The generic 500 page: it reveals nothing about the failure.
pub(crate) const SERVER_ERROR_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error</title></head>\n<body><h1>Server error (500)</h1><p>Something went wrong on our side. Please try again later.</p></body></html>\n";

impl IntoResponse for Error {
    /// A 500 page that reveals nothing; use
    /// [`Templates::error_response`](crate::Templates::error_response) for
    /// the project's `500.html` or the debug page.
    fn into_response(self) -> Response {
        (self.status(), Html(SERVER_ERROR_PAGE)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_errors_name_the_inner_template_and_the_chain() {
        let mut env = minijinja::Environment::new();
        env.add_template("a.html", "one\n{% include 'b.html' %}")
            .unwrap();
        env.add_template("b.html", "x\ny\n{{ 1 + 'a' }}").unwrap();
        let engine = env.get_template("a.html").unwrap().render(()).unwrap_err();
        let error = Error::from_engine(engine, "a.html");
        assert_eq!(error.template_name(), Some("b.html"));
        assert_eq!(error.line(), Some(3));
        let message = error.to_string();
        assert!(message.contains("\"b.html\" line 3"), "{message}");
        assert!(
            message.contains("included from \"a.html\" line 2"),
            "{message}"
        );
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
