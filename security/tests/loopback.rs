//! The CSRF layer behind a real hyper server on a loopback socket.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tack_http::Body;
use tack_security::CsrfLayer;
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, ServiceExt};

async fn send(
    address: std::net::SocketAddr,
    request: Request<Full<Bytes>>,
) -> (StatusCode, Option<String>, String) {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, cookie, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_form_post_over_tcp_needs_the_token() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = CsrfLayer::new()
        .with_secure_cookie(false)
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
                            let response: Result<Response<Body>, Infallible> =
                                service.oneshot(request).await;
                            response
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });

    let run = async {
        let page = Request::get("/form")
            .header("host", "localhost")
            .body(Full::default())
            .unwrap();
        let (_, cookie, token) = send(address, page).await;
        let cookie = cookie.expect("the form page sets the CSRF cookie");
        let form = format!("csrfmiddlewaretoken={token}&title=hi");
        let post = |body: String| {
            Request::post("/submit")
                .header("host", "localhost")
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(body)))
                .unwrap()
        };
        let (status, _, text) = send(address, post(form.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text, format!("ok:{form}"));
        let (status, _, _) = send(address, post("title=hi".to_owned())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    };
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the server answers");
}
