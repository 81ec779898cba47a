//! Allowed hosts (Django's `ALLOWED_HOSTS`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HOST;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::Error;

/// Answers 400 to requests whose `Host` is not allowed, so links built from
/// `Host` (password reset mails, redirects) cannot point at an attacker's site.
///
/// Patterns are host names, matched without regard to case and port:
/// `example.com` matches exactly; `.example.com` matches `example.com` and
/// every subdomain; `*` matches anything (never in production). A pattern
/// with a port (`localhost:8000`) matches only that port.
#[derive(Clone, Debug)]
pub struct AllowedHostsLayer {
    patterns: Arc<[String]>,
    debug: bool,
}

impl AllowedHostsLayer {
    /// Allows these hosts.
    pub fn new<I, T>(patterns: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        AllowedHostsLayer {
            patterns: patterns
                .into_iter()
                .map(|pattern| pattern.into().to_ascii_lowercase())
                .collect(),
            debug: false,
        }
    }

    /// `localhost`, `127.0.0.1` and `[::1]` on any port: Django's hosts for
    /// development when none are configured.
    pub fn for_development() -> Self {
        AllowedHostsLayer::new(["localhost", "127.0.0.1", "[::1]"])
    }

    /// Whether the 400 page names the host and the fix.
    pub fn with_debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Whether `*` is among the patterns (a deployment check warns about it).
    pub fn allows_any(&self) -> bool {
        self.patterns.iter().any(|pattern| pattern == "*")
    }

    /// Whether a `Host` value is allowed.
    pub fn is_allowed(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        self.patterns.iter().any(|pattern| {
            if pattern == "*" {
                return true;
            }
            let Some((pattern_name, pattern_port)) = split_host(pattern.trim_start_matches('.'))
            else {
                return false;
            };
            if pattern_port.is_some() && pattern_port != port {
                return false;
            }
            if pattern.starts_with('.') {
                name == pattern_name || name.ends_with(&format!(".{pattern_name}"))
            } else {
                name == pattern_name
            }
        })
    }
}

/// Splits `host[:port]` into a lowercased name (without a trailing dot)
/// and port, or `None` when it is not a valid host.
fn split_host(host: &str) -> Option<(String, Option<&str>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let end = rest.find(']')?;
        let port = rest[end + 1..].strip_prefix(':');
        if port.is_none() && end + 1 != rest.len() {
            return None;
        }
        (&host[..end + 2], port)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if port.is_some_and(|port| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = if name.starts_with('[') {
        name[1..name.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    valid.then_some((name, port))
}

impl<S> Layer<S> for AllowedHostsLayer {
    type Service = AllowedHosts<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AllowedHosts {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`AllowedHostsLayer`] makes.
#[derive(Clone, Debug)]
pub struct AllowedHosts<S> {
    inner: S,
    layer: AllowedHostsLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AllowedHosts<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = HostsFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match check_hosts(&self.layer, &request) {
            Ok(()) => HostsFuture::Inner {
                future: self.inner.call(request),
            },
            Err(error) => {
                tracing::warn!(%error, "request refused");
                HostsFuture::Refused {
                    response: Some(error.to_response(request.headers(), self.layer.debug)),
                }
            }
        }
    }
}

/// The host a request names: its `Host` header, else the authority of an
/// absolute-form target.
pub(crate) fn request_host<'a>(
    headers: &'a http::HeaderMap,
    uri: &'a http::Uri,
) -> Option<&'a str> {
    headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// Checks every host a request names: its one `Host` header, and the
/// authority of an absolute-form target (`GET http://host/ HTTP/1.1`, or
/// HTTP/2's `:authority`), which HTTP says wins over the header. Several
/// `Host` headers are refused: a proxy in front may have believed another.
fn check_hosts<B>(layer: &AllowedHostsLayer, request: &Request<B>) -> Result<(), Error> {
    let text = |value: &http::HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
    let headers: Vec<String> = request.headers().get_all(HOST).iter().map(text).collect();
    if headers.len() > 1 {
        return Err(Error::AmbiguousHost {
            hosts: headers.join(", "),
        });
    }
    let target = request.uri().authority().map(|a| a.as_str().to_owned());
    let mut named = headers.into_iter().chain(target).peekable();
    if named.peek().is_none() {
        return Err(Error::DisallowedHost {
            host: String::new(),
        });
    }
    named
        .find(|host| !layer.is_allowed(host))
        .map_or(Ok(()), |host| Err(Error::DisallowedHost { host }))
}

pin_project! {
    /// The future [`AllowedHosts`] answers.
    #[project = HostsFutureProjection]
    pub enum HostsFuture<F, B> {
        /// The inner service is answering.
        Inner { #[pin] future: F },
        /// The host was refused.
        Refused { response: Option<Response<B>> },
    }
}

impl<F, B, E> Future for HostsFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HostsFutureProjection::Inner { future } => future.poll(cx),
            HostsFutureProjection::Refused { response } => {
                // A future is never polled again after it answered Ready,
                // so the response is still here.
                Poll::Ready(Ok(response
                    .take()
                    .expect("HostsFuture polled after it completed")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_matching_table() {
        let layer = AllowedHostsLayer::new([
            "example.com",
            ".example.org",
            "localhost:8000",
            "[::1]",
            "127.0.0.1",
        ]);
        let cases = [
            ("example.com", true),
            ("EXAMPLE.com:443", true),
            ("example.com.", true),
            ("www.example.com", false),
            ("example.org", true),
            ("a.b.example.org:8080", true),
            ("badexample.org", false),
            ("localhost:8000", true),
            ("localhost:9000", false),
            ("localhost", false),
            ("[::1]:8000", true),
            ("[::1]", true),
            ("127.0.0.1:80", true),
            ("", false),
            ("example.com:", false),
            ("example.com:abc", false),
            ("exa mple.com", false),
            ("evil.com/example.com", false),
            ("[::1", false),
        ];
        for (host, allowed) in cases {
            assert_eq!(layer.is_allowed(host), allowed, "{host}");
        }
        assert!(!layer.allows_any());
        assert!(AllowedHostsLayer::new(["*"]).is_allowed("anything.test"));
        let development = AllowedHostsLayer::for_development();
        assert!(development.is_allowed("localhost:8000") && development.is_allowed("[::1]:3000"));
        assert!(!development.is_allowed("example.com"));
    }

    fn request(target: &str, hosts: &[&str]) -> Request<()> {
        let mut builder = Request::builder().uri(target);
        for host in hosts {
            builder = builder.header(HOST, *host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn every_host_a_request_names_is_checked() {
        let layer = AllowedHostsLayer::new(["example.com"]);
        let ok = |target, hosts: &[&str]| check_hosts(&layer, &request(target, hosts));
        assert!(ok("/", &["example.com"]).is_ok());
        assert!(ok("http://example.com/", &["example.com"]).is_ok());
        assert!(ok("http://example.com/", &[]).is_ok());
        assert!(matches!(ok("/", &[]), Err(Error::DisallowedHost { .. })));
        // Two Host headers: 400, whichever they are.
        let twice = ok("/", &["example.com", "evil.test"]).unwrap_err();
        assert!(matches!(twice, Error::AmbiguousHost { .. }), "{twice}");
        assert_eq!(twice.status(), http::StatusCode::BAD_REQUEST);
        assert!(ok("/", &["example.com", "example.com"]).is_err());
        // An absolute-form target naming another host than the header.
        let other = ok("http://evil.test/", &["example.com"]).unwrap_err();
        assert!(
            matches!(&other, Error::DisallowedHost { host } if host == "evil.test"),
            "{other}"
        );
    }
}
