//! Two requests on one session at once: last write wins, nothing panics.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use tack_http::Body;
use tack_sessions::{MemoryStore, Session, SessionLayer, SessionStore};
use tokio::sync::Barrier;
use tower::{Layer, ServiceExt};

/// A request for `path` carrying the session cookie `key`.
fn with_session(path: &str, key: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header("cookie", format!("sessionid={key}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_one_session_last_write_wins() {
    let store = MemoryStore::new();
    let seeded = common::record(serde_json::json!({"seed": "1"}), 3600);
    let key = store.save(&seeded).await.unwrap();

    // Both handlers hold a loaded copy of the session before either saves.
    let barrier = Arc::new(Barrier::new(2));
    let app = tower::service_fn(move |request: Request<Body>| {
        let barrier = Arc::clone(&barrier);
        async move {
            let session = request.extensions().get::<Session>().unwrap().clone();
            let name = request.uri().path().trim_start_matches('/').to_owned();
            barrier.wait().await;
            session.insert(&name, "written").unwrap();
            Ok::<_, Infallible>(Response::new(Body::from(name)))
        }
    });
    let service = SessionLayer::new(store.clone()).layer(app);
    let request = |path: &str| with_session(path, &key);
    let a = tokio::spawn(service.clone().oneshot(request("/a")));
    let b = tokio::spawn(service.clone().oneshot(request("/b")));
    let (a, b) = tokio::time::timeout(common::GUARD, async { (a.await, b.await) })
        .await
        .expect("both requests finish");
    assert!(a.unwrap().unwrap().status().is_success());
    assert!(b.unwrap().unwrap().status().is_success());

    let saved = store
        .load(&key)
        .await
        .unwrap()
        .expect("the session survives");
    assert_eq!(saved.data["seed"], "1");
    let written = ["a", "b"]
        .iter()
        .filter(|k| saved.data.contains_key(**k))
        .count();
    assert_eq!(
        written, 1,
        "each request saved its whole copy; the last one won: {saved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_is_not_undone_by_a_request_that_loaded_the_session_before_it() {
    let store = MemoryStore::new();
    let seeded = common::record(serde_json::json!({"user": "7"}), 3600);
    let key = store.save(&seeded).await.unwrap();

    // `/slow` loads the session, waits for `/logout` to finish, then writes.
    let loaded = Arc::new(tokio::sync::Notify::new());
    let logged_out = Arc::new(tokio::sync::Notify::new());
    let signals = (Arc::clone(&loaded), Arc::clone(&logged_out));
    let app = tower::service_fn(move |request: Request<Body>| {
        let (loaded, logged_out) = signals.clone();
        async move {
            let session = request.extensions().get::<Session>().unwrap().clone();
            if request.uri().path() == "/logout" {
                session.flush();
            } else {
                loaded.notify_one();
                logged_out.notified().await;
                session.insert("seen", "yes").unwrap();
            }
            Ok::<_, Infallible>(Response::new(Body::from("done")))
        }
    });
    let service = SessionLayer::new(store.clone()).layer(app);
    let request = |path: &str| with_session(path, &key);
    let slow = tokio::spawn(service.clone().oneshot(request("/slow")));
    loaded.notified().await;
    let logout = service.clone().oneshot(request("/logout")).await.unwrap();
    assert!(logout.status().is_success());
    assert_eq!(store.load(&key).await.unwrap(), None, "signed out");
    logged_out.notify_one();
    let slow = tokio::time::timeout(common::GUARD, slow)
        .await
        .expect("the slow request finishes")
        .unwrap()
        .unwrap();
    assert_eq!(slow.status(), http::StatusCode::BAD_REQUEST);
    assert!(slow.headers().get("set-cookie").is_none());
    assert_eq!(
        store.load(&key).await.unwrap(),
        None,
        "the slow request did not sign the user back in"
    );
}
