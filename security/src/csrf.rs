//! Cross-site request forgery protection (Django's `CsrfViewMiddleware`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use cookie::{Cookie, SameSite};
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, ORIGIN, REFERER, SET_COOKIE, VARY};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use tack_http::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::token::{self, is_secret};
use crate::{BoxError, Error, ResponseFuture};

/// The form field that carries the token in urlencoded forms.
pub const FORM_FIELD: &str = "csrfmiddlewaretoken";
/// The header that carries the token (scripts).
pub const HEADER: &str = "x-csrftoken";
/// The session key the secret is kept under (feature `sessions`).
#[cfg(feature = "sessions")]
pub const SESSION_KEY: &str = "_csrf_secret";

/// Django's default limit for a form body read into memory: 2.5 MiB.
const DEFAULT_BODY_LIMIT: usize = 2_621_440;
/// How far into a multipart body the token is looked for: 10 MiB, as far
/// as tack-forms reads a form by default.
const DEFAULT_MULTIPART_LIMIT: usize = 10 * 1024 * 1024;
/// The CSRF cookie lasts a year, as in Django.
const COOKIE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

type Exempt = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

#[derive(Clone)]
struct Config {
    trusted_origins: Vec<String>,
    exempt: Option<Exempt>,
    exempt_bearer: bool,
    cookie_name: String,
    cookie_domain: Option<String>,
    cookie_secure: bool,
    assume_https: bool,
    trust_forwarded_proto: bool,
    debug: bool,
    body_limit: usize,
    multipart_limit: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfConfig")
            .field("trusted_origins", &self.trusted_origins)
            .field("exempt", &self.exempt.as_ref().map(|_| "<predicate>"))
            .field("exempt_bearer", &self.exempt_bearer)
            .field("cookie_name", &self.cookie_name)
            .field("cookie_secure", &self.cookie_secure)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

/// Refuses unsafe requests (POST, PUT, PATCH, DELETE...) that do not carry
/// the CSRF token, and puts a [`CsrfToken`] into every request's extensions
/// for pages to render.
///
/// The token comes from the `csrfmiddlewaretoken` field of an urlencoded
/// form (the body is read, up to a limit, and handed on unchanged), from
/// that part of a multipart form (read up to that part, which should come
/// first; the uploads after it are handed on unread), or from the
/// `X-CSRFToken` header. The secret it is checked against lives in the
/// `csrftoken` cookie, or, with the `sessions` feature, in the
/// `tack_sessions::Session` when the request has one (put this layer inside
/// the session layer). `Origin` must be this site or a trusted origin; over
/// HTTPS a request without `Origin` needs a `Referer` from this site or a
/// trusted origin. Refusals are 403 with the reason: problem+json for JSON
/// clients, an HTML page otherwise (explaining the fix only in debug).
#[derive(Clone, Debug)]
pub struct CsrfLayer {
    config: Arc<Config>,
}

impl Default for CsrfLayer {
    fn default() -> Self {
        CsrfLayer::new()
    }
}

/// The layer's steps, for a framework that drives them itself (an actix-web
/// handler, a hand-written hyper service), in this order: [`token`] when
/// the request arrives (render its [`CsrfToken::form_field`] into the
/// page), [`verify`] before an unsafe request is handled, and [`finish`]
/// on the response's headers.
///
/// ```
/// use tack_security::CsrfLayer;
///
/// let csrf = CsrfLayer::new();
/// let get = http::Request::get("https://news.example/").body(()).unwrap().into_parts().0;
/// let token = csrf.token(&get);
/// let field = token.masked();
/// let mut response = http::HeaderMap::new();
/// csrf.finish(&get, &token, &mut response);
/// let cookie = response["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
///
/// // The form comes back with the cookie and the field.
/// let post = http::Request::post("https://news.example/comments/")
///     .header("cookie", &cookie)
///     .header("origin", "https://news.example")
///     .header("host", "news.example")
///     .body(())
///     .unwrap()
///     .into_parts()
///     .0;
/// let token = csrf.token(&post);
/// assert!(csrf.verify(&post, &token, Some(&field)).is_ok());
/// let refused = csrf.verify(&post, &token, Some("forged")).unwrap_err();
/// assert_eq!(refused.status(), 403);
/// ```
///
/// [`token`]: CsrfLayer::token
/// [`verify`]: CsrfLayer::verify
/// [`finish`]: CsrfLayer::finish
impl CsrfLayer {
    /// The request's token, with the secret from the `csrftoken` cookie, or
    /// from the `tack_sessions::Session` in the request's extensions
    /// (feature `sessions`).
    pub fn token(&self, parts: &Parts) -> CsrfToken {
        CsrfToken::new(Storage::of(parts).secret(parts, &self.config))
    }

    /// Whether the request may go on: `Ok` for a safe method (GET, HEAD,
    /// OPTIONS, TRACE), an exempt request, or an allowed `Origin` (or
    /// `Referer`, over HTTPS) with a `submitted` token (the form's
    /// `csrfmiddlewaretoken`; `None` reads the `X-CSRFToken` header) that
    /// matches `token`'s secret. Otherwise the reason, a 403
    /// ([`Error::to_response`] words it for the client).
    pub fn verify(
        &self,
        parts: &Parts,
        token: &CsrfToken,
        submitted: Option<&str>,
    ) -> Result<(), Error> {
        if !needs_check(parts, &self.config) {
            return Ok(());
        }
        check_origin(parts, &self.config)?;
        let secret = token.lock().secret.clone();
        let secret = secret.ok_or(Error::CsrfCookieMissing)?;
        let sent = match submitted {
            Some(sent) => sent,
            None => {
                let sent = parts.headers.get(HEADER).ok_or(Error::CsrfTokenMissing)?;
                sent.to_str()
                    .map_err(|_| Error::CsrfTokenMalformed { length: sent.len() })?
            }
        };
        token::verify(sent, &secret)
    }

    /// Keeps a new or rotated secret (the `csrftoken` cookie on `headers`,
    /// or the session) and adds `Vary: Cookie` when a page used the token.
    pub fn finish(&self, parts: &Parts, token: &CsrfToken, headers: &mut HeaderMap) {
        let secure = self.config.cookie_secure || is_secure(parts, &self.config);
        Storage::of(parts).persist(token, &self.config, secure, headers);
    }
}

impl CsrfLayer {
    /// The layer with Django's defaults and a `Secure` cookie.
    pub fn new() -> Self {
        CsrfLayer {
            config: Arc::new(Config {
                trusted_origins: Vec::new(),
                exempt: None,
                exempt_bearer: false,
                cookie_name: "csrftoken".to_owned(),
                cookie_domain: None,
                cookie_secure: true,
                assume_https: false,
                trust_forwarded_proto: false,
                debug: false,
                body_limit: DEFAULT_BODY_LIMIT,
                multipart_limit: DEFAULT_MULTIPART_LIMIT,
            }),
        }
    }

    fn map(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self
    }

    /// Origins other sites post from, like `https://admin.example.com`,
    /// `https://*.example.com` (any subdomain) or `http://localhost:8000`.
    pub fn with_trusted_origins<I, T>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|origin| origin.into().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        self.map(|config| config.trusted_origins = origins)
    }

    /// Requests for which the predicate answers true are not checked
    /// (webhooks, say): `.with_exempt(|req| req.uri.path().starts_with("/hooks/"))`.
    pub fn with_exempt(self, predicate: impl Fn(&Parts) -> bool + Send + Sync + 'static) -> Self {
        self.map(|config| config.exempt = Some(Arc::new(predicate)))
    }

    /// Whether requests with `Authorization: Bearer ...` skip the check.
    /// Safe for token-authenticated APIs: a browser never adds that header
    /// to a forged cross-site request by itself.
    pub fn with_bearer_exempt(self, on: bool) -> Self {
        self.map(|config| config.exempt_bearer = on)
    }

    /// Whether the CSRF cookie is `Secure` (a deployment check warns when not).
    pub fn is_secure_cookie(&self) -> bool {
        self.config.cookie_secure
    }

    /// The cookie's name (default `csrftoken`).
    pub fn with_cookie_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.map(|config| config.cookie_name = name)
    }

    /// The cookie's domain, to share the secret with subdomains.
    pub fn with_cookie_domain(self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        self.map(|config| config.cookie_domain = Some(domain))
    }

    /// Whether the cookie is always `Secure` (default on). Off, it is
    /// `Secure` exactly when the request came over HTTPS (its
    /// [`ClientInfo`](tack_http::ClientInfo)), so plain-HTTP development
    /// works and an HTTPS site still gets secure cookies.
    pub fn with_secure_cookie(self, secure: bool) -> Self {
        self.map(|config| config.cookie_secure = secure)
    }

    /// Treat every request as HTTPS (the server sits behind a TLS proxy),
    /// so the strict `Referer` check applies.
    pub fn with_assume_https(self, on: bool) -> Self {
        self.map(|config| config.assume_https = on)
    }

    /// Trust `X-Forwarded-Proto: https` from any client. Prefer a
    /// [`ProxyLayer`](crate::ProxyLayer), which believes it only from the
    /// proxies it names, and which sessions and templates read as well.
    pub fn with_trust_forwarded_proto(self, on: bool) -> Self {
        self.map(|config| config.trust_forwarded_proto = on)
    }

    /// Whether refusal pages explain the cause and the fix.
    pub fn with_debug(self, on: bool) -> Self {
        self.map(|config| config.debug = on)
    }

    /// The largest urlencoded body read to find the token (default 2.5 MiB);
    /// larger ones are refused with 413.
    pub fn with_body_limit(self, bytes: usize) -> Self {
        self.map(|config| config.body_limit = bytes)
    }

    /// How far into a multipart body the token part is looked for (default
    /// 10 MiB); a body whose token comes later is refused with 413.
    pub fn with_multipart_limit(self, bytes: usize) -> Self {
        self.map(|config| config.multipart_limit = bytes)
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = Csrf<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Csrf {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service [`CsrfLayer`] makes. The inner service receives requests
/// with a [`tack_http::Body`]: the same bytes, re-wrapped when the form
/// body was read.
#[derive(Clone, Debug)]
pub struct Csrf<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Csrf<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: tack_http::RequestBody,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let storage = Storage::of(&parts);
            let secret = storage.secret(&parts, &config);
            let token = CsrfToken::new(secret.clone());
            parts.extensions.insert(token.clone());
            // A checked body was read (a form's token is in it): it goes on
            // rebuilt; any other goes on untouched.
            let body = if needs_check(&parts, &config) {
                match check(&parts, body, secret.as_deref(), &config).await {
                    Ok(body) => ReqBody::from_body(body),
                    Err(error) => {
                        tracing::warn!(%error, method = %parts.method, path = parts.uri.path(), "request refused");
                        return Ok(error.to_response(&parts.headers, config.debug));
                    }
                }
            } else {
                body
            };
            let secure = config.cookie_secure || is_secure(&parts, &config);
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            storage.persist(&token, &config, secure, response.headers_mut());
            Ok(response)
        })
    }
}

/// Whether the request must carry a token.
fn needs_check(parts: &Parts, config: &Config) -> bool {
    let safe = matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if safe {
        return false;
    }
    if config.exempt_bearer
        && parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer "))
    {
        return false;
    }
    !config.exempt.as_ref().is_some_and(|exempt| exempt(parts))
}

/// Checks origin, secret and token; answers the body to hand on.
async fn check<B>(
    parts: &Parts,
    body: B,
    secret: Option<&str>,
    config: &Config,
) -> Result<Body, Error>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    check_origin(parts, config)?;
    let secret = secret.ok_or(Error::CsrfCookieMissing)?;
    if let Some(sent) = parts.headers.get(HEADER) {
        let sent = sent
            .to_str()
            .map_err(|_| Error::CsrfTokenMalformed { length: sent.len() })?;
        token::verify(sent, secret)?;
        return Ok(Body::new(body));
    }
    if let Some(content_type) = multipart_type(&parts.headers) {
        let (sent, body) = crate::multipart::token(
            content_type,
            Body::new(body),
            FORM_FIELD,
            config.multipart_limit,
        )
        .await?;
        token::verify(&sent, secret)?;
        return Ok(body);
    }
    if !is_urlencoded(&parts.headers) {
        return Err(Error::CsrfTokenMissing);
    }
    let bytes = match Limited::new(body, config.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Err(Error::BodyTooLarge {
                limit: config.body_limit,
            });
        }
        Err(error) => return Err(Error::Body(error)),
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let sent = fields
        .iter()
        .find(|(name, _)| name == FORM_FIELD)
        .map(|(_, value)| value.as_str())
        .ok_or(Error::CsrfTokenMissing)?;
    token::verify(sent, secret)?;
    Ok(Body::from(bytes))
}

/// The Content-Type of a multipart form body.
fn multipart_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim();
    media
        .eq_ignore_ascii_case("multipart/form-data")
        .then_some(value)
}

fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Whether the request came over HTTPS: told so, or from its
/// [`ClientInfo`](tack_http::ClientInfo) (set by the server, or by a
/// `ProxyLayer` trusting the proxy in front).
fn is_secure(parts: &Parts, config: &Config) -> bool {
    config.assume_https
        || tack_http::ClientInfo::from_parts(&parts.extensions, &parts.uri).secure
        || (config.trust_forwarded_proto
            && parts
                .headers
                .get("x-forwarded-proto")
                .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"https")))
}

/// The request's host as sent (with port), lowercased.
fn request_host(parts: &Parts) -> Option<String> {
    crate::hosts::request_host(&parts.headers, &parts.uri).map(str::to_ascii_lowercase)
}

fn is_trusted(origin: &str, config: &Config) -> bool {
    config
        .trusted_origins
        .iter()
        .any(|trusted| match trusted.split_once("://*.") {
            Some((scheme, domain)) => origin
                .strip_prefix(scheme)
                .and_then(|rest| rest.strip_prefix("://"))
                .and_then(|host| host.strip_suffix(domain))
                .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => trusted == origin,
        })
}

/// Django's origin and referer checks.
fn check_origin(parts: &Parts, config: &Config) -> Result<(), Error> {
    let secure = is_secure(parts, config);
    let host = request_host(parts);
    if let Some(origin) = parts.headers.get(ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes()).to_ascii_lowercase();
        let scheme = if secure { "https" } else { "http" };
        let own = host
            .as_ref()
            .is_some_and(|host| origin == format!("{scheme}://{host}"));
        return if own || is_trusted(&origin, config) {
            Ok(())
        } else {
            Err(Error::OriginMismatch { origin })
        };
    }
    if !secure {
        return Ok(());
    }
    let referer = parts.headers.get(REFERER).ok_or(Error::RefererMissing)?;
    let text = String::from_utf8_lossy(referer.as_bytes()).into_owned();
    let mismatch = || Error::RefererMismatch {
        referer: text.clone(),
    };
    let uri: Uri = text.parse().map_err(|_| mismatch())?;
    let authority = uri
        .authority()
        .ok_or_else(mismatch)?
        .as_str()
        .to_ascii_lowercase();
    if uri.scheme_str() != Some("https") {
        return Err(mismatch());
    }
    let same_host = host.is_some_and(|host| host == authority);
    if same_host || is_trusted(&format!("https://{authority}"), config) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

/// Where the secret lives for this request.
enum Storage {
    Cookie,
    #[cfg(feature = "sessions")]
    Session(tack_sessions::Session),
}

impl Storage {
    fn of(parts: &Parts) -> Self {
        #[cfg(feature = "sessions")]
        if let Some(session) = parts.extensions.get::<tack_sessions::Session>() {
            return Storage::Session(session.clone());
        }
        let _ = parts;
        Storage::Cookie
    }

    fn secret(&self, parts: &Parts, config: &Config) -> Option<String> {
        let secret = match self {
            Storage::Cookie => parts
                .headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(Cookie::split_parse)
                .filter_map(Result::ok)
                .find(|cookie| cookie.name() == config.cookie_name)
                .map(|cookie| cookie.value().to_owned()),
            #[cfg(feature = "sessions")]
            Storage::Session(session) => session.get::<String>(SESSION_KEY).ok().flatten(),
        };
        // A malformed secret is as good as none: a fresh one replaces it.
        secret.filter(|secret| is_secret(secret))
    }

    /// Sets the cookie (when the secret changed), `Secure` when `secure`.
    fn persist(&self, token: &CsrfToken, config: &Config, secure: bool, headers: &mut HeaderMap) {
        let state = token.lock();
        if state.used && !headers.get_all(VARY).iter().any(|v| v == "Cookie") {
            headers.append(VARY, HeaderValue::from_static("Cookie"));
        }
        let (true, Some(secret)) = (state.changed, state.secret.as_deref()) else {
            return;
        };
        match self {
            Storage::Cookie => {
                let mut cookie = Cookie::build((config.cookie_name.as_str(), secret))
                    .path("/")
                    .secure(secure)
                    .same_site(SameSite::Lax)
                    .max_age(cookie::time::Duration::seconds(
                        COOKIE_MAX_AGE.as_secs() as i64
                    ));
                if let Some(domain) = &config.cookie_domain {
                    cookie = cookie.domain(domain.as_str());
                }
                match HeaderValue::try_from(cookie.build().to_string()) {
                    Ok(value) => {
                        headers.append(SET_COOKIE, value);
                    }
                    Err(_) => tracing::error!(
                        name = config.cookie_name,
                        "the CSRF cookie name or domain is not valid in a header"
                    ),
                }
            }
            #[cfg(feature = "sessions")]
            Storage::Session(session) => {
                if let Err(error) = session.insert(SESSION_KEY, secret) {
                    tracing::error!(%error, "the CSRF secret could not be kept in the session");
                }
            }
        }
    }
}

/// The CSRF token for the current request, from its extensions: put
/// [`CsrfToken::form_field`] into every POST form, or send
/// [`CsrfToken::masked`] in the `X-CSRFToken` header.
///
/// A secret is created the first time a token is asked for, and sent to
/// the browser with the response.
#[derive(Clone, Debug)]
pub struct CsrfToken {
    state: Arc<Mutex<TokenState>>,
}

struct TokenState {
    secret: Option<String>,
    changed: bool,
    used: bool,
}

impl fmt::Debug for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenState")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("changed", &self.changed)
            .field("used", &self.used)
            .finish()
    }
}

impl CsrfToken {
    fn new(secret: Option<String>) -> Self {
        CsrfToken {
            state: Arc::new(Mutex::new(TokenState {
                secret,
                changed: false,
                used: false,
            })),
        }
    }

    /// A token for tests of handlers and templates, outside the layer.
    pub fn detached() -> Self {
        CsrfToken::new(None)
    }

    fn lock(&self) -> MutexGuard<'_, TokenState> {
        // The state is three plain fields, consistent at every step.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The token, masked afresh on each call (so pages never repeat it).
    pub fn masked(&self) -> String {
        let mut state = self.lock();
        state.used = true;
        if state.secret.is_none() {
            state.secret = Some(token::new_secret());
            state.changed = true;
        }
        // Just set when absent.
        let secret = state.secret.as_deref().unwrap_or_default();
        token::mask(secret)
    }

    /// The hidden input for a form:
    /// `<input type="hidden" name="csrfmiddlewaretoken" value="...">`.
    pub fn form_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"{FORM_FIELD}\" value=\"{}\">",
            self.masked()
        )
    }

    /// Replaces the secret with a new one (call it at login, as Django does):
    /// tokens issued before stop working.
    pub fn rotate(&self) {
        let mut state = self.lock();
        state.secret = Some(token::new_secret());
        state.changed = true;
    }
}
