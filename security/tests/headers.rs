//! Security headers, allowed hosts and body limits.

use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tack_http::Body;
use tack_security::{AllowedHostsLayer, RequestBodyLimitLayer, SecurityHeadersLayer};
use tack_test::TestClient;
use tower::{Layer, ServiceBuilder};

async fn app(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let framed = request.uri().path() == "/embeddable";
    let bytes = request
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let mut response = Response::new(Body::from(format!("{} bytes", bytes.len())));
    if framed {
        response
            .headers_mut()
            .insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
        response.headers_mut().insert(
            "content-security-policy",
            HeaderValue::from_static("frame-ancestors 'self'"),
        );
    }
    Ok(response)
}

#[test]
fn security_headers_by_default_and_opt_in() {
    futures_executor::block_on(async {
        let client = TestClient::new(SecurityHeadersLayer::new().layer(tower::service_fn(app)));
        let response = client.get("/").send().await;
        let expected = [
            ("x-content-type-options", Some("nosniff")),
            ("x-frame-options", Some("DENY")),
            ("referrer-policy", Some("same-origin")),
            ("cross-origin-opener-policy", Some("same-origin")),
            ("strict-transport-security", None),
            ("content-security-policy", None),
        ];
        for (name, value) in expected {
            assert_eq!(response.header(name), value, "{name}");
        }

        let layer = SecurityHeadersLayer::new()
            .with_hsts(Duration::from_secs(31_536_000), true, false)
            .with_content_security_policy(HeaderValue::from_static("default-src 'self'"))
            .with_referrer_policy(None);
        let client = TestClient::new(layer.layer(tower::service_fn(app)));
        let response = client.get("/").send().await;
        assert_eq!(
            response.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains")
        );
        assert_eq!(
            response.header("content-security-policy"),
            Some("default-src 'self'")
        );
        assert_eq!(response.header("referrer-policy"), None);

        // A handler's own headers win (the per-page CSP hook).
        let response = client.get("/embeddable").send().await;
        assert_eq!(response.header("x-frame-options"), Some("SAMEORIGIN"));
        assert_eq!(
            response.header("content-security-policy"),
            Some("frame-ancestors 'self'")
        );
    });
}

#[test]
fn disallowed_hosts_get_400() {
    futures_executor::block_on(async {
        let layer = AllowedHostsLayer::new(["localhost", ".example.com"]);
        let client = TestClient::new(layer.clone().layer(tower::service_fn(app)));
        let cases = [
            ("localhost", StatusCode::OK),
            ("localhost:8000", StatusCode::OK),
            ("www.example.com", StatusCode::OK),
            ("example.com", StatusCode::OK),
            ("evil.test", StatusCode::BAD_REQUEST),
            ("example.com.evil.test", StatusCode::BAD_REQUEST),
            ("localhost@evil.test", StatusCode::BAD_REQUEST),
        ];
        for (host, status) in cases {
            let response = client.get("/").header("host", host).send().await;
            assert_eq!(response.status(), status, "{host}");
        }
        let quiet = client.get("/").header("host", "evil.test").send().await;
        assert!(!quiet.text().contains("evil.test"));
        let debug = TestClient::new(layer.with_debug(true).layer(tower::service_fn(app)));
        let page = debug
            .get("/")
            .header("host", "evil.test")
            .send()
            .await
            .text();
        assert!(
            page.contains("evil.test") && page.contains("allowed hosts"),
            "{page}"
        );
    });
}

#[test]
fn tower_http_body_limit_answers_413() {
    futures_executor::block_on(async {
        let service = ServiceBuilder::new()
            .layer(RequestBodyLimitLayer::new(16))
            .service_fn(
                |request: Request<tower_http::body::Limited<Body>>| async move {
                    // tower-http's limited body errors past the limit; the layer
                    // itself answers 413 when Content-Length already says so.
                    let text = match request.into_body().collect().await {
                        Ok(collected) => format!("{} bytes", collected.to_bytes().len()),
                        Err(_) => "too large".to_owned(),
                    };
                    Ok::<_, Infallible>(Response::new(Body::from(text)))
                },
            );
        let client = TestClient::new(service);
        assert_eq!(
            client.post("/").body("small").send().await.text(),
            "5 bytes"
        );
        let response = client
            .post("/")
            .header("content-length", "17")
            .body(vec![b'x'; 17])
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // Without a length up front, reading the body past the limit fails.
        let streamed = client.post("/").body(vec![b'x'; 17]).send().await;
        assert_eq!(streamed.text(), "too large");
    });
}
