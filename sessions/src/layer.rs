//! The tower layer that loads and saves sessions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use cookie::{Cookie, SameSite};
use http::header::InvalidHeaderValue;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::session::Expiry;
use crate::store::{Record, SessionId, SessionStore, unix_secs};
use crate::{Error, Messages, Session};

/// Two weeks, Django's default session age.
const TWO_WEEKS: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// How the session cookie is named and flagged, and how long sessions last.
#[derive(Clone, Debug)]
struct Config {
    cookie_name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    browser_session: bool,
    max_age: Duration,
    sliding: bool,
}

impl Config {
    /// `__Host-` cookies must be Secure, on `/` and without a domain;
    /// `__Secure-` cookies must be Secure. Browsers drop them otherwise.
    fn enforce_prefix(&mut self) {
        if self.cookie_name.starts_with("__Host-") {
            self.secure = true;
            self.path = "/".to_owned();
            self.domain = None;
        } else if self.cookie_name.starts_with("__Secure-") {
            self.secure = true;
        }
    }
}

/// Loads the session named by the request's cookie, puts a [`Session`] and
/// a [`Messages`] into the request's extensions, and saves the session after
/// the response if it changed.
///
/// Defaults: cookie `sessionid`, `Path=/`, `HttpOnly`, `SameSite=Lax`,
/// `Secure` (turn it off with [`SessionLayer::with_secure`] for plain-HTTP
/// development), sessions lasting two weeks from their last save.
/// A cookie naming no live session (unknown, expired or tampered) gives a
/// fresh empty session. A store failure answers 503 (500 for a cookie
/// store overflowing) with a plain-text body and logs the error.
///
/// The layer is also the engine: a framework that takes no tower layer
/// calls [`load`](Self::load) (or [`load_from`](Self::load_from)) before
/// its handler and [`save`](Self::save) after it.
#[derive(Debug)]
pub struct SessionLayer<St> {
    store: Arc<St>,
    config: Arc<Config>,
}

impl<St> Clone for SessionLayer<St> {
    fn clone(&self) -> Self {
        SessionLayer {
            store: Arc::clone(&self.store),
            config: Arc::clone(&self.config),
        }
    }
}

impl<St: SessionStore> SessionLayer<St> {
    /// A layer keeping sessions in `store`.
    pub fn new(store: St) -> Self {
        SessionLayer {
            store: Arc::new(store),
            config: Arc::new(Config {
                cookie_name: "sessionid".to_owned(),
                path: "/".to_owned(),
                domain: None,
                secure: true,
                browser_session: false,
                max_age: TWO_WEEKS,
                sliding: false,
            }),
        }
    }

    fn map_config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        let config = Arc::make_mut(&mut self.config);
        change(config);
        config.enforce_prefix();
        // Fail at configuration time, not on the first request.
        assert!(
            header_value(&base_cookie(config, String::new(), config.secure).build()).is_ok(),
            "session cookie name, path and domain must be visible ASCII without `;`, \
             got name {:?}, path {:?}, domain {:?}",
            config.cookie_name,
            config.path,
            config.domain
        );
        self
    }

    /// Loads the session named by `cookie_value` (the session cookie's
    /// value, if the request sent one), for a framework that drives the
    /// sessions itself instead of through the layer: an unknown, expired or
    /// tampered value gives a fresh empty session. Call [`save`](Self::save)
    /// with it once the response is ready.
    pub async fn load(&self, cookie_value: Option<&str>) -> Result<Session, Error> {
        let loaded = match cookie_value {
            Some(value) => self
                .store
                .load(value)
                .await?
                .filter(|record| !record.is_expired()),
            None => None,
        };
        Ok(Session::from_record(
            loaded,
            cookie_value.map(str::to_owned),
        ))
    }

    /// [`load`](Self::load) with the session cookie of a request's headers.
    pub async fn load_from(&self, headers: &HeaderMap) -> Result<Session, Error> {
        let cookie_value = find_cookie(headers, &self.config.cookie_name);
        self.load(cookie_value.as_deref()).await
    }

    /// Saves `session` if it changed (or deletes it once emptied), and says
    /// what the response needs ([`Saved::apply`] adds it). `https`: the
    /// request came over HTTPS, so the cookie is `Secure` even with
    /// [`with_secure(false)`](Self::with_secure). A session loaded from the
    /// store and deleted there meanwhile (a logout on another request) is
    /// not saved again: [`Error::SessionInterrupted`].
    ///
    /// ```
    /// use tack_sessions::{MemoryStore, SessionLayer};
    ///
    /// # futures_executor::block_on(async {
    /// let sessions = SessionLayer::new(MemoryStore::new());
    /// let session = sessions.load(None).await?;
    /// session.insert("cart", [3, 5])?;
    /// let saved = sessions.save(&session, true).await?;
    /// let cookie = saved.set_cookie.unwrap();
    /// assert!(cookie.to_str().unwrap().starts_with("sessionid="));
    ///
    /// // The next request sends the cookie back.
    /// let value = cookie.to_str().unwrap().split(';').next().unwrap();
    /// let again = sessions.load(Some(&value["sessionid=".len()..])).await?;
    /// assert_eq!(again.get::<Vec<u32>>("cart")?, Some(vec![3, 5]));
    /// # Ok::<(), tack_sessions::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn save(&self, session: &Session, https: bool) -> Result<Saved, Error> {
        finish(
            &*self.store,
            &self.config,
            self.config.secure || https,
            session,
        )
        .await
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.config.cookie_name
    }

    /// The store, to call [`SessionStore::clear_expired`] from a job.
    pub fn store(&self) -> &Arc<St> {
        &self.store
    }

    /// Whether the cookie is `Secure` (a deployment check warns when not).
    pub fn is_secure(&self) -> bool {
        self.config.secure
    }

    /// The cookie's name. A `__Host-` prefix forces `Secure`, `Path=/` and
    /// no domain; `__Secure-` forces `Secure`.
    pub fn with_cookie_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.map_config(|config| config.cookie_name = name)
    }

    /// The cookie's path (default `/`).
    pub fn with_path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.map_config(|config| config.path = path)
    }

    /// The cookie's domain (default none: this host only).
    pub fn with_domain(self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        self.map_config(|config| config.domain = Some(domain))
    }

    /// Whether the cookie is always `Secure` (HTTPS only). On by default.
    /// Off, it is `Secure` exactly when the request came over HTTPS (its
    /// [`ClientInfo`](tack_http::ClientInfo), which a server or a proxy
    /// layer sets): plain-HTTP development and scripted clients work, and
    /// an HTTPS site still gets secure cookies.
    pub fn with_secure(self, secure: bool) -> Self {
        self.map_config(|config| config.secure = secure)
    }

    /// How long a session lives after its last save (default two weeks):
    /// the record's expiry, and the cookie's `Max-Age`.
    pub fn with_max_age(self, max_age: Duration) -> Self {
        self.map_config(|config| config.max_age = max_age)
    }

    /// Whether the cookie lasts only until the browser closes (no
    /// `Max-Age`). The stored session still expires after the max age.
    pub fn with_browser_session(self, on: bool) -> Self {
        self.map_config(|config| config.browser_session = on)
    }

    /// Sliding expiry: when on, a session used after half its max age is
    /// saved again (and its cookie renewed) even if unchanged, so active
    /// users stay signed in. Off by default: only changes renew a session.
    pub fn with_sliding_expiry(self, on: bool) -> Self {
        self.map_config(|config| config.sliding = on)
    }
}

impl<S, St> Layer<S> for SessionLayer<St> {
    type Service = SessionService<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            engine: self.clone(),
        }
    }
}

/// The service [`SessionLayer`] makes.
#[derive(Debug)]
pub struct SessionService<S, St> {
    inner: S,
    /// The layer itself is the load-and-save engine.
    engine: SessionLayer<St>,
}

impl<S: Clone, St> Clone for SessionService<S, St> {
    fn clone(&self) -> Self {
        SessionService {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
        }
    }
}

/// The future [`SessionService`] answers.
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, St, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, St>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    St: SessionStore,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let engine = self.engine.clone();
        let https = tack_http::ClientInfo::of(&request).secure;
        Box::pin(async move {
            let session = match engine.load_from(request.headers()).await {
                Ok(session) => session,
                Err(error) => return Ok(failure(&error)),
            };
            request.extensions_mut().insert(session.clone());
            request
                .extensions_mut()
                .insert(Messages::new(session.clone()));
            let mut response = inner.call(request).await?;
            match engine.save(&session, https).await {
                Ok(saved) => {
                    saved.apply(response.headers_mut());
                    Ok(response)
                }
                Err(error) => Ok(failure(&error)),
            }
        })
    }
}

/// The first cookie named `name` in the request's `Cookie` headers.
fn find_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// What the response needs once the session is saved: the `Set-Cookie`
/// value (when the cookie changes) and whether the response depends on
/// the cookie (`Vary: Cookie`, when the handler read the session).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "the Set-Cookie value must reach the response"]
pub struct Saved {
    /// The `Set-Cookie` header value to add, if the cookie changes.
    pub set_cookie: Option<HeaderValue>,
    /// Whether to add `Vary: Cookie`.
    pub vary_cookie: bool,
}

impl Saved {
    /// Adds the `Set-Cookie` and `Vary: Cookie` headers to a response's
    /// headers (of any framework that uses the `http` crate's types).
    pub fn apply(self, headers: &mut HeaderMap) {
        if let Some(set_cookie) = self.set_cookie {
            headers.append(SET_COOKIE, set_cookie);
        }
        if self.vary_cookie {
            add_vary_cookie(headers);
        }
    }
}

/// What to do with the session once the response is ready.
enum Plan {
    /// Nothing changed.
    Keep,
    /// The session is empty: forget the stored one (if loaded) and the cookie.
    Forget { loaded: bool },
    /// Save this record, first deleting the one loaded (if any); the
    /// cookie's `Max-Age` is `cookie_max_age` (none: a browser session).
    /// A loaded session kept under its id is saved by `update` only, so a
    /// concurrent logout is never undone.
    Save {
        delete_loaded: bool,
        update: bool,
        record: Record,
        cookie_max_age: Option<Duration>,
    },
}

fn plan(session: &Session, config: &Config, now: SystemTime) -> (Plan, bool) {
    let mut state = session.lock();
    let vary = state.accessed;
    let loaded = state.loaded_id.is_some();
    let id_changed = state.id.is_none();
    if state.data.is_empty() {
        return (Plan::Forget { loaded }, vary);
    }
    let (max_age, browser_session) = match Expiry::from_data(&state.data) {
        Some(Expiry::MaxAge(age)) => (age, false),
        Some(Expiry::OnBrowserClose) => (config.max_age, true),
        None => (config.max_age, config.browser_session),
    };
    let remaining = state.expires_at.saturating_sub(unix_secs(now));
    let renew = config.sliding && loaded && remaining < max_age.as_secs() / 2;
    if !(state.modified || id_changed || renew) {
        return (Plan::Keep, vary);
    }
    let id = state.id.get_or_insert_with(SessionId::generate).clone();
    let record = Record {
        id,
        data: state.data.clone(),
        expires_at: unix_secs(now + max_age),
    };
    (
        Plan::Save {
            delete_loaded: loaded && id_changed,
            update: loaded && !id_changed,
            record,
            cookie_max_age: (!browser_session).then_some(max_age),
        },
        vary,
    )
}

/// Saves, deletes or leaves the session, and says which cookie to set.
async fn finish<St: SessionStore>(
    store: &St,
    config: &Config,
    secure: bool,
    session: &Session,
) -> Result<Saved, Error> {
    let (plan, vary) = plan(session, config, SystemTime::now());
    let cookie_value = session.lock().cookie.clone();
    let cookie_value = cookie_value.as_deref();
    let set_cookie = match plan {
        Plan::Keep => None,
        Plan::Forget { loaded } => {
            if let (true, Some(value)) = (loaded, cookie_value) {
                store.delete(value).await?;
            }
            cookie_value.map(|_| removal_cookie(config, secure))
        }
        Plan::Save {
            delete_loaded,
            update,
            record,
            cookie_max_age,
        } => {
            if let (true, Some(old)) = (delete_loaded, cookie_value) {
                store.delete(old).await?;
            }
            let value = if update {
                store
                    .update(&record)
                    .await?
                    .ok_or(Error::SessionInterrupted)?
            } else {
                store.save(&record).await?
            };
            let header = session_cookie(config, secure, value, cookie_max_age).map_err(|_| {
                Error::store(
                    "save",
                    "the store answered a cookie value that is not valid in a header",
                )
            })?;
            Some(header)
        }
    };
    Ok(Saved {
        set_cookie,
        vary_cookie: vary,
    })
}

fn base_cookie(config: &Config, value: String, secure: bool) -> cookie::CookieBuilder<'static> {
    let mut builder = Cookie::build((config.cookie_name.clone(), value))
        .path(config.path.clone())
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax);
    if let Some(domain) = &config.domain {
        builder = builder.domain(domain.clone());
    }
    builder
}

fn session_cookie(
    config: &Config,
    secure: bool,
    value: String,
    max_age: Option<Duration>,
) -> Result<HeaderValue, InvalidHeaderValue> {
    let mut builder = base_cookie(config, value, secure);
    if let Some(max_age) = max_age {
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        builder = builder.max_age(cookie::time::Duration::seconds(secs));
    }
    header_value(&builder.build())
}

fn removal_cookie(config: &Config, secure: bool) -> HeaderValue {
    // The builder methods check that name, path and domain make a valid
    // header, and the value is empty.
    header_value(&base_cookie(config, String::new(), secure).removal().build())
        .expect("session cookie config was checked when the layer was built")
}

fn header_value(cookie: &Cookie<'_>) -> Result<HeaderValue, InvalidHeaderValue> {
    HeaderValue::try_from(cookie.to_string())
}

fn add_vary_cookie(headers: &mut HeaderMap) {
    let present = headers
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("cookie") || name.trim() == "*");
    if !present {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}

/// The response for a store failure; the details go to the log.
fn failure<B: From<String>>(error: &Error) -> Response<B> {
    let text = if matches!(error, Error::SessionInterrupted) {
        tracing::warn!(%error, "session not saved");
        format!("400 Bad Request: {error}.\n")
    } else {
        tracing::error!(%error, "session store failure");
        format!(
            "{} {}: the session could not be loaded or saved.\n",
            error.status().as_u16(),
            error.status().canonical_reason().unwrap_or("Error")
        )
    };
    let mut response = Response::new(B::from(text));
    *response.status_mut() = error.status();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
