//! {{project}}, made by `tack new`: Tack's batteries composed the way the
//! newsroom composes them. The pages are a tack-routing router, inside the
//! session, CSRF and auth layers; the admin is at `/admin/`; the models are
//! in `models.rs` and their migrations in `migrations/`.

pub mod models;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use http::{Request, StatusCode};
use tack_admin::{AdminSite, ModelAdmin};
use tack_auth::guard::GuardLayer;
use tack_auth::{Auth, AuthLayer, Credentials, CurrentUser, DbBackend, Password, User};
use tack_http::{Body, Html, IntoResponse, Response};
use tack_orm::migrations::{self, AppMigrations, Migrations};
use tack_orm::{AsyncDatabase, Database};
use tack_routing::{RequestExt, Router, ServeDir, get};
use tack_security::{CsrfLayer, CsrfToken};
use tack_sessions::{DbStore, SecretKey, Session, SessionLayer};
use tack_templates::{Templates, Value, context};
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceBuilder};

/// The migration files of `migrations/`, compiled into the binary.
pub static MIGRATIONS: &[(&str, &str)] = migrations::embed_migrations!("migrations");

/// The project's app label.
pub const APP: &str = "{{app}}";

/// The migrations the batteries ship: users and permissions, sessions.
pub const BATTERIES: &[AppMigrations] = &[tack_auth::MIGRATIONS, tack_sessions::MIGRATIONS];

/// Settings from the environment, each with a default that works on a
/// fresh machine.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `ADDR`: where to listen.
    pub addr: String,
    /// `DATABASE_URL`: `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// `SECRET_KEY`: signs sessions; set a long random one in production.
    pub secret_key: String,
    /// `DEBUG=1`: detailed error pages, cookies allowed over plain HTTP.
    pub debug: bool,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Settings {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        Settings {
            addr: var("ADDR", "127.0.0.1:8000"),
            database_url: var("DATABASE_URL", "sqlite://{{project}}.sqlite3"),
            secret_key: var("SECRET_KEY", "{{project}}-development-key-change-me-0123456789"),
            debug: var("DEBUG", "1") == "1",
        }
    }
}

/// Why the site could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

fn fail(error: impl std::fmt::Display) -> StartError {
    StartError(error.to_string())
}

/// The project's migrations (compiled in) with the batteries'.
pub fn migration_set() -> tack_orm::Result<Migrations> {
    let mut set = Migrations::from_embedded(MIGRATIONS)?.labelled(APP)?;
    for battery in BATTERIES {
        set = set.with(*battery)?;
    }
    Ok(set)
}

/// Opens the database and applies the migrations; refuses models that are
/// ahead of them (run `cargo run -- makemigrations`).
pub fn open(url: &str) -> Result<Database, StartError> {
    let db = Database::connect(url).map_err(fail)?;
    let set = migration_set().map_err(fail)?;
    migrations::migrate(&db, &set, None).map_err(fail)?;
    migrations::check(&db, &models::all(), &set)
        .map_err(fail)?
        .into_result()
        .map_err(fail)?;
    tack_auth::ensure_permissions(&db, &models::all()).map_err(fail)?;
    Ok(db)
}

/// The whole site as one service.
pub type App = BoxCloneSyncService<Request<Body>, Response, Infallible>;

struct Site {
    auth: Auth<DbBackend>,
    templates: Templates,
}

fn project_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(sub)
}

/// The site on an open database: pages, static files at `/static/`, the
/// admin at `/admin/`, inside sessions, CSRF and auth.
pub fn app(settings: &Settings, db: Database) -> Result<App, StartError> {
    let db = AsyncDatabase::new(db, 4);
    let auth = Auth::new(DbBackend::new(db.clone()), SecretKey::new(settings.secret_key.as_bytes()));
    let templates = Templates::builder()
        .dir(project_dir("templates"))
        .add_embedded(tack_admin::TEMPLATES)
        .add_embedded(tack_crud::TEMPLATES)
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        .debug(settings.debug)
        .static_url("/static/")
        .context_processor("csrf_token", |request| {
            Some(Value::from(request.extensions().get::<CsrfToken>()?.masked()))
        })
        .context_processor("user", |request| {
            let user = request.extensions().get::<CurrentUser<User>>()?.user()?;
            Some(Value::from(user.username.clone()))
        })
        .build()
        .map_err(fail)?;
    let admin = AdminSite::new("{{project}} administration", "/admin/", db.clone(), templates.clone())
        .register::<models::Note>(ModelAdmin::new().fields(&["title", "body"]).crud(|crud| {
            crud.before_create(|_, _, note: &mut models::Note| {
                note.created_at = chrono::Utc::now();
                Ok(())
            })
        }));
    let admin = GuardLayer::<User>::staff_required("/login/").layer(admin);
    let site = Arc::new(Site { auth: auth.clone(), templates });
    let (home, login_page, login) = (site.clone(), site.clone(), site);
    let router = Router::new()
        .route("/", get(move |request| index(home.clone(), request)))
        .route(
            "/login/",
            get(move |request| login_form(login_page.clone(), request))
                .post(move |request| sign_in(login.clone(), request)),
        )
        .route_service("/admin/", admin.clone())
        .route_service("/admin/{*rest}", admin)
        .nest_service("/static", ServeDir::new(project_dir("static")))
        .debug(settings.debug);
    let service = ServiceBuilder::new()
        .layer(SessionLayer::new(DbStore::new(db)).with_secure(!settings.debug))
        .layer(CsrfLayer::new().with_secure_cookie(!settings.debug))
        .layer(AuthLayer::new(auth))
        .service(router);
    Ok(BoxCloneSyncService::new(service))
}

fn page(site: &Site, request: &Request<Body>, name: &str, extra: Value) -> Response {
    match site.templates.render_request(request, name, extra) {
        Ok(html) => Html(html).into_response(),
        Err(error) => site.templates.error_response(&error),
    }
}

async fn index(site: Arc<Site>, request: Request<Body>) -> Response {
    page(&site, &request, "index.html", context! {})
}

async fn login_form(site: Arc<Site>, request: Request<Body>) -> Response {
    #[derive(serde::Deserialize)]
    struct Next {
        next: Option<String>,
    }
    let next = request.query::<Next>().ok().and_then(|q| q.next).unwrap_or_default();
    page(&site, &request, "login.html", context! { next })
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(site: Arc<Site>, mut request: Request<Body>) -> Response {
    let form: LoginForm = match request.form().await {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let client = tack_http::ClientInfo::of(&request).addr;
    let credentials = Credentials::password(&form.username, Password::new(form.password));
    match site.auth.authenticate(&credentials, client).await {
        Ok(user) => match site.auth.login(&session, &user).await {
            Ok(()) => {
                let to = tack_auth::redirect_after_login(Some(&form.next), &[], "/");
                http::Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header("location", to)
                    .body(Body::empty())
                    .unwrap_or_default()
            }
            Err(error) => error.into_response(),
        },
        Err(error) => {
            let mut answer = page(
                &site,
                &request,
                "login.html",
                context! { next => form.next, error => error.to_string() },
            );
            *answer.status_mut() = error.status();
            answer
        }
    }
}
