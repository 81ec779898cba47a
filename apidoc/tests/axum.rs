//! Mounting the docs in an axum application with `nest_service`, as a user
//! who documents their own axum routes would.

mod common;

use futures_executor::block_on;
use http::StatusCode;
use tack_apidoc::DocsService;
use tack_test::TestClient;

#[test]
fn nested_under_api_in_axum() {
    block_on(async {
        let app = axum::Router::new()
            .route("/health", axum::routing::get(|| async { "ok" }))
            .nest_service("/api", DocsService::new(common::handmade()));
        let client = TestClient::new(app);

        let response = client.get("/api/openapi.json").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.json::<serde_json::Value>()["info"]["title"],
            "Handmade API"
        );

        let page = client.get("/api/docs/").send().await;
        assert_eq!(page.status(), StatusCode::OK);
        // The relative link from /api/docs/ reaches /api/openapi.json.
        assert!(page.text().contains("href=\"../openapi.json\""));

        assert_eq!(client.get("/health").send().await.text(), "ok");
        assert_eq!(
            client.get("/api/other").send().await.status(),
            StatusCode::NOT_FOUND
        );
    });
}
