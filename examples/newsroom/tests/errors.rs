//! What a visitor sees when something fails, and what a server that starts
//! behind its migrations says.

mod common;

use common::{client, settings_for};
use http::StatusCode;

#[tokio::test]
async fn a_failing_page_answers_the_500_template_and_the_server_keeps_serving() {
    let (file, client) = client();
    // Break the database under the running app: the front page's query fails.
    tack_orm::Connection::open(&file.url())
        .unwrap()
        .execute_batch("DROP TABLE newsroom_article_tags")
        .unwrap();
    let page = client.get("/").send().await;
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let html = page.text();
    assert!(html.contains("Something went wrong on our side."), "{html}");
    assert!(
        !html.contains("newsroom_article_tags"),
        "no internals without debug: {html}"
    );
    let api = client
        .get("/")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(api.content_type(), Some("application/problem+json"));
    // Pages that do not need the broken table still work.
    let css = client.get("/static/css/site.css").send().await;
    assert_eq!(css.status(), StatusCode::OK);
}

#[test]
fn models_ahead_of_the_migrations_are_reported_not_failed_on() {
    let file = tack_test::db::sqlite();
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    // A database from before the auth migration: the first migration only.
    let files =
        tack_orm::migrations::Migrations::from_embedded(&newsroom::db::MIGRATIONS[..1]).unwrap();
    tack_orm::migrations::migrate(&db, &files, None).unwrap();
    // The app applies what is missing on start, then serves.
    assert!(newsroom::app(&settings_for(&file.url())).is_ok());
    let all = tack_orm::migrations::Migrations::from_embedded(newsroom::db::MIGRATIONS).unwrap();
    let status = tack_orm::migrations::showmigrations(&db, &all).unwrap();
    assert_eq!(status.len(), newsroom::db::MIGRATIONS.len());
    assert!(status.iter().all(|m| m.applied_at.is_some()), "{status:?}");
}
