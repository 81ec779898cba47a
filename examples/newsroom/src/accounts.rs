//! Signing in and out, API tokens, and the `createsuperuser` command.

use std::sync::Arc;

use http::header::LOCATION;
use http::{Request, StatusCode};
use serde::Deserialize;
use tack_auth::{
    Credentials, CurrentUser, Password, PasswordHasher, User, Validators, create_superuser,
    redirect_after_login,
};
use tack_forms::{Bound, Form, FormData, Limits};
use tack_http::{Body, ClientInfo, IntoResponse, Json, Response};
use tack_routing::{Error, RequestExt};
use tack_security::CsrfToken;
use tack_sessions::{Messages, Session};
use tack_templates::context;

use crate::Newsroom;

/// The signed-in user of a request, if any.
pub fn current_user(parts: &http::request::Parts) -> Option<&User> {
    parts.extensions.get::<CurrentUser<User>>()?.user()
}

fn session(request: &Request<Body>) -> Result<Session, Error> {
    request
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| {
            Error::http(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the session layer is off",
            )
        })
}

/// A `303 See Other` to `to`.
pub fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = to.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The sign-in form (Django's `AuthenticationForm`).
#[derive(Debug, Form)]
pub struct SignIn {
    #[form(max_length = 150, attrs = [("autocomplete", "username"), ("autofocus", "")])]
    username: String,
    #[form(widget = "password", attrs = [("autocomplete", "current-password")])]
    password: String,
    /// Where to go once signed in.
    #[form(widget = "hidden")]
    next: Option<String>,
}

/// A form body read into a form's data; a body that is not a form is a
/// 400 (or 413, 415) page.
pub async fn form_data(request: &mut Request<Body>) -> Result<FormData, Error> {
    let body = std::mem::replace(request.body_mut(), Body::empty());
    FormData::from_body(request.headers(), body, &Limits::default())
        .await
        .map_err(|error| Error::http(error.status(), error.to_string()))
}

fn login_page(
    state: &Newsroom,
    request: &Request<Body>,
    status: StatusCode,
    form: &Bound<SignIn>,
) -> Response {
    let ctx = context! { form => form.view() };
    state
        .templates
        .render_status_for(request, status, "login.html", ctx)
        .unwrap_or_else(|error| state.templates.error_response(&error))
}

/// `GET /accounts/login/`: the sign-in form.
pub async fn login_form(state: Arc<Newsroom>, request: Request<Body>) -> Result<Response, Error> {
    let query: NextQuery = request.query()?;
    let form = SignIn::form().initial("next", query.next.unwrap_or_default());
    Ok(login_page(&state, &request, StatusCode::OK, &form))
}

/// `POST /accounts/login/`: signs in and goes to `?next=` when it is a path
/// of this site, else to the front page.
pub async fn login(state: Arc<Newsroom>, mut request: Request<Body>) -> Result<Response, Error> {
    let session = session(&request)?;
    // The server's peer, or the client a trusted proxy names.
    let client = ClientInfo::of(&request).addr;
    let csrf = request.extensions().get::<CsrfToken>().cloned();
    let messages = request.extensions().get::<Messages>().cloned();
    let mut form = SignIn::bind(&form_data(&mut request).await?);
    let Some(sign_in) = form.cleaned() else {
        return Ok(login_page(&state, &request, StatusCode::OK, &form));
    };
    let next = sign_in.next.clone().unwrap_or_default();
    let credentials =
        Credentials::password(&sign_in.username, Password::new(sign_in.password.clone()));
    match state.auth.authenticate(&credentials, client).await {
        Ok(user) => {
            state
                .auth
                .login(&session, &user)
                .await
                .map_err(auth_error)?;
            if let Some(csrf) = csrf {
                csrf.rotate();
            }
            if let Some(messages) = messages {
                let _ = messages.success(format!("Welcome back, {}.", user.username));
            }
            let hosts: Vec<&str> = state.allowed_hosts.iter().map(String::as_str).collect();
            Ok(see_other(redirect_after_login(Some(&next), &hosts, "/")))
        }
        Err(tack_auth::Error::InvalidCredentials) => {
            form.add_error(None, "The username or password is not right.");
            Ok(login_page(&state, &request, StatusCode::OK, &form))
        }
        Err(error @ tack_auth::Error::Throttled { .. }) => {
            form.add_error(None, error.to_string());
            Ok(login_page(
                &state,
                &request,
                StatusCode::TOO_MANY_REQUESTS,
                &form,
            ))
        }
        Err(error) => Err(auth_error(error)),
    }
}

/// `POST /accounts/logout/`: signs out and goes to `?next=` or the front page.
pub async fn logout(state: Arc<Newsroom>, request: Request<Body>) -> Result<Response, Error> {
    let session = session(&request)?;
    let query: NextQuery = request.query()?;
    state.auth.logout(&session);
    if let Some(messages) = request.extensions().get::<Messages>() {
        let _ = messages.info("You are signed out.");
    }
    let hosts: Vec<&str> = state.allowed_hosts.iter().map(String::as_str).collect();
    Ok(see_other(redirect_after_login(
        query.next.as_deref(),
        &hosts,
        "/",
    )))
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    username: String,
    password: String,
}

/// `POST /api/auth/token/` with `{"username", "password"}`: answers `{"token"}`.
pub async fn token(state: Arc<Newsroom>, mut request: Request<Body>) -> Response {
    // The server's peer, or the client a trusted proxy names.
    let client = ClientInfo::of(&request).addr;
    let asked: TokenRequest = match request.json().await {
        Ok(asked) => asked,
        Err(error) => return error.into_response(),
    };
    let credentials = Credentials::password(&asked.username, Password::new(asked.password));
    let user = match state.auth.authenticate(&credentials, client).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    match state.auth.create_token(&user, "api").await {
        Ok((token, _)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "token": token.expose() })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// An auth failure as the router's error, keeping its status.
fn auth_error(error: tack_auth::Error) -> Error {
    Error::http(error.status(), error.to_string())
}

/// `createsuperuser --username U --email E`, with `password` (the
/// binary passes `NEWSROOM_PASSWORD`), or asking for it on a terminal.
pub fn create_superuser_command(
    db: &tack_orm::Database,
    args: &[String],
    password: Option<String>,
) -> Result<String, String> {
    let mut username = None;
    let mut email = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--username" => username = rest.next().cloned(),
            "--email" => email = rest.next().cloned(),
            other => return Err(format!("createsuperuser: unknown argument {other:?}")),
        }
    }
    let username = username.ok_or("createsuperuser needs --username U")?;
    let email = email.ok_or("createsuperuser needs --email E")?;
    let password = match password {
        Some(password) if !password.is_empty() => password,
        _ => prompt_password()?,
    };
    let user = create_superuser(
        &username,
        &email,
        &Password::new(password),
        &Validators::default(),
        &PasswordHasher::new(),
    )
    .map_err(|error| error.to_string())?;
    let user = tack_auth::db::insert_user(db, user).map_err(|error| error.to_string())?;
    Ok(format!("Superuser {:?} created.", user.username))
}

fn prompt_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err("set NEWSROOM_PASSWORD (no terminal to ask for the password on)".into());
    }
    rpassword::prompt_password("Password: ").map_err(|error| error.to_string())
}
