//! The router: a tower service that dispatches by path and method.

use std::any::Any;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::header::{ACCEPT, HeaderValue, LOCATION};
use http::{Method, Request, StatusCode, Uri};
use tack_http::{Body, BoxError, IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::ErrorInfo;
use crate::page::{self, ErrorPage, ErrorPageFn};
use crate::pattern::{self, Checks, Pattern};
use crate::request::{BodyLimit, DEFAULT_BODY_LIMIT, PathParams};
use crate::route::ResponseFuture;
use crate::route::{Handler, HttpService};
use crate::{Error, MethodRouter, Route, Urls};

/// The parameter name of a mounted service's remaining path.
const REST: &str = "tack_rest";

type LayerFn = dyn Fn(Route) -> Route + Send + Sync;

/// Routes requests by path and method to handlers and services.
///
/// A `Router` is a `tower::Service<http::Request<B>>` for any body `B`, so
/// hyper serves it and axum mounts it with `nest_service`. It is cheap to
/// clone (the routes live behind an `Arc`).
///
/// Patterns are Django-like: `/articles/{slug:slug}/`, `/users/{id:int}/`,
/// `/files/{*path}` (or `{path:path}`); converters are `str` (the default:
/// no `/`), `int`, `slug`, `uuid` and `path`. A value its converter rejects
/// is a 404. Static segments win over parameters; patterns with the same
/// shape (`/items/{id:int}` and `/items/{slug}`) are tried in the order they
/// were added. A pattern rejected by its converter does not fall back to a
/// different, less specific shape (a catch-all, say).
///
/// The builder methods (`route`, `name`, `nest`, ...) panic on a malformed
/// or conflicting pattern or a duplicate name, as a program that routes
/// wrongly should not start; [`Router::try_route`] returns the error instead.
#[derive(Clone)]
pub struct Router {
    core: Arc<Core>,
    layers: Vec<Arc<LayerFn>>,
    built: Arc<OnceLock<Route>>,
}

#[derive(Clone)]
struct Core {
    matcher: matchit::Router<Slot>,
    /// Further routes per shape, when several share one.
    more: Vec<Vec<(usize, Checks)>>,
    routes: Vec<Entry>,
    urls: Urls,
    fallback: Option<Route>,
    debug: bool,
    append_slash: bool,
    body_limit: usize,
    error_page: Option<Arc<ErrorPageFn>>,
}

/// What matchit finds for a shape, small and inline so that the hot path
/// follows no pointer: the first route with that shape and its packed
/// checks, and where further routes of the same shape are listed (tried in
/// order; 0 for none, else an index + 1 into `Core::more`).
#[derive(Clone, Copy)]
struct Slot {
    checks: Checks,
    index: u32,
    more: u16,
    /// Whether the shape has parameters at all.
    params: bool,
}

#[derive(Clone)]
struct Entry {
    pattern: Arc<Pattern>,
    name: Option<Arc<str>>,
    target: Target,
}

#[derive(Clone)]
enum Target {
    Methods(MethodRouter),
    Service(Route),
    /// A service mounted under a prefix: it sees the path without it.
    Mount(Route),
}

impl Target {
    fn map_routes(self, f: &dyn Fn(Route) -> Route) -> Target {
        match self {
            Target::Methods(methods) => Target::Methods(methods.map_routes(f)),
            Target::Service(route) => Target::Service(f(route)),
            Target::Mount(route) => Target::Mount(f(route)),
        }
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self
                    .core
                    .routes
                    .iter()
                    .map(|e| e.pattern.source())
                    .collect::<Vec<_>>(),
            )
            .field("debug", &self.core.debug)
            .finish_non_exhaustive()
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

/// A path resolved to a route, without dispatching (Django's `resolve`).
#[derive(Debug)]
pub struct Resolved<'r, 'p> {
    entry: &'r Entry,
    params: matchit::Params<'r, 'p>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("pattern", self.pattern.source())
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'r, 'p> Resolved<'r, 'p> {
    /// The route's pattern, as written.
    pub fn pattern(&self) -> &'r str {
        self.entry.pattern.source()
    }

    /// The route's name, namespace included.
    pub fn name(&self) -> Option<&'r str> {
        self.entry.name.as_deref()
    }

    /// A parameter's raw (still percent-encoded) value.
    pub fn raw_param(&self, name: &str) -> Option<&'p str> {
        let index = self
            .entry
            .pattern
            .params
            .iter()
            .position(|p| &*p.name == name)?;
        self.params.iter().nth(index).map(|(_, v)| v)
    }

    fn to_path_params(&self) -> PathParams {
        let params = self
            .entry
            .pattern
            .params
            .iter()
            .zip(self.params.iter())
            .map(|(param, (_, raw))| {
                let value = pattern::decode(raw).map_or_else(|| raw.to_owned(), |v| v.into_owned());
                (param.name.clone(), value)
            })
            .collect();
        PathParams {
            pattern: Some(self.entry.pattern.source().clone()),
            name: self.entry.name.clone(),
            params,
        }
    }
}

impl Router {
    /// A router with no routes: every path is 404.
    pub fn new() -> Self {
        Router {
            core: Arc::new(Core {
                matcher: matchit::Router::new(),
                more: Vec::new(),
                routes: Vec::new(),
                urls: Urls::default(),
                fallback: None,
                debug: false,
                append_slash: true,
                body_limit: DEFAULT_BODY_LIMIT,
                error_page: None,
            }),
            layers: Vec::new(),
            built: Arc::new(OnceLock::new()),
        }
    }

    fn core_mut(&mut self) -> &mut Core {
        self.built = Arc::new(OnceLock::new());
        Arc::make_mut(&mut self.core)
    }

    /// Routes `pattern` to the handlers of `methods` (`get(list).post(create)`).
    ///
    /// # Panics
    /// If the pattern is malformed or conflicts with an existing route (the
    /// message says which); see [`Router::try_route`].
    pub fn route(self, pattern: &str, methods: MethodRouter) -> Self {
        self.try_route(pattern, methods)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`Router::route`], returning the error instead of panicking.
    pub fn try_route(mut self, pattern: &str, methods: MethodRouter) -> Result<Self, Error> {
        self.core_mut()
            .add(pattern, None, Target::Methods(methods))?;
        Ok(self)
    }

    /// Routes `pattern`, every method, to any tower service.
    ///
    /// # Panics
    /// As [`Router::route`].
    pub fn route_service(mut self, pattern: &str, service: impl HttpService) -> Self {
        let target = Target::Service(service.into_route());
        if let Err(error) = self.core_mut().add(pattern, None, target) {
            panic!("{error}");
        }
        self
    }

    /// Mounts a service under a static `prefix` (`/static`): it answers
    /// `/static`, `/static/` and everything below, and sees the request
    /// path without the prefix (`/static/css/a.css` arrives as `/css/a.css`),
    /// as axum's `nest_service` does.
    ///
    /// # Panics
    /// If the prefix has parameters or conflicts with an existing route.
    pub fn nest_service(mut self, prefix: &str, service: impl HttpService) -> Self {
        let route = service.into_route();
        let prefix = prefix.trim_end_matches('/');
        let core = self.core_mut();
        let result = (|| {
            let bare = if prefix.is_empty() { "/" } else { prefix };
            if !Pattern::parse(bare)?.params.is_empty() {
                return Err(Error::InvalidPattern {
                    pattern: prefix.to_owned(),
                    reason: "a mounted service's prefix cannot have parameters".to_owned(),
                });
            }
            if !prefix.is_empty() {
                core.add(prefix, None, Target::Mount(route.clone()))?;
            }
            core.add(&format!("{prefix}/"), None, Target::Mount(route.clone()))?;
            core.add(&format!("{prefix}/{{*{REST}}}"), None, Target::Mount(route))
        })();
        if let Err(error) = result {
            panic!("{error}");
        }
        self
    }

    /// Names the route added last, for [`Router::reverse`]
    /// (`.route("/articles/{slug}/", get(detail)).name("article-detail")`).
    ///
    /// # Panics
    /// If no route was added yet or the name is taken.
    pub fn name(mut self, name: &str) -> Self {
        let core = self.core_mut();
        let entry = core
            .routes
            .last_mut()
            .unwrap_or_else(|| panic!("name({name:?}) must follow a route"));
        let name: Arc<str> = name.into();
        entry.name = Some(name.clone());
        let pattern = entry.pattern.clone();
        if let Err(error) = core.urls.insert(name, pattern) {
            panic!("{error}");
        }
        self
    }

    /// Mounts another router's routes under `prefix`, its route names under
    /// `namespace` (`admin:index`; an empty namespace keeps the names as
    /// they are). The nested router's own layers wrap its routes; its
    /// fallback and settings are not used (this router's apply).
    ///
    /// # Panics
    /// If a nested pattern conflicts or a name is taken.
    pub fn nest(mut self, prefix: &str, namespace: &str, router: Router) -> Self {
        let child = Arc::unwrap_or_clone(router.core);
        let layers = router.layers;
        let core = self.core_mut();
        for entry in child.routes {
            let pattern = pattern::join(prefix, entry.pattern.source());
            let name = entry.name.map(|name| -> Arc<str> {
                if namespace.is_empty() {
                    name
                } else {
                    format!("{namespace}:{name}").into()
                }
            });
            let target = entry
                .target
                .map_routes(&|route| layers.iter().fold(route, |route, layer| layer(route)));
            if let Err(error) = core.add(&pattern, name, target) {
                panic!("{error}");
            }
        }
        self
    }

    /// Wraps the whole router in a tower layer: it sees every request,
    /// including those that end in 404, 405 or a redirect, and routes added
    /// later too. Layers added later wrap the earlier ones.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Send + Sync + 'static,
        L::Service: HttpService,
    {
        self.layers
            .push(Arc::new(move |route: Route| route.layer(&layer)));
        self.built = Arc::new(OnceLock::new());
        self
    }

    /// Wraps each route added so far in a tower layer (not 404s, not routes
    /// added later). For one route, use [`MethodRouter::layer`].
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route>,
        L::Service: HttpService,
    {
        let core = self.core_mut();
        for entry in &mut core.routes {
            let target = entry.target.clone();
            entry.target = target.map_routes(&|route| route.layer(&layer));
        }
        self
    }

    /// Answers paths no route matches with `handler` instead of a 404.
    pub fn fallback(mut self, handler: impl Handler) -> Self {
        self.core_mut().fallback = Some(handler.into_route());
        self
    }

    /// Debug mode: error pages show panic messages and error causes. Never
    /// in production. Off by default.
    pub fn debug(mut self, on: bool) -> Self {
        self.core_mut().debug = on;
        self
    }

    /// Django's APPEND_SLASH: a GET or HEAD for `/a/x` that matches nothing,
    /// when `/a/x/` matches, is redirected (301) there, query kept. On by
    /// default. The `Location` is the absolute path the client sent
    /// (read from [`OriginalUri`] when a mount took a prefix off), with
    /// anything a browser could read as another host escaped.
    pub fn append_slash(mut self, on: bool) -> Self {
        self.core_mut().append_slash = on;
        self
    }

    /// The body size limit for [`RequestExt`](crate::RequestExt)'s readers
    /// (default [`DEFAULT_BODY_LIMIT`], 2 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.core_mut().body_limit = bytes;
        self
    }

    /// Renders HTML error pages (404, 405, 413, 500, ...) with `hook`
    /// instead of the built-in page. Clients preferring JSON still get
    /// problem+json. The status is forced to the error's.
    pub fn error_page(
        mut self,
        hook: impl Fn(&ErrorPage) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.core_mut().error_page = Some(Arc::new(hook));
        self
    }

    /// The path of the route named `name` (see [`Urls::reverse`]).
    pub fn reverse(&self, name: &str, params: &[(&str, &str)]) -> Result<String, Error> {
        self.core.urls.reverse(name, params)
    }

    /// The named routes, to reverse URLs outside a request.
    pub fn urls(&self) -> Urls {
        self.core.urls.clone()
    }

    /// The route a path resolves to, converters checked, without calling it.
    #[inline]
    pub fn resolve<'p>(&self, path: &'p str) -> Option<Resolved<'_, 'p>> {
        self.core.resolve(path)
    }

    fn service(&self) -> Option<&Route> {
        if self.layers.is_empty() {
            return None;
        }
        Some(self.built.get_or_init(|| {
            let core = self.core.clone();
            let inner = Route::from_fn(move |request| Core::dispatch(&core, request));
            self.layers.iter().fold(inner, |route, layer| layer(route))
        }))
    }

    fn handle(&self, mut request: Request<Body>) -> BoxFuture<'static, Response> {
        // Before the layers, so that they can reverse URLs too.
        request.extensions_mut().insert(self.core.urls.clone());
        if self.core.body_limit != DEFAULT_BODY_LIMIT {
            request
                .extensions_mut()
                .insert(BodyLimit(self.core.body_limit));
        }
        let path = request.uri().clone();
        let accept = request.headers().get(ACCEPT).cloned();
        let core = self.core.clone();
        let future = match self.service() {
            Some(route) => route.call_route(request),
            None => Core::dispatch(&self.core, request),
        };
        Box::pin(async move {
            let response = future.await;
            page::render(
                response,
                path.path(),
                accept.as_ref(),
                core.debug,
                core.error_page.as_deref(),
            )
        })
    }
}

impl Core {
    fn add(&mut self, source: &str, name: Option<Arc<str>>, target: Target) -> Result<(), Error> {
        let pattern = Arc::new(Pattern::parse(source)?);
        if self
            .routes
            .iter()
            .any(|e| e.pattern.source() == pattern.source())
        {
            return Err(Error::InvalidPattern {
                pattern: source.to_owned(),
                reason: "it is routed twice; put every method on one route: get(a).post(b)"
                    .to_owned(),
            });
        }
        let index = self.routes.len();
        let checks = pattern.checks();
        let too_many = || Error::InvalidPattern {
            pattern: source.to_owned(),
            reason: "too many routes for one router".to_owned(),
        };
        let slot = match self.matcher.remove(pattern.shape.clone()) {
            Some(mut slot) => {
                if slot.more == 0 {
                    self.more.push(Vec::new());
                    slot.more = u16::try_from(self.more.len()).map_err(|_| too_many())?;
                }
                self.more[usize::from(slot.more) - 1].push((index, checks));
                slot
            }
            None => Slot {
                checks,
                index: u32::try_from(index).map_err(|_| too_many())?,
                more: 0,
                params: !pattern.params.is_empty(),
            },
        };
        self.matcher
            .insert(pattern.shape.clone(), slot)
            .map_err(|error| {
                let existing = match &error {
                    matchit::InsertError::Conflict { with } => self
                        .routes
                        .iter()
                        .find(|e| e.pattern.shape == *with)
                        .map(|e| e.pattern.source().to_string()),
                    _ => None,
                };
                Error::RouteConflict {
                    pattern: source.to_owned(),
                    existing: existing.unwrap_or_else(|| error.to_string()),
                }
            })?;
        if let Some(name) = &name {
            self.urls.insert(name.clone(), pattern.clone())?;
        }
        self.routes.push(Entry {
            pattern,
            name,
            target,
        });
        Ok(())
    }

    // Always inlined: this is the hot path, and its callers are few.
    #[inline(always)]
    fn resolve<'r, 'p>(&'r self, path: &'p str) -> Option<Resolved<'r, 'p>> {
        let matched = self.matcher.at(path).ok()?;
        let slot = matched.value;
        let accepts = |index: usize, checks: Checks| {
            // The hot path reads only the values' bytes; a value with a `%`
            // (or a pattern it cannot walk) takes the full check, decoding.
            checks.check(path).unwrap_or_else(|| {
                let values = matched.params.iter().map(|(_, value)| value);
                self.routes[index].pattern.accepts(values)
            })
        };
        let first = slot.index as usize;
        let index = if !slot.params || accepts(first, slot.checks) {
            first
        } else if slot.more == 0 {
            return None;
        } else {
            self.more[usize::from(slot.more) - 1]
                .iter()
                .find(|&&(index, checks)| accepts(index, checks))?
                .0
        };
        Some(Resolved {
            entry: &self.routes[index],
            params: matched.params,
        })
    }

    fn dispatch(core: &Arc<Core>, mut request: Request<Body>) -> BoxFuture<'static, Response> {
        let found = core.resolve(request.uri().path()).map(|resolved| {
            let rest = resolved.raw_param(REST).map(str::to_owned);
            (
                resolved.entry.target.clone(),
                resolved.to_path_params(),
                rest,
            )
        });
        let call = match found {
            Some((Target::Methods(methods), params, _)) => {
                request.extensions_mut().insert(params);
                Call::Methods(methods, request)
            }
            Some((Target::Service(route), params, _)) => {
                request.extensions_mut().insert(params);
                Call::Route(route, request)
            }
            Some((Target::Mount(route), _, rest)) => {
                strip_prefix(&mut request, rest.as_deref().unwrap_or(""));
                Call::Route(route, request)
            }
            None => match core.append_slash_redirect(&request) {
                Some(response) => return Box::pin(std::future::ready(response)),
                None => match &core.fallback {
                    Some(route) => Call::Route(route.clone(), request),
                    None => {
                        let response = core.not_found(request.uri().path());
                        return Box::pin(std::future::ready(response));
                    }
                },
            },
        };
        let started = std::panic::catch_unwind(AssertUnwindSafe(move || call.start()));
        Box::pin(async move {
            let result = match started {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            result.unwrap_or_else(|panic| {
                Error::Panic {
                    message: panic_message(panic.as_ref()),
                }
                .into_response()
            })
        })
    }

    /// A 404 whose debug text lists the patterns tried, as Django's does.
    fn not_found(&self, path: &str) -> Response {
        let mut response = Error::NotFound {
            path: path.to_owned(),
        }
        .into_response();
        if self.debug
            && let Some(info) = response.extensions_mut().get_mut::<ErrorInfo>()
        {
            let mut text = String::from("The router tried these patterns, in this order:");
            for entry in &self.routes {
                text.push_str("\n  ");
                text.push_str(entry.pattern.source());
                if let Some(name) = &entry.name {
                    text.push_str(&format!(" [name='{name}']"));
                }
            }
            info.debug = Some(text);
        }
        response
    }

    fn append_slash_redirect(&self, request: &Request<Body>) -> Option<Response> {
        let path = request.uri().path();
        if !self.append_slash
            || !matches!(*request.method(), Method::GET | Method::HEAD)
            || path.ends_with('/')
        {
            return None;
        }
        self.resolve(&format!("{path}/"))?;
        // The absolute path as the client sent it (before any mount took
        // its prefix off), escaped: a `\` or a leading `//` must not turn
        // the redirect into one to another host.
        let original = request
            .extensions()
            .get::<OriginalUri>()
            .map_or(request.uri(), |original| &original.0);
        let mut location = escape_location_path(original.path());
        location.push('/');
        if let Some(query) = original.query() {
            location.push('?');
            location.push_str(&escape_location_path(query));
        }
        let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_str(&location).ok()?);
        Some(response)
    }
}

/// Percent-encodes what may not stand in a redirect's path or query as
/// it is (`\`, controls, spaces, non-ASCII), keeping `%XX` escapes, and
/// escapes a second leading `/` (`//host` is another host to a browser).
fn escape_location_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, byte) in text.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&byte);
        if keep && !(i == 1 && byte == b'/' && text.starts_with('/')) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

enum Call {
    Methods(MethodRouter, Request<Body>),
    Route(Route, Request<Body>),
}

impl Call {
    fn start(self) -> BoxFuture<'static, Response> {
        match self {
            Call::Methods(methods, request) => methods.dispatch(request),
            Call::Route(route, request) => route.call_route(request),
        }
    }
}

/// Rewrites the request path to what a mounted service sees.
/// The request's URI as the server received it, before a
/// [`Router::nest_service`] took its prefix off; set by the first mount a
/// request passes through (or by an integration that mounts the router
/// under a prefix of its own, from its framework's equivalent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginalUri(pub Uri);

fn strip_prefix(request: &mut Request<Body>, rest: &str) {
    if request.extensions().get::<OriginalUri>().is_none() {
        let original = OriginalUri(request.uri().clone());
        request.extensions_mut().insert(original);
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("/{rest}?{query}"),
        None => format!("/{rest}"),
    };
    let mut parts = request.uri().clone().into_parts();
    // The new path is a suffix of a valid path, so it parses.
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Boxes any request body as [`Body`], without boxing a `Body` twice.
fn into_body<B>(request: Request<B>) -> Request<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let mut slot = Some(body);
    let body = match (&mut slot as &mut dyn Any).downcast_mut::<Option<Body>>() {
        Some(body) => body.take().unwrap_or_default(),
        None => slot.map(Body::new).unwrap_or_default(),
    };
    Request::from_parts(parts, body)
}

impl<B> Service<Request<B>> for Router
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        ResponseFuture(self.handle(into_body(request)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_is_a_shareable_service() {
        fn assert_service<S>()
        where
            S: Service<Request<Body>, Response = Response, Error = Infallible>
                + Clone
                + Send
                + Sync
                + 'static,
        {
        }
        fn assert_any_body<S: Service<Request<http_body_util::Full<Bytes>>>>() {}
        fn assert_send<T: Send>(_: &T) {}
        assert_service::<Router>();
        assert_service::<Route>();
        assert_any_body::<Router>();
        let mut router = Router::new();
        let future = Service::<Request<Body>>::call(&mut router, Request::new(Body::empty()));
        assert_send(&future);
    }

    #[test]
    fn the_body_is_boxed_once() {
        let request = into_body(Request::new(Body::from("x")));
        assert_eq!(http_body::Body::size_hint(request.body()).exact(), Some(1));
        let request = into_body(Request::new(http_body_util::Empty::<Bytes>::new()));
        assert!(http_body::Body::is_end_stream(request.body()));
    }
}
