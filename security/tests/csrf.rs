//! The CSRF accept/reject matrix, and what the layer hands on.

mod common;

use http::{Method, StatusCode};
use tack_security::CsrfLayer;
use tack_test::{TestClient, TestResponse};
use tower::Layer;

/// Where the request's token comes from.
#[derive(Clone, Copy, Debug)]
enum Token {
    None,
    /// The masked token the form page rendered, in the header.
    Header,
    /// The same, in the urlencoded form field.
    Form,
    /// The unmasked secret from the cookie, in the header (what scripts send).
    Unmasked,
    /// A valid token of another secret.
    Wrong,
    Malformed,
}

struct Case {
    name: &'static str,
    layer: fn() -> CsrfLayer,
    method: Method,
    path: &'static str,
    token: Token,
    headers: &'static [(&'static str, &'static str)],
    drop_cookie: bool,
    expected: StatusCode,
}

fn plain() -> CsrfLayer {
    CsrfLayer::new().with_secure_cookie(false)
}

fn https() -> CsrfLayer {
    plain()
        .with_assume_https(true)
        .with_trusted_origins(["https://*.example.com", "https://partner.test"])
}

fn exempting() -> CsrfLayer {
    plain()
        .with_exempt(|request| request.uri.path().starts_with("/hooks/"))
        .with_bearer_exempt(true)
}

fn send(case: &Case) -> TestResponse {
    futures_executor::block_on(async {
        let client = TestClient::new((case.layer)().layer(tower::service_fn(common::app)));
        let masked = client.get("/form").send().await.text();
        let secret = client
            .cookie("csrftoken")
            .expect("the form page sets the cookie");
        if case.drop_cookie {
            client.clear_cookies();
        }
        let other = {
            let stranger = TestClient::new(plain().layer(tower::service_fn(common::app)));
            stranger.get("/form").send().await.text()
        };
        let mut request = client.request(case.method.clone(), case.path);
        for (name, value) in case.headers {
            request = request.header(name, value);
        }
        request = match case.token {
            Token::None => request,
            Token::Header => request.header("x-csrftoken", &masked),
            Token::Form => {
                request.form(&[("title", "Hello, world"), ("csrfmiddlewaretoken", &masked)])
            }
            Token::Unmasked => request.header("x-csrftoken", &secret),
            Token::Wrong => request.header("x-csrftoken", &other),
            Token::Malformed => request.header("x-csrftoken", "not-a-token"),
        };
        request.send().await
    })
}

#[test]
fn accept_reject_matrix() {
    use Token::*;
    const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
    const OK: StatusCode = StatusCode::OK;
    let post = || Method::POST;
    let cases = [
        Case {
            name: "missing token",
            layer: plain,
            method: post(),
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "wrong token",
            layer: plain,
            method: post(),
            path: "/",
            token: Wrong,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "malformed token",
            layer: plain,
            method: post(),
            path: "/",
            token: Malformed,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "masked token in header",
            layer: plain,
            method: post(),
            path: "/",
            token: Header,
            headers: &[],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "masked token in form",
            layer: plain,
            method: post(),
            path: "/",
            token: Form,
            headers: &[],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "unmasked secret in header",
            layer: plain,
            method: post(),
            path: "/",
            token: Unmasked,
            headers: &[],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "token without cookie",
            layer: plain,
            method: post(),
            path: "/",
            token: Header,
            headers: &[],
            drop_cookie: true,
            expected: FORBIDDEN,
        },
        Case {
            name: "PUT without token",
            layer: plain,
            method: Method::PUT,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "PATCH without token",
            layer: plain,
            method: Method::PATCH,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "DELETE without token",
            layer: plain,
            method: Method::DELETE,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "DELETE with token",
            layer: plain,
            method: Method::DELETE,
            path: "/",
            token: Header,
            headers: &[],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "GET needs nothing",
            layer: plain,
            method: Method::GET,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: true,
            expected: OK,
        },
        Case {
            name: "HEAD needs nothing",
            layer: plain,
            method: Method::HEAD,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: true,
            expected: OK,
        },
        Case {
            name: "OPTIONS needs nothing",
            layer: plain,
            method: Method::OPTIONS,
            path: "/",
            token: None,
            headers: &[],
            drop_cookie: true,
            expected: OK,
        },
        Case {
            name: "cross-origin Origin over HTTP",
            layer: plain,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "https://evil.test")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "same Origin over HTTP",
            layer: plain,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "http://localhost")],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "null Origin",
            layer: plain,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "null")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS without Referer",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS cross-origin Referer",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("referer", "https://evil.test/form")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS Referer over plain HTTP",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("referer", "http://localhost/form")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS Referer with a lookalike host",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("referer", "https://localhost.evil.test/")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS same-site Referer",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("referer", "https://localhost/form")],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "HTTPS trusted Referer",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("referer", "https://partner.test/page")],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "HTTPS trusted wildcard Origin",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "https://app.example.com")],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "HTTPS wildcard does not match the bare domain's lookalike",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "https://badexample.com")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS same Origin",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "https://localhost")],
            drop_cookie: false,
            expected: OK,
        },
        Case {
            name: "HTTPS http Origin of the same host",
            layer: https,
            method: post(),
            path: "/",
            token: Header,
            headers: &[("origin", "http://localhost")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "HTTPS valid token still needs the token",
            layer: https,
            method: post(),
            path: "/",
            token: None,
            headers: &[("referer", "https://localhost/form")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "exempt route",
            layer: exempting,
            method: post(),
            path: "/hooks/payment",
            token: None,
            headers: &[],
            drop_cookie: true,
            expected: OK,
        },
        Case {
            name: "non-exempt route",
            layer: exempting,
            method: post(),
            path: "/articles",
            token: None,
            headers: &[],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "bearer exempted by config",
            layer: exempting,
            method: post(),
            path: "/api",
            token: None,
            headers: &[("authorization", "Bearer abc123")],
            drop_cookie: true,
            expected: OK,
        },
        Case {
            name: "bearer not exempted by default",
            layer: plain,
            method: post(),
            path: "/api",
            token: None,
            headers: &[("authorization", "Bearer abc123")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
        Case {
            name: "basic auth is not bearer",
            layer: exempting,
            method: post(),
            path: "/api",
            token: None,
            headers: &[("authorization", "Basic YTpi")],
            drop_cookie: false,
            expected: FORBIDDEN,
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let response = send(case);
        if response.status() != case.expected {
            failures.push(format!(
                "{}: expected {}, got {} ({})",
                case.name,
                case.expected,
                response.status(),
                response.text().lines().last().unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn case(token: Token, headers: &'static [(&'static str, &'static str)]) -> Case {
    Case {
        name: "",
        layer: plain,
        method: Method::POST,
        path: "/",
        token,
        headers,
        drop_cookie: false,
        expected: StatusCode::OK,
    }
}

#[test]
fn the_form_body_is_handed_on_unchanged() {
    let response = send(&case(Token::Form, &[]));
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text();
    assert!(
        text.starts_with("ok:title=Hello%2C+world&csrfmiddlewaretoken="),
        "{text}"
    );
}

#[test]
fn refusals_say_why_only_in_debug() {
    let json = send(&case(Token::Wrong, &[("accept", "application/json")]));
    assert_eq!(json.status(), StatusCode::FORBIDDEN);
    assert_eq!(json.content_type(), Some("application/problem+json"));
    let problem: tack_http::Problem = json.json();
    let detail = problem.detail.unwrap();
    assert!(!detail.contains("incorrect"), "{detail}");
    let json = send(&Case {
        layer: || plain().with_debug(true),
        ..case(Token::Wrong, &[("accept", "application/json")])
    });
    let problem: tack_http::Problem = json.json();
    assert!(problem.detail.unwrap().contains("incorrect"));

    let page = send(&Case {
        layer: || plain().with_debug(true),
        ..case(Token::None, &[])
    });
    assert!(
        page.text().contains("CSRF token missing"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("form_field()"));
    let quiet = send(&case(Token::None, &[]));
    assert!(!quiet.text().contains("CSRF token missing"));
}

#[test]
fn oversized_forms_are_refused_with_413() {
    futures_executor::block_on(async {
        let layer = plain().with_body_limit(64);
        let client = TestClient::new(layer.layer(tower::service_fn(common::app)));
        let masked = client.get("/form").send().await.text();
        let big = "x".repeat(100);
        let response = client
            .post("/")
            .form(&[("csrfmiddlewaretoken", masked.as_str()), ("text", &big)])
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    });
}

#[test]
fn tokens_are_masked_per_response_and_the_cookie_set_once() {
    futures_executor::block_on(async {
        let client = TestClient::new(plain().layer(tower::service_fn(common::app)));
        let first = client.get("/form").send().await;
        let cookie = first
            .header("set-cookie")
            .expect("first use sets the cookie")
            .to_owned();
        assert!(cookie.starts_with("csrftoken="), "{cookie}");
        assert!(
            cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("HttpOnly"),
            "scripts read the cookie: {cookie}"
        );
        assert_eq!(first.header("vary"), Some("Cookie"));
        let second = client.get("/form").send().await;
        assert_eq!(second.header("set-cookie"), None);
        assert_ne!(
            first.text(),
            second.text(),
            "a token is masked afresh each time"
        );
        assert_eq!(first.text().len(), 64);

        // A page that never asks for a token sets no cookie.
        let fresh = TestClient::new(plain().layer(tower::service_fn(common::app)));
        assert_eq!(fresh.get("/plain").send().await.header("set-cookie"), None);

        // Secure by default.
        let secure = TestClient::new(CsrfLayer::new().layer(tower::service_fn(common::app)));
        let cookie = secure
            .get("/form")
            .send()
            .await
            .header("set-cookie")
            .unwrap()
            .to_owned();
        assert!(cookie.contains("Secure"), "{cookie}");
    });
}

#[test]
fn rotation_invalidates_old_tokens() {
    futures_executor::block_on(async {
        let client = TestClient::new(plain().layer(tower::service_fn(common::app)));
        let old = client.get("/form").send().await.text();
        let new = client.get("/rotate").send().await.text();
        let refused = client.post("/").header("x-csrftoken", &old).send().await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let accepted = client.post("/").header("x-csrftoken", &new).send().await;
        assert_eq!(accepted.status(), StatusCode::OK);
    });
}

/// A multipart body: text parts, then a file part, then more text parts.
fn multipart(before: &[(&str, &str)], file: &str, after: &[(&str, &str)]) -> String {
    let part = |(name, value): &(&str, &str)| {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let mut body: String = before.iter().map(part).collect();
    body.push_str(&format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"c.txt\"\r\nContent-Type: text/plain\r\n\r\n{file}\r\n"
    ));
    body.extend(after.iter().map(part));
    body.push_str("--XyZ--\r\n");
    body
}

#[test]
fn multipart_forms_carry_the_token_in_their_body() {
    futures_executor::block_on(async {
        let layer = plain().with_multipart_limit(64 * 1024);
        let client = TestClient::new(layer.layer(tower::service_fn(common::app)));
        let masked = client.get("/form").send().await.text();
        let stranger = TestClient::new(plain().layer(tower::service_fn(common::app)));
        let other = stranger.get("/form").send().await.text();
        let file = "0123456789".repeat(3000);
        let cases: Vec<(&str, String, StatusCode)> = vec![
            (
                "token first",
                multipart(
                    &[("csrfmiddlewaretoken", &masked), ("title", "Hi")],
                    &file,
                    &[],
                ),
                StatusCode::OK,
            ),
            (
                "token after the file",
                multipart(
                    &[("title", "Hi")],
                    &file,
                    &[("csrfmiddlewaretoken", &masked)],
                ),
                StatusCode::OK,
            ),
            (
                "no token",
                multipart(&[("title", "Hi")], &file, &[]),
                StatusCode::FORBIDDEN,
            ),
            (
                "another secret's token",
                multipart(&[("csrfmiddlewaretoken", &other)], &file, &[]),
                StatusCode::FORBIDDEN,
            ),
            (
                "token past the limit",
                multipart(&[], &file.repeat(3), &[("csrfmiddlewaretoken", &masked)]),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "not multipart at all",
                "garbage".to_owned(),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (name, body, expected) in cases {
            let response = client
                .post("/")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(body.clone())
                .send()
                .await;
            assert_eq!(response.status(), expected, "{name}: {}", response.text());
            if expected == StatusCode::OK {
                assert_eq!(
                    response.text(),
                    format!("ok:{body}"),
                    "{name}: the body is handed on whole"
                );
            }
        }
    });
}
