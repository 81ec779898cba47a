//! Behind a reverse proxy: who the client is and whether it used HTTPS,
//! believed from the proxy's headers only when the proxy is trusted
//! (Django's `SECURE_PROXY_SSL_HEADER`, with the proxies named), and the
//! redirect of plain-HTTP requests to HTTPS (`SECURE_SSL_REDIRECT`).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderName, HeaderValue, LOCATION};
use http::{Request, Response, StatusCode};
use ipnet::IpNet;
use tack_http::ClientInfo;
use tower_layer::Layer;
use tower_service::Service;

/// A setting for the proxies could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A trusted proxy is neither an address nor a network.
    #[error(
        "trusted proxy {value:?} is not an IP address or network; \
         write it like 127.0.0.1, ::1 or 10.0.0.0/8"
    )]
    Proxy {
        /// What was given.
        value: String,
    },
    /// The HTTPS header is not `Name: value`.
    #[error(
        "proxy HTTPS header {value:?} is not `Name: value`; \
         write it like `X-Forwarded-Proto: https`"
    )]
    SslHeader {
        /// What was given.
        value: String,
    },
}

#[derive(Clone, Debug)]
struct ProxyConfig {
    trusted: Vec<IpNet>,
    ssl_header: Option<(HeaderName, String)>,
}

impl ProxyConfig {
    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.trusted.iter().any(|net| net.contains(&addr))
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`) as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// Rewrites the request's [`ClientInfo`] from the headers of the proxies
/// in front, when the connection comes from one of them:
///
/// - the client's address is the right-most `X-Forwarded-For` entry that is
///   not itself a trusted proxy (entries further left are whatever the
///   client chose to send);
/// - the request is secure when the HTTPS header (`X-Forwarded-Proto:
///   https`, say) has its value.
///
/// From any other peer the headers are ignored: a client cannot claim an
/// address or HTTPS by sending them. Put it outermost, before sessions,
/// CSRF and login, which read [`ClientInfo`].
///
/// ```
/// use tack_http::ClientInfo;
/// use tack_security::ProxyLayer;
/// use tower::{Layer, Service, ServiceExt};
///
/// let layer = ProxyLayer::new()
///     .trust(["127.0.0.1", "10.0.0.0/8"])
///     .unwrap()
///     .with_ssl_header("X-Forwarded-Proto: https")
///     .unwrap();
/// let service = layer.layer(tower::service_fn(|request: http::Request<()>| async move {
///     Ok::<_, std::convert::Infallible>(http::Response::new(format!("{:?}", ClientInfo::of(&request))))
/// }));
/// let mut request = http::Request::builder()
///     .header("x-forwarded-for", "203.0.113.9, 10.1.2.3")
///     .header("x-forwarded-proto", "https")
///     .body(())
///     .unwrap();
/// request
///     .extensions_mut()
///     .insert(ClientInfo::direct("127.0.0.1:40000".parse().unwrap(), false));
/// let response = futures_executor::block_on(service.oneshot(request)).unwrap();
/// assert!(response.body().contains("203.0.113.9") && response.body().contains("secure: true"));
/// ```
#[derive(Clone, Debug)]
pub struct ProxyLayer {
    config: Arc<ProxyConfig>,
}

impl Default for ProxyLayer {
    fn default() -> Self {
        ProxyLayer::new()
    }
}

impl ProxyLayer {
    /// A layer that trusts no proxy (and so changes nothing) until told.
    pub fn new() -> Self {
        ProxyLayer {
            config: Arc::new(ProxyConfig {
                trusted: Vec::new(),
                ssl_header: None,
            }),
        }
    }

    fn map(mut self, change: impl FnOnce(&mut ProxyConfig)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self
    }

    /// Trusts the proxies at these addresses or networks
    /// (`"127.0.0.1"`, `"::1"`, `"10.0.0.0/8"`).
    pub fn trust<I, T>(self, proxies: I) -> Result<Self, ProxyError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut nets = Vec::new();
        for proxy in proxies {
            let text = proxy.as_ref().trim();
            let net = match text.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => {
                    text.parse::<IpAddr>()
                        .map(IpNet::from)
                        .map_err(|_| ProxyError::Proxy {
                            value: text.to_owned(),
                        })?
                }
            };
            nets.push(net);
        }
        Ok(self.map(|config| config.trusted.extend(nets)))
    }

    /// Believes a request is HTTPS when a trusted proxy sends this header
    /// with this value: `"X-Forwarded-Proto: https"` (Django's
    /// `SECURE_PROXY_SSL_HEADER`). The proxy must set or strip it on every
    /// request.
    pub fn with_ssl_header(self, header: &str) -> Result<Self, ProxyError> {
        let fail = || ProxyError::SslHeader {
            value: header.to_owned(),
        };
        let (name, value) = header.split_once(':').ok_or_else(fail)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| fail())?;
        let value = value.trim();
        if value.is_empty() {
            return Err(fail());
        }
        let value = value.to_owned();
        Ok(self.map(|config| config.ssl_header = Some((name, value))))
    }

    /// Whether any proxy is trusted.
    pub fn trusts_any(&self) -> bool {
        !self.config.trusted.is_empty()
    }

    /// Whether an HTTPS header is configured.
    pub fn has_ssl_header(&self) -> bool {
        self.config.ssl_header.is_some()
    }

    /// The client of a request with these headers, coming from `client`
    /// as the server saw it.
    pub fn resolve(&self, headers: &http::HeaderMap, client: ClientInfo) -> ClientInfo {
        let config = &*self.config;
        let Some(peer) = client.peer else {
            return client;
        };
        if !config.trusts(peer.ip()) {
            return client;
        }
        let mut resolved = client;
        // Right to left: the first hop that is not a trusted proxy.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            let Ok(addr) = hop.parse::<IpAddr>() else {
                break; // junk: believe nothing further left
            };
            resolved.addr = Some(canonical(addr));
            if !config.trusts(addr) {
                break;
            }
        }
        if let Some((name, value)) = &config.ssl_header {
            resolved.secure = headers
                .get(name)
                .and_then(|sent| sent.to_str().ok())
                .is_some_and(|sent| sent.trim().eq_ignore_ascii_case(value));
        }
        resolved
    }
}

impl<S> Layer<S> for ProxyLayer {
    type Service = Proxy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Proxy {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ProxyLayer`] makes.
#[derive(Clone, Debug)]
pub struct Proxy<S> {
    inner: S,
    layer: ProxyLayer,
}

impl<S, B> Service<Request<B>> for Proxy<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let client = self
            .layer
            .resolve(request.headers(), ClientInfo::of(&request));
        request.extensions_mut().insert(client);
        self.inner.call(request)
    }
}

/// Which requests the HTTPS redirect leaves alone.
type Exempt = Arc<dyn Fn(&http::request::Parts) -> bool + Send + Sync>;

/// Redirects (301) every request that did not come over HTTPS to the same
/// URL on `https://` (Django's `SECURE_SSL_REDIRECT`); HTTPS is read from
/// [`ClientInfo`], so put it inside a [`ProxyLayer`] when behind a proxy,
/// and inside the allowed-hosts check (the `Host` makes the target).
#[derive(Clone)]
pub struct HttpsRedirectLayer {
    exempt: Option<Exempt>,
}

impl std::fmt::Debug for HttpsRedirectLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsRedirectLayer")
            .field("exempt", &self.exempt.is_some())
            .finish()
    }
}

impl Default for HttpsRedirectLayer {
    fn default() -> Self {
        HttpsRedirectLayer::new()
    }
}

impl HttpsRedirectLayer {
    /// Redirects every plain-HTTP request.
    pub fn new() -> Self {
        HttpsRedirectLayer { exempt: None }
    }

    /// Leaves requests for which `exempt` answers true alone (a health
    /// check an orchestrator calls over plain HTTP, say).
    pub fn with_exempt(
        mut self,
        exempt: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.exempt = Some(Arc::new(exempt));
        self
    }
}

impl<S> Layer<S> for HttpsRedirectLayer {
    type Service = HttpsRedirect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpsRedirect {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`HttpsRedirectLayer`] makes.
#[derive(Clone, Debug)]
pub struct HttpsRedirect<S> {
    inner: S,
    layer: HttpsRedirectLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpsRedirect<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: From<String> + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if ClientInfo::of(&request).secure {
            return Box::pin(self.inner.call(request));
        }
        let (parts, body) = request.into_parts();
        if self
            .layer
            .exempt
            .as_ref()
            .is_some_and(|exempt| exempt(&parts))
        {
            return Box::pin(self.inner.call(Request::from_parts(parts, body)));
        }
        let host = crate::hosts::request_host(&parts.headers, &parts.uri).unwrap_or_default();
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let location = HeaderValue::from_str(&format!("https://{host}{target}"));
        let mut response = Response::new(ResBody::from(String::new()));
        match location {
            Ok(location) => {
                *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
                response.headers_mut().insert(LOCATION, location);
            }
            Err(_) => *response.status_mut() = StatusCode::BAD_REQUEST,
        }
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    fn from(peer: &str) -> ClientInfo {
        ClientInfo::direct(peer.parse().unwrap(), false)
    }

    #[test]
    fn forwarded_headers_are_believed_from_trusted_proxies_only() {
        let layer = ProxyLayer::new()
            .trust(["127.0.0.1", "10.0.0.0/8"])
            .unwrap()
            .with_ssl_header("X-Forwarded-Proto: https")
            .unwrap();
        let sent = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.5"),
            ("x-forwarded-proto", "https"),
        ]);
        // Through the proxies: the right-most untrusted hop, and HTTPS.
        let through = layer.resolve(&sent, from("127.0.0.1:5000"));
        assert_eq!(through.addr, Some("203.0.113.9".parse().unwrap()));
        assert!(through.secure);
        // IPv4-mapped IPv6 peers are the same address.
        let mapped = layer.resolve(&sent, from("[::ffff:127.0.0.1]:5000"));
        assert_eq!(mapped.addr, Some("203.0.113.9".parse().unwrap()));
        // Straight from a client: its own claims are ignored.
        let direct = layer.resolve(&sent, from("192.0.2.4:5000"));
        assert_eq!(direct.addr, Some("192.0.2.4".parse().unwrap()));
        assert!(!direct.secure);
        // A proxy saying plain HTTP, and junk in the chain.
        let plain = layer.resolve(
            &headers(&[
                ("x-forwarded-for", "evil, 203.0.113.9"),
                ("x-forwarded-proto", "http"),
            ]),
            from("10.9.9.9:1"),
        );
        assert_eq!(plain.addr, Some("203.0.113.9".parse().unwrap()));
        assert!(!plain.secure);
        let junk = layer.resolve(
            &headers(&[("x-forwarded-for", "not-an-address")]),
            from("10.9.9.9:1"),
        );
        assert_eq!(junk.addr, Some("10.9.9.9".parse().unwrap()));
    }

    #[test]
    fn bad_settings_say_how_to_write_them() {
        let proxy = ProxyLayer::new().trust(["10.0.0.0/33"]).unwrap_err();
        assert!(proxy.to_string().contains("10.0.0.0/8"), "{proxy}");
        let header = ProxyLayer::new().with_ssl_header("https").unwrap_err();
        assert!(
            header.to_string().contains("X-Forwarded-Proto: https"),
            "{header}"
        );
    }
}
