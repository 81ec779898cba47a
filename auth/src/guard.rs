//! Guards: login required, permission required, staff required, as tower
//! layers or as checks called from a handler.
//!
//! An anonymous visitor is sent to the login page (302 to
//! `LOGIN_URL?next=/the/path`) when it is a browser, and answered 401
//! problem+json when it is an API client (it accepts JSON and not HTML,
//! sends `Authorization`, or `X-Requested-With: XMLHttpRequest`). A signed-in
//! user lacking a permission (or staff status) gets 403.

use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tack_http::{PROBLEM_JSON, Problem};
use tower_layer::Layer;
use tower_service::Service;

use crate::layer::ResponseFuture;
use crate::user::{CurrentUser, User};
use crate::{AuthUser, Error};

/// What a request must satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// Someone is signed in.
    Login,
    /// Someone is signed in and has every one of these permissions.
    Permissions(Vec<String>),
    /// Someone active with staff status is signed in.
    Staff,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Nobody is signed in: 302 to the login page, or 401 for API clients.
    Unauthenticated,
    /// The user lacks a permission or staff status: 403.
    Forbidden(String),
}

impl Requirement {
    /// Checks `current` against the requirement.
    pub fn check<U: AuthUser>(&self, current: &CurrentUser<U>) -> Result<(), Denial> {
        let Some(user) = current.user() else {
            return Err(Denial::Unauthenticated);
        };
        match self {
            Requirement::Login => Ok(()),
            Requirement::Permissions(needed) => match needed.iter().find(|p| !user.has_perm(p)) {
                None => Ok(()),
                Some(missing) => Err(Denial::Forbidden(format!(
                    "You need the permission `{missing}` to do this."
                ))),
            },
            Requirement::Staff => {
                if current.is_staff() {
                    Ok(())
                } else {
                    Err(Denial::Forbidden(
                        "Only staff members can do this.".to_owned(),
                    ))
                }
            }
        }
    }
}

/// Whether the client is an API client rather than a browser.
pub fn wants_json(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let accept = header(ACCEPT);
    (accept.contains("json") && !accept.contains("text/html"))
        || headers.contains_key(AUTHORIZATION)
        || header(http::HeaderName::from_static("x-requested-with")) == "xmlhttprequest"
}

/// What `next=` keeps unencoded: unreserved characters and `/`.
const NEXT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `login_url?next=PATH` (or `&next=` when the URL has a query already).
pub fn login_redirect_url(login_url: &str, next: &str) -> String {
    let sep = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{sep}next={}", utf8_percent_encode(next, NEXT))
}

/// An error as a problem+json response with any body type.
pub(crate) fn problem_response<B: From<String>>(error: &Error) -> Response<B> {
    let mut response = problem_json(&error.problem());
    if let Error::Throttled { retry_after_secs } = error {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, (*retry_after_secs).into());
    }
    if matches!(error, Error::InvalidToken) {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

fn problem_json<B: From<String>>(problem: &Problem) -> Response<B> {
    // A Problem holds only strings and JSON values: serializing it cannot fail.
    let body = serde_json::to_string(problem).expect("problem details serialize");
    let mut response = Response::new(B::from(body));
    *response.status_mut() = problem.status_code();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl Denial {
    /// The response for this denial, for a request with these `headers`
    /// and this `path_and_query`.
    pub fn response<B: From<String>>(
        &self,
        headers: &HeaderMap,
        path_and_query: &str,
        login_url: &str,
    ) -> Response<B> {
        let json = wants_json(headers);
        match self {
            Denial::Unauthenticated if json => {
                let mut response = problem_json(
                    &Problem::new(StatusCode::UNAUTHORIZED)
                        .with_detail("Sign in, or send an `Authorization: Bearer` token."),
                );
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Denial::Unauthenticated => {
                let location = login_redirect_url(login_url, path_and_query);
                let mut response = Response::new(B::from(String::new()));
                *response.status_mut() = StatusCode::FOUND;
                match HeaderValue::try_from(location) {
                    Ok(value) => {
                        response.headers_mut().insert(LOCATION, value);
                    }
                    Err(_) => *response.status_mut() = StatusCode::UNAUTHORIZED,
                }
                response
            }
            Denial::Forbidden(detail) if json => problem_json(&Problem::forbidden(detail.clone())),
            Denial::Forbidden(detail) => {
                let mut response = Response::new(B::from(format!("403 Forbidden: {detail}\n")));
                *response.status_mut() = StatusCode::FORBIDDEN;
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                response
            }
        }
    }
}

/// Checks a request in a handler: the user, or the response to answer.
///
/// ```
/// use http::Request;
/// use tack_auth::guard::{require, Requirement};
/// use tack_auth::{CurrentUser, User};
///
/// let mut request = Request::new(());
/// request.extensions_mut().insert(CurrentUser::<User>::anonymous());
/// let refused = require::<User, _, String>(&request, &Requirement::Login, "/accounts/login/").unwrap_err();
/// assert_eq!(refused.status(), 302);
/// assert_eq!(refused.headers()["location"], "/accounts/login/?next=/");
/// ```
pub fn require<'r, U: AuthUser, ReqBody, ResBody: From<String>>(
    request: &'r Request<ReqBody>,
    requirement: &Requirement,
    login_url: &str,
) -> Result<&'r U, Response<ResBody>> {
    let path = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let refuse = |denial: Denial| denial.response(request.headers(), path, login_url);
    // Without the auth layer (or with another user type) nobody is signed in.
    let Some(current) = request.extensions().get::<CurrentUser<U>>() else {
        return Err(refuse(Denial::Unauthenticated));
    };
    requirement.check(current).map_err(refuse)?;
    // The check succeeds only with a user.
    current
        .user()
        .ok_or_else(|| refuse(Denial::Unauthenticated))
}

/// A layer refusing requests that do not meet a [`Requirement`]; `U` is the
/// user type of the [`AuthLayer`](crate::AuthLayer) outside it.
#[derive(Debug)]
pub struct GuardLayer<U = User> {
    requirement: Arc<Requirement>,
    login_url: Arc<str>,
    user: PhantomData<fn() -> U>,
}

impl<U> Clone for GuardLayer<U> {
    fn clone(&self) -> Self {
        GuardLayer {
            requirement: Arc::clone(&self.requirement),
            login_url: Arc::clone(&self.login_url),
            user: PhantomData,
        }
    }
}

impl<U: AuthUser> GuardLayer<U> {
    /// Refuses requests that do not meet `requirement`, sending browsers
    /// to `login_url`.
    pub fn new(requirement: Requirement, login_url: &str) -> Self {
        GuardLayer {
            requirement: Arc::new(requirement),
            login_url: login_url.into(),
            user: PhantomData,
        }
    }

    /// Someone must be signed in (Django's `login_required`).
    pub fn login_required(login_url: &str) -> Self {
        GuardLayer::new(Requirement::Login, login_url)
    }

    /// The user must have every permission (Django's `permission_required`).
    pub fn permission_required<S: Into<String>>(
        login_url: &str,
        permissions: impl IntoIterator<Item = S>,
    ) -> Self {
        GuardLayer::new(
            Requirement::Permissions(permissions.into_iter().map(Into::into).collect()),
            login_url,
        )
    }

    /// The user must be active staff (Django's `staff_member_required`).
    pub fn staff_required(login_url: &str) -> Self {
        GuardLayer::new(Requirement::Staff, login_url)
    }
}

impl<S, U> Layer<S> for GuardLayer<U> {
    type Service = Guard<S, U>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`GuardLayer`] makes.
#[derive(Debug)]
pub struct Guard<S, U> {
    inner: S,
    layer: GuardLayer<U>,
}

impl<S: Clone, U> Clone for Guard<S, U> {
    fn clone(&self) -> Self {
        Guard {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, U, ReqBody, ResBody> Service<Request<ReqBody>> for Guard<S, U>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    U: AuthUser,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if let Err(refused) =
            require::<U, _, ResBody>(&request, &self.layer.requirement, &self.layer.login_url)
        {
            return Box::pin(async move { Ok(refused) });
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(request).await })
    }
}
