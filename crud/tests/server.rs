//! End to end over a real loopback socket: the controller mounted under
//! `/api/articles` in a tack-routing router, served by hyper.

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::*;
use http::Request;
use serde_json::{Value, json};
use tack_routing::Router;

/// One request on a fresh connection: (status, headers, body).
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, http::HeaderMap, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    let bytes = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Bytes::from(json.to_string())
        }
        None => Bytes::new(),
    };
    let response = tack_test::send(addr, request.body(bytes).unwrap()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, json)
}

async fn over_a_socket(db: tack_orm::Database) {
    let s = tokio::task::spawn_blocking({
        let db = db.clone();
        move || seed(&db)
    })
    .await
    .unwrap();
    let router = Router::new().nest_service("/api/articles", articles(&db));
    let server = tack_test::serve(router);
    let addr = server.addr();

    let (status, headers, page) = send(addr, "GET", "/api/articles/?status=published", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(page["count"], 4);
    // Links carry the public prefix although the service saw the path without it.
    assert_eq!(page["next"], "/api/articles/?status=published&page=2");
    let (status, _, next) = send(addr, "GET", page["next"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    assert_eq!(next["previous"], "/api/articles/?status=published");

    let body =
        json!({"title": "Over the wire", "slug": "wire", "author": s.ada.id, "tags": [s.rust.id]});
    let (status, headers, created) = send(addr, "POST", "/api/articles/", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let location = headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/articles/{}/", created["id"]));
    let (status, _, fetched) = send(addr, "GET", &location, None).await;
    assert_eq!((status, &fetched), (200, &created));
    let (status, _, problem) = send(addr, "PATCH", &location, Some(json!({"title": ""}))).await;
    assert_eq!(status, 422);
    assert!(problem["errors"]["title"].is_array());
    let (status, headers, _) = send(addr, "POST", &location, Some(json!({}))).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, HEAD, PUT, PATCH, DELETE");
    let (status, _, _) = send(addr, "DELETE", &location, None).await;
    assert_eq!(status, 204);
    let (status, headers, _) = send(addr, "GET", &location, None).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
}

/// Opens the database at `url` with the tables, and runs `test` on a tokio
/// runtime of its own: the server needs one. The synchronous PostgreSQL
/// client opens here, on the test's plain thread.
fn on_tokio<F: Future<Output = ()>>(url: &str, test: impl FnOnce(tack_orm::Database) -> F) {
    let db = tack_orm::Database::connect(url).expect("connect");
    db.create_tables(&all_models()).expect("create tables");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the server");
    runtime.block_on(test(db));
}

tack_test::on_both_databases!(crate::on_tokio; over_a_socket);
