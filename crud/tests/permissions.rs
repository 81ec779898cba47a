//! Permissions per action (checked before any write) and the query-set
//! scope (rows outside it are 404s).

mod common;

use common::*;
use http::request::Parts;
use serde_json::{Value, json};
use tack_crud::{Action, Crud};
use tack_orm::AsyncDatabase;

fn user(parts: &Parts) -> Option<i64> {
    parts.headers.get("x-user")?.to_str().ok()?.parse().ok()
}

async fn default_is_read_only(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(Crud::<Article>::new(AsyncDatabase::new(db.clone(), 1)));
    assert_eq!(c.get("/").send().await.status(), 200);
    let one = format!("/{}/", s.articles[0].id);
    assert_eq!(c.get(&one).send().await.status(), 200);
    let writes = [
        ("POST", "/".to_owned()),
        ("PUT", one.clone()),
        ("PATCH", one.clone()),
        ("DELETE", one.clone()),
    ];
    for (method, path) in writes {
        let r = c
            .request(method.parse().unwrap(), &path)
            .json(&json!({"title": "x"}))
            .send()
            .await;
        assert_eq!(r.status(), 403, "{method} {path}");
        assert_eq!(r.content_type(), Some("application/problem+json"));
    }
    assert_eq!(count_articles(&db), 5);
    assert_eq!(
        tack_orm::ModelExt::find(&db, s.articles[0].id)
            .map(|a: Article| a.title)
            .unwrap(),
        s.articles[0].title
    );
}

async fn closures_decide_per_action(db: tack_orm::Database) {
    let s = seed(&db);
    let crud = articles(&db).permission(|action: Action, parts: &Parts| match action {
        Action::List | Action::Retrieve => true,
        Action::Create | Action::Update => user(parts).is_some(),
        Action::Delete => false,
        _ => false,
    });
    let c = client(crud);
    let one = format!("/api/articles/{}/", s.articles[0].id);
    let r = c.patch(&one).json(&json!({"title": "x"})).send().await;
    assert_eq!(r.status(), 403);
    let r = c
        .patch(&one)
        .header("x-user", "1")
        .json(&json!({"title": "x"}))
        .send()
        .await;
    assert_eq!(r.status(), 200);
    let r = c.delete(&one).header("x-user", "1").send().await;
    assert_eq!(r.status(), 403);
    // A malformed body from a forbidden client is still a 403: the check comes first.
    let r = c.post("/api/articles/").body("{oops").send().await;
    assert_eq!(r.status(), 403);
}

async fn scope_hides_other_rows(db: tack_orm::Database) {
    let s = seed(&db);
    let crud = articles(&db).page_size(10, 10).scope(|parts, qs| {
        qs.filter_by_name("author", user(parts).unwrap_or(0))
            .expect("author is a field")
    });
    let c = client(crud);
    let ada = s.ada.id.to_string();
    let page: Value = c
        .get("/api/articles/")
        .header("x-user", &ada)
        .send()
        .await
        .json();
    assert_eq!(page["count"], 3);
    let bobs = format!("/api/articles/{}/", s.articles[2].id);
    for method in ["GET", "PATCH", "DELETE"] {
        let r = c
            .request(method.parse().unwrap(), &bobs)
            .header("x-user", &ada)
            .json(&json!({"title": "mine now"}))
            .send()
            .await;
        assert_eq!(r.status(), 404, "{method}");
    }
    assert_eq!(count_articles(&db), 5);
    let r = c
        .get(&bobs)
        .header("x-user", &s.bob.id.to_string())
        .send()
        .await;
    assert_eq!(r.status(), 200);
}

on_both_databases!(
    default_is_read_only,
    closures_decide_per_action,
    scope_hides_other_rows
);
