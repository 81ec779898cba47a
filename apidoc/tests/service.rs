//! Serving the document and the docs page.

mod common;

use futures_executor::block_on;
use http::StatusCode;
use serde_json::Value;
use tack_apidoc::{ApiDoc, DocsService, Operation, Parameter};
use tack_test::TestClient;

#[test]
fn serves_the_document_and_the_page() {
    block_on(async {
        let document = common::routed();
        let client = TestClient::new(DocsService::new(document.clone()));

        let response = client.get("/openapi.json").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.content_type(), Some("application/json"));
        assert_eq!(
            response.json::<Value>(),
            serde_json::to_value(&document).unwrap()
        );

        let response = client.get("/docs/").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.content_type(), Some("text/html; charset=utf-8"));
        assert!(response.text().contains("href=\"../openapi.json\""));

        let response = client.head("/docs/").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.bytes().is_empty());
    });
}

#[test]
fn other_paths_and_methods_are_problems() {
    block_on(async {
        let client = TestClient::new(DocsService::new(common::handmade()));
        let cases = [
            ("GET", "/nothing", StatusCode::NOT_FOUND, None),
            ("GET", "/docs", StatusCode::NOT_FOUND, None),
            (
                "POST",
                "/openapi.json",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, HEAD"),
            ),
            (
                "DELETE",
                "/docs/",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, HEAD"),
            ),
        ];
        for (method, path, status, allow) in cases {
            let response = client.request(method.parse().unwrap(), path).send().await;
            assert_eq!(response.status(), status, "{method} {path}");
            assert_eq!(response.content_type(), Some("application/problem+json"));
            assert_eq!(response.header("allow"), allow, "{method} {path}");
        }
    });
}

#[test]
fn paths_are_configurable_for_mounting_under_api() {
    block_on(async {
        let service = DocsService::new(common::routed())
            .with_json_path("/api/openapi.json")
            .with_page_path("/api/docs/")
            .with_viewer_url("https://viewer.example/?url=/api/openapi.json");
        let client = TestClient::new(service);
        assert_eq!(
            client.get("/api/openapi.json").send().await.status(),
            StatusCode::OK
        );
        assert_eq!(
            client.get("/openapi.json").send().await.status(),
            StatusCode::NOT_FOUND
        );
        let page = client.get("/api/docs/").send().await.text();
        assert!(
            page.contains("href=\"../openapi.json\""),
            "relative link to the document"
        );
        assert!(page.contains("href=\"https://viewer.example/?url=/api/openapi.json\""));
    });
}

#[test]
fn the_page_shows_every_operation() {
    let service = DocsService::new(common::routed());
    let page = service.page_html();
    let document = service.document();
    let mut count = 0;
    for (method, path, operation) in document.operations() {
        count += 1;
        let heading = format!(
            "<span class=\"method {}\">{method}</span> <span class=\"path\">{path}</span>",
            method.as_str().to_lowercase()
        );
        assert!(page.contains(&heading), "no heading for {method} {path}");
        if let Some(summary) = &operation.summary {
            assert!(
                page.contains(summary.as_str()),
                "no summary for {method} {path}"
            );
        }
        for parameter in &operation.parameters {
            assert!(
                page.contains(&format!("<code>{}</code>", parameter.name)),
                "no parameter {} for {method} {path}",
                parameter.name
            );
        }
    }
    assert_eq!(count, 11);
    // Tags in the order described, then the others.
    let articles = page.find("<h2 class=\"tag\">articles</h2>").unwrap();
    let auth = page.find("<h2 class=\"tag\">auth</h2>").unwrap();
    let tags = page.find("<h2 class=\"tag\">tags</h2>").unwrap();
    let other = page.find("<h2 class=\"tag\">Other</h2>").unwrap();
    assert!(articles < auth && auth < tags && tags < other);
    // Schemas, examples, errors and authentication.
    for text in [
        "id=\"schema-Article\"",
        "id=\"schema-Problem\"",
        "application/problem+json",
        "&quot;published_at&quot;: &quot;2024-01-15T09:30:00Z&quot;",
        "&quot;errors&quot;",
        "<code>csrf</code> + <code>session</code>, or <code>bearer</code>",
        "cookie <code>sessionid</code>",
        "none (public)",
        "deprecated",
    ] {
        assert!(page.contains(text), "the page lacks {text}");
    }
    // Nothing is loaded from elsewhere.
    assert!(!page.contains("<script"));
    assert!(!page.contains("<link"));
    assert!(!page.contains("src="));
}

#[test]
fn hostile_text_is_escaped() {
    let mut doc = ApiDoc::new("<script>alert('title')</script>", "1 & 2")
        .with_description("<iframe src=x>")
        .with_server("\"><script>server</script>");
    doc.route(
        "GET",
        "/things/{id:int}/",
        Operation::new()
            .summary("<img src=x onerror=alert(1)>")
            .description("</p><script>description</script>")
            .tag("\"><b>tag</b>")
            .operation_id("<id>")
            .parameter(
                Parameter::query("q\"><i>")
                    .description("</td></tr></table>")
                    .example(serde_json::json!("<example>")),
            )
            .response_schema(
                200,
                "<em>done</em>",
                serde_json::json!({
                    "type": "object",
                    "properties": {"<x>": {"type": "string", "example": "</pre><script>"}}
                }),
            ),
    )
    .unwrap();
    let page = DocsService::new(doc.build().unwrap())
        .page_html()
        .to_owned();
    for raw in [
        "<script",
        "<img",
        "<iframe",
        "<b>tag",
        "<em>done",
        "<id>",
        "<i>",
        "<x>",
        "</td></tr></table>",
        "<example>",
    ] {
        assert!(!page.contains(raw), "unescaped `{raw}` in the page");
    }
    for escaped in [
        "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&quot;&gt;&lt;b&gt;tag&lt;/b&gt;",
        "1 &amp; 2",
    ] {
        assert!(page.contains(escaped), "`{escaped}` missing from the page");
    }
}
