//! Random cookie headers and signed values: no panic, no forged signature.

mod common;

use proptest::prelude::*;
use tack_sessions::signing::{SecretKey, Signer, TimestampSigner};
use tack_sessions::{CookieStore, MemoryStore, SessionLayer};
use tack_test::TestClient;
use tower::Layer;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_cookie_headers_never_break_the_layer(header in "[ -~]{0,300}") {
        let memory = TestClient::new(SessionLayer::new(MemoryStore::new()).layer(tower::service_fn(common::app)));
        let signed = TestClient::new(
            SessionLayer::new(CookieStore::new(SecretKey::from("k"))).layer(tower::service_fn(common::app)),
        );
        for response in [
            futures_executor::block_on(memory.get("/get?user").header("cookie", &header).send()),
            futures_executor::block_on(signed.get("/get?user").header("cookie", &header).send()),
        ] {
            prop_assert_eq!(response.status(), http::StatusCode::OK);
            prop_assert_eq!(response.text(), "none");
        }
    }

    #[test]
    fn random_signed_values_never_verify(value in "\\PC{0,80}", signature in "[A-Za-z0-9_-]{0,60}") {
        let signer = Signer::new(SecretKey::from("k"));
        let forged = format!("{value}:{signature}");
        prop_assert!(signer.unsign(&forged).is_err());
        let timed = TimestampSigner::new(SecretKey::from("k"));
        prop_assert!(timed.unsign(&forged, None).is_err());
        prop_assert!(timed.unsign_json::<serde_json::Value>(&forged, None).is_err());
    }

    #[test]
    fn flipping_any_byte_breaks_a_signature(value in "[ -~]{0,40}", index in any::<prop::sample::Index>()) {
        let signer = Signer::new(SecretKey::from("k"));
        let signed = signer.sign(&value);
        let mut bytes = signed.clone().into_bytes();
        let at = index.index(bytes.len());
        bytes[at] ^= 0x01;
        if let Ok(changed) = String::from_utf8(bytes) {
            prop_assert!(signer.unsign(&changed).is_err() || changed == signed, "{changed}");
        }
    }
}
