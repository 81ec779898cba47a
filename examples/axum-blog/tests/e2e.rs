//! The axum blog over a real socket, as a browser uses it
//! (`blog::scenario`): signing in through axum's handler, the tack admin
//! mounted with `nest_service` writing a post, the tack CRUD API reading it
//! back, signing out.

use std::net::SocketAddr;

use http::{Request, StatusCode};

const SECRET: &str = "axum-blog-test-secret-key-long-enough-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_an_editor_and_the_api_over_a_real_socket() {
    let (_dir, db) = blog::scenario::database();
    let app = axum_blog::app(db, SECRET).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    blog::scenario::visitor_editor_and_api(addr).await;
}

/// An extractor on a route without its layer says which layer to add.
#[tokio::test]
async fn an_extractor_without_its_layer_says_which_layer_to_add() {
    use tower::ServiceExt;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|_session: tack_sessions::Session| async { "never" }),
    );
    let response = app
        .oneshot(Request::get("/").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("tack_sessions::SessionLayer"), "{text}");
}
