//! Live comments over a real websocket.

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn article_socket_upgrades_and_refuses_foreign_origins() {
    let (_file, app) = common::sqlite_app();
    let server = tack_test::serve(app);
    let addr = server.addr();
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
