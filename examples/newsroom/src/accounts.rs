//! Signing in and out, changing a password, API tokens, and the
//! `createsuperuser` and `changepassword` commands.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::header::LOCATION;
use http::{Request, StatusCode};
use serde::Deserialize;
use tack_auth::token::TokenRecord;
use tack_auth::validation::UserAttributes;
use tack_auth::{
    AuthBackend, Credentials, CurrentUser, Password, PasswordHasher, User, Validators,
    create_superuser, redirect_after_login, update_session_auth_hash,
};
use tack_forms::{Bound, Form, FormData, Limits};
use tack_http::{Body, ClientInfo, IntoResponse, Json, Problem, Response};
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

/// The longest name a token may be given (the column's length).
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    username: String,
    password: String,
    /// What the token is for ("deploy script"); "api" when absent.
    #[serde(default)]
    name: Option<String>,
}

/// A token's public record as the API shows it (never the token).
fn token_view(record: &TokenRecord) -> serde_json::Value {
    let time = |at: std::time::SystemTime| DateTime::<Utc>::from(at).to_rfc3339();
    serde_json::json!({
        "id": record.id,
        "name": record.name,
        "created_at": time(record.created_at),
        "expires_at": record.expires_at.map(time),
    })
}

/// `POST /api/auth/token/` with `{"username", "password", "name"?}`:
/// answers the token, shown this once, and its record: `{"token", "id",
/// "name", "created_at", "expires_at"}`. Tokens expire after 30 days; a
/// user keeps the newest 10.
pub async fn token(state: Arc<Newsroom>, mut request: Request<Body>) -> Response {
    // The server's peer, or the client a trusted proxy names.
    let client = ClientInfo::of(&request).addr;
    let asked: TokenRequest = match request.json().await {
        Ok(asked) => asked,
        Err(error) => return error.into_response(),
    };
    let name = asked.name.unwrap_or_else(|| "api".to_owned());
    if name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Problem::invalid("The token could not be created.")
            .with_field_error(
                "name",
                format!("at most {MAX_TOKEN_NAME_CHARS} characters allowed"),
            )
            .into_response();
    }
    let credentials = Credentials::password(&asked.username, Password::new(asked.password));
    let user = match state.auth.authenticate(&credentials, client).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    match state.auth.create_token(&user, &name).await {
        Ok((token, record)) => {
            let mut body = token_view(&record);
            body["token"] = token.expose().into();
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// The 401 an API call without a signed-in user gets.
fn unauthorized() -> Response {
    Problem::new(StatusCode::UNAUTHORIZED)
        .with_detail("Sign in, or send a bearer token from /api/auth/token/.")
        .into_response()
}

/// `GET /api/auth/tokens/`: the signed-in user's live tokens, oldest first,
/// as `{"results": [{"id", "name", "created_at", "expires_at"}]}`.
pub async fn tokens(state: Arc<Newsroom>, request: Request<Body>) -> Response {
    let Some(user) = current_user_of(&request) else {
        return unauthorized();
    };
    match state.auth.tokens_of(&user).await {
        Ok(tokens) => {
            let results: Vec<_> = tokens.iter().map(token_view).collect();
            Json(serde_json::json!({ "results": results })).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// `DELETE /api/auth/tokens/{id}/`: revokes one of the signed-in user's
/// tokens (204); another user's id, or an unknown one, is a 404.
pub async fn token_revoke(state: Arc<Newsroom>, request: Request<Body>) -> Response {
    let Some(user) = current_user_of(&request) else {
        return unauthorized();
    };
    let id: String = match request.path_param("id") {
        Ok(id) => id,
        Err(error) => return error.into_response(),
    };
    match state.auth.revoke_token_of(&user, &id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => Problem::not_found("You have no token with this id.").into_response(),
        Err(error) => error.into_response(),
    }
}

/// The password change form (Django's `PasswordChangeForm`).
#[derive(Debug, Form)]
pub struct PasswordChange {
    #[form(
        label = "Old password",
        widget = "password",
        attrs = [("autocomplete", "current-password"), ("autofocus", "")]
    )]
    old_password: String,
    #[form(
        label = "New password",
        widget = "password",
        attrs = [("autocomplete", "new-password")]
    )]
    new_password1: String,
    #[form(
        label = "New password confirmation",
        widget = "password",
        attrs = [("autocomplete", "new-password")]
    )]
    new_password2: String,
}

fn password_page(
    state: &Newsroom,
    request: &Request<Body>,
    status: StatusCode,
    form: &Bound<PasswordChange>,
) -> Response {
    let help = state.auth.validators().help_texts();
    let ctx = context! { form => form.view(), help };
    state
        .templates
        .render_status_for(request, status, "password_change.html", ctx)
        .unwrap_or_else(|error| state.templates.error_response(&error))
}

/// The sign-in page, coming back to `path` afterwards.
fn sign_in_first(path: &str) -> Response {
    see_other(&tack_auth::guard::login_redirect_url(
        "/accounts/login/",
        path,
    ))
}

/// `GET /accounts/password/`: the password change form (signed-in users).
pub async fn password_form(
    state: Arc<Newsroom>,
    request: Request<Body>,
) -> Result<Response, Error> {
    if current_user_of(&request).is_none() {
        return Ok(sign_in_first(request.uri().path()));
    }
    let form = PasswordChange::form();
    Ok(password_page(&state, &request, StatusCode::OK, &form))
}

/// `POST /accounts/password/`: checks the old password (throttled as a
/// sign-in is), sets the new one, keeps this session signed in while every
/// other session and every API token of the user is signed out, and goes
/// to the front page with a message. Errors re-render the form (422).
pub async fn password_change(
    state: Arc<Newsroom>,
    mut request: Request<Body>,
) -> Result<Response, Error> {
    let Some(user) = current_user_of(&request) else {
        return Ok(sign_in_first(request.uri().path()));
    };
    let session = session(&request)?;
    let client = ClientInfo::of(&request).addr;
    let messages = request.extensions().get::<Messages>().cloned();
    let mut form = PasswordChange::bind(&form_data(&mut request).await?);
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(change) = form.cleaned() else {
        return Ok(password_page(&state, &request, invalid, &form));
    };
    let (old, new1, new2) = (
        change.old_password.clone(),
        change.new_password1.clone(),
        change.new_password2.clone(),
    );
    let credentials = Credentials::password(&user.username, Password::new(old));
    match state.auth.authenticate(&credentials, client).await {
        Ok(_) => {}
        Err(tack_auth::Error::InvalidCredentials) => {
            form.add_error(
                Some("old_password"),
                "Your old password was entered incorrectly. Please enter it again.",
            );
            return Ok(password_page(&state, &request, invalid, &form));
        }
        Err(error @ tack_auth::Error::Throttled { .. }) => {
            form.add_error(None, error.to_string());
            let status = StatusCode::TOO_MANY_REQUESTS;
            return Ok(password_page(&state, &request, status, &form));
        }
        Err(error) => return Err(auth_error(error)),
    }
    if new1 != new2 {
        form.add_error(
            Some("new_password2"),
            "The two password fields didn’t match.",
        );
        return Ok(password_page(&state, &request, invalid, &form));
    }
    let attributes = UserAttributes::new(&user.username, &user.email);
    match state
        .auth
        .set_password(&user, &Password::new(new1), &attributes)
        .await
    {
        Ok(_) => {}
        Err(tack_auth::Error::PasswordRejected { messages }) => {
            for message in messages {
                form.add_error(Some("new_password2"), message);
            }
            return Ok(password_page(&state, &request, invalid, &form));
        }
        Err(error) => return Err(auth_error(error)),
    }
    // The stored user now has the new hash: this session follows it.
    let changed = state
        .auth
        .backend()
        .get_user(&user.id)
        .await
        .map_err(auth_error)?
        .ok_or_else(|| Error::http(StatusCode::NOT_FOUND, "The user is gone."))?;
    update_session_auth_hash(&session, &changed, state.auth.key()).map_err(auth_error)?;
    if let Some(messages) = messages {
        let _ = messages.success(
            "Your password was changed. Your other sessions and your API tokens are signed out.",
        );
    }
    Ok(see_other("/"))
}

/// The signed-in user of a request (by session or bearer token), owned.
fn current_user_of(request: &Request<Body>) -> Option<User> {
    request
        .extensions()
        .get::<CurrentUser<User>>()
        .and_then(CurrentUser::user)
        .cloned()
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

/// `changepassword USERNAME`, with `password` (the binary passes
/// `NEWSROOM_PASSWORD`), or asking for it twice on a terminal. The user's
/// sessions and API tokens are signed out.
pub fn change_password_command(
    db: &tack_orm::Database,
    args: &[String],
    password: Option<String>,
) -> Result<String, String> {
    let [username] = args else {
        return Err("changepassword needs one argument: changepassword USERNAME".into());
    };
    let password = match password {
        Some(password) if !password.is_empty() => password,
        _ => {
            let first = prompt_password()?;
            let again = rpassword::prompt_password("Password (again): ")
                .map_err(|error| error.to_string())?;
            if first != again {
                return Err("changepassword: the passwords do not match".into());
            }
            first
        }
    };
    tack_auth::db::change_password(
        db,
        username,
        &Password::new(password),
        &Validators::default(),
        &PasswordHasher::new(),
    )
    .map_err(|error| match error {
        tack_auth::Error::InvalidCredentials => {
            format!("changepassword: no user is called {username:?}")
        }
        other => format!("changepassword: {other}"),
    })?;
    Ok(format!(
        "Password changed for {username:?}; their sessions and API tokens are signed out."
    ))
}

fn prompt_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err("set NEWSROOM_PASSWORD (no terminal to ask for the password on)".into());
    }
    rpassword::prompt_password("Password: ").map_err(|error| error.to_string())
}
