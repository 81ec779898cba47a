//! A blog in axum that takes Tack's batteries one at a time, the way a team
//! with an axum service adopts them: tack-orm and its migrations for the
//! data, tack-sessions, tack-security's CSRF and tack-auth as tower layers
//! on the axum router, tack-templates for the pages, axum's own routes and
//! extractors for the handlers (the session, the flash messages, the
//! signed-in user and the CSRF token are extractors), and the tack admin
//! and a tack CRUD API mounted with `nest_service`.
//!
//! `cargo run -p axum-blog` serves it on <http://127.0.0.1:8001>;
//! `BLOG_DATABASE_URL` names another database and `BLOG_SUPERUSER=name:password`
//! creates a staff superuser on start.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tack_admin::{AdminSite, ModelAdmin};
use tack_auth::guard::GuardLayer;
use tack_auth::{Auth, AuthLayer, Credentials, CurrentUser, DbBackend, Password, User};
use tack_crud::Crud;
use tack_orm::migrations::{self, AppMigrations, Migrations};
use tack_orm::prelude::*;
use tack_orm::{AsyncDatabase, Database};
use tack_security::{CsrfLayer, CsrfToken};
use tack_sessions::{DbStore, Messages, SecretKey, Session, SessionLayer};
use tack_templates::{Templates, Value, context};
use tower::Layer;

/// A blog post.
#[derive(Model, Clone, Debug)]
#[tack(app = "blog", display = "{title}")]
pub struct Post {
    /// Primary key.
    pub id: i64,
    /// The headline.
    #[tack(max_length = 200)]
    pub title: String,
    /// The post's address: `/posts/{slug}/`.
    #[tack(unique, max_length = 100, slug)]
    pub slug: String,
    /// The text.
    pub body: String,
    /// Whether readers see it.
    pub published: bool,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// The blog's migrations (`migrations/`), compiled in.
pub static MIGRATIONS: &[(&str, &str)] = migrations::embed_migrations!("migrations");

/// The blog's app label.
pub const APP: &str = "blog";

/// The tables the batteries bring: users and permissions, sessions.
pub const BATTERIES: &[AppMigrations] = &[tack_auth::MIGRATIONS, tack_sessions::MIGRATIONS];

/// Every model: the batteries' and the blog's.
pub fn models() -> Vec<&'static tack_orm::ModelMeta> {
    let mut models = tack_auth::models::all();
    models.extend(tack_sessions::models());
    models.push(Post::meta());
    models
}

/// The blog's migrations with the batteries'.
pub fn migration_set() -> tack_orm::Result<Migrations> {
    let mut set = Migrations::from_embedded(MIGRATIONS)?.labelled(APP)?;
    for battery in BATTERIES {
        set = set.with(*battery)?;
    }
    Ok(set)
}

/// Why the blog could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] tack_orm::Error),
    /// The models' permissions could not be created.
    #[error("permissions: {0}")]
    Permissions(#[from] tack_auth::Error),
    /// A template does not compile.
    #[error(transparent)]
    Templates(#[from] tack_templates::Error),
}

/// Opens `url` and applies the migrations (its own and the batteries'),
/// refusing models ahead of them; creates the models' permissions.
pub fn open(url: &str) -> Result<Database, StartError> {
    let db = Database::connect(url)?;
    let set = migration_set()?;
    migrations::migrate(&db, &set, None)?;
    migrations::check(&db, &models(), &set)?.into_result()?;
    tack_auth::ensure_permissions(&db, &models())?;
    Ok(db)
}

/// What the handlers share.
struct Blog {
    db: AsyncDatabase,
    auth: Auth<DbBackend>,
    templates: Templates,
}

const PAGES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("post.html", include_str!("../templates/post.html")),
    ("login.html", include_str!("../templates/login.html")),
];

/// The whole app on an open database, signing with `secret`: axum's
/// routes, the admin at `/admin/` and the read-only posts API at
/// `/api/posts/`, inside the session, CSRF and auth layers.
pub fn app(db: Database, secret: &str) -> Result<Router, StartError> {
    let db = AsyncDatabase::new(db, 2);
    let key = SecretKey::new(secret.as_bytes());
    let auth = Auth::new(DbBackend::new(db.clone()), key);
    let templates = Templates::builder()
        .add_embedded(PAGES)
        .add_embedded(tack_admin::TEMPLATES)
        .add_embedded(tack_crud::TEMPLATES)
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        // The admin's forms read the token from the context.
        .context_processor("csrf_token", |request| {
            Some(Value::from(
                request.extensions().get::<CsrfToken>()?.masked(),
            ))
        })
        .build()?;
    let admin = AdminSite::new(
        "Blog administration",
        "/admin/",
        db.clone(),
        templates.clone(),
    )
    .register::<Post>(
        ModelAdmin::new()
            .list_display(&["title", "published", "created_at"])
            // The creation time is set on save, as Django's auto_now_add.
            .fields(&["title", "slug", "body", "published"])
            .crud(|crud| {
                crud.search_fields(&["title", "body"])
                    .before_create(|_, _, post: &mut Post| {
                        post.created_at = Utc::now();
                        Ok(())
                    })
            }),
    );
    let admin = GuardLayer::<User>::staff_required("/login/").layer(admin);
    let api = Crud::<Post>::new(db.clone())
        .fields(&["id", "title", "slug", "body", "created_at"])
        .base_path("/api/posts/")
        .scope(|_, posts| posts.filter(Post::PUBLISHED.eq(true)))
        .search_fields(&["title", "body"]);
    let blog = Arc::new(Blog {
        db: db.clone(),
        auth: auth.clone(),
        templates,
    });
    Ok(Router::new()
        .route("/", get(index))
        .route("/posts/{slug}/", get(post_page))
        .route("/login/", get(login_page).post(login))
        .route("/logout/", post(logout))
        .nest_service("/admin", tack_http::axum::mount_at("/admin", admin))
        .nest_service("/api/posts", tack_http::axum::mount(api))
        .with_state(blog)
        // The last layer added runs first: sessions, then CSRF (which keeps
        // its secret in the session), then the user.
        .layer(AuthLayer::new(auth))
        .layer(CsrfLayer::new().with_secure_cookie(false))
        .layer(SessionLayer::new(DbStore::new(db)).with_secure(false)))
}

/// What every page shows: the signed-in user, the flash messages, the
/// CSRF field for its forms.
fn page_context(user: &CurrentUser<User>, messages: &Messages, csrf: &CsrfToken) -> Value {
    context! {
        user => user.user().map(|user| user.username.clone()),
        messages => messages.take().unwrap_or_default().into_iter().map(|m| {
            context! { level => m.level.as_str(), text => m.text }
        }).collect::<Vec<_>>(),
        csrf_field => csrf.form_field(),
    }
}

fn render(blog: &Blog, name: &str, context: Value) -> Response {
    match blog.templates.render(name, context) {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(error) => tack_http::axum::to_axum(blog.templates.error_response(&error)),
    }
}

async fn index(
    State(blog): State<Arc<Blog>>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    let posts = blog
        .db
        .run(|db| {
            Post::objects()
                .filter(Post::PUBLISHED.eq(true))
                .order_by(Post::CREATED_AT.desc())
                .all(db)
        })
        .await;
    let posts = match posts {
        Ok(posts) => posts,
        Err(error) => return database_unavailable(&error),
    };
    let posts: Vec<Value> = posts.iter().map(post_value).collect();
    let page = context! { posts => posts, ..page_context(&user, &messages, &csrf) };
    render(&blog, "index.html", page)
}

async fn post_page(
    State(blog): State<Arc<Blog>>,
    Path(slug): Path<String>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    let found = blog
        .db
        .run(move |db| {
            Post::objects()
                .filter(Post::SLUG.eq(&slug) & Post::PUBLISHED.eq(true))
                .first(db)
        })
        .await;
    match found {
        Ok(Some(post)) => {
            let page =
                context! { post => post_value(&post), ..page_context(&user, &messages, &csrf) };
            render(&blog, "post.html", page)
        }
        Ok(None) => {
            tack_http::Problem::not_found("No published post has this address.").into_response()
        }
        Err(error) => database_unavailable(&error),
    }
}

fn post_value(post: &Post) -> Value {
    context! {
        title => post.title.clone(),
        slug => post.slug.clone(),
        body => post.body.clone(),
        created_at => post.created_at.to_rfc3339(),
    }
}

fn database_unavailable(error: &tack_orm::Error) -> Response {
    eprintln!("blog: the database failed: {error}");
    tack_http::Problem::new(http::StatusCode::SERVICE_UNAVAILABLE)
        .with_detail("The database could not answer; try again shortly.")
        .into_response()
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(
    State(blog): State<Arc<Blog>>,
    axum::extract::Query(next): axum::extract::Query<Next>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    let page = context! {
        next => next.next.unwrap_or_default(),
        username => "",
        ..page_context(&user, &messages, &csrf)
    };
    render(&blog, "login.html", page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(blog): State<Arc<Blog>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    messages: Messages,
    csrf: CsrfToken,
    user: CurrentUser<User>,
    Form(form): Form<LoginForm>,
) -> Response {
    let credentials = Credentials::password(&form.username, Password::new(form.password));
    let client = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match blog.auth.authenticate(&credentials, client).await {
        Ok(signed_in) => {
            if let Err(error) = blog.auth.login(&session, &signed_in).await {
                return error.into_response();
            }
            // A new secret for the signed-in session, as Django does.
            csrf.rotate();
            let _ = messages.success(format!("Welcome back, {}.", signed_in.username));
            Redirect::to(tack_auth::redirect_after_login(Some(&form.next), &[], "/"))
                .into_response()
        }
        Err(error) => {
            let status = error.status();
            let page = context! {
                next => form.next,
                username => form.username,
                error => error.to_string(),
                ..page_context(&user, &messages, &csrf)
            };
            (status, render(&blog, "login.html", page)).into_response()
        }
    }
}

async fn logout(State(blog): State<Arc<Blog>>, session: Session, messages: Messages) -> Redirect {
    blog.auth.logout(&session);
    let _ = messages.info("Signed out.");
    Redirect::to("/")
}

/// Creates a staff superuser `username` with `password` (checked by the
/// password validators).
pub fn create_superuser(
    db: &Database,
    username: &str,
    password: &str,
) -> Result<(), tack_auth::Error> {
    let user = tack_auth::create_superuser(
        username,
        "",
        &Password::new(password),
        &tack_auth::Validators::default(),
        &tack_auth::PasswordHasher::new(),
    )?;
    tack_auth::db::insert_user(db, user)?;
    Ok(())
}
