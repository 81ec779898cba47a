//! The session cookie's flags, table-driven.

mod common;

use std::time::Duration;

use tack_sessions::{MemoryStore, SessionLayer};
use tack_test::TestClient;
use tower::Layer;

#[test]
fn cookie_flags_follow_the_configuration() {
    type Configure = fn(SessionLayer<MemoryStore>) -> SessionLayer<MemoryStore>;
    let cases: [(&str, Configure, &[&str], &[&str]); 6] = [
        (
            "defaults",
            |layer| layer,
            &[
                "sessionid=",
                "HttpOnly",
                "SameSite=Lax",
                "Secure",
                "Path=/",
                "Max-Age=1209600",
            ],
            &["Domain"],
        ),
        (
            "insecure for development",
            |layer| layer.with_secure(false),
            &["HttpOnly"],
            &["Secure"],
        ),
        (
            "name, path and domain",
            |layer| {
                layer
                    .with_cookie_name("sid")
                    .with_path("/app")
                    .with_domain("example.com")
            },
            &["sid=", "Path=/app", "Domain=example.com"],
            &[],
        ),
        (
            "__Host- forces Secure, Path=/ and no Domain",
            |layer| {
                layer
                    .with_secure(false)
                    .with_path("/app")
                    .with_domain("example.com")
                    .with_cookie_name("__Host-sid")
            },
            &["__Host-sid=", "Secure", "Path=/"],
            &["Domain", "Path=/app"],
        ),
        (
            "browser session",
            |layer| layer.with_browser_session(true),
            &["HttpOnly"],
            &["Max-Age", "Expires"],
        ),
        (
            "max age",
            |layer| layer.with_max_age(Duration::from_secs(600)),
            &["Max-Age=600"],
            &[],
        ),
    ];
    for (name, configure, present, absent) in cases {
        let layer = configure(SessionLayer::new(MemoryStore::new()));
        let client = TestClient::new(layer.layer(tower::service_fn(common::app)));
        let response = futures_executor::block_on(client.get("/set?k=v").send());
        let cookie = response.header("set-cookie").expect("a cookie is set");
        for flag in present {
            assert!(
                cookie.contains(flag),
                "{name}: {flag} missing from {cookie}"
            );
        }
        for flag in absent {
            assert!(!cookie.contains(flag), "{name}: {flag} present in {cookie}");
        }
    }
}

#[test]
fn a_session_can_choose_its_own_expiry() {
    futures_executor::block_on(async {
        let layer = SessionLayer::new(MemoryStore::new()).with_max_age(Duration::from_secs(600));
        let client = TestClient::new(layer.layer(tower::service_fn(common::app)));
        let cases = [
            ("/remember?yes", Some("Max-Age=2592000")),
            ("/remember?no", None),
            ("/set?k=v", None),
        ];
        for (path, max_age) in cases {
            let response = client.get(path).send().await;
            let cookie = response
                .header("set-cookie")
                .expect("a change sets the cookie");
            match max_age {
                Some(flag) => assert!(cookie.contains(flag), "{path}: {cookie}"),
                None => assert!(!cookie.contains("Max-Age"), "{path}: {cookie}"),
            }
        }
    });
}

#[test]
fn without_always_secure_the_cookie_is_secure_over_https_only() {
    let layer = SessionLayer::new(MemoryStore::new()).with_secure(false);
    let app = layer.layer(tower::service_fn(common::app));
    let cookie_over = |secure: bool| {
        let app = app.clone();
        let client = TestClient::new(
            tower::ServiceBuilder::new()
                .map_request(move |mut request: http::Request<tack_http::Body>| {
                    let peer = "192.0.2.1:40000".parse().unwrap();
                    request
                        .extensions_mut()
                        .insert(tack_http::ClientInfo::direct(peer, secure));
                    request
                })
                .service(app),
        );
        let response = futures_executor::block_on(client.get("/set?k=v").send());
        response
            .header("set-cookie")
            .expect("a cookie is set")
            .to_owned()
    };
    // Plain HTTP: scripted clients (and their cookie jars) get the cookie back.
    assert!(!cookie_over(false).contains("Secure"));
    // HTTPS (here, or at a trusted proxy): Secure.
    assert!(cookie_over(true).contains("Secure"));
}
