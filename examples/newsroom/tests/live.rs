//! Live comments over a real websocket.

use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use newsroom::{Settings, app};
use tower::ServiceExt;

/// Serves the newsroom on a loopback port until the test ends.
async fn serve() -> (tack_test::db::TempSqlite, SocketAddr) {
    let file = tack_test::db::sqlite();
    let url = file.url();
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "NEWSROOM_SECRET_KEY" => Some("a-test-secret-key-that-is-long-enough-0123456789".into()),
        _ => None,
    })
    .unwrap();
    let router = app(&settings).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(router.clone().map_request(
                |r: http::Request<hyper::body::Incoming>| r.map(tack_http::Body::new),
            ));
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (file, addr)
}

#[tokio::test(flavor = "multi_thread")]
async fn article_socket_upgrades_and_refuses_foreign_origins() {
    let (_file, addr) = serve().await;
    let url = format!("ws://{addr}/ws/articles/tides-rise/");
    let outcome = tokio::task::spawn_blocking(move || {
        let (mut socket, response) = tungstenite::connect(&url).expect("the handshake succeeds");
        assert_eq!(response.status(), 101);
        socket.close(None).unwrap();

        let mut request =
            tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
        request
            .headers_mut()
            .insert("origin", "https://evil.example".parse().unwrap());
        match tungstenite::connect(request) {
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            other => panic!("a foreign origin must be refused, got {other:?}"),
        }
    })
    .await
    .unwrap();
    assert_eq!(outcome, 403);
}
