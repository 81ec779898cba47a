//! The newsroom's pages, in process and over a real socket.

use http::StatusCode;
use newsroom::app;
use tack_test::TestClient;

mod common;
use common::{client, settings, settings_for};

#[tokio::test]
async fn front_page_lists_articles_with_links() {
    let (_dir, client) = client();
    let page = client.get("/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    let html = page.text();
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/static/css/site.css">"#),
        "{html}"
    );
    // Five published articles, newest first; the draft is not listed.
    let first = html
        .find(r#"href="/articles/tides-rise/""#)
        .expect("newest article");
    let last = html
        .find(r#"href="/articles/city-birds/""#)
        .expect("oldest article");
    assert!(first < last, "newest first");
    assert!(!html.contains("notes-next-week"), "drafts stay hidden");
    assert!(
        html.contains("by Ada Reporter"),
        "author names come with select_related"
    );
    assert!(
        html.contains(r#"<span class="tag">science</span>"#),
        "tags are prefetched"
    );
    assert!(html.contains("Page 1 of 1"));
}

#[tokio::test]
async fn seeding_happens_once() {
    let (file, settings) = settings();
    drop(app(&settings).unwrap());
    drop(app(&settings).unwrap());
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    assert_eq!(newsroom::models::Author::objects().count(&db).unwrap(), 3);
    assert_eq!(newsroom::models::Article::objects().count(&db).unwrap(), 6);
}

#[tokio::test]
async fn bad_page_numbers_are_404_pages() {
    let (_dir, client) = client();
    for query in ["?page=0", "?page=x", "?page=99"] {
        let page = client.get(&format!("/{query}")).send().await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{query}");
        assert!(page.text().contains("There is no page here."), "{query}");
    }
}

#[tokio::test]
async fn unknown_paths_get_the_404_template_or_problem_json() {
    let (_dir, client) = client();
    let page = client.get("/no/such/page/").send().await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().contains("<title>Not found · Newsroom</title>"));
    let api = client
        .get("/no/such/page/")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.content_type(), Some("application/problem+json"));
}

#[tokio::test]
async fn article_page_and_missing_article() {
    let (_dir, client) = client();
    let page = client.get("/articles/tides-rise/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("<h1>Tides rise faster than forecast</h1>"),
        "{html}"
    );
    assert!(
        html.contains("Comment 1 on Tides rise faster than forecast."),
        "{html}"
    );
    for slug in ["nothing-here", "notes-next-week"] {
        let missing = client.get(&format!("/articles/{slug}/")).send().await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{slug}");
    }
}

#[tokio::test]
async fn stylesheet_is_served_with_caching_headers() {
    let (_dir, client) = client();
    let css = client.get("/static/css/site.css").send().await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.content_type().unwrap().starts_with("text/css"));
    let etag = css.header("etag").expect("an ETag").to_owned();
    let again = client
        .get("/static/css/site.css")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let escape = client.get("/static/../Cargo.toml").send().await;
    assert_eq!(escape.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serves_over_a_real_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_dir, settings) = settings();
    let router = app(&settings).unwrap();
    let server = tack_test::serve(router);
    let addr = server.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("Latest articles"));
}

#[tokio::test]
async fn runs_on_postgresql_too() {
    let Some(schema) = tack_test::db::postgres("newsroom runs_on_postgresql_too") else {
        return;
    };
    let url = schema.url().to_owned();
    // Opening the database uses the synchronous client: off the runtime.
    let router = tokio::task::spawn_blocking(move || app(&settings_for(&url)).unwrap())
        .await
        .unwrap();
    let client = TestClient::new(router);
    let page = client.get("/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().contains(r#"href="/articles/rust-newsroom/""#));
    let article = client.get("/articles/rust-newsroom/").send().await;
    assert_eq!(article.status(), StatusCode::OK);
    // The synchronous PostgreSQL client must not be dropped on a runtime thread.
    tokio::task::spawn_blocking(move || drop(client))
        .await
        .unwrap();
}

#[tokio::test]
async fn security_stack_is_on() {
    let (_dir, client) = client();
    let page = client.get("/").send().await;
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    // A page without a form writes no session and sets no cookie.
    assert_eq!(page.header("set-cookie"), None);

    let foreign = client.get("/").header("host", "evil.example").send().await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);

    let forged = client.post("/").form(&[("a", "b")]).send().await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().contains("CSRF"), "{}", forged.text());
}
