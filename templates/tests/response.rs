//! Rendering to responses: status, content type, error pages, and a page
//! served in process through a tower service.

mod common;

use std::convert::Infallible;

use common::dir_with;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tack_http::{Body, IntoResponse, Response};
use tack_templates::{Error, Templates, context};
use tack_test::TestClient;

fn body_text(response: Response) -> String {
    let bytes = futures_executor::block_on(response.into_body().collect())
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn templates(debug: bool) -> Templates {
    Templates::builder()
        .add_embedded(&[
            (
                "hello.html",
                "<h1>Hello {{ name }}</h1> {{ request.GET.q }}",
            ),
            ("404.html", "<h1>Not found: {{ request.path }}</h1>"),
            (
                "broken.html",
                "line 1\nline 2 <script>\n{{ 1 + 'x' }}\nline 4",
            ),
        ])
        .debug(debug)
        .build()
        .unwrap()
}

#[test]
fn render_for_answers_an_html_response() {
    let templates = templates(false);
    let request = Request::builder().uri("/?q=%3Cb%3E").body(()).unwrap();
    let response = templates
        .render_for(&request, "hello.html", context! { name => "<ada>" })
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(body_text(response), "<h1>Hello &lt;ada&gt;</h1> &lt;b&gt;");
}

#[test]
fn render_status_for_sets_the_status() {
    let templates = templates(false);
    let request = Request::builder().uri("/missing/").body(()).unwrap();
    let response = templates
        .render_status_for(&request, StatusCode::NOT_FOUND, "404.html", ())
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(body_text(response).contains("Not found: &#x2f;missing&#x2f;"));
}

#[test]
fn errors_become_pages_that_reveal_only_what_the_mode_allows() {
    // Production without a 500.html: the built-in page, no details.
    let error = templates(false).render("broken.html", ()).unwrap_err();
    let response = templates(false).error_response(&error);
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = body_text(response);
    assert!(text.contains("Server error"), "{text}");
    assert!(!text.contains("broken.html"), "{text}");

    // The error on its own answers the same plain page.
    let text = body_text(error.into_response());
    assert!(
        text.contains("Server error") && !text.contains("line 2"),
        "{text}"
    );

    // Production with a project 500.html.
    let dir = dir_with(&[("500.html", "<p>Our own 500 page</p>")]);
    let with_page = Templates::builder().dir(dir.path()).build().unwrap();
    let error = with_page.render("nope.html", ()).unwrap_err();
    let response = with_page.error_response(&error);
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body_text(response), "<p>Our own 500 page</p>");

    // Debug: the source around the line, escaped.
    let debug = templates(true);
    let error = debug.render("broken.html", ()).unwrap_err();
    let response = debug.error_response(&error);
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let text = body_text(response);
    assert!(text.contains("line 2 &lt;script&gt;"), "{text}");
    assert!(!text.contains("line 2 <script>"), "{text}");
}

/// A handler as an application writes it: render, or answer the error page.
fn page_service(
    templates: Templates,
) -> impl tower::Service<Request<Body>, Response = Response, Error = Infallible, Future: Send> + Clone
{
    tower::service_fn(move |request: Request<Body>| {
        let templates = templates.clone();
        async move {
            let name = match request.uri().path() {
                "/" => "hello.html",
                "/broken/" => "broken.html",
                _ => {
                    return Ok(templates
                        .render_status_for(&request, StatusCode::NOT_FOUND, "404.html", ())
                        .unwrap_or_else(|e| templates.error_response(&e)));
                }
            };
            let result: Result<Response, Error> =
                templates.render_for(&request, name, context! { name => "world" });
            Ok(result.unwrap_or_else(|e| templates.error_response(&e)))
        }
    })
}

#[test]
fn pages_are_served_in_process() {
    futures_executor::block_on(async {
        let client = TestClient::new(page_service(templates(false)));
        let response = client.get("/?q=%22%3E%3Cscript%3E").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.content_type(), Some("text/html; charset=utf-8"));
        assert_eq!(
            response.text(),
            "<h1>Hello world</h1> &quot;&gt;&lt;script&gt;"
        );

        let response = client.get("/nowhere/").send().await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        let response = client.get("/broken/").send().await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!response.text().contains("broken.html"));
    });
}
