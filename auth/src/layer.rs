//! The tower layer that puts the current user in the request's extensions.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, Response};
use tack_sessions::Session;
use tower_layer::Layer;
use tower_service::Service;

use crate::backend::AuthBackend;
use crate::guard::problem_response;
use crate::user::{AuthMethod, CurrentUser};
use crate::{Auth, Error};

/// Puts a [`CurrentUser<B::User>`](CurrentUser) into every request's
/// extensions: the user named by an `Authorization: Bearer` token, else the
/// one signed in on the [`Session`] (the session layer must run outside
/// this one), else anonymous.
///
/// The user is loaded eagerly, before the handler runs, because handlers
/// and guards then read it synchronously (axum's `Extension`, our router's
/// `req.extensions()`), with no backend handle and no `.await`. It costs
/// nothing for anonymous requests: the backend is asked only when the
/// session names a user or a bearer token is sent. Reading the session
/// marks it accessed, so responses vary on `Cookie`, as in Django.
///
/// With a token store configured ([`Auth::with_tokens`]), an unknown,
/// revoked or expired bearer token answers 401 problem+json
/// with `WWW-Authenticate: Bearer error="invalid_token"`; a backend failure
/// answers 503 problem+json.
#[derive(Debug)]
pub struct AuthLayer<B> {
    auth: Auth<B>,
}

impl<B> Clone for AuthLayer<B> {
    fn clone(&self) -> Self {
        AuthLayer {
            auth: self.auth.clone(),
        }
    }
}

impl<B: AuthBackend> AuthLayer<B> {
    /// A layer authenticating through `auth`.
    pub fn new(auth: Auth<B>) -> Self {
        AuthLayer { auth }
    }
}

impl<S, B> Layer<S> for AuthLayer<B> {
    type Service = AuthService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug)]
pub struct AuthService<S, B> {
    inner: S,
    auth: Auth<B>,
}

impl<S: Clone, B> Clone for AuthService<S, B> {
    fn clone(&self) -> Self {
        AuthService {
            inner: self.inner.clone(),
            auth: self.auth.clone(),
        }
    }
}

/// The future [`AuthService`] answers.
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// The token of an `Authorization: Bearer` header: `None` without one (or
/// with another scheme), `Some(Err)` when it is malformed.
fn bearer(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let value = headers.get(AUTHORIZATION)?;
    let Ok(text) = value.to_str() else {
        return Some(Err(()));
    };
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        Some(Err(()))
    } else {
        Some(Ok(token.to_owned()))
    }
}

impl<S, B, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S, B>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: AuthBackend,
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
        let auth = self.auth.clone();
        // Without a token store, `Authorization: Bearer` belongs to someone else.
        let token = if auth.accepts_tokens() {
            bearer(request.headers())
        } else {
            None
        };
        let session = request.extensions().get::<Session>().cloned();
        Box::pin(async move {
            let current = match current_user(&auth, token, session).await {
                Ok(current) => current,
                Err(error) => return Ok(problem_response(&error)),
            };
            // For the access log outside this layer, if there is one.
            if let (Some(slot), Some(user)) = (
                request.extensions().get::<tack_http::LoggedUser>(),
                current.user(),
            ) {
                slot.set(crate::AuthUser::id(user));
            }
            request.extensions_mut().insert(current);
            inner.call(request).await
        })
    }
}

async fn current_user<B: AuthBackend>(
    auth: &Auth<B>,
    token: Option<Result<String, ()>>,
    session: Option<Session>,
) -> Result<CurrentUser<B::User>, Error> {
    match token {
        Some(Ok(token)) => match auth.user_from_token(&token).await? {
            Some(user) => Ok(CurrentUser::authenticated(user, AuthMethod::Token)),
            None => Err(Error::InvalidToken),
        },
        Some(Err(())) => Err(Error::InvalidToken),
        None => match session {
            Some(session) => Ok(auth
                .user_from_session(&session)
                .await?
                .map_or_else(CurrentUser::anonymous, |user| {
                    CurrentUser::authenticated(user, AuthMethod::Session)
                })),
            None => Ok(CurrentUser::anonymous()),
        },
    }
}
