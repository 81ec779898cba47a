//! The session layer: saving only when needed, fixation, tampering, expiry,
//! flash messages, store failures.

mod common;

use std::time::Duration;

use http::StatusCode;
use tack_sessions::{
    CookieStore, Error, MemoryStore, Record, SecretKey, SessionLayer, SessionStore, StoreFuture,
};
use tack_test::TestClient;
use tower::Layer;

fn client<St: SessionStore>(
    layer: SessionLayer<St>,
) -> TestClient<
    impl tower::Service<
        http::Request<tack_http::Body>,
        Response = http::Response<tack_http::Body>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone,
> {
    TestClient::new(
        layer
            .with_secure(false)
            .layer(tower::service_fn(common::app)),
    )
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

#[test]
fn nothing_is_saved_or_set_until_the_session_changes() {
    block_on(async {
        let store = MemoryStore::new();
        let client = client(SessionLayer::new(store.clone()));
        let response = client.get("/noop").send().await;
        assert_eq!(response.header("set-cookie"), None);
        let response = client.get("/get?k").send().await;
        assert_eq!(response.header("set-cookie"), None);
        assert_eq!(response.header("vary"), Some("Cookie"));
        assert!(store.is_empty());

        let response = client.get("/set?k=v").send().await;
        assert!(response.header("set-cookie").is_some());
        assert_eq!(store.len(), 1);
        assert_eq!(client.get("/get?k").send().await.text(), "v");

        // Reading an existing session sets no cookie and saves nothing.
        let response = client.get("/get?k").send().await;
        assert_eq!(response.header("set-cookie"), None);
    });
}

#[test]
fn cycle_id_changes_the_id_and_keeps_the_data() {
    block_on(async {
        let store = MemoryStore::new();
        let client = client(SessionLayer::new(store.clone()));
        client.get("/set?cart=3").send().await;
        let before = client.cookie("sessionid").unwrap();
        client.get("/login").send().await;
        let after = client.cookie("sessionid").unwrap();
        assert_ne!(before, after, "login must give the session a new id");
        assert_eq!(
            store.load(&before).await.unwrap(),
            None,
            "the old id must be dead"
        );
        assert_eq!(store.len(), 1);
        assert_eq!(client.get("/get?cart").send().await.text(), "3");
        assert_eq!(client.get("/get?user").send().await.text(), "alice");
    });
}

#[test]
fn an_id_planted_before_login_is_worthless_after() {
    block_on(async {
        let store = MemoryStore::new();
        let attacker = client(SessionLayer::new(store.clone()));
        attacker.get("/set?x=1").send().await;
        let planted = attacker.cookie("sessionid").unwrap();

        let victim = client(SessionLayer::new(store.clone()));
        victim.set_cookie("sessionid", &planted);
        victim.get("/login").send().await;

        assert_eq!(attacker.get("/get?user").send().await.text(), "none");
    });
}

#[test]
fn flush_deletes_the_session_and_the_cookie() {
    block_on(async {
        let store = MemoryStore::new();
        let client = client(SessionLayer::new(store.clone()));
        client.get("/login").send().await;
        let response = client.get("/logout").send().await;
        let removal = response.header("set-cookie").unwrap();
        assert!(removal.starts_with("sessionid=;"), "{removal}");
        assert!(removal.contains("Max-Age=0"), "{removal}");
        assert_eq!(client.cookie("sessionid"), None);
        assert!(store.is_empty());
    });
}

#[test]
fn tampered_or_unknown_cookies_start_a_fresh_session() {
    let cases = [
        "garbage",
        "",
        "a;b",
        "\"quoted\"",
        &"A".repeat(43),
        &"x".repeat(5000),
    ];
    block_on(async {
        for store in ["memory", "cookie"] {
            let stores: (MemoryStore, CookieStore) =
                (MemoryStore::new(), CookieStore::new(SecretKey::from("k")));
            for case in cases {
                let response = if store == "memory" {
                    let client = client(SessionLayer::new(stores.0.clone()));
                    client.set_cookie("sessionid", case);
                    client.get("/get?user").send().await
                } else {
                    let client = client(SessionLayer::new(stores.1.clone()));
                    client.set_cookie("sessionid", case);
                    client.get("/get?user").send().await
                };
                assert_eq!(response.status(), StatusCode::OK, "{store} {case:?}");
                assert_eq!(response.text(), "none", "{store} {case:?}");
            }
        }
    });
}

#[test]
fn a_signed_cookie_changed_by_the_client_is_refused() {
    block_on(async {
        let client = client(SessionLayer::new(CookieStore::new(SecretKey::from("k"))));
        client.get("/set?user=alice").send().await;
        let value = client.cookie("sessionid").unwrap();
        assert_eq!(client.get("/get?user").send().await.text(), "alice");
        // Re-encode the payload with another user but keep the signature.
        let (payload, rest) = value.split_once(':').unwrap();
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let json = String::from_utf8(engine.decode(payload).unwrap()).unwrap();
        let forged = format!("{}:{rest}", engine.encode(json.replace("alice", "admin")));
        client.set_cookie("sessionid", &forged);
        assert_eq!(client.get("/get?user").send().await.text(), "none");
    });
}

#[test]
fn expired_sessions_are_not_loaded() {
    block_on(async {
        let store = MemoryStore::new();
        let layer = SessionLayer::new(store.clone()).with_max_age(Duration::ZERO);
        let client = client(layer);
        client.get("/set?k=v").send().await;
        assert_eq!(client.get("/get?k").send().await.text(), "none");

        let expired = common::record(serde_json::json!({"k": "old"}), -5);
        let key = store.save(&expired).await.unwrap();
        let client = self::client(SessionLayer::new(store.clone()));
        client.set_cookie("sessionid", &key);
        assert_eq!(client.get("/get?k").send().await.text(), "none");
    });
}

#[test]
fn sliding_expiry_renews_sessions_past_half_their_age() {
    block_on(async {
        let store = MemoryStore::new();
        let hour = Duration::from_secs(3600);
        for (sliding, remaining, renewed) in
            [(true, 600, true), (true, 3000, false), (false, 600, false)]
        {
            let saved = common::record(serde_json::json!({"k": "v"}), remaining);
            let key = store.save(&saved).await.unwrap();
            let client = client(
                SessionLayer::new(store.clone())
                    .with_max_age(hour)
                    .with_sliding_expiry(sliding),
            );
            client.set_cookie("sessionid", &key);
            let response = client.get("/get?k").send().await;
            assert_eq!(response.text(), "v");
            assert_eq!(
                response.header("set-cookie").is_some(),
                renewed,
                "{sliding} {remaining}"
            );
            let expires_at = store.load(&key).await.unwrap().unwrap().expires_at;
            assert_eq!(
                expires_at >= common::now_secs() + 3500,
                renewed,
                "{sliding} {remaining}"
            );
        }
    });
}

#[test]
fn flash_messages_are_read_once() {
    block_on(async {
        let client = client(SessionLayer::new(MemoryStore::new()));
        client.get("/flash?Saved").send().await;
        client.get("/flash?Again").send().await;
        assert_eq!(
            client.get("/show").send().await.text(),
            "success:Saved,success:Again"
        );
        assert_eq!(client.get("/show").send().await.text(), "");
    });
}

/// A store whose backend is down.
struct DownStore;

impl SessionStore for DownStore {
    fn load<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async { Err(Error::store("load", "connection refused")) })
    }
    fn save<'a>(&'a self, _: &'a Record) -> StoreFuture<'a, String> {
        Box::pin(async { Err(Error::store("save", "connection refused")) })
    }
    fn delete<'a>(&'a self, _: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(Error::store("delete", "connection refused")) })
    }
    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        Box::pin(async { Err(Error::store("clear expired", "connection refused")) })
    }
}

#[test]
fn store_failures_answer_503_and_an_overflowing_cookie_500() {
    block_on(async {
        let client = client(SessionLayer::new(DownStore));
        assert_eq!(
            client.get("/set?k=v").send().await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        client.set_cookie("sessionid", "anything");
        assert_eq!(
            client.get("/noop").send().await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );

        let small = CookieStore::new(SecretKey::from("k")).with_max_size(100);
        let client = self::client(SessionLayer::new(small));
        let response = client
            .get(&format!("/set?k={}", "x".repeat(200)))
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.header("set-cookie"), None);
    });
}
