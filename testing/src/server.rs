//! A real HTTP/1 server on a loopback port (feature `server`), for tests that
//! need a socket rather than the in-process [`TestClient`](crate::TestClient).

use std::error::Error as StdError;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tack_http::Body;
use tokio::runtime::{Handle, Runtime};
use tokio::task::{AbortHandle, JoinSet};
use tower::{Service, ServiceExt};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A server on `127.0.0.1` with a port of its own, made by [`serve`]; it
/// stops accepting and drops its open connections when this value is dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    accept: AbortHandle,
    runtime: Option<Runtime>,
}

impl Server {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
        if let Some(runtime) = self.runtime.take() {
            // Does not block, so a server made outside a runtime may still be
            // dropped inside one.
            runtime.shutdown_background();
        }
    }
}

/// Serves `service` over HTTP/1 (upgrades enabled, so websockets work) on
/// `127.0.0.1:0`.
///
/// Requests reach the service as `Request<tack_http::Body>`, carrying a
/// [`ClientInfo`](tack_http::ClientInfo) with the peer's address, as a
/// server should. Called inside a
/// tokio runtime, the server runs on that runtime; called outside one (a
/// plain `#[test]` with blocking clients), it runs on a runtime of its own
/// with two workers.
///
/// # Panics
///
/// When no loopback port can be bound.
pub fn serve<S, B>(service: S) -> Server
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (handle, runtime) = match Handle::try_current() {
        Ok(handle) => (handle, None),
        Err(_) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the test server");
            (runtime.handle().clone(), Some(runtime))
        }
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    listener
        .set_nonblocking(true)
        .expect("a nonblocking listener for tokio");
    let listener = {
        let _runtime = handle.enter();
        tokio::net::TcpListener::from_std(listener).expect("the listener joins the runtime")
    };
    let accept = handle.spawn(async move {
        // Dropping this set (when the accept task is aborted) aborts every
        // connection still open.
        let mut connections = JoinSet::new();
        while let Ok((stream, peer)) = listener.accept().await {
            while connections.try_join_next().is_some() {}
            // Small frames (websockets) should leave at once, not wait for Nagle.
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let mut request = request.map(Body::new);
                    // What a real server tells the app about the connection.
                    request
                        .extensions_mut()
                        .insert(tack_http::ClientInfo::direct(peer, false));
                    service.clone().oneshot(request)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Server {
        addr,
        accept: accept.abort_handle(),
        runtime,
    }
}

/// Sends `request` to `addr` on a fresh HTTP/1 connection and reads the whole
/// response. The request's URI is sent as is (usually a path), so give it a
/// `host` header when the service looks at one.
///
/// # Panics
///
/// When the connection or the exchange fails: the test should see why.
pub async fn send(addr: SocketAddr, request: Request<Bytes>) -> Response<Bytes> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {addr}: {error}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap_or_else(|error| panic!("HTTP/1 handshake with {addr} failed: {error}"));
    tokio::spawn(connection);
    let response = sender
        .send_request(request.map(http_body_util::Full::new))
        .await
        .unwrap_or_else(|error| panic!("{addr} did not answer: {error}"));
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .unwrap_or_else(|error| panic!("reading the body from {addr} failed: {error}"))
        .to_bytes();
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    async fn echo(request: Request<Body>) -> Result<Response<Body>, Infallible> {
        let path = request.uri().path().to_owned();
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let text = format!("{path} {}", String::from_utf8_lossy(&body));
        Ok(Response::new(Body::from(text)))
    }

    fn post(path: &str, body: &'static str) -> Request<Bytes> {
        Request::post(path)
            .header("host", "localhost")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[tokio::test]
    async fn serves_on_the_current_runtime_until_dropped() {
        let server = serve(tower::service_fn(echo));
        let addr = server.addr();
        assert!(addr.ip().is_loopback());
        let response = send(addr, post("/hello", "there")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), "/hello there");
        drop(server);
        // The accept task is aborted; its listener closes once the runtime
        // has polled the abort, so wait for the refusal rather than sleep.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while tokio::net::TcpStream::connect(addr).await.is_ok() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the dropped server stops listening");
    }

    #[test]
    fn serves_outside_a_runtime_on_its_own() {
        let server = serve(tower::service_fn(echo));
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let response = client.block_on(send(server.addr(), post("/a", "b")));
        assert_eq!(response.body(), "/a b");
    }
}
