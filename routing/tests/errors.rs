//! Error responses: negotiation, the error-page hook, debug mode, panics.

mod common;

use common::run;
use http::{Request, StatusCode};
use tack_http::{Body, Html, IntoResponse, Problem};
use tack_routing::{Error, ErrorPage, Router, get};
use tack_test::TestClient;

async fn forbidden(_: Request<Body>) -> Result<&'static str, Error> {
    Err(Error::http(
        StatusCode::FORBIDDEN,
        "Only editors may publish.",
    ))
}

async fn panics(_: Request<Body>) -> &'static str {
    panic!("the database <exploded>")
}

fn panics_before_the_future(_: Request<Body>) -> std::future::Ready<&'static str> {
    panic!("panicked while starting")
}

async fn own_problem(_: Request<Body>) -> Problem {
    Problem::invalid("Fix the title.").with_field_error("title", "Too long.")
}

async fn ok(_: Request<Body>) -> &'static str {
    "fine"
}

fn router() -> Router {
    Router::new()
        .route("/forbidden", get(forbidden))
        .route("/panic", get(panics))
        .route("/panic-early", get(panics_before_the_future))
        .route("/problem", get(own_problem))
        .route("/ok", get(ok).post(ok))
}

#[test]
fn errors_negotiate_problem_json_or_html() {
    // (path, method, accept, status, content type, body contains)
    let cases = [
        (
            "/nowhere",
            "GET",
            "application/json",
            404,
            "application/problem+json",
            "\"detail\":\"no route matches /nowhere\"",
        ),
        (
            "/nowhere",
            "GET",
            "text/html",
            404,
            "text/html; charset=utf-8",
            "<h1>404 Not Found</h1>",
        ),
        (
            "/nowhere",
            "GET",
            "",
            404,
            "text/html; charset=utf-8",
            "no route matches /nowhere",
        ),
        (
            "/forbidden",
            "GET",
            "application/problem+json",
            403,
            "application/problem+json",
            "Only editors may publish.",
        ),
        (
            "/forbidden",
            "GET",
            "text/html,*/*;q=0.8",
            403,
            "text/html; charset=utf-8",
            "<h1>403 Forbidden</h1>",
        ),
        (
            "/ok",
            "DELETE",
            "application/json",
            405,
            "application/problem+json",
            "DELETE is not allowed on /ok; allowed: GET, POST, HEAD, OPTIONS",
        ),
        (
            "/ok",
            "DELETE",
            "text/html",
            405,
            "text/html; charset=utf-8",
            "405 Method Not Allowed",
        ),
        (
            "/panic",
            "GET",
            "application/json",
            500,
            "application/problem+json",
            "\"status\":500",
        ),
        (
            "/panic",
            "GET",
            "text/html",
            500,
            "text/html; charset=utf-8",
            "500 Internal Server Error",
        ),
        // A handler's own response is left alone.
        (
            "/problem",
            "GET",
            "text/html",
            422,
            "application/problem+json",
            "Too long.",
        ),
    ];
    let client = TestClient::new(router());
    for (path, method, accept, status, content_type, contains) in cases {
        let mut request = client.request(method.parse().unwrap(), path);
        if !accept.is_empty() {
            request = request.header("accept", accept);
        }
        let response = run(request.send());
        assert_eq!(
            response.status().as_u16(),
            status,
            "{method} {path} {accept}"
        );
        assert_eq!(
            response.content_type(),
            Some(content_type),
            "{method} {path} {accept}"
        );
        assert!(
            response.text().contains(contains),
            "{method} {path} {accept}: {}",
            response.text()
        );
        if status == 405 {
            assert_eq!(response.header("allow"), Some("GET, POST, HEAD, OPTIONS"));
        }
    }
}

#[test]
fn panics_answer_500_and_the_router_keeps_serving() {
    let client = TestClient::new(router());
    for path in ["/panic", "/panic-early", "/panic"] {
        let response = run(client.get(path).send());
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        // Outside debug mode the message stays on the server.
        assert!(!response.text().contains("exploded"), "{}", response.text());
        assert!(!response.text().contains("starting"), "{}", response.text());
        assert_eq!(run(client.get("/ok").send()).text(), "fine");
    }
}

#[test]
fn debug_mode_shows_the_panic_message_escaped() {
    let client = TestClient::new(router().debug(true));
    let response = run(client.get("/panic").send());
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response
            .text()
            .contains("the handler panicked: the database &lt;exploded&gt;"),
        "{}",
        response.text()
    );
    let response = run(client
        .get("/panic-early")
        .header("accept", "application/json")
        .send());
    let problem: Problem = response.json();
    assert_eq!(
        problem.extensions["debug"],
        "the handler panicked: panicked while starting"
    );
}

#[test]
fn debug_404s_list_the_patterns_tried() {
    let router = router().route("/named/", get(ok)).name("named");
    let response = run(TestClient::new(router.clone().debug(true)).get("/x").send());
    let text = response.text();
    assert!(text.contains("tried these patterns"), "{text}");
    assert!(text.contains("/forbidden"), "{text}");
    assert!(text.contains("/named/ [name=&#39;named&#39;]"), "{text}");
    let response = run(TestClient::new(router).get("/x").send());
    assert!(
        !response.text().contains("/forbidden"),
        "{}",
        response.text()
    );
}

#[test]
fn the_error_page_hook_renders_html_errors() {
    let router = router().error_page(|page: &ErrorPage| {
        let debug = page.debug.as_deref().unwrap_or("-");
        // The hook's status is replaced by the error's.
        Html(format!(
            "custom {} {} at {}: {} [{debug}]",
            page.status.as_u16(),
            page.title,
            page.path,
            page.detail
        ))
        .into_response()
    });
    let client = TestClient::new(router.clone());
    let response = run(client.get("/nowhere").send());
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.text(),
        "custom 404 Not Found at /nowhere: no route matches /nowhere [-]"
    );
    let response = run(client.get("/panic").send());
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response
            .text()
            .starts_with("custom 500 Internal Server Error at /panic")
    );
    assert!(response.text().ends_with("[-]"));
    let debug = TestClient::new(router.debug(true));
    let response = run(debug.get("/panic").send());
    assert!(
        response
            .text()
            .ends_with("[the handler panicked: the database <exploded>]")
    );
    // JSON clients still get problem+json.
    let response = run(client
        .post("/nowhere")
        .header("accept", "application/json")
        .send());
    assert_eq!(response.content_type(), Some("application/problem+json"));
    // The rendered page is in the response's extensions for outer layers.
    assert_eq!(
        response.extensions().get::<ErrorPage>().unwrap().path,
        "/nowhere"
    );
}

#[test]
fn fallback_answers_unknown_paths() {
    let router = router().fallback(|request: Request<Body>| async move {
        (
            StatusCode::NOT_FOUND,
            format!("nothing at {}", request.uri().path()),
        )
    });
    let response = run(TestClient::new(router).get("/x/y").send());
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.text(), "nothing at /x/y");
}
