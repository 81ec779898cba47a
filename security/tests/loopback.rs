//! The CSRF layer behind a real hyper server on a loopback socket.

mod common;

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use tack_security::CsrfLayer;
use tower::Layer;

async fn send(
    address: std::net::SocketAddr,
    request: Request<Bytes>,
) -> (StatusCode, Option<String>, String) {
    let response = tack_test::send(address, request).await;
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (
        status,
        cookie,
        String::from_utf8(response.into_body().to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn a_form_post_over_tcp_needs_the_token() {
    let service = CsrfLayer::new()
        .with_secure_cookie(false)
        .layer(tower::service_fn(common::app));
    let server = tack_test::serve(service);
    let address = server.addr();

    let run = async {
        let page = Request::get("/form")
            .header("host", "localhost")
            .body(Bytes::new())
            .unwrap();
        let (_, cookie, token) = send(address, page).await;
        let cookie = cookie.expect("the form page sets the CSRF cookie");
        let form = format!("csrfmiddlewaretoken={token}&title=hi");
        let post = |body: String| {
            Request::post("/submit")
                .header("host", "localhost")
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::from(body))
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
