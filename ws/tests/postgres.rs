//! The PostgreSQL channel layer: a broadcast on one app server reaches the
//! clients of another. Skipped (with a printed line) without TACK_TEST_POSTGRES.
#![cfg(feature = "postgres")]

mod common;

use common::*;
use tack_ws::{Error, Groups, PostgresLayer, WsConfig};

fn channel(test: &str) -> String {
    format!("tack_ws_{test}_{}", std::process::id())
}

#[test]
fn a_broadcast_reaches_clients_of_another_server() {
    let Some(url) = tack_test::db::postgres_url("a_broadcast_reaches_clients_of_another_server")
    else {
        return;
    };
    let channel = channel("two_servers");
    // Two app servers, each with its own layer (two database connections each).
    let groups_a = Groups::new(PostgresLayer::connect(&url, &channel).unwrap()).unwrap();
    let groups_b = Groups::new(PostgresLayer::connect(&url, &channel).unwrap()).unwrap();
    let (server_a, events_a) = echo_server(WsConfig::default(), groups_a.clone());
    let (server_b, events_b) = echo_server(WsConfig::default(), groups_b.clone());
    let mut on_a = connect(server_a.addr(), "/ws/articles/pg-news/");
    connected(&events_a);
    let mut on_b: Vec<Client> = (0..3)
        .map(|_| connect(server_b.addr(), "/ws/articles/pg-news/"))
        .collect();
    for _ in 0..3 {
        connected(&events_b);
    }

    groups_a
        .broadcast_json(
            "pg-news",
            &serde_json::json!({"type": "comment.created", "comment": {"id": 1}}),
        )
        .unwrap();
    groups_b.broadcast("pg-news", vec![1u8, 2, 3]).unwrap();
    // The two servers publish on two connections: their order is not fixed.
    for client in on_b.iter_mut().chain(std::iter::once(&mut on_a)) {
        let mut got = (false, false);
        for _ in 0..2 {
            match client.read().unwrap() {
                tungstenite::Message::Text(text) => {
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(value["comment"]["id"], 1);
                    got.0 = true;
                }
                tungstenite::Message::Binary(bytes) => {
                    assert_eq!(&bytes[..], &[1, 2, 3]);
                    got.1 = true;
                }
                other => panic!("expected a broadcast, got {other:?}"),
            }
        }
        assert_eq!(got, (true, true));
    }
}

#[test]
fn a_payload_over_the_notify_limit_is_a_clear_error() {
    let Some(url) = tack_test::db::postgres_url("a_payload_over_the_notify_limit_is_a_clear_error")
    else {
        return;
    };
    let groups = Groups::new(PostgresLayer::connect(&url, &channel("limit")).unwrap()).unwrap();
    let error = groups.broadcast("pg-news", "x".repeat(8000)).unwrap_err();
    assert!(
        matches!(error, Error::PayloadTooLarge { size, limit: 7999, .. } if size > 8000),
        "{error}"
    );
    assert!(error.to_string().contains("pg-news"), "{error}");
    groups
        .broadcast("pg-news", "x".repeat(7900))
        .expect("just under the limit is sent");
}

#[test]
fn an_unreachable_server_is_reported() {
    let error =
        PostgresLayer::connect("postgres://nobody:secret@127.0.0.1:1/none", "tack_ws").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("127.0.0.1:1") && !message.contains("secret"),
        "{message}"
    );
}

#[test]
fn a_bad_channel_name_is_refused_before_connecting() {
    let error = PostgresLayer::connect("postgres://127.0.0.1:1/none", &"c".repeat(64)).unwrap_err();
    assert!(matches!(error, Error::InvalidName { .. }), "{error}");
}
