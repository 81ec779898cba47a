//! `Route`: one type-erased endpoint (a handler or any tower service).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::Request;
use tack_http::{Body, BoxError, IntoResponse, Response};
use tower::{Layer, Service, ServiceExt};

use crate::Error;

type Endpoint = dyn Fn(Request<Body>) -> BoxFuture<'static, Response> + Send + Sync;

/// One endpoint, type-erased: a handler, a mounted service, or either
/// wrapped in layers. It is itself a cheap-to-clone tower service, which is
/// what route layers wrap.
#[derive(Clone)]
pub struct Route(Arc<Endpoint>);

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Route")
    }
}

impl Route {
    /// Wraps any tower service. A service error answers 500 (its message
    /// shows in debug mode only).
    pub fn new(service: impl HttpService) -> Self {
        service.into_route()
    }

    /// Wraps an async function from a request to anything that becomes a
    /// response.
    pub fn from_handler(handler: impl Handler) -> Self {
        handler.into_route()
    }

    /// Wraps this route in a tower layer.
    pub fn layer<L>(self, layer: &L) -> Route
    where
        L: Layer<Route>,
        L::Service: HttpService,
    {
        layer.layer(self).into_route()
    }

    pub(crate) fn call_route(&self, request: Request<Body>) -> BoxFuture<'static, Response> {
        (self.0)(request)
    }
}

/// An async function from a request to something that becomes a response:
/// what `get`, `post`, ... and [`Router::fallback`](crate::Router::fallback)
/// take. Implemented for every `Fn(Request<Body>) -> impl Future<Output =
/// impl IntoResponse>` that is `Send + Sync + 'static` with a `Send` future.
pub trait Handler: Send + Sync + 'static {
    /// Type-erases the handler.
    fn into_route(self) -> Route;
}

impl<H, Fut, R> Handler for H
where
    H: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn into_route(self) -> Route {
        Route(Arc::new(move |request| {
            let future = self(request);
            Box::pin(async move { future.await.into_response() })
        }))
    }
}

/// A tower service the router can mount: it takes `Request<Body>` and
/// answers an `http::Response` with any body of [`Bytes`]. Implemented for
/// every such service that is `Clone + Send + Sync + 'static` with a `Send`
/// future and errors convertible to [`BoxError`] (answered 500).
pub trait HttpService: Clone + Send + Sync + 'static {
    /// Type-erases the service.
    fn into_route(self) -> Route;
}

impl<S, B> HttpService for S
where
    S: Service<Request<Body>, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn into_route(self) -> Route {
        Route(Arc::new(move |request| {
            let service = self.clone();
            Box::pin(async move {
                match service.oneshot(request).await {
                    Ok(response) => response.map(Body::new),
                    Err(error) => Error::Service(error.into()).into_response(),
                }
            })
        }))
    }
}

impl Service<Request<Body>> for Route {
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> ResponseFuture {
        ResponseFuture(self.call_route(request))
    }
}

/// The future of a [`Route`] or [`Router`](crate::Router) response; it never fails.
pub struct ResponseFuture(pub(crate) BoxFuture<'static, Response>);

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}

impl Route {
    /// A route from a closure that already returns a boxed future.
    pub(crate) fn from_fn(
        f: impl Fn(Request<Body>) -> BoxFuture<'static, Response> + Send + Sync + 'static,
    ) -> Self {
        Route(Arc::new(f))
    }
}
