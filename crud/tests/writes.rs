//! Create, update (PUT and PATCH) and delete: statuses, per-field errors,
//! no mass assignment, and nothing written on any error.

mod common;

use common::*;
use serde_json::{Value, json};
use tack_orm::ModelExt;

fn new_article(author: i64) -> Value {
    json!({"title": "Fresh", "slug": "fresh", "body": "", "author": author})
}

async fn create_returns_the_object(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db));
    let mut body = new_article(s.ada.id);
    body["tags"] = json!([s.rust.id, s.food.id]);
    body["status"] = json!("published");
    body["published_at"] = json!("2024-02-01T08:00:00Z");
    let r = c.post("/api/articles/").json(&body).send().await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let created: Value = r.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(r.location(), Some(format!("/api/articles/{id}/").as_str()));
    assert_eq!(created["slug"], "fresh");
    assert_eq!(created["status"], "published");
    assert_eq!(created["author"], s.ada.id);
    assert_eq!(created["tags"], json!([s.rust.id, s.food.id]));
    let fetched: Value = c.get(&format!("/api/articles/{id}/")).send().await.json();
    assert_eq!(fetched, created);
    let stored = Article::find(&db, id).unwrap();
    assert_eq!(stored.title, "Fresh");
    assert_eq!(stored.tags().all(&db).unwrap().len(), 2);
}

async fn invalid_bodies_write_nothing(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db));
    let good = new_article(s.ada.id);
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    // (body, status, field named in `errors`)
    let cases: Vec<(Value, u16, &str)> = vec![
        (with("title", json!("x".repeat(201))), 422, "title"),
        (with("title", json!("")), 422, "title"),
        (without("title"), 422, "title"),
        (with("title", Value::Null), 422, "title"),
        (with("status", json!("archived")), 422, "status"),
        (with("author", json!("ada")), 422, "author"),
        (with("author", json!(9999)), 422, "author"),
        (with("tags", json!([9999])), 422, "tags"),
        (with("tags", json!("rust")), 422, "tags"),
        (with("published_at", json!("soon")), 422, "published_at"),
        // The model's clean(): published needs a date.
        (with("status", json!("published")), 422, "published_at"),
        (with("slug", json!("cooking")), 409, "slug"),
        // Unique together with the author: Ada already wrote this title.
        (with("title", json!("Intro to Rust")), 409, "title"),
        (with("colour", json!("red")), 400, "colour"),
    ];
    for (body, status, field) in cases {
        let r = c.post("/api/articles/").json(&body).send().await;
        assert_eq!(r.status(), status, "{body}: {}", r.text());
        assert_eq!(r.content_type(), Some("application/problem+json"));
        let problem: Value = r.json();
        assert!(problem["errors"][field].is_array(), "{body}: {problem}");
        assert_eq!(count_articles(&db), 5, "{body} wrote a row");
    }
}

async fn malformed_requests_are_refused(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    let cases = [
        (Some("application/json"), "{\"title\": ", 400),
        (Some("application/json"), "[1, 2]", 400),
        (Some("text/plain"), "{}", 415),
        (None, "{}", 415),
    ];
    for (content_type, body, status) in cases {
        let mut request = c.post("/api/articles/").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let r = request.send().await;
        assert_eq!(r.status(), status, "{content_type:?} {body}");
        assert_eq!(r.content_type(), Some("application/problem+json"));
    }
    let big = json!({"title": "x".repeat(2048)});
    let r = client(articles(&db).body_limit(1024))
        .post("/api/articles/")
        .json(&big)
        .send()
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(count_articles(&db), 5);
}

async fn read_only_fields_are_never_written(db: tack_orm::Database) {
    let s = seed(&db);
    let target = &s.articles[0];
    let c = client(articles(&db).read_only(&["author", "slug"]));
    let r = c
        .patch(&format!("/api/articles/{}/", target.id))
        .json(&json!({"id": 999, "author": s.bob.id, "slug": "hijack", "created_at": "2000-01-01T00:00:00Z", "title": "Renamed"}))
        .send()
        .await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let stored = Article::find(&db, target.id).unwrap();
    assert_eq!(stored.title, "Renamed");
    assert_eq!(stored.slug, target.slug);
    assert_eq!(stored.author.id(), s.ada.id);
    assert_eq!(stored.created_at, target.created_at);
    assert!(Article::find(&db, 999).is_err());
}

async fn put_replaces_and_patch_changes_some(db: tack_orm::Database) {
    let s = seed(&db);
    let target = &s.articles[0];
    let url = format!("/api/articles/{}/", target.id);
    let c = client(articles(&db));
    // PUT needs every required field.
    let r = c
        .put(&url)
        .json(&json!({"title": "Only title"}))
        .send()
        .await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json();
    assert!(problem["errors"]["slug"].is_array(), "{problem}");
    assert_eq!(Article::find(&db, target.id).unwrap().title, target.title);
    let r = c
        .put(&url)
        .json(&json!({"title": "Replaced", "slug": "replaced", "body": "b", "author": s.bob.id, "status": "draft", "published_at": null, "tags": [s.food.id]}))
        .send()
        .await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let body: Value = r.json();
    assert_eq!(body["tags"], json!([s.food.id]));
    let stored = Article::find(&db, target.id).unwrap();
    assert_eq!(
        (stored.title.as_str(), stored.author.id()),
        ("Replaced", s.bob.id)
    );
    // PATCH changes only what it names; tags stay.
    let r = c.patch(&url).json(&json!({"body": "patched"})).send().await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json();
    assert_eq!(
        (body["title"].as_str(), body["body"].as_str()),
        (Some("Replaced"), Some("patched"))
    );
    assert_eq!(body["tags"], json!([s.food.id]));
    // A failing PATCH changes nothing, tags included.
    let r = c
        .patch(&url)
        .json(&json!({"tags": [s.rust.id], "slug": "cooking"}))
        .send()
        .await;
    assert_eq!(r.status(), 409);
    let fetched: Value = c.get(&url).send().await.json();
    assert_eq!(fetched["tags"], json!([s.food.id]));
    assert_eq!(fetched["slug"], "replaced");
    // Keeping its own unique value is no conflict.
    let r = c
        .patch(&url)
        .json(&json!({"slug": "replaced"}))
        .send()
        .await;
    assert_eq!(r.status(), 200, "{}", r.text());
}

async fn delete_and_missing_rows(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db));
    let url = format!("/api/articles/{}/", s.articles[4].id);
    let r = c.delete(&url).send().await;
    assert_eq!(r.status(), 204);
    assert!(r.bytes().is_empty());
    assert_eq!(count_articles(&db), 4);
    for (method, path) in [
        ("GET", url.as_str()),
        ("DELETE", url.as_str()),
        ("PATCH", url.as_str()),
        ("GET", "/api/articles/abc/"),
        ("GET", "/api/articles/1/extra/"),
    ] {
        let r = c
            .request(method.parse().unwrap(), path)
            .json(&json!({}))
            .send()
            .await;
        assert_eq!(r.status(), 404, "{method} {path}");
        assert_eq!(r.content_type(), Some("application/problem+json"));
    }
}

async fn protected_rows_answer_409(db: tack_orm::Database) {
    let s = seed(&db);
    let mut invoice = Invoice {
        id: 0,
        author: (&s.ada).into(),
        amount: 5,
    };
    invoice.save(&db).unwrap();
    let authors = tack_crud::Crud::<Author>::new(tack_orm::AsyncDatabase::new(db.clone(), 1))
        .permission(tack_crud::AllowAll);
    // Ada's articles cascade? No: articles refer to authors with the default rule.
    let r = client(authors)
        .delete(&format!("/{}/", s.ada.id))
        .send()
        .await;
    assert_eq!(r.status(), 409, "{}", r.text());
    assert!(Author::find(&db, s.ada.id).is_ok());
}

async fn wrong_methods_answer_405_with_allow(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    let cases = [
        ("PUT", "/api/articles/", "GET, HEAD, POST"),
        ("DELETE", "/api/articles/", "GET, HEAD, POST"),
        ("POST", "/api/articles/1/", "GET, HEAD, PUT, PATCH, DELETE"),
    ];
    for (method, path, allow) in cases {
        let r = c.request(method.parse().unwrap(), path).send().await;
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some(allow));
    }
    let r = c.head("/api/articles/").send().await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().is_empty());
}

on_both_databases!(
    create_returns_the_object,
    invalid_bodies_write_nothing,
    malformed_requests_are_refused,
    read_only_fields_are_never_written,
    put_replaces_and_patch_changes_some,
    delete_and_missing_rows,
    protected_rows_answer_409,
    wrong_methods_answer_405_with_allow,
);
