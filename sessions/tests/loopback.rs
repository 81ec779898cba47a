//! The session layer behind a real hyper server on a loopback socket.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tack_http::Body;
use tack_sessions::{MemoryStore, SessionLayer};
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, ServiceExt};

#[tokio::test]
async fn sessions_survive_a_round_trip_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = SessionLayer::new(MemoryStore::new())
        .with_secure(false)
        .layer(tower::service_fn(common::app));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |request: Request<Incoming>| {
                        let service = service.clone();
                        async move {
                            let response = service.oneshot(request.map(Body::new)).await?;
                            Ok::<Response<Body>, Infallible>(response)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });

    async fn get(
        address: std::net::SocketAddr,
        path: &str,
        cookie: Option<&str>,
    ) -> (Option<String>, String) {
        let stream = TcpStream::connect(address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder().uri(path).header("host", "localhost");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = sender
            .send_request(request.body(Full::<Bytes>::default()).unwrap())
            .await
            .unwrap();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (set_cookie, String::from_utf8(body.to_vec()).unwrap())
    }

    let run = async {
        let (cookie, _) = get(address, "/set?name=ada", None).await;
        let cookie = cookie.expect("the first write sets the cookie");
        assert_eq!(
            get(address, "/get?name", Some(&cookie)).await,
            (None, "ada".to_owned())
        );
        assert_eq!(get(address, "/get?name", None).await.1, "none");
    };
    tokio::time::timeout(common::GUARD, run)
        .await
        .expect("the server answers");
}
