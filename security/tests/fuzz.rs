//! Random tokens, cookies and hosts: no panic, no token accepted by chance.

mod common;

use http::StatusCode;
use proptest::prelude::*;
use tack_security::{AllowedHostsLayer, CsrfLayer};
use tack_test::TestClient;
use tower::Layer;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_tokens_and_cookies_are_refused(
        cookie in "[ -~]{0,120}",
        token in "[A-Za-z0-9]{64}|[A-Za-z0-9]{32}|[ -~]{0,80}",
        form in any::<bool>(),
    ) {
        let client = TestClient::new(CsrfLayer::new().layer(tower::service_fn(common::app)));
        // A real secret in the jar: a random token must still not match it.
        futures_executor::block_on(client.get("/form").send());
        let mut request = client.post("/").header("cookie", &cookie);
        request = if form {
            request.form(&[("csrfmiddlewaretoken", token.as_str())])
        } else {
            match http::HeaderValue::from_str(&token) {
                Ok(_) => request.header("x-csrftoken", &token),
                Err(_) => request,
            }
        };
        let response = futures_executor::block_on(request.send());
        prop_assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn random_hosts_never_panic(host in "\\PC{0,40}") {
        let layer = AllowedHostsLayer::new(["example.com", ".example.org", "[::1]:8000"]);
        let allowed = layer.is_allowed(&host);
        if allowed {
            let lower = host.to_ascii_lowercase();
            prop_assert!(lower.contains("example") || lower.contains("::1"), "{}", host);
        }
    }
}
