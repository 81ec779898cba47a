//! Named routes, reverse URLs and namespaces.

mod common;

use common::{echo, get as fetch};
use http::{Request, StatusCode};
use tack_http::Body;
use tack_routing::{RequestExt, Router, get};

fn site() -> Router {
    let admin = Router::new()
        .route("/", get(echo))
        .name("index")
        .route("/articles/{id:int}/", get(echo))
        .name("article-change");
    let api = Router::new()
        .route("/articles/", get(echo))
        .name("article-list")
        .nest(
            "/v2",
            "v2",
            Router::new().route("/ping", get(echo)).name("ping"),
        );
    Router::new()
        .route("/articles/{slug:slug}/", get(echo))
        .name("article-detail")
        .route("/search/{query}/", get(echo))
        .name("search")
        .route("/files/{*path}", get(echo))
        .name("file")
        .route("/t/{token:uuid}", get(echo))
        .name("token")
        .nest("/admin", "admin", admin)
        .nest("/api/", "api", api)
}

/// (route name, parameters, expected URL or error text)
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn reverse_builds_encoded_paths() {
    let router = site();
    let cases: &[Case<'_>] = &[
        ("article-detail", &[("slug", "hello")], "/articles/hello/"),
        (
            "search",
            &[("query", "a b?d#e%f")],
            "/search/a%20b%3Fd%23e%25f/",
        ),
        ("search", &[("query", "café")], "/search/caf%C3%A9/"),
        (
            "file",
            &[("path", "css/site main.css")],
            "/files/css/site%20main.css",
        ),
        (
            "token",
            &[("token", "67e55044-10b1-426f-9247-bb680e5fe0c8")],
            "/t/67e55044-10b1-426f-9247-bb680e5fe0c8",
        ),
        ("admin:index", &[], "/admin/"),
        ("admin:article-change", &[("id", "7")], "/admin/articles/7/"),
        ("api:article-list", &[], "/api/articles/"),
        ("api:v2:ping", &[], "/api/v2/ping"),
    ];
    for (name, params, expected) in cases {
        assert_eq!(router.reverse(name, params).unwrap(), *expected, "{name}");
    }
}

#[test]
fn reversed_urls_resolve_to_their_route() {
    let router = site();
    let url = router.reverse("search", &[("query", "a b?c")]).unwrap();
    assert_eq!(fetch(&router, &url).text(), "/search/{query}/ query=a b?c");
    let url = router
        .reverse("admin:article-change", &[("id", "7")])
        .unwrap();
    let response = fetch(&router, &url);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text(), "/admin/articles/{id:int}/ id=7");
}

#[test]
fn reverse_errors_say_what_to_fix() {
    let router = site();
    let cases: &[Case<'_>] = &[
        ("nope", &[], "no route is named \"nope\""),
        ("index", &[], "no route is named \"index\""),
        ("article-detail", &[], "needs the parameter 'slug'"),
        (
            "article-detail",
            &[("slug", "x"), ("id", "1")],
            "has no parameter 'id'",
        ),
        (
            "article-detail",
            &[("slug", "not a slug")],
            "is not a valid slug",
        ),
        (
            "admin:article-change",
            &[("id", "seven")],
            "is not a valid int",
        ),
        ("token", &[("token", "xyz")], "is not a valid uuid"),
        ("file", &[("path", "../etc/passwd")], "is not a valid path"),
        ("search", &[("query", "")], "is not a valid str"),
        ("search", &[("query", "a/b")], "is not a valid str"),
    ];
    for (name, params, message) in cases {
        let error = router.reverse(name, params).unwrap_err().to_string();
        assert!(error.contains(message), "{name}: {error}");
    }
}

#[test]
fn handlers_reverse_through_the_request() {
    async fn link(request: Request<Body>) -> String {
        let urls = request.urls().expect("the router inserts Urls");
        urls.reverse("detail", &[("slug", "elsewhere")]).unwrap()
    }
    let router = Router::new()
        .route("/a/{slug}/", get(echo))
        .name("detail")
        .route("/link", get(link));
    assert_eq!(fetch(&router, "/link").text(), "/a/elsewhere/");
    assert_eq!(router.urls().pattern("detail"), Some("/a/{slug}/"));
}

#[test]
#[should_panic(expected = "the route name \"x\" is already used by \"/a\"")]
fn duplicate_names_panic() {
    let _ = Router::new()
        .route("/a", get(echo))
        .name("x")
        .route("/b", get(echo))
        .name("x");
}
