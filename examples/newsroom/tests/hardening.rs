//! What an attacker and a bad day do to the newsroom: each test is named by
//! what it tried, and failed before the fix it guards.

mod common;

use common::{client, create_user, sqlite_app, token};
use http::StatusCode;
use serde_json::{Value, json};
use tack_test::TestClient;

#[tokio::test]
async fn append_slash_redirects_are_absolute_and_escaped() {
    let (_file, client) = client();
    // No route of the newsroom takes a `\\` (tack-routing's own tests
    // show one escaped); a path that is not a slug is a plain 404.
    let response = client.get("/articles/\\\\evil.example").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.location(), None);
    let plain = client.get("/articles/tides-rise?x=1").send().await;
    assert_eq!(plain.location(), Some("/articles/tides-rise/?x=1"));
}

#[tokio::test]
async fn a_huge_page_number_is_a_404_not_a_500() {
    let (_file, client) = client();
    for uri in ["/?page=18446744073709551615", "/?page=9223372036854775807"] {
        let page = client.get(uri).send().await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let api = client
        .get("/api/articles/?page=18446744073709551615")
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND, "{}", api.text());
}

#[tokio::test]
async fn a_search_of_a_thousand_words_is_a_400_naming_the_limit() {
    let (_file, client) = client();
    let words = vec!["tide"; 1_000].join("+");
    let api = client
        .get(&format!("/api/articles/?search={words}"))
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::BAD_REQUEST, "{}", api.text());
    assert!(api.text().contains("at most 32 words"), "{}", api.text());
    // Within the limit, the search runs.
    let words = vec!["tide"; 32].join("+");
    let fine = client
        .get(&format!("/api/articles/?search={words}"))
        .send()
        .await;
    assert_eq!(fine.status(), StatusCode::OK, "{}", fine.text());
}

#[tokio::test]
async fn slugs_are_validated_like_djangos_slug_field() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "editor", true);
    let client = TestClient::new(app);
    let editor = token(&client, "editor").await;
    for slug in ["../../x", "a b", "a/b", "ünï", ""] {
        let response = client
            .patch("/api/articles/1/")
            .header("authorization", &format!("Bearer {editor}"))
            .json(&json!({ "slug": slug }))
            .send()
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{slug:?}: {}",
            response.text()
        );
        let problem: Value = response.json();
        assert!(problem["errors"].get("slug").is_some(), "{problem}");
    }
    // Nothing changed: the front page still renders every article.
    let home = client.get("/").send().await;
    assert_eq!(home.status(), StatusCode::OK);
}

/// Sends `request` as it is over a real socket; answers the status line.
fn raw_status(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn two_host_headers_and_foreign_absolute_targets_are_400() {
    let (_file, app) = sqlite_app();
    let server = tack_test::serve(app);
    let addr = server.addr();
    let status = |request: &str| raw_status(addr, request);
    assert_eq!(
        status("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        status(
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        ),
        "HTTP/1.1 400 Bad Request",
        "two Host headers"
    );
    assert_eq!(
        status("GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 400 Bad Request",
        "an absolute-form target naming another host"
    );
    assert_eq!(
        status("GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
}
