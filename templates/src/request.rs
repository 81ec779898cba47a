//! The request as templates and context processors see it.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Extensions, HeaderMap, Method, Uri};
use minijinja::Value;

/// A borrowed view of a request: what context processors read.
///
/// Made from `&http::Request<B>` (any body) or `&http::request::Parts`, so
/// rendering never needs to own or clone the request.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
}

impl<'a> RequestView<'a> {
    /// The request method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The request URI.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The request extensions, where layers leave the session, the user,
    /// the CSRF token and the flash messages.
    pub fn extensions(&self) -> &'a Extensions {
        self.extensions
    }

    /// The path, without the query string.
    pub fn path(&self) -> &'a str {
        self.uri.path()
    }

    /// The query string, without the `?` (empty when there is none).
    pub fn query_string(&self) -> &'a str {
        self.uri.query().unwrap_or("")
    }

    /// Whether the request came over TLS, judged from its
    /// [`ClientInfo`](tack_http::ClientInfo) (set by the server, or by a
    /// proxy layer that trusts the proxy in front) or the URI's scheme
    /// (and, when `trust_forwarded_proto` is set, from `X-Forwarded-Proto`,
    /// which only a trusted proxy in front of the server may set).
    pub fn is_secure(&self, trust_forwarded_proto: bool) -> bool {
        if tack_http::ClientInfo::from_parts(self.extensions, self.uri).secure {
            return true;
        }
        trust_forwarded_proto
            && self
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

impl<'a, B> From<&'a http::Request<B>> for RequestView<'a> {
    fn from(request: &'a http::Request<B>) -> Self {
        RequestView {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        }
    }
}

impl<'a> From<&'a http::request::Parts> for RequestView<'a> {
    fn from(parts: &'a http::request::Parts) -> Self {
        RequestView {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            extensions: &parts.extensions,
        }
    }
}

/// A context processor: from the request to the value of one variable.
pub(crate) type Processor = Arc<dyn Fn(&RequestView<'_>) -> Value + Send + Sync>;

/// The built-in `request` variable.
///
/// `path`, `full_path`, `method`, `query_string`, `GET` (the query
/// parameters, first value per name), `GET_LIST` (every value per name),
/// `host`, `scheme` and `is_secure`.
pub(crate) fn request_value(request: &RequestView<'_>, trust_forwarded_proto: bool) -> Value {
    let query_string = request.query_string();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string).unwrap_or_default();
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        first.entry(name.clone()).or_insert_with(|| value.clone());
        all.entry(name).or_default().push(value);
    }
    let full_path = match request.uri().query() {
        Some(query) => format!("{}?{query}", request.path()),
        None => request.path().to_owned(),
    };
    let host = request
        .uri()
        .host()
        .map(str::to_owned)
        .or_else(|| {
            request
                .headers()
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let secure = request.is_secure(trust_forwarded_proto);
    Value::from_pairs([
        ("path", Value::from(request.path())),
        ("full_path", Value::from(full_path)),
        ("method", Value::from(request.method().as_str())),
        ("query_string", Value::from(query_string)),
        ("GET", Value::from(first)),
        ("GET_LIST", Value::from(all)),
        ("host", Value::from(host)),
        ("scheme", Value::from(if secure { "https" } else { "http" })),
        ("is_secure", Value::from(secure)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_value_exposes_path_query_and_security() {
        let request = http::Request::builder()
            .method("POST")
            .uri("/search/?q=rust&tag=a&tag=b&q=ignored")
            .header("host", "example.com")
            .header("x-forwarded-proto", "https")
            .body(())
            .unwrap();
        let view = RequestView::from(&request);
        let value = request_value(&view, false);
        let get = |path: &str| {
            path.split('.')
                .try_fold(value.clone(), |v, key| v.get_attr(key))
                .unwrap()
        };
        assert_eq!(get("path").to_string(), "/search/");
        assert_eq!(
            get("full_path").to_string(),
            "/search/?q=rust&tag=a&tag=b&q=ignored"
        );
        assert_eq!(get("method").to_string(), "POST");
        assert_eq!(get("GET.q").to_string(), "rust");
        assert_eq!(get("GET_LIST.tag").len(), Some(2));
        assert_eq!(get("host").to_string(), "example.com");
        assert!(!get("is_secure").is_true());
        assert!(
            request_value(&view, true)
                .get_attr("is_secure")
                .unwrap()
                .is_true()
        );
    }
}
