//! The router served by hyper on a real loopback socket.

mod common;
#[path = "common/server.rs"]
mod server;

use http::{Request, StatusCode};
use serde::Deserialize;
use tack_http::{Body, Json};
use tack_routing::{Error, RequestExt, Router, get, post};

#[derive(Deserialize, serde::Serialize)]
struct Comment {
    text: String,
}

async fn article(request: Request<Body>) -> Result<String, Error> {
    let slug: String = request.path_param("slug")?;
    let url = request
        .urls()
        .unwrap()
        .reverse("article", &[("slug", &slug)])?;
    Ok(format!("article {slug} at {url}"))
}

async fn comment(mut request: Request<Body>) -> Result<Json<Comment>, Error> {
    Ok(Json(request.json().await?))
}

async fn boom(_: Request<Body>) -> &'static str {
    panic!("boom")
}

fn app() -> Router {
    Router::new()
        .route("/articles/{slug:slug}/", get(article))
        .name("article")
        .route("/comments/", post(comment))
        .route("/boom", get(boom))
        .body_limit(1024)
}

/// (method, path, headers, body, status, text the body contains)
type Case<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    u16,
    &'a str,
);

#[tokio::test]
async fn hyper_serves_the_router() {
    let server = tack_test::serve(app());
    let addr = server.addr();
    let client = server::client();
    let cases: &[Case<'_>] = &[
        (
            "GET",
            "/articles/hello/",
            &[],
            "",
            200,
            "article hello at /articles/hello/",
        ),
        ("GET", "/articles/hello", &[], "", 301, ""),
        (
            "GET",
            "/articles/not%20a%20slug/",
            &[("accept", "application/json")],
            "",
            404,
            "\"status\":404",
        ),
        (
            "POST",
            "/comments/",
            &[("content-type", "application/json")],
            "{\"text\":\"hi\"}",
            200,
            "{\"text\":\"hi\"}",
        ),
        (
            "POST",
            "/comments/",
            &[("content-type", "application/json")],
            "{\"text\":",
            400,
            "the JSON body is invalid",
        ),
        (
            "POST",
            "/comments/",
            &[("content-type", "application/json")],
            &"x".repeat(2000),
            413,
            "limit of 1024 bytes",
        ),
        (
            "DELETE",
            "/comments/",
            &[],
            "",
            405,
            "DELETE is not allowed",
        ),
        ("GET", "/boom", &[], "", 500, "500 Internal Server Error"),
        // After the panic the same server keeps answering.
        ("GET", "/articles/again/", &[], "", 200, "article again"),
        ("HEAD", "/articles/hello/", &[], "", 200, ""),
    ];
    for (method, path, headers, body, status, contains) in cases {
        let response = server::send(&client, addr, method, path, headers, body).await;
        assert_eq!(response.status().as_u16(), *status, "{method} {path}");
        let text = String::from_utf8_lossy(response.body());
        assert!(text.contains(contains), "{method} {path}: {text}");
        if *method == "HEAD" {
            assert!(text.is_empty());
        }
    }
    let response = server::send(&client, addr, "GET", "/articles/hello", &[], "").await;
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(response.headers()["location"], "/articles/hello/");
}
