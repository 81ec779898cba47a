//! The composition an application copies: two controllers and the API
//! docs in one router, the way the newsroom serves `/api/`.

mod common;

use common::*;
use http::request::Parts;
use serde_json::{Value, json};
use tack_apidoc::{ApiDoc, DocsService, SecurityScheme};
use tack_crud::{Action, Crud};
use tack_orm::AsyncDatabase;
use tack_routing::Router;

/// Writes need a signed-in user; here a header stands in for the auth layer.
fn signed_in(action: Action, parts: &Parts) -> bool {
    action.is_read() || parts.headers.contains_key("x-user")
}

fn api(db: AsyncDatabase) -> Router {
    let articles = Crud::<Article>::new(db.clone())
        .read_only(&["created_at"])
        .filter_fields(&["status", "author", "tags"])
        .filter_as("tag", "tags__name", &["exact"])
        .search_fields(&["title", "body"])
        .ordering_fields(&["published_at", "created_at", "title"])
        .default_ordering("-published_at")
        .base_path("/api/articles/")
        .permission(signed_in)
        .before_create(|_, _, article: &mut Article| {
            article.created_at = chrono::Utc::now();
            Ok(())
        });
    let comments = Crud::<Comment>::new(db)
        .read_only(&["created_at"])
        .filter_fields(&["article"])
        .ordering_fields(&["created_at"])
        .default_ordering("created_at")
        .base_path("/api/comments/")
        .permission(signed_in);
    let mut doc =
        ApiDoc::new("Newsroom API", "1.0").with_security_scheme("bearer", SecurityScheme::bearer());
    let secured = |action: Action, op: tack_apidoc::Operation| {
        if action.is_read() {
            op
        } else {
            op.security(["bearer"])
        }
    };
    articles
        .document_with(&mut doc, "/api/articles", secured)
        .unwrap();
    comments
        .document_with(&mut doc, "/api/comments", secured)
        .unwrap();
    let docs = DocsService::new(doc.build().unwrap())
        .with_json_path("/api/openapi.json")
        .with_page_path("/api/docs/");
    Router::new()
        .nest_service("/api/articles", articles)
        .nest_service("/api/comments", comments)
        .route_service("/api/openapi.json", docs.clone())
        .route_service("/api/docs/", docs)
}

async fn two_apis_and_their_docs(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(api(AsyncDatabase::new(db.clone(), 2)));
    let page: Value = c
        .get("/api/articles/?tag=rust&ordering=title")
        .send()
        .await
        .json();
    assert_eq!(page["count"], 2);
    assert_eq!(page["results"][0]["slug"], "rust-advanced");
    let one = format!("/api/articles/{}/", s.articles[0].id);
    assert_eq!(c.get(&one).send().await.status(), 200);
    let body = json!({"article": s.articles[0].id, "author_name": "Reader", "body": "Hi"});
    assert_eq!(
        c.post("/api/comments/").json(&body).send().await.status(),
        403
    );
    let r = c
        .post("/api/comments/")
        .header("x-user", "1")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let r = c
        .post("/api/articles/")
        .header("x-user", "1")
        .json(&json!({"title": "T", "slug": "t", "author": s.ada.id}))
        .send()
        .await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let created: Value = r.json();
    assert_ne!(created["created_at"], "2024-01-01T12:00:00Z");
    let comments: Value = c
        .get(&format!("/api/comments/?article={}", s.articles[0].id))
        .send()
        .await
        .json();
    assert_eq!(comments["count"], 1);
    let openapi: Value = c.get("/api/openapi.json").send().await.json();
    assert!(openapi["paths"]["/api/comments/{id}/"]["patch"].is_object());
    let page = c.get("/api/docs/").send().await;
    assert_eq!(page.status(), 200);
    assert!(page.text().contains("Create a comment"));
}

async fn lists_cost_a_fixed_number_of_queries(db: tack_orm::Database) {
    let s = seed(&db);
    let crud = articles(&db).nested(&["author"]).page_size(3, 3);
    let c = client(crud);
    // count + page + tags + authors, whatever the page holds.
    for url in ["/api/articles/?page_size=1", "/api/articles/?page_size=3"] {
        let before = db.queries_run();
        assert_eq!(c.get(url).send().await.status(), 200);
        assert_eq!(db.queries_run() - before, 4, "{url}");
    }
    let before = db.queries_run();
    let url = format!("/api/articles/{}/", s.articles[0].id);
    assert_eq!(c.get(&url).send().await.status(), 200);
    assert_eq!(
        db.queries_run() - before,
        3,
        "retrieve: row + tags + author"
    );
}

on_both_databases!(
    two_apis_and_their_docs,
    lists_cost_a_fixed_number_of_queries
);
