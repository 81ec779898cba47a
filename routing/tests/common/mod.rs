//! Helpers shared by the behaviour tests.

#![allow(dead_code)]

use http::Request;
use tack_http::Body;
use tack_routing::{PathParams, Router};
use tack_test::{TestClient, TestResponse};

/// A handler answering the route's pattern and its parameters:
/// `/users/{id:int}/ id=7`.
pub async fn echo(request: Request<Body>) -> String {
    let params = request
        .extensions()
        .get::<PathParams>()
        .cloned()
        .unwrap_or_default();
    let mut text = params.pattern().unwrap_or("?").to_owned();
    for (name, value) in params.iter() {
        text.push_str(&format!(" {name}={value}"));
    }
    text
}

/// Runs a future to completion on this thread.
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// GET `path` through `router`.
pub fn get(router: &Router, path: &str) -> TestResponse {
    let client = TestClient::new(router.clone());
    run(client.get(path).send())
}
