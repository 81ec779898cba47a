//! The controller nested in an axum router with `nest_service`.

mod common;

use common::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn nested_in_axum(db: tack_orm::Database) {
    let s = seed(&db);
    let app: axum::Router = axum::Router::new().nest_service("/api/articles", articles(&db));
    let send = |method: &str, path: &str, body: Option<Value>| {
        let app = app.clone();
        let mut request = http::Request::builder().method(method).uri(path);
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                axum::body::Body::from(json.to_string())
            }
            None => axum::body::Body::empty(),
        };
        let request = request.body(body).unwrap();
        async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, page) = send("GET", "/api/articles/?status=published", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["next"], "/api/articles/?status=published&page=2");
    let body = json!({"title": "Via axum", "slug": "axum", "author": s.bob.id});
    let (status, created) = send("POST", "/api/articles/", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/api/articles/{}/", created["id"]);
    assert_eq!(send("GET", &path, None).await.0, 200);
    assert_eq!(send("DELETE", &path, None).await.0, 204);
    assert_eq!(send("GET", &path, None).await.0, 404);
}

on_both_databases!(nested_in_axum);
