//! The newsroom's pages, in process and over a real socket.

use http::StatusCode;
use newsroom::{Settings, app};
use tack_test::TestClient;

fn settings() -> (tempfile::TempDir, Settings) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("newsroom.sqlite3").display());
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        _ => None,
    })
    .unwrap();
    (dir, settings)
}

#[tokio::test]
async fn front_page_lists_articles_with_links() {
    let (_dir, settings) = settings();
    let client = TestClient::new(app(&settings).unwrap());
    let page = client.get("/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    let html = page.text();
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/static/css/site.css">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/articles/placeholder-1/""#),
        "{html}"
    );
}

#[tokio::test]
async fn bad_page_numbers_are_404_pages() {
    let (_dir, settings) = settings();
    let client = TestClient::new(app(&settings).unwrap());
    for query in ["?page=0", "?page=x", "?page=99"] {
        let page = client.get(&format!("/{query}")).send().await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{query}");
        assert!(page.text().contains("There is no page here."), "{query}");
    }
}

#[tokio::test]
async fn unknown_paths_get_the_404_template_or_problem_json() {
    let (_dir, settings) = settings();
    let client = TestClient::new(app(&settings).unwrap());
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
    let (_dir, settings) = settings();
    let client = TestClient::new(app(&settings).unwrap());
    let page = client.get("/articles/placeholder-2/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().contains("<h1>Placeholder article 2</h1>"));
    let missing = client.get("/articles/nothing-here/").send().await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stylesheet_is_served_with_caching_headers() {
    let (_dir, settings) = settings();
    let client = TestClient::new(app(&settings).unwrap());
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
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_dir, settings) = settings();
    let router = app(&settings).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
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
