//! The blog of `examples/blog` in actix-web 4, which takes no tower layer:
//! its own handlers call Tack's framework-neutral steps ([`Tack::begin`]
//! loads the session, the signed-in user and the CSRF token;
//! [`Tack::finish`] saves the session and sets the cookies), tack-orm and
//! tack-templates are used directly, and the admin and the CRUD API run
//! through `tack-actix` inside the same session, CSRF and auth layers, so
//! one sign-in serves both.
//!
//! `cargo run -p actix-blog` serves it on <http://127.0.0.1:8002>.

use actix_web::{HttpRequest, HttpResponse, web};
use blog::{StartError, page_context, post_value};
use serde::Deserialize;
use tack_auth::{Auth, AuthLayer, Credentials, DbBackend, Password, User};
use tack_orm::{AsyncDatabase, Database};
use tack_security::{CsrfLayer, CsrfToken};
use tack_sessions::{DbStore, Messages, SecretKey, Session, SessionLayer};
use tack_templates::{Templates, Value, context};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

/// A Tack service as the adapter takes it.
type Service = BoxCloneSyncService<
    http::Request<tack_http::Body>,
    http::Response<tack_http::Body>,
    std::convert::Infallible,
>;

/// What every worker shares: the batteries, configured once.
pub struct App {
    db: AsyncDatabase,
    sessions: SessionLayer<DbStore>,
    csrf: CsrfLayer,
    auth: Auth<DbBackend>,
    templates: Templates,
    admin: Service,
    api: Service,
}

impl App {
    /// The blog on an open database, signing with `secret`.
    pub fn new(db: Database, secret: &str) -> Result<App, StartError> {
        let db = AsyncDatabase::new(db, 2);
        let auth = Auth::new(
            DbBackend::new(db.clone()),
            SecretKey::new(secret.as_bytes()),
        );
        let sessions = SessionLayer::new(DbStore::new(db.clone())).with_secure(false);
        let csrf = CsrfLayer::new().with_secure_cookie(false);
        let templates = blog::templates()?;
        // The Tack services get the same batteries as tower layers: the same
        // cookie and store, so a sign-in on an actix page holds in the admin.
        let stack = |service| {
            BoxCloneSyncService::new(
                ServiceBuilder::new()
                    .layer(sessions.clone())
                    .layer(csrf.clone())
                    .layer(AuthLayer::new(auth.clone()))
                    .service(service),
            )
        };
        let admin = stack(BoxCloneSyncService::new(blog::admin_site(
            db.clone(),
            templates.clone(),
        )));
        let api = stack(BoxCloneSyncService::new(blog::posts_api(db.clone())));
        Ok(App {
            db,
            sessions,
            csrf,
            auth,
            templates,
            admin,
            api,
        })
    }

    /// Registers the blog's routes on an actix `App` (or scope).
    pub fn configure(self: &std::sync::Arc<Self>, config: &mut web::ServiceConfig) {
        config
            .app_data(web::Data::from(self.clone()))
            .route("/", web::get().to(index))
            .route("/posts/{slug}/", web::get().to(post_page))
            .route("/login/", web::get().to(login_page))
            .route("/login/", web::post().to(login))
            .route("/logout/", web::post().to(logout))
            // The admin wants its whole path; the API the path under its scope.
            .service(tack_actix::scope(
                "/admin",
                tack_actix::handler(self.admin.clone()),
            ))
            .service(tack_actix::scope(
                "/api/posts",
                tack_actix::handler(self.api.clone()).nested(),
            ));
    }
}

/// One request's batteries, for an actix handler: what the tower layers
/// do for a Tack service, done by hand with their public steps.
pub struct Tack {
    parts: http::request::Parts,
    session: Session,
    /// The flash messages.
    pub messages: Messages,
    /// The CSRF token for the page's forms.
    pub csrf: CsrfToken,
    /// The signed-in user.
    pub user: Option<User>,
}

impl Tack {
    /// Loads the session named by the request's cookie, its user and the
    /// CSRF token.
    pub async fn begin(app: &App, request: &HttpRequest) -> Result<Tack, HttpResponse> {
        let mut parts = tack_actix::request_parts(request)
            .map_err(|reason| HttpResponse::BadRequest().body(reason))?;
        let session = app
            .sessions
            .load_from(&parts.headers)
            .await
            .map_err(|error| tack_actix::response(tack_http::IntoResponse::into_response(error)))?;
        // The CSRF secret lives in the session, as under the layers.
        parts.extensions.insert(session.clone());
        let csrf = app.csrf.token(&parts);
        let user = app
            .auth
            .user_from_session(&session)
            .await
            .map_err(|error| tack_actix::response(tack_http::IntoResponse::into_response(error)))?;
        Ok(Tack {
            messages: Messages::new(session.clone()),
            parts,
            session,
            csrf,
            user,
        })
    }

    /// The refusal of a form whose CSRF token (`submitted`) does not match
    /// (a 403 saying so), or `None` when it may go on.
    pub fn refusal(&self, app: &App, submitted: &str) -> Option<HttpResponse> {
        let verified = app.csrf.verify(&self.parts, &self.csrf, Some(submitted));
        verified
            .err()
            .map(|error| tack_actix::response(error.to_response(&self.parts.headers, false)))
    }

    /// Saves the session and the CSRF secret, adding their cookies to
    /// `response`.
    pub async fn finish(self, app: &App, mut response: HttpResponse) -> HttpResponse {
        let mut headers = http::HeaderMap::new();
        app.csrf.finish(&self.parts, &self.csrf, &mut headers);
        let https =
            tack_http::ClientInfo::from_parts(&self.parts.extensions, &self.parts.uri).secure;
        match app.sessions.save(&self.session, https).await {
            Ok(saved) => saved.apply(&mut headers),
            Err(error) => {
                return tack_actix::response(tack_http::IntoResponse::into_response(error));
            }
        }
        tack_actix::append_headers(&mut response, &headers);
        response
    }

    fn render(&self, app: &App, name: &str, extra: Value) -> HttpResponse {
        let context =
            context! { ..extra, ..page_context(self.user.as_ref(), &self.messages, &self.csrf) };
        match app.templates.render(name, context) {
            Ok(html) => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(error) => tack_actix::response(app.templates.error_response(&error)),
        }
    }
}

/// Runs `page` between [`Tack::begin`] and [`Tack::finish`].
macro_rules! with_tack {
    ($app:expr, $request:expr, |$tack:ident| $page:expr) => {{
        let $tack = match Tack::begin(&$app, &$request).await {
            Ok(tack) => tack,
            Err(refused) => return refused,
        };
        let response = $page;
        $tack.finish(&$app, response).await
    }};
}

fn database_unavailable(error: &tack_orm::Error) -> HttpResponse {
    eprintln!("actix-blog: the database failed: {error}");
    tack_actix::response(tack_http::IntoResponse::into_response(
        tack_http::Problem::new(http::StatusCode::SERVICE_UNAVAILABLE)
            .with_detail("The database could not answer; try again shortly."),
    ))
}

async fn index(app: web::Data<App>, request: HttpRequest) -> HttpResponse {
    with_tack!(app, request, |tack| match blog::published(&app.db).await {
        Ok(posts) => {
            let posts: Vec<Value> = posts.iter().map(post_value).collect();
            tack.render(&app, "index.html", context! { posts })
        }
        Err(error) => database_unavailable(&error),
    })
}

async fn post_page(
    app: web::Data<App>,
    request: HttpRequest,
    slug: web::Path<String>,
) -> HttpResponse {
    with_tack!(
        app,
        request,
        |tack| match blog::published_post(&app.db, slug.into_inner()).await {
            Ok(Some(post)) =>
                tack.render(&app, "post.html", context! { post => post_value(&post) }),
            Ok(None) => tack_actix::response(tack_http::IntoResponse::into_response(
                tack_http::Problem::not_found("No published post has this address.",)
            )),
            Err(error) => database_unavailable(&error),
        }
    )
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(
    app: web::Data<App>,
    request: HttpRequest,
    next: web::Query<Next>,
) -> HttpResponse {
    let next = next.into_inner().next.unwrap_or_default();
    with_tack!(app, request, |tack| tack.render(
        &app,
        "login.html",
        context! { next, username => "" }
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrfmiddlewaretoken: String,
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    app: web::Data<App>,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    with_tack!(app, request, |tack| {
        if let Some(refused) = tack.refusal(&app, &form.csrfmiddlewaretoken) {
            return refused;
        }
        let credentials = Credentials::password(&form.username, Password::new(form.password));
        let client = request.peer_addr().map(|peer| peer.ip());
        match app.auth.authenticate(&credentials, client).await {
            Ok(signed_in) => match app.auth.login(&tack.session, &signed_in).await {
                Ok(()) => {
                    tack.csrf.rotate();
                    let _ = tack
                        .messages
                        .success(format!("Welcome back, {}.", signed_in.username));
                    let to = tack_auth::redirect_after_login(Some(&form.next), &[], "/");
                    HttpResponse::SeeOther()
                        .insert_header(("location", to))
                        .finish()
                }
                Err(error) => tack_actix::response(tack_http::IntoResponse::into_response(error)),
            },
            Err(error) => {
                let status = actix_web::http::StatusCode::from_u16(error.status().as_u16())
                    .unwrap_or(actix_web::http::StatusCode::UNAUTHORIZED);
                let extra = context! { next => form.next, username => form.username, error => error.to_string() };
                let mut page = tack.render(&app, "login.html", extra);
                *page.status_mut() = status;
                page
            }
        }
    })
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrfmiddlewaretoken: String,
}

async fn logout(
    app: web::Data<App>,
    request: HttpRequest,
    form: web::Form<LogoutForm>,
) -> HttpResponse {
    with_tack!(app, request, |tack| {
        if let Some(refused) = tack.refusal(&app, &form.csrfmiddlewaretoken) {
            return refused;
        }
        app.auth.logout(&tack.session);
        let _ = tack.messages.info("Signed out.");
        HttpResponse::SeeOther()
            .insert_header(("location", "/"))
            .finish()
    })
}
