//! The router nested inside an axum app with `nest_service`.

mod common;
#[path = "common/server.rs"]
mod server;

use http::Request;
use tack_http::Body;
use tack_routing::{OriginalUri, PathParams, RequestExt, Router, get};
use tokio::net::TcpListener;
use tower::ServiceExt;

async fn detail(request: Request<Body>) -> String {
    let id: u32 = request.path_param("id").unwrap();
    format!("tack saw {} id={id}", request.uri().path())
}

fn blog() -> Router {
    Router::new()
        .route("/posts/{id:int}/", get(detail))
        .name("post")
}

fn app() -> axum::Router {
    // axum takes the prefix off; handing the router axum's record of the
    // full URI keeps its append-slash redirects absolute and right.
    let blog = tower::ServiceBuilder::new()
        .map_request(|mut request: Request<axum::body::Body>| {
            if let Some(axum::extract::OriginalUri(uri)) = request.extensions().get().cloned() {
                request.extensions_mut().insert(OriginalUri(uri));
            }
            request
        })
        .service(blog());
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "axum ok" }))
        .nest_service("/blog", blog)
}

#[tokio::test]
async fn axum_nests_the_router_in_process() {
    let cases = [
        ("/health", 200, "axum ok"),
        ("/blog/posts/7/", 200, "tack saw /posts/7/ id=7"),
        ("/blog/posts/x/", 404, "no route matches /posts/x/"),
        ("/blog/posts/7", 301, ""),
        ("/blog/posts/7?x=1", 301, ""),
        ("/elsewhere", 404, ""),
    ];
    for (path, status, contains) in cases {
        let request = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        if status == 301 {
            // The whole path, prefix included.
            let location = response.headers()["location"].to_str().unwrap();
            assert!(location.starts_with("/blog/posts/7/"), "{location}");
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(contains), "{path}: {text}");
    }
}

#[tokio::test]
async fn axum_serves_the_router_on_a_socket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await });
    let client = server::client();
    let response = server::send(&client, addr, "GET", "/blog/posts/42/", &[], "").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(&response.body()[..], b"tack saw /posts/42/ id=42");
    let response = server::send(&client, addr, "GET", "/health", &[], "").await;
    assert_eq!(&response.body()[..], b"axum ok");
}

#[tokio::test]
async fn axum_handlers_read_path_params_from_a_tack_layer_chain() {
    // PathParams travel in extensions: an axum handler mounted as a route
    // service reads them with `Extension`.
    async fn axum_handler(axum::Extension(params): axum::Extension<PathParams>) -> String {
        format!("axum handler saw id={}", params.get("id").unwrap())
    }
    let handler = axum::Router::new().fallback(axum_handler);
    let router = Router::new().route_service("/items/{id:int}", handler);
    let request = Request::builder()
        .uri("/items/5")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(axum::body::Body::new(response.into_body()), usize::MAX)
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"axum handler saw id=5");
}

/// The request helpers read an axum request, on axum's own body type.
#[tokio::test]
async fn the_request_helpers_work_on_axums_body() {
    #[derive(serde::Deserialize)]
    struct Comment {
        body: String,
    }
    #[derive(serde::Deserialize)]
    struct Page {
        page: u32,
    }
    async fn handler(mut request: Request<axum::body::Body>) -> (http::StatusCode, String) {
        let page: Page = match request.query() {
            Ok(page) => page,
            Err(error) => return (error.status(), error.to_string()),
        };
        match request.json::<Comment>().await {
            Ok(comment) => (
                http::StatusCode::OK,
                format!("{} on page {}", comment.body, page.page),
            ),
            Err(error) => (error.status(), error.to_string()),
        }
    }
    let app = axum::Router::new().route("/comments", axum::routing::post(handler));
    let send = |content_type: &str, body: &str| {
        Request::post("/comments?page=2")
            .header("content-type", content_type)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    let response = app
        .clone()
        .oneshot(send("application/json", r#"{"body": "hello"}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&text[..], b"hello on page 2");
    let refused = app.oneshot(send("text/plain", "hello")).await.unwrap();
    assert_eq!(refused.status(), 415);
}
