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
fn broadcasts_over_the_notify_limit_reach_every_server() {
    let Some(url) =
        tack_test::db::postgres_url("broadcasts_over_the_notify_limit_reach_every_server")
    else {
        return;
    };
    // Two servers starting together both prepare the payload table.
    let channel = channel("large");
    let layers: Vec<PostgresLayer> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| PostgresLayer::connect(&url, &channel).unwrap()))
            .collect();
        starting.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let groups_a = Groups::new(layers[0].clone()).unwrap();
    let groups_b = Groups::new(layers[1].clone()).unwrap();
    let config = WsConfig::default().with_max_message_size(1 << 20);
    let (server_b, events_b) = echo_server(config, groups_b.clone());
    let mut on_b = connect(server_b.addr(), "/ws/articles/pg-big/");
    connected(&events_b);

    // Multi-byte text well past 8000 bytes, binary past it once in base64,
    // and the small one between them keeps its place.
    let text = "é".repeat(6000) + &"x".repeat(100_000);
    let bytes: Vec<u8> = (0..7000u32).map(|i| i as u8).collect();
    groups_a.broadcast("pg-big", text.clone()).unwrap();
    groups_a.broadcast("pg-big", "small").unwrap();
    groups_a.broadcast("pg-big", bytes.clone()).unwrap();
    match on_b.read().unwrap() {
        tungstenite::Message::Text(got) => assert!(got.as_str() == text, "{} bytes", got.len()),
        other => panic!("expected the large text, got {other:?}"),
    }
    match on_b.read().unwrap() {
        tungstenite::Message::Text(got) => assert_eq!(got.as_str(), "small"),
        other => panic!("expected the small text, got {other:?}"),
    }
    match on_b.read().unwrap() {
        tungstenite::Message::Binary(got) => assert_eq!(&got[..], &bytes[..]),
        other => panic!("expected the binary, got {other:?}"),
    }
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
