//! With the `sessions` feature, the CSRF secret lives in the session.
#![cfg(feature = "sessions")]

mod common;

use http::StatusCode;
use tack_security::{CsrfLayer, SESSION_KEY};
use tack_sessions::{MemoryStore, SessionLayer, SessionStore};
use tack_test::TestClient;
use tower::ServiceBuilder;

#[test]
fn the_secret_is_kept_in_the_session_and_no_csrf_cookie_is_set() {
    futures_executor::block_on(async {
        let store = MemoryStore::new();
        let service = ServiceBuilder::new()
            .layer(SessionLayer::new(store.clone()).with_secure(false))
            .layer(CsrfLayer::new())
            .service_fn(common::app);
        let client = TestClient::new(service);
        let masked = client.get("/form").send().await.text();
        assert_eq!(client.cookie("csrftoken"), None);
        let session_id = client
            .cookie("sessionid")
            .expect("the secret made the session");
        let record = store.load(&session_id).await.unwrap().unwrap();
        assert!(record.data[SESSION_KEY].as_str().unwrap().len() == 32);

        let accepted = client.post("/").header("x-csrftoken", &masked).send().await;
        assert_eq!(accepted.status(), StatusCode::OK);
        client.clear_cookies();
        let refused = client.post("/").header("x-csrftoken", &masked).send().await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().contains("CSRF"));
    });
}
