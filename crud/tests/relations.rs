//! Relations: foreign keys as ids or nested objects, many-to-many as ids.

mod common;

use common::*;
use serde_json::{Value, json};
use tack_crud::Crud;
use tack_orm::AsyncDatabase;

async fn foreign_keys_nest_on_request(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db).nested(&["author"]));
    let one: Value = c
        .get(&format!("/api/articles/{}/", s.articles[0].id))
        .send()
        .await
        .json();
    assert_eq!(
        one["author"],
        json!({"id": s.ada.id, "display_name": "Ada", "bio": "Writes Rust"})
    );
    assert_eq!(one["tags"], json!([s.rust.id]));
    let page: Value = c
        .get("/api/articles/?ordering=id&page_size=3")
        .send()
        .await
        .json();
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["author"]["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Ada", "Bob"]);
    // Writing still takes the id.
    let r = c
        .patch(&format!("/api/articles/{}/", s.articles[0].id))
        .json(&json!({"author": s.bob.id}))
        .send()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>()["author"]["display_name"], "Bob");
}

async fn chosen_fields_only(db: tack_orm::Database) {
    let s = seed(&db);
    let crud = Crud::<Article>::new(AsyncDatabase::new(db.clone(), 1))
        .fields(&["id", "title", "tags"])
        .writable(&["title"])
        .permission(tack_crud::AllowAll);
    let c = client(crud);
    let url = format!("/{}/", s.articles[0].id);
    let one: Value = c.get(&url).send().await.json();
    assert_eq!(
        one,
        json!({"id": s.articles[0].id, "title": "Intro to Rust", "tags": [s.rust.id]})
    );
    // `tags` is readable, not writable: ignored. `body` is neither: refused.
    let r = c
        .patch(&url)
        .json(&json!({"title": "T", "tags": []}))
        .send()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>()["tags"], json!([s.rust.id]));
    let r = c.patch(&url).json(&json!({"body": "sneaky"})).send().await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("body"));
}

async fn comments_point_at_articles(db: tack_orm::Database) {
    let s = seed(&db);
    let comments = Crud::<Comment>::new(AsyncDatabase::new(db.clone(), 1))
        .read_only(&["created_at"])
        .filter_fields(&["article"])
        .permission(tack_crud::AllowAll);
    let c = client(comments);
    let r = c
        .post("/")
        .json(&json!({"article": s.articles[0].id, "author_name": "Reader", "body": "Nice"}))
        .send()
        .await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let page: Value = c
        .get(&format!("/?article={}", s.articles[0].id))
        .send()
        .await
        .json();
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["article"], s.articles[0].id);
}

on_both_databases!(
    foreign_keys_nest_on_request,
    chosen_fields_only,
    comments_point_at_articles
);
