//! The websocket endpoint as a tower `Service`.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tack_http::{Body, IntoResponse, Problem};

use crate::driver::Driver;
use crate::handshake::{handshake, handshake_error_response};
use crate::keepalive::Keepalive;
use crate::{CloseCode, Connection, Consumer, Error, WsConfig};

/// A task the endpoint asks its spawner to run: one connection, until it closes.
pub type ConnectionTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

type Spawn = Arc<dyn Fn(ConnectionTask) + Send + Sync>;

/// A websocket endpoint: a `tower::Service` that answers the handshake
/// (101, or 400/403 as problem+json) and runs each accepted connection with
/// a fresh [`Consumer`] from `factory`.
///
/// Mount it in any router (`Router::route_service` in axum, a route of
/// `tack-routing`) and serve it with hyper 1 with upgrades enabled. The
/// connection runs on whatever executor `spawn` hands it to, for example
/// `|task| { tokio::spawn(task); }`; the crate itself starts no runtime.
pub struct WebSocketEndpoint<F> {
    factory: Arc<F>,
    spawn: Spawn,
    config: Arc<WsConfig>,
    keepalive: Arc<Keepalive>,
}

impl<F> Clone for WebSocketEndpoint<F> {
    fn clone(&self) -> Self {
        WebSocketEndpoint {
            factory: self.factory.clone(),
            spawn: self.spawn.clone(),
            config: self.config.clone(),
            keepalive: self.keepalive.clone(),
        }
    }
}

impl<F> std::fmt::Debug for WebSocketEndpoint<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketEndpoint")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<F, C> WebSocketEndpoint<F>
where
    F: Fn() -> C + Send + Sync + 'static,
    C: Consumer,
{
    /// An endpoint making a consumer per connection with `factory`, running
    /// connections with `spawn`, with the default [`WsConfig`].
    pub fn new(spawn: impl Fn(ConnectionTask) + Send + Sync + 'static, factory: F) -> Self {
        let config = Arc::new(WsConfig::default());
        WebSocketEndpoint {
            factory: Arc::new(factory),
            spawn: Arc::new(spawn),
            keepalive: Arc::new(Keepalive::new(config.clone())),
            config,
        }
    }

    /// An endpoint whose connections run on the current tokio runtime
    /// (`tokio::spawn`): serve it from inside that runtime.
    #[cfg(feature = "tokio")]
    pub fn tokio(factory: F) -> Self {
        WebSocketEndpoint::new(
            |task| {
                tokio::spawn(task);
            },
            factory,
        )
    }

    /// Replaces the configuration (limits, keepalive, origins, subprotocols).
    pub fn with_config(mut self, config: WsConfig) -> Self {
        self.config = Arc::new(config);
        self.keepalive = Arc::new(Keepalive::new(self.config.clone()));
        self
    }

    /// Closes every open connection of this endpoint with `code` and
    /// `reason` (use `CloseCode::Away`, 1001, when the server shuts down),
    /// after the messages already queued.
    pub fn close_all(&self, code: CloseCode, reason: &str) {
        self.keepalive.close_all(code, reason);
    }

    /// How many connections of this endpoint are open.
    pub fn open_connections(&self) -> usize {
        self.keepalive.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &WsConfig {
        &self.config
    }

    /// Answers one upgrade request; the connection (if accepted) is spawned.
    pub fn accept<B>(&self, request: Request<B>) -> Response<Body> {
        let accepted = match handshake(&request, &self.config) {
            Ok(accepted) => accepted,
            Err(error) => return handshake_error_response(error),
        };
        let (mut parts, _body) = request.into_parts();
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            return Error::NoUpgrade.into_response();
        };
        let connection = Connection::new(self.config.send_queue, accepted.protocol);
        let mut consumer = (self.factory)();
        #[allow(clippy::result_large_err)] // the consumer's own `connect` result, see `Consumer`
        let connected = catch_unwind(AssertUnwindSafe(|| consumer.connect(&connection, &parts)));
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => {
                connection.finish();
                return problem.into_response();
            }
            Err(_) => {
                connection.finish();
                tracing::error!(path = %parts.uri.path(), "tack-ws: the consumer panicked on connect");
                return Problem::new(StatusCode::INTERNAL_SERVER_ERROR).into_response();
            }
        }
        self.keepalive.register(&connection);
        let config = self.config.clone();
        (self.spawn)(Box::pin(async move {
            match on_upgrade.await {
                Ok(upgraded) => Driver::new(upgraded, connection, consumer, &config).await,
                Err(error) => {
                    tracing::debug!(
                        connection = connection.id(),
                        "tack-ws: upgrade failed: {error}"
                    );
                    connection.finish();
                    consumer.disconnect(&connection, CloseCode::Abnormal);
                }
            }
        }));
        accepted.response
    }
}

impl<F, C, B> tower_service::Service<Request<B>> for WebSocketEndpoint<F>
where
    F: Fn() -> C + Send + Sync + 'static,
    C: Consumer,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.accept(request)))
    }
}
