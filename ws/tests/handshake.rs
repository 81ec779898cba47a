//! The opening handshake: validation table in process, origin and
//! subprotocols over a real socket.

mod common;

use common::*;
use http::StatusCode;
use tack_test::TestClient;
use tack_ws::{Groups, WsConfig};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

#[tokio::test]
async fn validation_table() {
    let (events, _received) = std::sync::mpsc::channel();
    let groups = Groups::in_memory();
    let endpoint = endpoint(
        move || Echo {
            events: events.clone(),
            groups: groups.clone(),
        },
        WsConfig::default(),
    );
    let client = TestClient::new(endpoint);

    let good: &[(&str, &str)] = &[
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", KEY),
    ];
    struct Case {
        case: &'static str,
        method: &'static str,
        drop: Option<&'static str>,
        set: Option<(&'static str, &'static str)>,
        status: StatusCode,
        words: &'static str,
    }
    let case = |case, method, drop, set, status, words| Case {
        case,
        method,
        drop,
        set,
        status,
        words,
    };
    let cases = [
        case(
            "wrong method",
            "POST",
            None,
            None,
            StatusCode::BAD_REQUEST,
            "must use GET",
        ),
        case(
            "missing upgrade",
            "GET",
            Some("upgrade"),
            None,
            StatusCode::BAD_REQUEST,
            "Upgrade header",
        ),
        case(
            "upgrade to h2c",
            "GET",
            Some("upgrade"),
            Some(("upgrade", "h2c")),
            StatusCode::BAD_REQUEST,
            "websocket",
        ),
        case(
            "missing connection",
            "GET",
            Some("connection"),
            None,
            StatusCode::BAD_REQUEST,
            "Connection header",
        ),
        case(
            "missing version",
            "GET",
            Some("sec-websocket-version"),
            None,
            StatusCode::BAD_REQUEST,
            "missing",
        ),
        case(
            "wrong version",
            "GET",
            Some("sec-websocket-version"),
            Some(("sec-websocket-version", "8")),
            StatusCode::BAD_REQUEST,
            "use 13",
        ),
        case(
            "missing key",
            "GET",
            Some("sec-websocket-key"),
            None,
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key",
        ),
        case(
            "short key",
            "GET",
            Some("sec-websocket-key"),
            Some(("sec-websocket-key", "c2hvcnQ=")),
            StatusCode::BAD_REQUEST,
            "16 bytes",
        ),
        case(
            "foreign origin",
            "GET",
            None,
            Some(("origin", "https://evil.example")),
            StatusCode::FORBIDDEN,
            "https://evil.example",
        ),
        // A valid handshake that no hyper server carries cannot be upgraded.
        case(
            "no upgrade handle",
            "GET",
            None,
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            "with_upgrades",
        ),
    ];
    for c in &cases {
        let (case, method, drop, set, status, words) =
            (c.case, c.method, c.drop, c.set, c.status, c.words);
        let mut request = client.request(method.parse().unwrap(), "/ws/articles/hello/");
        for (name, value) in good.iter().filter(|(name, _)| Some(*name) != drop) {
            request = request.header(name, value);
        }
        if let Some((name, value)) = set {
            request = request.header(name, value);
        }
        let response = request.send().await;
        assert_eq!(response.status(), status, "{case}: {}", response.text());
        assert_eq!(
            response.content_type(),
            Some(tack_http::PROBLEM_JSON),
            "{case}"
        );
        let problem: tack_http::Problem = response.json();
        let detail = problem.detail.unwrap_or_default();
        assert!(
            detail.contains(words),
            "{case}: {detail:?} should mention {words:?}"
        );
        if case == "wrong version" {
            assert_eq!(response.header("sec-websocket-version"), Some("13"));
        }
    }
}

#[test]
fn foreign_origin_is_refused_before_the_upgrade() {
    let (server, events) = echo_server(WsConfig::default(), Groups::in_memory());
    let host = server.addr().to_string();

    let error = try_connect(
        server.addr(),
        "/ws/articles/hello/",
        &[("origin", "https://evil.example")],
    )
    .map(drop)
    .expect_err("a foreign origin is refused");
    match error {
        tungstenite::Error::Http(response) => assert_eq!(response.status(), StatusCode::FORBIDDEN),
        other => panic!("expected a 403 answer, got {other}"),
    }
    assert!(events.try_recv().is_err(), "the consumer never ran");

    // The right host with the wrong scheme: this server speaks plain http.
    let error = try_connect(
        server.addr(),
        "/ws/articles/hello/",
        &[("origin", &format!("https://{host}"))],
    )
    .map(drop)
    .expect_err("an https origin on an http site is refused");
    assert!(
        matches!(&error, tungstenite::Error::Http(response) if response.status() == StatusCode::FORBIDDEN),
        "{error}"
    );

    // Same origin passes.
    let _client = try_connect(
        server.addr(),
        "/ws/articles/hello/",
        &[("origin", &format!("http://{host}"))],
    )
    .expect("a same-origin browser is accepted");
    connected(&events);
}

#[test]
fn allowed_origins_and_subprotocols() {
    let config = WsConfig::default()
        .with_allowed_origin("https://news.example")
        .with_protocol("news.v2")
        .with_protocol("news.v1");
    let (server, events) = echo_server(config, Groups::in_memory());
    let headers = [
        ("origin", "https://news.example"),
        ("sec-websocket-protocol", "news.v1, news.v2"),
    ];
    let mut client =
        try_connect(server.addr(), "/ws/articles/hello/", &headers).expect("an allowed origin");
    connected(&events);
    client.send(tungstenite::Message::text("ping")).unwrap();
    assert_eq!(read_text(&mut client), "ping");
    let refused = try_connect(
        server.addr(),
        "/ws/articles/hello/",
        &[("origin", "https://other.example")],
    );
    assert!(
        matches!(refused, Err(tungstenite::Error::Http(response)) if response.status() == StatusCode::FORBIDDEN)
    );
}

#[test]
fn a_consumer_can_refuse_the_connection() {
    let (server, events) = echo_server(WsConfig::default(), Groups::in_memory());
    let refused = try_connect(server.addr(), "/ws/articles/forbidden/", &[]);
    match refused {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            let body = response.body().as_deref().unwrap_or_default();
            assert!(String::from_utf8_lossy(body).contains("private"));
        }
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
    assert!(events.try_recv().is_err());
}
