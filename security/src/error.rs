//! The crate's one error type, and how it becomes a response.

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use tack_http::{PROBLEM_JSON, Problem};

/// A type-erased error, as tower and hyper use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An unsafe request came without the CSRF cookie (or session secret).
    #[error(
        "CSRF cookie not set: the browser sent no CSRF cookie with this request. \
         Render the form from a page that used the CSRF token, and make sure cookies are enabled"
    )]
    CsrfCookieMissing,
    /// An unsafe request came without a token.
    #[error(
        "CSRF token missing: send it in the `csrfmiddlewaretoken` form field \
         (urlencoded and multipart forms; put it first in a multipart form) or the `X-CSRFToken` header"
    )]
    CsrfTokenMissing,
    /// The token sent is not the right length or uses characters a token never has.
    #[error(
        "CSRF token has the wrong format: expected 32 or 64 letters and digits, got {length} characters"
    )]
    CsrfTokenMalformed {
        /// The length of what was sent.
        length: usize,
    },
    /// The token sent does not match the secret.
    #[error(
        "CSRF token incorrect: the token does not match the CSRF cookie. \
         Reload the page that holds the form and submit again"
    )]
    CsrfTokenIncorrect,
    /// The `Origin` header names a site that is neither this one nor trusted.
    #[error("origin checking failed: {origin} does not match this site or any trusted origin")]
    OriginMismatch {
        /// The `Origin` sent.
        origin: String,
    },
    /// An HTTPS request came with neither `Origin` nor `Referer`.
    #[error("Referer checking failed: no Referer or Origin header on an HTTPS request")]
    RefererMissing,
    /// The `Referer` is not an HTTPS URL of this site or a trusted origin.
    #[error(
        "Referer checking failed: {referer} is not an HTTPS page of this site or a trusted origin"
    )]
    RefererMismatch {
        /// The `Referer` sent.
        referer: String,
    },
    /// A form body was larger than the layer reads.
    #[error("the form body is larger than the {limit}-byte limit for reading the CSRF token")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the request body could not be read: {0}")]
    Body(#[source] BoxError),
    /// The `Host` header is missing, malformed or not an allowed host.
    #[error(
        "invalid Host header: {host:?}; add it to the allowed hosts if this site should answer it"
    )]
    DisallowedHost {
        /// The host sent (empty when missing).
        host: String,
    },
    /// The request sent several `Host` headers: which one a proxy and this
    /// server believe could differ.
    #[error("the request has more than one Host header ({hosts}); send one")]
    AmbiguousHost {
        /// The headers' values, comma separated.
        hosts: String,
    },
}

impl Error {
    /// The status a response carries: 403 for CSRF failures, 413 for an
    /// oversized form, 400 for a bad body or host.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Body(_) | Error::DisallowedHost { .. } | Error::AmbiguousHost { .. } => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::FORBIDDEN,
        }
    }

    /// Whether this is a CSRF verification failure.
    pub fn is_csrf(&self) -> bool {
        self.status() == StatusCode::FORBIDDEN
    }

    /// The response for this error: problem+json for JSON clients, a page
    /// otherwise; a CSRF or host refusal explains its cause only when
    /// `debug` is on (the layers log it either way).
    pub fn to_response<B: From<String>>(
        &self,
        request_headers: &HeaderMap,
        debug: bool,
    ) -> Response<B> {
        let status = self.status();
        let (content_type, body) = if wants_json(request_headers) {
            // The reason goes to the log (the layers log it); in production
            // the client learns only that it was refused, as in Django.
            let detail = if debug {
                self.to_string()
            } else if self.is_csrf() {
                "CSRF verification failed. Request aborted.".to_owned()
            } else if let Error::DisallowedHost { .. } | Error::AmbiguousHost { .. } = self {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                // A body's size or form: the client's own input, said plainly.
                self.to_string()
            };
            let mut problem = Problem::new(status).with_detail(detail);
            if self.is_csrf() {
                problem = problem.with_title("CSRF verification failed");
            }
            // A Problem holds only strings and JSON values: it always serializes.
            let json = serde_json::to_string(&problem).unwrap_or_default();
            (PROBLEM_JSON, json)
        } else {
            ("text/html; charset=utf-8", self.page(debug))
        };
        let mut response = Response::new(B::from(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }

    fn page(&self, debug: bool) -> String {
        let status = self.status();
        let title = if self.is_csrf() {
            "Forbidden: CSRF verification failed. Request aborted."
        } else {
            status.canonical_reason().unwrap_or("Error")
        };
        let mut page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{code} {title}</title></head><body>\n<h1>{code} {title}</h1>\n",
            code = status.as_u16(),
        );
        if debug {
            page.push_str(&format!(
                "<p>Reason given for failure: {}</p>\n",
                escape(&self.to_string())
            ));
            if self.is_csrf() {
                page.push_str(CSRF_HELP);
            }
            page.push_str("<p>You see this help because debug is on; production shows only the heading.</p>\n");
        } else if self.is_csrf() {
            page.push_str("<p>This site needs a valid CSRF token when submitting forms.</p>\n");
        }
        page.push_str("</body></html>\n");
        page
    }
}

const CSRF_HELP: &str = "<p>In general, this can occur when there is a genuine cross-site request \
forgery, or when the CSRF protection is not used correctly. For POST forms, make sure:</p>\n<ul>\n\
<li>the browser accepts cookies;</li>\n\
<li>the page that renders the form reads the <code>CsrfToken</code> from the request's extensions \
and puts its <code>form_field()</code> inside every &lt;form method=\"post\"&gt;;</li>\n\
<li>scripts send the token in the <code>X-CSRFToken</code> header;</li>\n\
<li>behind an HTTPS proxy, the site's own origin or the page's origin is among the trusted origins;</li>\n\
<li>the CSRF layer sits inside the session layer when the secret is kept in the session.</li>\n</ul>\n";

fn wants_json(headers: &HeaderMap) -> bool {
    let mentions_json = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .is_some_and(|value| value.contains("json"))
    };
    mentions_json(ACCEPT) || mentions_json(CONTENT_TYPE)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The error as a response when the request's headers are not at hand (a
/// handler returning it with `?`): the HTML page without the debug
/// details. With the headers, [`Error::to_response`] answers JSON clients
/// with a problem.
impl tack_http::IntoResponse for Error {
    fn into_response(self) -> tack_http::Response {
        self.to_response(&HeaderMap::new(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_page_escapes_and_explains() {
        let error = Error::OriginMismatch {
            origin: "https://<evil>".to_owned(),
        };
        let response: Response<String> = error.to_response(&HeaderMap::new(), true);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.body().contains("https://&lt;evil&gt;"));
        assert!(response.body().contains("X-CSRFToken"));
        let quiet: Response<String> = error.to_response(&HeaderMap::new(), false);
        assert!(!quiet.body().contains("evil"));
    }

    #[test]
    fn returned_from_a_handler_it_is_the_quiet_page() {
        let error = Error::OriginMismatch {
            origin: "https://evil.example".to_owned(),
        };
        let response = tack_http::IntoResponse::into_response(error);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }

    #[test]
    fn json_clients_get_a_problem() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let response: Response<String> = Error::CsrfTokenMissing.to_response(&headers, false);
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        let problem: Problem = serde_json::from_str(response.body()).unwrap();
        assert_eq!(problem.status, 403);
        assert_eq!(
            problem.detail.as_deref(),
            Some("CSRF verification failed. Request aborted."),
            "the reason is for the log in production"
        );
        let debug: Response<String> = Error::CsrfTokenMissing.to_response(&headers, true);
        let problem: Problem = serde_json::from_str(debug.body()).unwrap();
        assert!(problem.detail.unwrap().contains("X-CSRFToken"));
        let host = Error::DisallowedHost {
            host: "evil.example".into(),
        };
        let problem: Problem =
            serde_json::from_str(host.to_response::<String>(&headers, false).body()).unwrap();
        assert_eq!(problem.detail.as_deref(), Some("Bad Request"));
    }
}
