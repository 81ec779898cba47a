//! Shared by the behaviour tests: the store conformance suite and a small app.
#![allow(dead_code)]

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Request, Response};
use serde_json::{Map, Value, json};
use tack_http::Body;
use tack_sessions::{Expiry, Messages, Record, Session, SessionId, SessionStore};

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn record(data: Value, expires_in_secs: i64) -> Record {
    let Value::Object(data) = data else {
        panic!("test data must be an object")
    };
    Record {
        id: SessionId::generate(),
        data,
        expires_at: now_secs().saturating_add_signed(expires_in_secs),
    }
}

/// One check of the store conformance suite.
pub async fn round_trip<S: SessionStore>(store: &S) {
    let saved = record(
        json!({"user": 42, "name": "Zoë", "cart": [1, {"q": 2}]}),
        3600,
    );
    let key = store.save(&saved).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), Some(saved));
}

pub async fn unknown_values_load_nothing<S: SessionStore>(store: &S) {
    for value in [
        "",
        "nope",
        SessionId::generate().as_str(),
        "a:b:c",
        "\u{1F600}",
    ] {
        assert_eq!(store.load(value).await.unwrap(), None, "{value:?}");
    }
}

pub async fn save_replaces<S: SessionStore>(store: &S) {
    let mut saved = record(json!({"n": 1}), 3600);
    store.save(&saved).await.unwrap();
    saved.data = Map::from_iter([("n".to_owned(), json!(2))]);
    let key = store.save(&saved).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap().unwrap().data["n"], 2);
}

pub async fn tampered_values_load_nothing<S: SessionStore>(store: &S) {
    let key = store
        .save(&record(json!({"admin": false}), 3600))
        .await
        .unwrap();
    let mut tampered = key.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(store.load(&tampered).await.unwrap(), None);
    assert_eq!(store.load(&format!("{key}x")).await.unwrap(), None);
}

pub async fn expired_sessions_load_nothing<S: SessionStore>(store: &S) {
    let key = store.save(&record(json!({"k": 1}), -1)).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
}

/// For stores that keep sessions on the server.
pub async fn delete_forgets<S: SessionStore>(store: &S) {
    let key = store.save(&record(json!({"k": 1}), 3600)).await.unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.load(&key).await.unwrap(), None);
    store.delete("never-existed").await.unwrap();
}

/// For stores that keep sessions on the server: `update` changes a live
/// session and never brings back a deleted one.
pub async fn update_never_recreates<S: SessionStore>(store: &S) {
    let mut first = record(json!({"k": 1}), 3600);
    let key = store.save(&first).await.unwrap();
    first.data.insert("k".into(), json!(2));
    assert_eq!(store.update(&first).await.unwrap(), Some(key.clone()));
    assert_eq!(store.load(&key).await.unwrap().unwrap().data["k"], 2);
    store.delete(&key).await.unwrap();
    assert_eq!(store.update(&first).await.unwrap(), None);
    assert_eq!(store.load(&key).await.unwrap(), None, "not recreated");
}

/// For stores that keep sessions on the server.
pub async fn clear_expired_removes_only_expired<S: SessionStore>(store: &S) {
    let live = store
        .save(&record(json!({"k": "live"}), 3600))
        .await
        .unwrap();
    store.save(&record(json!({"k": "old"}), -10)).await.unwrap();
    store
        .save(&record(json!({"k": "older"}), -1000))
        .await
        .unwrap();
    assert_eq!(store.clear_expired().await.unwrap(), 2);
    assert_eq!(store.clear_expired().await.unwrap(), 0);
    assert!(store.load(&live).await.unwrap().is_some());
}

/// Generates the conformance tests for one store: `$store` is an
/// `Option` (`None` skips, as for PostgreSQL without a server), and
/// `server_side` stores also run the delete and clear-expired checks.
#[macro_export]
macro_rules! store_conformance {
    ($name:ident, $store:expr, server_side = $server:tt) => {
        mod $name {
            use super::*;

            fn run<F: std::future::Future<Output = ()>>(check: impl FnOnce() -> F) {
                futures_executor::block_on(check());
            }

            #[test]
            fn round_trip() {
                let Some(store) = $store else { return };
                run(|| common::round_trip(&store));
            }

            #[test]
            fn unknown_values_load_nothing() {
                let Some(store) = $store else { return };
                run(|| common::unknown_values_load_nothing(&store));
            }

            #[test]
            fn save_replaces() {
                let Some(store) = $store else { return };
                run(|| common::save_replaces(&store));
            }

            #[test]
            fn tampered_values_load_nothing() {
                let Some(store) = $store else { return };
                run(|| common::tampered_values_load_nothing(&store));
            }

            #[test]
            fn expired_sessions_load_nothing() {
                let Some(store) = $store else { return };
                run(|| common::expired_sessions_load_nothing(&store));
            }

            $crate::store_conformance!(@server $server, $store);
        }
    };
    (@server true, $store:expr) => {
        #[test]
        fn delete_forgets() {
            let Some(store) = $store else { return };
            run(|| common::delete_forgets(&store));
        }

        #[test]
        fn update_never_recreates() {
            let Some(store) = $store else { return };
            run(|| common::update_never_recreates(&store));
        }

        #[test]
        fn clear_expired_removes_only_expired() {
            let Some(store) = $store else { return };
            run(|| common::clear_expired_removes_only_expired(&store));
        }
    };
    (@server false, $store:expr) => {};
}

fn query_pair(request: &Request<Body>) -> (String, String) {
    let query = request.uri().query().unwrap_or("");
    let (k, v) = query.split_once('=').unwrap_or((query, ""));
    (k.to_owned(), v.to_owned())
}

/// A small app: `/set?k=v`, `/get?k`, `/login`, `/remember?yes|no`,
/// `/logout`, `/flash?text`, `/show`, `/noop`.
pub async fn app(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let session = request
        .extensions()
        .get::<Session>()
        .expect("session layer")
        .clone();
    let messages = request
        .extensions()
        .get::<Messages>()
        .expect("session layer")
        .clone();
    let (key, value) = query_pair(&request);
    let text = match request.uri().path() {
        "/set" => {
            session.insert(&key, &value).unwrap();
            "ok".to_owned()
        }
        "/get" => session
            .get::<String>(&key)
            .unwrap()
            .unwrap_or_else(|| "none".to_owned()),
        "/login" => {
            session.insert("user", "alice").unwrap();
            session.cycle_id();
            "logged in".to_owned()
        }
        "/remember" => {
            let expiry = if key == "yes" {
                Expiry::MaxAge(Duration::from_secs(30 * 24 * 3600))
            } else {
                Expiry::OnBrowserClose
            };
            session.set_expiry(Some(expiry));
            session.insert("user", "alice").unwrap();
            "remembered".to_owned()
        }
        "/logout" => {
            session.flush();
            "logged out".to_owned()
        }
        "/flash" => {
            messages.success(key).unwrap();
            "flashed".to_owned()
        }
        "/show" => messages
            .take()
            .unwrap()
            .iter()
            .map(|m| format!("{}:{}", m.level, m.text))
            .collect::<Vec<_>>()
            .join(","),
        _ => "noop".to_owned(),
    };
    Ok(Response::new(Body::from(text)))
}

/// A bounded guard for waits in tests (never a sleep to wait for something).
pub const GUARD: Duration = Duration::from_secs(10);
