//! Listing: the page shape, page sizes, links, and bad page numbers.

mod common;

use common::*;
use serde_json::Value;

async fn pages_have_drf_shape(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db));
    let r = c.get("/api/articles/").send().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_type(), Some("application/json"));
    let page: Value = r.json();
    assert_eq!(page["count"], 5);
    assert_eq!(page["previous"], Value::Null);
    assert_eq!(page["next"], "/api/articles/?page=2");
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let first = &results[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
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
        assert!(keys.contains(&key), "{key} missing from {first}");
    }
    let page: Value = c.get("/api/articles/?status=published").send().await.json();
    let g = &page["results"][0];
    assert_eq!(g["slug"], "gardening");
    assert_eq!(g["author"], s.bob.id);
    assert_eq!(g["status"], "published");
    assert_eq!(g["published_at"], "2024-01-04T12:00:00Z");
    assert_eq!(g["tags"], serde_json::json!([]));
    let page: Value = c.get("/api/articles/?ordering=id").send().await.json();
    assert_eq!(page["results"][0]["tags"], serde_json::json!([s.rust.id]));
}

async fn links_walk_every_page(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    let mut url = "/api/articles/?status=published".to_owned();
    let mut seen = Vec::new();
    let mut previous = Value::Null;
    loop {
        let page: Value = c.get(&url).send().await.json();
        assert_eq!(page["count"], 4);
        assert_eq!(page["previous"], previous);
        for a in page["results"].as_array().unwrap() {
            seen.push(a["slug"].as_str().unwrap().to_owned());
        }
        previous = Value::String(url.clone());
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    // Page 2's previous link drops `page`: compare loosely by content.
    assert_eq!(
        seen,
        ["gardening", "cooking", "rust-advanced", "rust-intro"]
    );
}

async fn page_size_is_capped(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    // Above the maximum is refused, as the OpenAPI document's `maximum` says.
    let over = c.get("/api/articles/?page_size=4").send().await;
    assert_eq!(over.status(), 400);
    assert!(over.text().contains("at most 3"), "{}", over.text());
    let cases = [("1", 1), ("3", 3)];
    for (size, expected) in cases {
        let page: Value = c
            .get(&format!("/api/articles/?page_size={size}"))
            .send()
            .await
            .json();
        assert_eq!(
            page["results"].as_array().unwrap().len(),
            expected,
            "page_size={size}"
        );
    }
}

async fn bad_pages_are_refused(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    let cases = [
        ("/api/articles/?page=9", 404, "page 9"),
        ("/api/articles/?page=0", 400, "page"),
        ("/api/articles/?page=abc", 400, "abc"),
        ("/api/articles/?page_size=-2", 400, "page_size"),
    ];
    for (url, status, needle) in cases {
        let r = c.get(url).send().await;
        assert_eq!(r.status(), status, "{url}");
        assert_eq!(r.content_type(), Some("application/problem+json"), "{url}");
        assert!(r.text().contains(needle), "{url}: {}", r.text());
    }
}

async fn empty_list_is_one_empty_page(db: tack_orm::Database) {
    let c = client(articles(&db));
    let page: Value = c.get("/api/articles/").send().await.json();
    assert_eq!(
        page,
        serde_json::json!({"count": 0, "next": null, "previous": null, "results": []})
    );
}

on_both_databases!(
    pages_have_drf_shape,
    links_walk_every_page,
    page_size_is_capped,
    bad_pages_are_refused,
    empty_list_is_one_empty_page,
);
