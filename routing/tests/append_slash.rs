//! Django's APPEND_SLASH.

mod common;

use common::{echo, run};
use http::Method;
use tack_routing::{Router, get, post};
use tack_test::TestClient;

fn router() -> Router {
    Router::new()
        .route("/articles/", get(echo))
        .route("/articles/{slug}/", get(echo))
        .route("/feed", get(echo))
        .route("/submit/", post(echo))
        .route("/a:b/", get(echo))
}

#[test]
fn missing_slashes_redirect_for_get_and_head() {
    // (method, path, status, Location)
    let cases = [
        ("GET", "/articles", 301, Some("/articles/")),
        ("HEAD", "/articles", 301, Some("/articles/")),
        (
            "GET",
            "/articles?page=2&q=a%20b",
            301,
            Some("/articles/?page=2&q=a%20b"),
        ),
        ("GET", "/articles/hello", 301, Some("/articles/hello/")),
        ("GET", "/articles/", 200, None),
        ("GET", "/feed", 200, None),
        ("GET", "/feed/", 404, None),
        ("GET", "/nothing", 404, None),
        ("GET", "/a:b", 301, Some("/a:b/")),
        ("POST", "/articles", 404, None),
        ("POST", "/submit", 404, None),
    ];
    let client = TestClient::new(router());
    for (method, path, status, location) in cases {
        let response = run(client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), path)
            .send());
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert_eq!(response.location(), location, "{method} {path}");
    }
}

#[test]
fn append_slash_can_be_turned_off() {
    let client = TestClient::new(router().append_slash(false));
    let response = run(client.get("/articles").send());
    assert_eq!(response.status().as_u16(), 404);
}

#[test]
fn redirects_lead_to_the_page() {
    let client = TestClient::new(router());
    let response = run(client.get("/articles/hello").follow_redirects().send());
    assert_eq!(response.text(), "/articles/{slug}/ slug=hello");
}

#[test]
fn a_backslash_cannot_make_the_redirect_leave_the_site() {
    // Browsers read `\` as `/`: a relative `\\evil.example/` would be
    // `//evil.example/`, another host.
    let client = TestClient::new(router());
    let response = run(client.get("/articles/\\\\evil.example").send());
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(
        response.location(),
        Some("/articles/%5C%5Cevil.example/"),
        "the absolute path, escaped"
    );
}

#[test]
fn under_a_mount_the_redirect_keeps_the_prefix() {
    let site = Router::new().nest_service("/blog", router());
    let client = TestClient::new(site);
    let response = run(client.get("/blog/articles/hello?x=1").send());
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(response.location(), Some("/blog/articles/hello/?x=1"));
    let followed = run(client.get("/blog/articles/hello").follow_redirects().send());
    assert_eq!(followed.text(), "/articles/{slug}/ slug=hello");
}
