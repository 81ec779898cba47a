//! Property test: any header values give a clean answer (101, 400 or 403),
//! and only a valid request is accepted.

use http::{Request, StatusCode};
use proptest::prelude::*;
use tack_ws::WsConfig;
use tack_ws::handshake::{handshake, handshake_error_response};

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("websocket".to_owned()),
        Just("keep-alive, Upgrade".to_owned()),
        Just("13".to_owned()),
        Just("dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
        "[ -~]{0,40}",
    ]
}

proptest! {
    #[test]
    fn any_headers_get_a_clean_answer(
        post in any::<bool>(),
        upgrade in header_value(),
        connection in header_value(),
        version in header_value(),
        key in header_value(),
        origin in proptest::option::of(header_value()),
    ) {
        let mut request = Request::builder()
            .method(if post { "POST" } else { "GET" })
            .uri("/ws/")
            .header("host", "news.example")
            .header("upgrade", upgrade.as_str())
            .header("connection", connection.as_str())
            .header("sec-websocket-version", version.as_str())
            .header("sec-websocket-key", key.as_str());
        if let Some(origin) = &origin {
            request = request.header("origin", origin.as_str());
        }
        let request = request.body(()).unwrap();
        // Valid with the known key (another 24-character key may be valid too).
        let valid = !post
            && upgrade.split(',').any(|t| t.trim().eq_ignore_ascii_case("websocket"))
            && connection.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            && version == "13"
            && key == "dGhlIHNhbXBsZSBub25jZQ==";
        match handshake(&request, &WsConfig::default()) {
            Ok(accepted) => {
                prop_assert_eq!(accepted.response.status(), StatusCode::SWITCHING_PROTOCOLS);
                prop_assert!(!post && version == "13");
                if !valid {
                    // Another 24-character key can be valid base64 of 16 bytes.
                    prop_assert_eq!(key.len(), 24);
                }
            }
            Err(error) => {
                // The request came over plain HTTP: only an `http` origin is its own.
                let same_origin = origin.as_deref().is_none_or(|o| o.eq_ignore_ascii_case("http://news.example"));
                prop_assert!(!valid || !same_origin, "a valid request was refused: {}", error);
                let status = handshake_error_response(error).status();
                prop_assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN);
            }
        }
    }
}
