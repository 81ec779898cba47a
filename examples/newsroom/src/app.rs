//! The newsroom's router: pages, static files and error pages.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use http::Request;
use http::StatusCode;
use tack_auth::{Auth, AuthLayer, CurrentUser, DbBackend, DbThrottle, DbTokenStore, User};
use tack_forms::LocalStorage;
use tack_http::Problem;
use tack_http::{Body, IntoResponse, Response};
use tack_orm::{AsyncDatabase, Database};
use tack_routing::{
    AccessLogLayer, ErrorPage, PathParams, Router, ServeDir, Urls, delete, get, post,
};
use tack_security::{
    AllowedHostsLayer, CsrfLayer, CsrfToken, HttpsRedirectLayer, ProxyLayer, SecurityHeadersLayer,
};
use tack_sessions::{DbStore, Messages, SecretKey, SessionLayer};

use crate::health::{HealthLayer, Readiness};
use tack_templates::minijinja::value::{Object, ObjectRepr};
use tack_templates::{Serde, Templates, Value, context};
use tack_ws::{
    Connection, Consumer, Groups, PostgresLayer, RedisLayer, WebSocketEndpoint, WsConfig,
};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::Settings;
use crate::models::{Article, Status};
use crate::settings::ChannelLayerSetting;
use crate::{accounts, api, pages};

/// Where the app's own files live (templates and static files are also
/// embedded in the binary; in debug mode the files on disk win and reload).
fn app_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(sub)
}

/// Everything a request handler needs.
pub struct Newsroom {
    /// Websocket groups: one per article, named by [`article_group`].
    pub groups: Groups,
    /// The database, queried from worker threads.
    pub db: AsyncDatabase,
    /// The pages' templates.
    pub templates: Templates,
    /// Users, sign-in, API tokens.
    pub auth: Auth<DbBackend>,
    /// Hosts `?next=` may point at, besides this site's paths.
    pub allowed_hosts: Vec<String>,
    /// Debug mode (detailed error pages).
    pub debug: bool,
    /// Uploads (cover images), served at `/media/`.
    pub media: Arc<LocalStorage>,
}

/// `{{ csrf_token }}`: masked only when a template prints it, so pages
/// without a form neither create a CSRF secret nor write the session.
#[derive(Debug)]
struct LazyCsrfToken(CsrfToken);

impl Object for LazyCsrfToken {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.masked())
    }
}

/// The templates shipped inside the binary.
const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("400.html", include_str!("../templates/400.html")),
    ("403.html", include_str!("../templates/403.html")),
    ("404.html", include_str!("../templates/404.html")),
    ("500.html", include_str!("../templates/500.html")),
    ("login.html", include_str!("../templates/login.html")),
    (
        "password_change.html",
        include_str!("../templates/password_change.html"),
    ),
    (
        "crud/base.html",
        include_str!("../templates/crud/base.html"),
    ),
];

impl Newsroom {
    /// Builds the shared state from the settings. `url()` in templates
    /// reverses through `urls` once the router has filled it in.
    pub fn new(
        settings: &Settings,
        db: AsyncDatabase,
        auth: Auth<DbBackend>,
        urls: Arc<OnceLock<Urls>>,
    ) -> Result<Self, StartError> {
        let mut builder = Templates::builder();
        if settings.debug {
            builder = builder.dir(app_dir("templates"));
        }
        let templates = builder
            .add_embedded(EMBEDDED_TEMPLATES)
            .add_embedded(tack_admin::TEMPLATES)
            .add_embedded(tack_crud::TEMPLATES)
            .add_embedded(tack_forms::TEMPLATES)
            .configure(|env| tack_forms::install(env))
            .debug(settings.debug)
            .static_url("/static/")
            .reverse_urls(move |name: &str, params: &[(String, String)]| {
                let params: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let urls = urls.get().ok_or("the URL table is not built yet")?;
                urls.reverse(name, &params).map_err(|e| e.to_string())
            })
            .context_processor("csrf_token", |request| {
                let token = request.extensions().get::<CsrfToken>()?.clone();
                Some(Value::from_object(LazyCsrfToken(token)))
            })
            .context_processor("user", |request| {
                let current = request.extensions().get::<CurrentUser<User>>()?;
                let user = current.user()?;
                Some(context! {
                    username => user.username.clone(),
                    is_authenticated => true,
                    is_staff => user.is_staff,
                })
            })
            .context_processor("messages", |request| {
                // Reading the messages marks them shown, as Django's do.
                let messages = request.extensions().get::<Messages>()?.take().ok()?;
                Some(Value::from(Serde(messages)))
            })
            .build()?;
        // Across several app servers, LISTEN/NOTIFY or Redis pub/sub carries
        // each broadcast to every server; a single process keeps it in memory.
        tracing::info!(layer = %settings.channel_layer, "live comments travel through this channel layer");
        let groups = match &settings.channel_layer {
            ChannelLayerSetting::Memory => Groups::in_memory(),
            ChannelLayerSetting::Postgres(url) => {
                Groups::new(PostgresLayer::connect(url, LIVE_CHANNEL)?)?
            }
            ChannelLayerSetting::Redis(url) => {
                Groups::new(RedisLayer::connect(url, LIVE_CHANNEL)?)?
            }
        };
        std::fs::create_dir_all(&settings.media_root).map_err(|source| StartError::Media {
            path: settings.media_root.clone(),
            source,
        })?;
        Ok(Newsroom {
            groups,
            db,
            auth,
            allowed_hosts: settings.allowed_hosts.clone(),
            templates,
            debug: settings.debug,
            media: Arc::new(LocalStorage::new(&settings.media_root, "/media/")),
        })
    }

    /// The HTML error page for a failed request: the debug page in debug
    /// mode, else `404.html`, `403.html`, `400.html` (any other refusal of
    /// the request) or `500.html` (the server's failures), as Django names
    /// them.
    fn error_page(&self, page: &ErrorPage) -> Response {
        if self.debug && page.debug.is_some() {
            return page.default_html();
        }
        let template = match page.status {
            StatusCode::NOT_FOUND => "404.html",
            StatusCode::FORBIDDEN => "403.html",
            status if status.is_client_error() => "400.html",
            _ => "500.html",
        };
        let context = context! {
            status => page.status.as_u16(),
            title => page.title.clone(),
            detail => page.detail.clone(),
            request => context! { path => page.path.clone() },
        };
        match self.templates.render(template, context) {
            Ok(html) => (page.status, tack_http::Html(html)).into_response(),
            Err(_) => page.default_html(),
        }
    }
}

/// The websocket group of the article `slug`.
pub fn article_group(slug: &str) -> String {
    format!("article-{slug}")
}

/// One viewer of an article's live comments: joins the article's group
/// (the route has checked that the article is published).
struct ArticleViewer {
    groups: Groups,
}

impl Consumer for ArticleViewer {
    fn connect(
        &mut self,
        connection: &Connection,
        request: &http::request::Parts,
    ) -> Result<(), Problem> {
        let slug = article_slug(request).ok_or_else(no_article_in_the_path)?;
        self.groups
            .join(&article_group(slug), connection)
            .map_err(|error| error.to_problem())
    }
}

/// The article's slug from the route's path parameters.
fn article_slug(request: &http::request::Parts) -> Option<&str> {
    request
        .extensions
        .get::<PathParams>()
        .and_then(|params| params.get("slug"))
}

fn no_article_in_the_path() -> Problem {
    Problem::not_found("No article in the path.")
}

/// A boxed future, for handlers whose future type cannot be named.
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// `/ws/articles/{slug}/`: pushes `comment.created` events to the article's
/// viewers. Only published articles have viewers, as only they have a
/// page: a draft's slug is refused like an unknown one, so its comments
/// stay with the editors (one indexed lookup, on the database's threads,
/// before the upgrade is answered). When the process drains, every viewer
/// gets a 1001 (going away) close, and the page's script reconnects (to
/// another process); when it finishes, the channel layer sends what is
/// still queued.
fn live_comments(
    state: &Arc<Newsroom>,
    readiness: &Readiness,
) -> impl Fn(Request<Body>) -> BoxFuture<Response> + Send + Sync + 'static {
    let groups = state.groups.clone();
    let endpoint = WebSocketEndpoint::tokio(move || ArticleViewer {
        groups: groups.clone(),
    })
    .with_config(WsConfig::new().with_max_message_size(64 * 1024));
    let closing = endpoint.clone();
    let open = endpoint.clone();
    readiness.on_drain(
        move || closing.close_all(tack_ws::CloseCode::Away, "the server is shutting down"),
        move || open.open_connections(),
    );
    // The last requests' broadcasts leave before the process does.
    let groups = state.groups.clone();
    readiness.on_finish(move |timeout| {
        if let Err(error) = groups.flush(timeout) {
            tracing::warn!(%error, "broadcasts still queued at exit are lost");
        }
    });
    let db = state.db.clone();
    move |request: Request<Body>| {
        let (db, endpoint) = (db.clone(), endpoint.clone());
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let Some(slug) = article_slug(&parts).map(str::to_owned) else {
                return no_article_in_the_path().into_response();
            };
            let published = db
                .run(move |db| {
                    Article::objects()
                        .filter(Article::SLUG.eq(&slug) & Article::STATUS.eq(Status::Published))
                        .exists(db)
                })
                .await;
            match published {
                Ok(true) => endpoint.accept(Request::from_parts(parts, body)),
                Ok(false) => {
                    Problem::not_found("No published article has this slug.").into_response()
                }
                Err(error) => {
                    tracing::error!(%error, "live comments: the article lookup failed");
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                        .with_detail("The database could not answer; try again shortly.")
                        .into_response()
                }
            }
        })
    }
}

/// A handler taking the app's state, as the router's request handler.
fn with_state<F, Fut>(
    state: &Arc<Newsroom>,
    handler: F,
) -> impl Fn(Request<Body>) -> Fut + Send + Sync + 'static
where
    F: Fn(Arc<Newsroom>, Request<Body>) -> Fut + Send + Sync + 'static,
{
    let state = state.clone();
    move |request| handler(state.clone(), request)
}

/// The routes: what URLs exist and what they are called.
fn routes(state: &Arc<Newsroom>, readiness: &Readiness) -> Result<Router, StartError> {
    let articles = api::articles(state.db.clone());
    let comments = api::comments(state.db.clone(), state.groups.clone());
    let docs = api::docs(&articles, &comments)?;
    let admin = crate::admin::site(state);
    let write = crate::write::pages(
        state.db.clone(),
        state.templates.clone(),
        state.media.clone(),
    );
    Ok(Router::new()
        .route("/", get(with_state(state, pages::index)))
        .name("index")
        .route(
            "/articles/{slug:slug}/",
            get(with_state(state, pages::article_detail)),
        )
        .name("article-detail")
        .route(
            "/articles/{slug:slug}/comments/",
            post(with_state(state, pages::comment_create)),
        )
        .name("comment-create")
        .route(
            "/accounts/login/",
            get(with_state(state, accounts::login_form)).post(with_state(state, accounts::login)),
        )
        .name("login")
        .route(
            "/accounts/logout/",
            post(with_state(state, accounts::logout)),
        )
        .name("logout")
        .route(
            "/accounts/password/",
            get(with_state(state, accounts::password_form))
                .post(with_state(state, accounts::password_change)),
        )
        .name("password-change")
        .route("/api/auth/token/", post(with_state(state, accounts::token)))
        .name("api-token")
        .route(
            "/api/auth/tokens/",
            get(with_state(state, accounts::tokens)),
        )
        .name("api-tokens")
        .route(
            "/api/auth/tokens/{id}/",
            delete(with_state(state, accounts::token_revoke)),
        )
        .name("api-token-revoke")
        .route(
            "/ws/articles/{slug:slug}/",
            get(live_comments(state, readiness)),
        )
        .name("article-live")
        // Routed with the full path kept, so the sign-in guard's `?next=`
        // and the pages' links name /write/... (a nested service sees the
        // path without its prefix).
        .route_service("/write/", write.clone())
        .name("write")
        .route_service("/write/{*rest}", write)
        .route_service("/admin/", admin.clone())
        .name("admin")
        .route_service("/admin/{*rest}", admin)
        .nest_service("/api/articles", articles)
        .nest_service("/api/comments", comments)
        .route_service("/api/openapi.json", docs.clone())
        .name("api-schema")
        .route_service("/api/docs/", docs)
        .name("api-docs")
        .nest_service("/media", ServeDir::new(state.media.root()))
        .nest_service("/static", ServeDir::new(app_dir("static"))))
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened, created or seeded.
    #[error("database {url}: {source}")]
    Database {
        /// `DATABASE_URL`.
        url: String,
        /// Why.
        source: crate::db::OpenError,
    },
    /// A template failed to load.
    #[error(transparent)]
    Templates(#[from] tack_templates::Error),
    /// The websocket channel layer could not start.
    #[error("live comments: {0}")]
    Websocket(#[from] tack_ws::Error),
    /// The API's OpenAPI document could not be built.
    #[error("API documentation: {0}")]
    ApiDoc(#[from] tack_apidoc::Error),
    /// `NEWSROOM_TRUSTED_PROXIES` or `NEWSROOM_PROXY_SSL_HEADER` is malformed.
    #[error("proxy settings: {0}")]
    Proxy(#[from] tack_security::ProxyError),
    /// An HTTPS header is set, but no proxy is trusted to send it.
    #[error(
        "NEWSROOM_PROXY_SSL_HEADER is set but NEWSROOM_TRUSTED_PROXIES is empty: name the \
         proxies (like 127.0.0.1 or 10.0.0.0/8) whose header is believed"
    )]
    ProxyHeaderUntrusted,
    /// The media folder could not be made.
    #[error(
        "media folder {path}: {source} (set NEWSROOM_MEDIA_ROOT to a folder this process may write)"
    )]
    Media {
        /// `NEWSROOM_MEDIA_ROOT`.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Worker threads that run database queries off the async executor.
const DATABASE_THREADS: usize = 4;

/// The channel (PostgreSQL) or pub/sub channel (Redis) every newsroom
/// process shares for live comments.
const LIVE_CHANNEL: &str = "newsroom_live";

/// The newsroom as one service: what `serve` runs and tests drive.
pub type App = BoxCloneSyncService<Request<Body>, Response, Infallible>;

/// Opens the database of `settings` (creating and seeding it on first run)
/// and builds the newsroom's whole HTTP service. Blocking: call it before
/// starting the async runtime, or from `spawn_blocking`.
pub fn app(settings: &Settings) -> Result<App, StartError> {
    app_with_readiness(settings, Readiness::default())
}

/// [`app`] whose `/readyz` answers 503 once `readiness` drains (the server
/// drains it on SIGTERM).
pub fn app_with_readiness(settings: &Settings, readiness: Readiness) -> Result<App, StartError> {
    let db = crate::db::open(&settings.database_url).map_err(|source| StartError::Database {
        url: settings.database_url.clone(),
        source,
    })?;
    build(settings, db, readiness)
}

/// The newsroom's HTTP service on an open database: the router inside the
/// security stack (allowed hosts, security headers, sessions, CSRF).
pub fn app_with_database(settings: &Settings, db: Database) -> Result<App, StartError> {
    build(settings, db, Readiness::default())
}

fn build(settings: &Settings, db: Database, readiness: Readiness) -> Result<App, StartError> {
    let migrations = crate::db::migrations().map_err(|error| StartError::Database {
        url: settings.database_url.clone(),
        source: error.into(),
    })?;
    let health = HealthLayer::new(db.clone(), migrations, readiness.clone());
    let db = AsyncDatabase::new(db, DATABASE_THREADS);
    // The session table comes with tack-sessions' migration (`db::open`).
    let sessions = DbStore::new(db.clone());
    let auth = Auth::new(
        DbBackend::new(db.clone()),
        SecretKey::new(settings.secret_key.as_bytes()),
    )
    // In the database: every process sees the same counts and locks.
    .with_throttle(DbThrottle::new(db.clone()))
    .with_tokens(DbTokenStore::new(db.clone()));
    let urls = Arc::new(OnceLock::new());
    let state = Arc::new(Newsroom::new(settings, db, auth.clone(), urls.clone())?);
    let pages = state.clone();
    let router = routes(&state, &readiness)?
        .debug(settings.debug)
        .error_page(move |page| pages.error_page(page));
    // Set once, here, before the router serves anything.
    let _ = urls.set(router.urls());
    let layers = SecurityStack::new(settings)?;
    let service = ServiceBuilder::new()
        // Probes come from the orchestrator, by address: before the host
        // check and the access log.
        .layer(health)
        .layer(layers.proxy)
        // Inside the proxy layer (the real client), outside every refusal.
        .layer(AccessLogLayer::new())
        .layer(layers.hosts)
        .option_layer(layers.https_redirect)
        .layer(layers.headers)
        .layer(SessionLayer::new(sessions).with_secure(layers.secure_cookies))
        .layer(layers.csrf)
        .layer(AuthLayer::new(auth))
        .service(router);
    Ok(BoxCloneSyncService::new(service))
}

/// The security layers as the settings configure them; `check --deploy`
/// inspects the same values.
pub struct SecurityStack {
    /// Believes `X-Forwarded-For` and the HTTPS header from the proxies in
    /// `NEWSROOM_TRUSTED_PROXIES` only.
    pub proxy: ProxyLayer,
    /// Answers 400 to hosts not in `NEWSROOM_ALLOWED_HOSTS`.
    pub hosts: AllowedHostsLayer,
    /// With `NEWSROOM_HTTPS_ONLY`, redirects plain-HTTP requests to HTTPS.
    pub https_redirect: Option<HttpsRedirectLayer>,
    /// nosniff, frame denial, referrer and opener policies.
    pub headers: SecurityHeadersLayer,
    /// CSRF protection for forms and session-authenticated API calls.
    pub csrf: CsrfLayer,
    /// Whether the session and CSRF cookies are always `Secure`
    /// (`NEWSROOM_HTTPS_ONLY`); else they are `Secure` over HTTPS only.
    pub secure_cookies: bool,
}

impl SecurityStack {
    /// The layers for `settings`.
    pub fn new(settings: &Settings) -> Result<Self, StartError> {
        let secure_cookies = settings.https_only;
        let mut proxy = ProxyLayer::new().trust(&settings.trusted_proxies)?;
        if let Some(header) = &settings.proxy_ssl_header {
            if !proxy.trusts_any() {
                return Err(StartError::ProxyHeaderUntrusted);
            }
            proxy = proxy.with_ssl_header(header)?;
        }
        Ok(SecurityStack {
            proxy,
            hosts: AllowedHostsLayer::new(settings.allowed_hosts.iter().cloned())
                .with_debug(settings.debug),
            https_redirect: settings.https_only.then(HttpsRedirectLayer::new),
            headers: SecurityHeadersLayer::new(),
            csrf: CsrfLayer::new()
                .with_secure_cookie(secure_cookies)
                .with_bearer_exempt(true)
                // Trading a password for a token sets no cookie: a forged
                // cross-site request learns nothing, as in DRF.
                .with_exempt(|parts| parts.uri.path() == "/api/auth/token/")
                .with_debug(settings.debug),
            secure_cookies,
        })
    }
}
