//! [`AccessLogLayer`]: one structured log event per request, through
//! `tracing`.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Method, Request, Response, StatusCode};
use tack_http::{ClientInfo, LoggedUser};

/// Logs one event per request once its response is ready, on the target
/// `tack::request`: `method`, `path` (without the query string, which may
/// carry secrets), `status`, `duration_ms`, `user` (the id the
/// authentication layer recorded in [`LoggedUser`], `-` for anonymous)
/// and `client` (the address [`ClientInfo`] names). 5xx answers are logged
/// at `ERROR`, 4xx at `WARN`, the rest at `INFO`.
///
/// Put it outside the layers whose refusals should be logged (allowed
/// hosts, CSRF) and inside a proxy-trusting layer, so `client` is the real
/// client. Without a `tracing` subscriber it costs a clock read.
///
/// ```
/// use tack_routing::{AccessLogLayer, Router, get};
/// use tower::Layer;
///
/// let app = AccessLogLayer::new().layer(Router::new().route("/", get(|_| async { "hi" })));
/// # let _ = app;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLogLayer {
    _private: (),
}

impl AccessLogLayer {
    /// The layer.
    pub fn new() -> Self {
        AccessLogLayer::default()
    }
}

impl<S> tower::Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog { inner }
    }
}

/// The service [`AccessLogLayer`] makes.
#[derive(Clone, Debug)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S, B, ResB> tower::Service<Request<B>> for AccessLog<S>
where
    S: tower::Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = AccessLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let user = LoggedUser::default();
        request.extensions_mut().insert(user.clone());
        let entry = Entry {
            start: Instant::now(),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            client: ClientInfo::of(&request).addr,
            user,
        };
        AccessLogFuture {
            inner: self.inner.call(request),
            entry: Some(entry),
        }
    }
}

/// What is known of a request before its response.
struct Entry {
    start: Instant,
    method: Method,
    path: String,
    client: Option<IpAddr>,
    user: LoggedUser,
}

impl Entry {
    fn log(self, status: Option<StatusCode>) {
        let duration_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let user = self.user.get().unwrap_or("-");
        let client = self.client.map(|ip| ip.to_string());
        let client = client.as_deref().unwrap_or("-");
        let (method, path) = (self.method.as_str(), self.path.as_str());
        macro_rules! event {
            ($level:ident, $status:expr) => {
                tracing::$level!(
                    target: "tack::request",
                    method,
                    path,
                    status = $status,
                    duration_ms,
                    user,
                    client,
                )
            };
        }
        match status {
            Some(status) if status.is_server_error() => event!(error, status.as_u16()),
            Some(status) if status.is_client_error() => event!(warn, status.as_u16()),
            Some(status) => event!(info, status.as_u16()),
            // The service failed: the server drops the connection.
            None => event!(error, "no response"),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`AccessLog`]: the inner one, logging when it ends.
    pub struct AccessLogFuture<F> {
        #[pin]
        inner: F,
        entry: Option<Entry>,
    }
}

impl<F, ResB, E> Future for AccessLogFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(entry) = this.entry.take() {
            entry.log(result.as_ref().ok().map(Response::status));
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{Layer, ServiceExt};

    #[test]
    fn hands_the_inner_service_a_user_slot_and_passes_the_response_on() {
        let service = AccessLogLayer::new().layer(tower::service_fn(|request: Request<()>| {
            let slot = request.extensions().get::<LoggedUser>().cloned();
            async move {
                let slot = slot.expect("the slot is inserted");
                slot.set("7");
                let mut response = Response::new(());
                *response.status_mut() = StatusCode::IM_A_TEAPOT;
                Ok::<_, std::convert::Infallible>(response)
            }
        }));
        let response = futures_executor::block_on(service.oneshot(Request::new(()))).unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    }
}
