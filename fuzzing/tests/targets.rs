//! Every fuzz target, driven by proptest for a bounded number of cases:
//! random bytes, and bytes shaped like each target's input.

use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

#[test]
fn the_targets_reach_what_they_test() {
    use http::StatusCode;
    assert_eq!(tack_fuzz::route_path(b"/users/7/"), Some(StatusCode::OK));
    assert_eq!(
        tack_fuzz::route_path(b"/users/x/"),
        Some(StatusCode::NOT_FOUND)
    );
    assert_eq!(tack_fuzz::route_path(b"\x00"), None);
    let created =
        tack_fuzz::json_body(br#"{"title": "a", "count": 1, "done": false, "due": null}"#);
    assert_eq!(created, StatusCode::CREATED);
    assert_eq!(tack_fuzz::json_body(b"{"), StatusCode::BAD_REQUEST);
    let rendered = tack_fuzz::template_filters(b"2026-01-02");
    assert!(
        rendered >= tack_fuzz::FILTER_EXPRESSIONS.len() / 2,
        "{rendered}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn route_path(data in bytes(), path in "/[a-z0-9%/._~{}*-]{0,40}(\\?[a-z=&%]{0,10})?") {
        tack_fuzz::route_path(&data);
        tack_fuzz::route_path(path.as_bytes());
    }

    #[test]
    fn cookie_header(data in bytes(), cookie in "(sessionid=[ -~]{0,80}; ?){0,3}") {
        tack_fuzz::cookie_header(&data);
        tack_fuzz::cookie_header(cookie.as_bytes());
    }

    #[test]
    fn signed_value(data in bytes(), text in "[ -~]{0,40}:[A-Za-z0-9_-]{0,43}") {
        tack_fuzz::signed_value(&data);
        tack_fuzz::signed_value(text.as_bytes());
    }

    #[test]
    fn urlencoded_form(data in bytes(), form in "([a-z%+=&]{0,6}=[a-zA-Z0-9%+&=]{0,8}&?){0,5}") {
        tack_fuzz::urlencoded_form(&data);
        tack_fuzz::urlencoded_form(form.as_bytes());
    }

    #[test]
    fn multipart_body(
        data in bytes(),
        parts in proptest::collection::vec(("[a-z\"; =]{0,12}", "[ -~\r\n]{0,40}"), 0..4),
        end in prop_oneof![Just("--fuzzboundary--\r\n"), Just(""), Just("--fuzzboundary")],
    ) {
        tack_fuzz::multipart_body(&data);
        let mut body = String::new();
        for (disposition, value) in parts {
            body.push_str(&format!(
                "--fuzzboundary\r\nContent-Disposition: form-data; name={disposition}\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(end);
        tack_fuzz::multipart_body(body.as_bytes());
    }

    #[test]
    fn json_body(
        data in bytes(),
        title in prop_oneof![Just(serde_json::json!("ok")), any::<i64>().prop_map(serde_json::Value::from), "\\PC{0,60}".prop_map(serde_json::Value::from)],
        count in prop_oneof![any::<i64>().prop_map(serde_json::Value::from), any::<f64>().prop_map(serde_json::Value::from), Just(serde_json::Value::Null)],
        due in prop_oneof![Just(serde_json::Value::Null), "[0-9T:.Z+-]{0,30}".prop_map(serde_json::Value::from)],
    ) {
        tack_fuzz::json_body(&data);
        let body = serde_json::json!({"title": title, "count": count, "done": true, "due": due});
        tack_fuzz::json_body(body.to_string().as_bytes());
    }

    #[test]
    fn template_filters(data in bytes(), text in "[0-9a-zA-Z :/.,<>&@-]{0,40}") {
        tack_fuzz::template_filters(&data);
        tack_fuzz::template_filters(text.as_bytes());
    }
}
