//! Static files: content types, validators, 304, HEAD, and no way out of the root.

mod common;

use std::path::Path;

use common::run;
use http::StatusCode;
use tack_routing::{Router, ServeDir};
use tack_test::TestClient;

/// `outside/secret.txt` beside `root/`, which holds a few files and
/// symlinks, one of them leading out.
fn site() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let write = |path: &Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(&dir.path().join("outside/secret.txt"), "secret");
    write(&dir.path().join("rootsibling/secret.txt"), "secret");
    write(&root.join("site.css"), "body { color: red }");
    write(&root.join("js/app.js"), "console.log(1)");
    write(&root.join("img/logo.png"), "PNG");
    write(&root.join("a b.txt"), "spaced");
    write(&root.join("data.unknownext"), "raw");
    write(&root.join("sub/page.html"), "<p>hi</p>");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(root.join("site.css"), root.join("inside-link.css")).unwrap();
        symlink(
            dir.path().join("outside/secret.txt"),
            root.join("escape.txt"),
        )
        .unwrap();
        symlink(dir.path().join("outside"), root.join("outdir")).unwrap();
    }
    let router = Router::new().nest_service("/static", ServeDir::new(&root));
    (dir, router)
}

#[test]
fn files_are_served_with_their_content_type() {
    let (_dir, router) = site();
    let client = TestClient::new(router);
    let cases = [
        (
            "/static/site.css",
            "text/css; charset=utf-8",
            "body { color: red }",
        ),
        (
            "/static/js/app.js",
            "text/javascript; charset=utf-8",
            "console.log(1)",
        ),
        ("/static/img/logo.png", "image/png", "PNG"),
        ("/static/a%20b.txt", "text/plain; charset=utf-8", "spaced"),
        (
            "/static/sub/page.html",
            "text/html; charset=utf-8",
            "<p>hi</p>",
        ),
        ("/static/data.unknownext", "application/octet-stream", "raw"),
        (
            "/static/site.css?v=3",
            "text/css; charset=utf-8",
            "body { color: red }",
        ),
    ];
    for (path, content_type, body) in cases {
        let response = run(client.get(path).send());
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.content_type(), Some(content_type), "{path}");
        assert_eq!(response.text(), body, "{path}");
        assert_eq!(
            response.header("content-length"),
            Some(&*body.len().to_string())
        );
    }
    #[cfg(unix)]
    {
        let response = run(client.get("/static/inside-link.css").send());
        assert_eq!(response.text(), "body { color: red }");
    }
}

#[test]
fn nothing_outside_the_root_is_reachable() {
    let (_dir, router) = site();
    let client = TestClient::new(router);
    let cases = [
        "/static/../outside/secret.txt",
        "/static/js/../../outside/secret.txt",
        "/static/%2e%2e/outside/secret.txt",
        "/static/%2E%2E/outside/secret.txt",
        "/static/.%2e/outside/secret.txt",
        "/static/..%2foutside%2fsecret.txt",
        "/static/..%2Foutside%2Fsecret.txt",
        "/static/..%5coutside%5csecret.txt",
        "/static/%2e%2e%5coutside%5csecret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/site.css%00.png",
        "/static/./site.css",
        "/static/../rootsibling/secret.txt",
        "/static/escape.txt",
        "/static/outdir/secret.txt",
        "/static/",
        "/static",
        "/static/js",
        "/static/js/",
        "/static/missing.css",
    ];
    for path in cases {
        let response = run(client.get(path).send());
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_ne!(response.text(), "secret", "{path}");
    }
    // The same directly on the service, without the router's prefix.
    let dir = _dir.path().join("root");
    let direct = TestClient::new(ServeDir::new(dir));
    for path in [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/escape.txt",
    ] {
        let response = run(direct.get(path).send());
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(run(direct.get("/site.css").send()).status(), StatusCode::OK);
}

#[test]
fn validators_answer_304() {
    let (_dir, router) = site();
    let client = TestClient::new(router);
    let first = run(client.get("/static/site.css").send());
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let cases = [
        ("if-none-match", etag.clone(), 304),
        ("if-none-match", format!("\"other\", {etag}"), 304),
        ("if-none-match", "*".to_owned(), 304),
        ("if-none-match", "\"other\"".to_owned(), 200),
        ("if-modified-since", modified.clone(), 304),
        (
            "if-modified-since",
            "Tue, 01 Jan 2002 00:00:00 GMT".to_owned(),
            200,
        ),
        ("if-modified-since", "not a date".to_owned(), 200),
    ];
    for (header, value, status) in cases {
        let response = run(client.get("/static/site.css").header(header, &value).send());
        assert_eq!(response.status().as_u16(), status, "{header}: {value}");
        assert_eq!(response.header("etag"), Some(&*etag));
        if status == 304 {
            assert!(response.bytes().is_empty());
        }
    }
}

#[test]
fn head_and_other_methods() {
    let (_dir, router) = site();
    let client = TestClient::new(router);
    let response = run(client.head("/static/site.css").send());
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.header("content-length"), Some("19"));
    assert_eq!(response.content_type(), Some("text/css; charset=utf-8"));
    assert!(response.bytes().is_empty());
    let response = run(client.post("/static/site.css").send());
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
}
