//! Shared by the behaviour tests: cheap hashing, a backend with users, and
//! a small app behind the session and auth layers.
#![allow(dead_code)]

pub mod conformance;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Request, Response, StatusCode};
use tack_auth::password::Argon2Params;
use tack_auth::validation::UserAttributes;
use tack_auth::{
    Auth, AuthBackend, AuthLayer, Credentials, CurrentUser, GuardLayer, MemoryBackend,
    MemoryTokenStore, Password, PasswordHasher, User, update_session_auth_hash,
};
use tack_http::Body;
use tack_sessions::{MemoryStore, SecretKey, Session, SessionLayer};
use tower::Layer;

/// Fast parameters: these tests check behaviour, not cost.
pub const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

pub const PASSWORD: &str = "mill-pond-lantern";

pub fn hasher() -> PasswordHasher {
    PasswordHasher::new().with_params(CHEAP)
}

pub fn backend() -> MemoryBackend {
    MemoryBackend::new().with_hasher(hasher())
}

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )))
    }
    pub fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
    pub fn reader(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

pub fn auth(backend: MemoryBackend) -> Auth<MemoryBackend> {
    Auth::new(backend, SecretKey::generate())
        .with_hasher(hasher())
        .with_tokens(MemoryTokenStore::new())
}

fn query(request: &Request<Body>) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| serde_urlencoded::from_str(q).unwrap())
        .unwrap_or_default()
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
}

/// `/login?u=&p=`, `/logout`, `/me`, `/password?p=`, and `/editor/`
/// behind `permission_required("newsroom.change_article")`.
pub fn app<B: AuthBackend<User = User>>(
    auth: Auth<B>,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let handler_auth = auth.clone();
    let handler = tower::service_fn(move |request: Request<Body>| {
        let auth = handler_auth.clone();
        async move {
            let session = request.extensions().get::<Session>().cloned().unwrap();
            let current = request
                .extensions()
                .get::<CurrentUser<User>>()
                .cloned()
                .unwrap();
            let params = query(&request);
            let response = match request.uri().path() {
                "/login" => {
                    let credentials = Credentials::password(
                        params["u"].clone(),
                        Password::new(params["p"].clone()),
                    );
                    match auth.authenticate(&credentials, None).await {
                        Ok(user) => {
                            auth.login(&session, &user).await.unwrap();
                            text(StatusCode::OK, format!("welcome {}", user.username))
                        }
                        Err(error) => text(error.status(), error.to_string()),
                    }
                }
                "/logout" => {
                    auth.logout(&session);
                    text(StatusCode::OK, "bye".into())
                }
                "/password" => {
                    let user = current.user().unwrap().clone();
                    auth.set_password(
                        &user,
                        &Password::new(params["p"].clone()),
                        &UserAttributes::new(&user.username, &user.email),
                    )
                    .await
                    .unwrap();
                    let changed = auth.backend().get_user(&user.id).await.unwrap().unwrap();
                    update_session_auth_hash(&session, &changed, auth.key()).unwrap();
                    text(StatusCode::OK, "changed".into())
                }
                _ => text(
                    StatusCode::OK,
                    current
                        .user()
                        .map_or("anonymous".to_owned(), |user| user.username.clone()),
                ),
            };
            Ok::<_, Infallible>(response)
        }
    });
    let editor = GuardLayer::<User>::permission_required("/login", ["newsroom.change_article"]);
    let router = tower::service_fn(move |request: Request<Body>| {
        let mut handler = handler.clone();
        let mut guarded = editor.layer(handler.clone());
        async move {
            if request.uri().path().starts_with("/editor/") {
                tower::Service::call(&mut guarded, request).await
            } else {
                tower::Service::call(&mut handler, request).await
            }
        }
    });
    SessionLayer::new(MemoryStore::new())
        .with_secure(false)
        .layer(AuthLayer::new(auth).layer(router))
}
