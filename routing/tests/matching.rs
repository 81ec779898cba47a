//! Path matching and converters.

mod common;

use common::{echo, get};
use http::StatusCode;
use proptest::prelude::*;
use tack_routing::{Router, get as on_get};

fn router() -> Router {
    Router::new()
        .route("/", on_get(echo))
        .route("/articles/{slug:slug}/", on_get(echo))
        .route("/articles/new/", on_get(echo))
        .route("/users/{id:int}/", on_get(echo))
        .route("/users/{name}/", on_get(echo))
        .route("/tokens/{token:uuid}", on_get(echo))
        .route("/files/{*path}", on_get(echo))
        .route("/docs/{rest:path}", on_get(echo))
        .route("/tags/{tag}", on_get(echo))
        .route("/img/{name}.png", on_get(echo))
        .route("/literal/{{braces}}", on_get(echo))
}

#[test]
fn paths_match_with_converted_params() {
    let cases: &[(&str, Option<&str>)] = &[
        ("/", Some("/")),
        (
            "/articles/hello-world_2/",
            Some("/articles/{slug:slug}/ slug=hello-world_2"),
        ),
        ("/articles/new/", Some("/articles/new/")),
        ("/articles/h%C3%A9/", None),
        ("/articles/a.b/", None),
        ("/users/42/", Some("/users/{id:int}/ id=42")),
        ("/users/bob/", Some("/users/{name}/ name=bob")),
        ("/users/-1/", Some("/users/{name}/ name=-1")),
        ("/users/a%20b/", Some("/users/{name}/ name=a b")),
        ("/users/a%2Fb/", None),
        ("/users/%ff/", None),
        (
            "/tokens/67e55044-10b1-426f-9247-bb680e5fe0c8",
            Some("/tokens/{token:uuid} token=67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ),
        ("/tokens/67e55044", None),
        ("/tokens/67E55044-10B1-426F-9247-BB680E5FE0C8", None),
        ("/files/a/b/c.txt", Some("/files/{*path} path=a/b/c.txt")),
        ("/files/a%2Fb", Some("/files/{*path} path=a/b")),
        ("/files/", None),
        ("/docs/x/y", Some("/docs/{rest:path} rest=x/y")),
        ("/tags/rust", Some("/tags/{tag} tag=rust")),
        ("/tags/rust/", None),
        ("/img/logo.png", Some("/img/{name}.png name=logo")),
        ("/literal/{braces}", Some("/literal/{{braces}}")),
        ("/nothing", None),
    ];
    let router = router().append_slash(false);
    for (path, expected) in cases {
        let response = get(&router, path);
        match expected {
            Some(text) => {
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                assert_eq!(response.text(), *text, "{path}");
            }
            None => assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}"),
        }
    }
}

#[test]
fn resolve_reports_route_without_calling_it() {
    let router = Router::new()
        .route("/users/{id:int}/", on_get(echo))
        .name("user");
    let resolved = router.resolve("/users/7/").unwrap();
    assert_eq!(resolved.pattern(), "/users/{id:int}/");
    assert_eq!(resolved.name(), Some("user"));
    assert_eq!(resolved.raw_param("id"), Some("7"));
    assert!(router.resolve("/users/x/").is_none());
}

#[test]
fn bad_and_conflicting_patterns_are_errors() {
    let cases = [
        (vec!["/a", "/a"], "routed twice"),
        (vec!["/{id:bogus}"], "unknown converter 'bogus'"),
        (vec!["/{*rest}/more"], "must end the pattern"),
        (vec!["/x/{a}", "/x/{*b}/"], "must end the pattern"),
        (vec!["/x/{a}.png", "/x/img-{b}"], "conflicts with"),
        (vec!["no-slash"], "must start with '/'"),
    ];
    for (patterns, message) in cases {
        let mut router = Router::new();
        let mut error = None;
        for pattern in &patterns {
            match router.clone().try_route(pattern, on_get(echo)) {
                Ok(next) => router = next,
                Err(e) => error = Some(e.to_string()),
            }
        }
        let error = error.unwrap_or_else(|| panic!("{patterns:?} should fail"));
        assert!(error.contains(message), "{patterns:?}: {error}");
    }
}

#[test]
#[should_panic(expected = "routed twice")]
fn route_panics_on_a_duplicate() {
    let _ = Router::new()
        .route("/a", on_get(echo))
        .route("/a", on_get(echo));
}

proptest! {
    /// Whatever value reverse accepts comes back unchanged from matching.
    #[test]
    fn reverse_then_match_round_trips(
        name in "[^/]{1,12}",
        id in "[0-9]{1,9}",
        slug in "[a-zA-Z0-9_-]{1,12}",
        path in "[a-z %?#é]{1,5}(/[a-z %?#é]{1,5}){0,3}",
    ) {
        let router = Router::new()
            .route("/u/{name}/{id:int}/{slug:slug}/", on_get(echo))
            .name("u")
            .route("/f/{*path}", on_get(echo))
            .name("f");
        let url = router.reverse("u", &[("name", &name), ("id", &id), ("slug", &slug)]).unwrap();
        let response = get(&router, &url);
        prop_assert_eq!(response.status(), StatusCode::OK, "{}", url);
        prop_assert_eq!(
            response.text(),
            format!("/u/{{name}}/{{id:int}}/{{slug:slug}}/ name={name} id={id} slug={slug}")
        );
        let url = router.reverse("f", &[("path", &path)]).unwrap();
        let response = get(&router, &url);
        prop_assert_eq!(response.text(), format!("/f/{{*path}} path={path}"));
    }
}
