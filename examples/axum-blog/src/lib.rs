//! The blog of `examples/blog` in axum, taking Tack's batteries one at a
//! time, the way a team with an axum service adopts them: tack-orm and its
//! migrations for the data, tack-sessions, tack-security's CSRF and
//! tack-auth as tower layers on the axum router, tack-templates for the
//! pages, axum's own routes and extractors for the handlers (the session,
//! the flash messages, the signed-in user and the CSRF token are
//! extractors), and the tack admin and a tack CRUD API mounted with
//! `nest_service`.
//!
//! `cargo run -p axum-blog` serves it on <http://127.0.0.1:8001>;
//! `BLOG_DATABASE_URL` names another database and `BLOG_SUPERUSER=name:password`
//! creates a staff superuser on start.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use blog::{StartError, page_context, post_value};
use serde::Deserialize;
use tack_auth::{Auth, AuthLayer, Credentials, CurrentUser, DbBackend, Password, User};
use tack_orm::{AsyncDatabase, Database};
use tack_security::{CsrfLayer, CsrfToken};
use tack_sessions::{DbStore, Messages, SecretKey, Session, SessionLayer};
use tack_templates::{Templates, Value, context};

/// What the handlers share.
struct App {
    db: AsyncDatabase,
    auth: Auth<DbBackend>,
    templates: Templates,
}

/// The whole app on an open database, signing with `secret`: axum's
/// routes, the admin at `/admin/` and the read-only posts API at
/// `/api/posts/`, inside the session, CSRF and auth layers.
pub fn app(db: Database, secret: &str) -> Result<Router, StartError> {
    let db = AsyncDatabase::new(db, 2);
    let auth = Auth::new(
        DbBackend::new(db.clone()),
        SecretKey::new(secret.as_bytes()),
    );
    let templates = blog::templates()?;
    let admin = blog::admin_site(db.clone(), templates.clone());
    let api = blog::posts_api(db.clone());
    let state = Arc::new(App {
        db: db.clone(),
        auth: auth.clone(),
        templates,
    });
    Ok(Router::new()
        .route("/", get(index))
        .route("/posts/{slug}/", get(post_page))
        .route("/login/", get(login_page).post(login))
        .route("/logout/", post(logout))
        // The admin was made for `/admin/`: it gets its prefix back.
        .nest_service("/admin", tack_http::axum::mount_at("/admin", admin))
        .nest_service("/api/posts", tack_http::axum::mount(api))
        .with_state(state)
        // The last layer added runs first: sessions, then CSRF (which keeps
        // its secret in the session), then the user.
        .layer(AuthLayer::new(auth))
        .layer(CsrfLayer::new().with_secure_cookie(false))
        .layer(SessionLayer::new(DbStore::new(db)).with_secure(false)))
}

/// The parts of a page every handler extracts.
type Page = (CurrentUser<User>, Messages, CsrfToken);

fn render(app: &App, name: &str, page: &Page, extra: Value) -> Response {
    let context = context! { ..extra, ..page_context(page.0.user(), &page.1, &page.2) };
    match app.templates.render(name, context) {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(error) => tack_http::axum::to_axum(app.templates.error_response(&error)),
    }
}

async fn index(
    State(app): State<Arc<App>>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    match blog::published(&app.db).await {
        Ok(posts) => {
            let posts: Vec<Value> = posts.iter().map(post_value).collect();
            render(
                &app,
                "index.html",
                &(user, messages, csrf),
                context! { posts },
            )
        }
        Err(error) => database_unavailable(&error),
    }
}

async fn post_page(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    match blog::published_post(&app.db, slug).await {
        Ok(Some(post)) => render(
            &app,
            "post.html",
            &(user, messages, csrf),
            context! { post => post_value(&post) },
        ),
        Ok(None) => {
            tack_http::Problem::not_found("No published post has this address.").into_response()
        }
        Err(error) => database_unavailable(&error),
    }
}

fn database_unavailable(error: &tack_orm::Error) -> Response {
    eprintln!("axum-blog: the database failed: {error}");
    tack_http::Problem::new(http::StatusCode::SERVICE_UNAVAILABLE)
        .with_detail("The database could not answer; try again shortly.")
        .into_response()
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(
    State(app): State<Arc<App>>,
    Query(next): Query<Next>,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
) -> Response {
    let extra = context! { next => next.next.unwrap_or_default(), username => "" };
    render(&app, "login.html", &(user, messages, csrf), extra)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(app): State<Arc<App>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    user: CurrentUser<User>,
    messages: Messages,
    csrf: CsrfToken,
    Form(form): Form<LoginForm>,
) -> Response {
    let credentials = Credentials::password(&form.username, Password::new(form.password));
    let client = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match app.auth.authenticate(&credentials, client).await {
        Ok(signed_in) => {
            if let Err(error) = app.auth.login(&session, &signed_in).await {
                return error.into_response();
            }
            // A new secret for the signed-in session, as Django does.
            csrf.rotate();
            let _ = messages.success(format!("Welcome back, {}.", signed_in.username));
            Redirect::to(tack_auth::redirect_after_login(Some(&form.next), &[], "/"))
                .into_response()
        }
        Err(error) => {
            let extra = context! { next => form.next, username => form.username, error => error.to_string() };
            (
                error.status(),
                render(&app, "login.html", &(user, messages, csrf), extra),
            )
                .into_response()
        }
    }
}

async fn logout(State(app): State<Arc<App>>, session: Session, messages: Messages) -> Redirect {
    app.auth.logout(&session);
    let _ = messages.info("Signed out.");
    Redirect::to("/")
}
