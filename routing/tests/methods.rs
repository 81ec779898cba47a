//! Method dispatch, 405 with Allow, HEAD and OPTIONS.

mod common;

use common::run;
use http::{Method, Request, StatusCode};
use tack_http::Body;
use tack_routing::{Router, any, delete, get, on, patch, post, put};
use tack_test::TestClient;

async fn named(request: Request<Body>) -> String {
    format!("handled {}", request.method())
}

fn router() -> Router {
    Router::new()
        .route("/articles/", get(named).post(named))
        .route(
            "/articles/{id:int}/",
            get(named).put(named).patch(named).delete(named),
        )
        .route("/only-post/", post(named))
        .route("/only-put/", put(named))
        .route("/only-patch/", patch(named))
        .route("/only-delete/", delete(named))
        .route("/anything/", any(named))
        .route("/custom/", on(Method::from_bytes(b"PURGE").unwrap(), named))
        .route("/get-or-any/", get(named).any(named))
}

#[test]
fn methods_dispatch_or_answer_405_with_allow() {
    // (method, path, status, body or Allow header)
    let cases = [
        ("GET", "/articles/", 200, "handled GET"),
        ("POST", "/articles/", 200, "handled POST"),
        ("PUT", "/articles/", 405, "GET, POST, HEAD, OPTIONS"),
        ("DELETE", "/articles/", 405, "GET, POST, HEAD, OPTIONS"),
        ("PUT", "/articles/1/", 200, "handled PUT"),
        ("PATCH", "/articles/1/", 200, "handled PATCH"),
        ("DELETE", "/articles/1/", 200, "handled DELETE"),
        (
            "POST",
            "/articles/1/",
            405,
            "GET, PUT, PATCH, DELETE, HEAD, OPTIONS",
        ),
        ("POST", "/only-post/", 200, "handled POST"),
        ("GET", "/only-post/", 405, "POST, OPTIONS"),
        ("PUT", "/only-put/", 200, "handled PUT"),
        ("PATCH", "/only-patch/", 200, "handled PATCH"),
        ("DELETE", "/only-delete/", 200, "handled DELETE"),
        ("HEAD", "/only-delete/", 405, "DELETE, OPTIONS"),
        ("GET", "/anything/", 200, "handled GET"),
        ("TRACE", "/anything/", 200, "handled TRACE"),
        ("PURGE", "/custom/", 200, "handled PURGE"),
        ("GET", "/custom/", 405, "PURGE, OPTIONS"),
        ("DELETE", "/get-or-any/", 200, "handled DELETE"),
    ];
    let client = TestClient::new(router());
    for (method, path, status, expected) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = run(client.request(method.clone(), path).send());
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        if status == 405 {
            assert_eq!(response.header("allow"), Some(expected), "{method} {path}");
        } else {
            assert_eq!(response.text(), expected, "{method} {path}");
        }
    }
}

#[test]
fn head_uses_get_without_a_body() {
    let client = TestClient::new(router());
    let response = run(client.head("/articles/").send());
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_type(), Some("text/plain; charset=utf-8"));
    assert!(response.bytes().is_empty());
}

#[test]
fn head_has_its_own_handler_when_set() {
    let router = Router::new().route("/x", get(named).head(named));
    let response = run(TestClient::new(router).head("/x").send());
    assert_eq!(response.text(), "handled HEAD");
}

#[test]
fn options_answers_allow() {
    let client = TestClient::new(router());
    let response = run(client.options("/articles/1/").send());
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.header("allow"),
        Some("GET, PUT, PATCH, DELETE, HEAD, OPTIONS")
    );
    let custom = Router::new().route("/x", get(named).options(named));
    let response = run(TestClient::new(custom).options("/x").send());
    assert_eq!(response.text(), "handled OPTIONS");
}

#[test]
#[should_panic(expected = "the method GET has two handlers")]
fn a_method_twice_panics() {
    let _ = get(named).get(named);
}
