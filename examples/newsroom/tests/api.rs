//! The REST API and its documentation (the newsroom's paths in ARCHITECTURE.md).

use http::StatusCode;
use serde_json::Value;
use tack_test::TestClient;

mod common;
use common::client;

async fn get_json(client: &TestClient<newsroom::App>, uri: &str) -> (StatusCode, Value) {
    let response = client
        .get(uri)
        .header("accept", "application/json")
        .send()
        .await;
    (response.status(), response.json())
}

#[tokio::test]
async fn articles_list_is_paginated_and_hides_drafts() {
    let (_file, client) = client();
    let (status, page) = get_json(&client, "/api/articles/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 5, "{page}");
    assert_eq!(page["previous"], Value::Null);
    let first = &page["results"][0];
    assert_eq!(first["slug"], "tides-rise", "newest first: {page}");
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "id",
        "title",
        "slug",
        "body",
        "author",
        "status",
        "published_at",
        "created_at",
        "tags",
    ] {
        assert!(keys.contains(&field), "{field} missing from {first}");
    }
    let (_, drafts) = get_json(&client, "/api/articles/?status=draft").await;
    assert_eq!(
        drafts["count"], 0,
        "anonymous readers see no drafts: {drafts}"
    );
}

#[tokio::test]
async fn filters_search_and_ordering() {
    let (_file, client) = client();
    let cases: &[(&str, &[&str])] = &[
        ("/api/articles/?tag=rust", &["rust-newsroom"]),
        (
            "/api/articles/?tag=city&ordering=title",
            &["city-birds", "bridge-reopens"],
        ),
        ("/api/articles/?search=BRIDGE", &["bridge-reopens"]),
        // Titles: "A field guide to city birds", "Rust reaches the newsroom", ...
        (
            "/api/articles/?ordering=title&page_size=2",
            &["city-birds", "rust-newsroom"],
        ),
        (
            "/api/articles/?ordering=-title&page_size=1&page=2",
            &["tides-rise"],
        ),
    ];
    for (uri, expected) in cases {
        let (status, page) = get_json(&client, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        let slugs: Vec<&str> = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, *expected, "{uri}");
    }
}

#[tokio::test]
async fn bad_queries_are_400_problems_naming_the_field() {
    let (_file, client) = client();
    for (uri, named) in [
        ("/api/articles/?colour=red", "colour"),
        ("/api/articles/?ordering=password", "password"),
        ("/api/articles/?author=abc", "author"),
    ] {
        let response = client.get(uri).send().await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(response.content_type(), Some("application/problem+json"));
        assert!(
            response.text().contains(named),
            "{uri}: {}",
            response.text()
        );
    }
}

#[tokio::test]
async fn retrieve_and_missing_rows() {
    let (_file, client) = client();
    let (_, page) = get_json(&client, "/api/articles/?tag=rust").await;
    let id = page["results"][0]["id"].as_i64().unwrap();
    let (status, article) = get_json(&client, &format!("/api/articles/{id}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(article["title"], "Rust reaches the newsroom");
    let (status, _) = get_json(&client, "/api/articles/999999/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, comments) = get_json(&client, "/api/comments/?ordering=created_at").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(comments["count"], 4);
    let comment = &comments["results"][0];
    for field in ["article", "author_name", "body", "created_at"] {
        assert!(
            comment.get(field).is_some(),
            "{field} missing from {comment}"
        );
    }
}

#[tokio::test]
async fn anonymous_writes_are_refused_and_change_nothing() {
    let (_file, client) = client();
    let body = serde_json::json!({"article": 1, "author_name": "x", "body": "y"});
    let forged = client
        .post("/api/comments/")
        .header("authorization", "Bearer not-a-token")
        .json(&body)
        .send()
        .await;
    assert_eq!(
        forged.status(),
        StatusCode::UNAUTHORIZED,
        "{}",
        forged.text()
    );
    // No token and no session: the CSRF check refuses before anything else.
    let anonymous = client.post("/api/comments/").json(&body).send().await;
    assert_eq!(
        anonymous.status(),
        StatusCode::FORBIDDEN,
        "{}",
        anonymous.text()
    );
    let (_, comments) = get_json(&client, "/api/comments/").await;
    assert_eq!(comments["count"], 4);
}

#[tokio::test]
async fn openapi_document_and_docs_page() {
    let (_file, client) = client();
    let (status, doc) = get_json(&client, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    for path in [
        "/api/articles/",
        "/api/articles/{id}/",
        "/api/comments/",
        "/api/comments/{id}/",
        "/api/auth/token/",
        "/api/auth/tokens/",
        "/api/auth/tokens/{id}/",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    let mint = &doc["paths"]["/api/auth/token/"]["post"];
    assert_eq!(
        mint["requestBody"]["content"]["application/json"]["schema"]["required"],
        serde_json::json!(["username", "password"])
    );
    assert!(mint["responses"].get("201").is_some(), "{mint}");
    assert!(
        doc["paths"]["/api/auth/tokens/{id}/"]
            .get("delete")
            .is_some()
    );
    for scheme in ["session", "csrf", "bearer"] {
        assert!(
            doc["components"]["securitySchemes"].get(scheme).is_some(),
            "{scheme}"
        );
    }
    let page = client.get("/api/docs/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("/api/articles/") && html.contains("/api/comments/"));
    assert!(
        !html.contains("<script"),
        "the docs page works offline, without scripts"
    );
}
