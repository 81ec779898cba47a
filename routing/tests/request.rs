//! Request helpers: path params, query strings, JSON and form bodies, limits.

mod common;

use common::run;
use http::{Request, StatusCode};
use serde::Deserialize;
use tack_http::{Body, Json};
use tack_routing::{Error, RequestExt, Router, get, post};
use tack_test::TestClient;

#[derive(Debug, Deserialize, serde::Serialize)]
struct Article {
    title: String,
    words: u32,
}

#[derive(Deserialize)]
struct Page {
    page: u32,
    #[serde(default)]
    q: Option<String>,
}

#[derive(Deserialize)]
struct Ids {
    user: u64,
    slug: String,
}

async fn create_json(mut request: Request<Body>) -> Result<String, Error> {
    let article: Article = request.json().await?;
    Ok(format!("{} ({} words)", article.title, article.words))
}

async fn create_form(mut request: Request<Body>) -> Result<String, Error> {
    let article: Article = request.form().await?;
    Ok(format!("{} ({} words)", article.title, article.words))
}

async fn small_json(mut request: Request<Body>) -> Result<Json<serde_json::Value>, Error> {
    request.set_body_limit(8);
    Ok(Json(request.json().await?))
}

async fn list(request: Request<Body>) -> Result<String, Error> {
    let page: Page = request.query()?;
    Ok(format!("page {} q={:?}", page.page, page.q))
}

async fn detail(request: Request<Body>) -> Result<String, Error> {
    let id: u8 = request.path_param("user")?;
    let ids: Ids = request.path_params()?;
    Ok(format!("{id} {} {}", ids.user, ids.slug))
}

async fn missing(request: Request<Body>) -> Result<String, Error> {
    request.path_param::<String>("nope")
}

fn router() -> Router {
    Router::new()
        .route("/json", post(create_json))
        .route("/form", post(create_form))
        .route("/small", post(small_json))
        .route("/list", get(list))
        .route("/users/{user:int}/{slug}", get(detail))
        .route("/missing", get(missing))
        .body_limit(64)
}

fn json_client() -> TestClient<Router> {
    TestClient::new(router())
}

#[test]
fn bodies_and_queries_are_read() {
    let client = json_client();
    let article = Article {
        title: "Hi".into(),
        words: 3,
    };
    let response = run(client.post("/json").json(&article).send());
    assert_eq!(response.text(), "Hi (3 words)");
    let response = run(client.post("/form").form(&article).send());
    assert_eq!(response.text(), "Hi (3 words)");
    let response = run(client.get("/list?page=2&q=rust%20lang").send());
    assert_eq!(response.text(), "page 2 q=Some(\"rust lang\")");
    let response = run(client.get("/users/7/hello").send());
    assert_eq!(response.text(), "7 7 hello");
}

#[test]
fn bad_input_answers_a_clear_error() {
    let client = json_client();
    // (method, path, content type, body, status, text the problem's detail contains)
    let cases = [
        (
            "POST",
            "/json",
            "application/json",
            "{\"title\":",
            400,
            "the JSON body is invalid: EOF",
        ),
        (
            "POST",
            "/json",
            "application/json",
            "{\"title\":\"x\"}",
            400,
            "missing field `words`",
        ),
        (
            "POST",
            "/json",
            "application/json",
            "{\"title\":\"x\",\"words\":-1}",
            400,
            "invalid value: integer `-1`",
        ),
        (
            "POST",
            "/json",
            "text/plain",
            "{}",
            415,
            "expected a body with Content-Type application/json, got text/plain",
        ),
        ("POST", "/json", "", "{}", 415, "got none"),
        (
            "POST",
            "/form",
            "application/x-www-form-urlencoded",
            "title=x&words=many",
            400,
            "the form body is invalid: invalid digit",
        ),
        (
            "POST",
            "/form",
            "application/json",
            "{}",
            415,
            "application/x-www-form-urlencoded",
        ),
        (
            "GET",
            "/list?page=two",
            "",
            "",
            400,
            "the query string is invalid: invalid digit",
        ),
        ("GET", "/list", "", "", 400, "missing field `page`"),
        (
            "GET",
            "/users/300/x",
            "",
            "",
            404,
            "the path parameter 'user' = \"300\" is invalid",
        ),
        ("GET", "/missing", "", "", 500, "could not answer"),
    ];
    for (method, path, content_type, body, status, detail) in cases {
        let mut request = client
            .request(method.parse().unwrap(), path)
            .header("accept", "application/json")
            .body(body);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let response = run(request.send());
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
        assert_eq!(
            response.content_type(),
            Some("application/problem+json"),
            "{path}"
        );
        let problem: tack_http::Problem = response.json();
        let text = problem.detail.unwrap_or_default();
        assert!(text.contains(detail), "{path} {body}: {text}");
    }
}

#[test]
fn bodies_past_the_limit_are_413() {
    let client = json_client();
    let long = format!("{{\"title\":\"{}\",\"words\":1}}", "x".repeat(100));
    // Without Content-Length: the limit stops the read.
    let response = run(client
        .post("/json")
        .header("content-type", "application/json")
        .body(long.clone())
        .send());
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response.text().contains("limit of 64 bytes"),
        "{}",
        response.text()
    );
    // With a declared Content-Length: refused before reading.
    let response = run(client
        .post("/json")
        .header("content-type", "application/json")
        .header("content-length", &long.len().to_string())
        .body(long)
        .send());
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit passes.
    let response = run(client
        .post("/json")
        .json(&Article {
            title: "x".repeat(20),
            words: 1,
        })
        .send());
    assert_eq!(response.status(), StatusCode::OK);
    // A per-call limit overrides the router's.
    let response = run(client
        .post("/small")
        .json(&serde_json::json!({"abc": 1}))
        .send());
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let response = run(client.post("/small").json(&1).send());
    assert_eq!(response.text(), "1");
}

#[test]
fn the_default_limit_is_two_mebibytes() {
    let router = Router::new().route("/json", post(create_json));
    let client = TestClient::new(router);
    let big = format!(
        "{{\"title\":\"{}\",\"words\":1}}",
        "x".repeat(tack_routing::DEFAULT_BODY_LIMIT)
    );
    let response = run(client
        .post("/json")
        .header("content-type", "application/json")
        .body(big)
        .send());
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let fits = format!("{{\"title\":\"{}\",\"words\":1}}", "x".repeat(2_000_000));
    let response = run(client
        .post("/json")
        .header("content-type", "application/json")
        .body(fits)
        .send());
    assert_eq!(response.status(), StatusCode::OK);
}
