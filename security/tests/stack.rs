//! The whole stack as an app wires it: allowed hosts, security headers,
//! sessions, CSRF, then the app; a form post leaves a flash message.
#![cfg(feature = "sessions")]

use std::convert::Infallible;

use http::{Method, Request, Response, StatusCode};
use tack_http::Body;
use tack_security::{AllowedHostsLayer, CsrfLayer, CsrfToken, SecurityHeadersLayer};
use tack_sessions::{MemoryStore, Messages, SessionLayer};
use tack_test::TestClient;
use tower::ServiceBuilder;

async fn app(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let messages = request
        .extensions()
        .get::<Messages>()
        .expect("session layer")
        .clone();
    let token = request
        .extensions()
        .get::<CsrfToken>()
        .expect("CSRF layer")
        .clone();
    let page = if request.method() == Method::POST {
        messages
            .success("Article saved.")
            .expect("messages serialize");
        "saved".to_owned()
    } else {
        let shown: Vec<String> = messages
            .take()
            .expect("messages deserialize")
            .iter()
            .map(|m| format!("{}: {}", m.level, m.text))
            .collect();
        format!("{}|{}", shown.join(","), token.masked())
    };
    Ok(Response::new(Body::from(page)))
}

#[test]
fn a_form_round_trip_through_every_layer() {
    futures_executor::block_on(async {
        let service = ServiceBuilder::new()
            .layer(AllowedHostsLayer::new(["localhost"]))
            .layer(SecurityHeadersLayer::new())
            .layer(SessionLayer::new(MemoryStore::new()).with_secure(false))
            .layer(CsrfLayer::new())
            .service_fn(app);
        let client = TestClient::new(service);

        let form = client.get("/articles/new").send().await;
        assert_eq!(form.header("x-content-type-options"), Some("nosniff"));
        let token = form.text().split('|').nth(1).expect("a token").to_owned();

        let forged = client
            .post("/articles")
            .form(&[("title", "x")])
            .send()
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(forged.header("x-frame-options"), Some("DENY"));

        let saved = client
            .post("/articles")
            .form(&[("title", "x"), ("csrfmiddlewaretoken", token.as_str())])
            .send()
            .await;
        assert_eq!(saved.status(), StatusCode::OK);
        let next = client.get("/articles").send().await.text();
        assert!(next.starts_with("success: Article saved.|"), "{next}");
        let again = client.get("/articles").send().await.text();
        assert!(again.starts_with('|'), "messages are read once: {again}");

        let elsewhere = client.get("/").header("host", "evil.test").send().await;
        assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    });
}
