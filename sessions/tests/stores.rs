//! Every store passes the same conformance suite.

mod common;

use tack_sessions::{CookieStore, Error, MemoryStore, SecretKey, SessionStore};

store_conformance!(memory, Some(MemoryStore::new()), server_side = true);
store_conformance!(
    signed_cookie,
    Some(CookieStore::new(SecretKey::from("conformance key"))),
    server_side = false
);

#[test]
fn cookie_store_refuses_oversized_sessions_with_a_clear_error() {
    let store = CookieStore::new(SecretKey::from("k")).with_max_size(200);
    let big = common::record(serde_json::json!({"blob": "x".repeat(500)}), 3600);
    let error = futures_executor::block_on(store.save(&big)).unwrap_err();
    assert!(matches!(error, Error::CookieTooLarge { limit: 200, .. }));
    assert!(error.to_string().contains("server-side store"), "{error}");
}

#[test]
fn cookie_store_accepts_rotated_keys_only_with_fallback() {
    let old = CookieStore::new(SecretKey::from("old"));
    let saved = common::record(serde_json::json!({"k": 1}), 3600);
    let value = futures_executor::block_on(old.save(&saved)).unwrap();
    let rotated = CookieStore::new(SecretKey::from("new"));
    assert_eq!(
        futures_executor::block_on(rotated.load(&value)).unwrap(),
        None
    );
    let with_fallback = rotated.with_fallback_keys([SecretKey::from("old")]);
    assert_eq!(
        futures_executor::block_on(with_fallback.load(&value)).unwrap(),
        Some(saved)
    );
}

#[test]
fn memory_store_clones_share_sessions() {
    let store = MemoryStore::new();
    let clone = store.clone();
    futures_executor::block_on(store.save(&common::record(serde_json::json!({"k": 1}), 60)))
        .unwrap();
    assert_eq!(clone.len(), 1);
}
