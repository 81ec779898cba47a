//! Hooks before and after create, update and delete.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value, json};
use tack_http::Problem;
use tack_orm::{ForeignKey, ModelExt};

async fn before_create_sets_the_author_from_the_request(db: tack_orm::Database) {
    let s = seed(&db);
    let crud =
        articles(&db)
            .read_only(&["author"])
            .before_create(|parts, conn, article: &mut Article| {
                let id: i64 = parts
                    .headers
                    .get("x-author")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .ok_or_else(|| Problem::forbidden("sign in to write"))?;
                // Hooks run inside the transaction and may query.
                let author =
                    Author::find(conn, id).map_err(|_| Problem::forbidden("no such author"))?;
                article.author = ForeignKey::from(&author);
                Ok(())
            });
    let c = client(crud);
    let body = json!({"title": "By hook", "slug": "by-hook", "author": s.ada.id});
    let r = c.post("/api/articles/").json(&body).send().await;
    assert_eq!(r.status(), 403);
    assert_eq!(count_articles(&db), 5);
    let r = c
        .post("/api/articles/")
        .header("x-author", &s.bob.id.to_string())
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let created: Value = r.json();
    assert_eq!(created["author"], s.bob.id);
}

async fn after_hooks_see_committed_objects(db: tack_orm::Database) {
    let s = seed(&db);
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = |kind: &'static str| {
        let events = events.clone();
        move |_: &http::request::Parts, a: &Article| {
            events.lock().unwrap().push(format!("{kind} {}", a.slug));
        }
    };
    let crud = articles(&db)
        .after_create(log("created"))
        .after_update(log("updated"))
        .after_delete(log("deleted"))
        .before_update(|_, _, article: &mut Article| {
            article.title = article.title.to_uppercase();
            Ok(())
        })
        .before_delete(|_, _, article: &mut Article| {
            if article.status == Status::Published {
                Err(Problem::new(http::StatusCode::CONFLICT)
                    .with_detail("unpublish it first")
                    .into())
            } else {
                Ok(())
            }
        });
    let c = client(crud);
    let body = json!({"title": "Hooked", "slug": "hooked", "author": s.ada.id});
    assert_eq!(
        c.post("/api/articles/").json(&body).send().await.status(),
        201
    );
    // A failed create runs no after hook.
    assert_eq!(
        c.post("/api/articles/").json(&body).send().await.status(),
        409
    );
    let one = format!("/api/articles/{}/", s.articles[4].id);
    let r = c.patch(&one).json(&json!({"title": "quiet"})).send().await;
    assert_eq!(r.json::<Value>()["title"], "QUIET");
    assert_eq!(c.delete(&one).send().await.status(), 204);
    let published = format!("/api/articles/{}/", s.articles[0].id);
    let r = c.delete(&published).send().await;
    assert_eq!(r.status(), 409);
    assert!(r.text().contains("unpublish it first"));
    assert!(Article::find(&db, s.articles[0].id).is_ok());
    assert_eq!(
        *events.lock().unwrap(),
        [
            "created hooked",
            "updated secret-draft",
            "deleted secret-draft"
        ]
    );
}

on_both_databases!(
    before_create_sets_the_author_from_the_request,
    after_hooks_see_committed_objects
);
