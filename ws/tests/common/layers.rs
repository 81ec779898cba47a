//! What every channel layer does, run on each of them: two app servers,
//! each with its own layer instance (and so its own connections to the
//! layer's server), each with real websocket clients.

use tack_ws::{Groups, WsConfig};

use super::*;

/// A broadcast from either server reaches the group's clients on both,
/// text and binary, and no one outside the group.
pub fn broadcasts_reach_clients_of_both_servers(groups_a: Groups, groups_b: Groups) {
    let (server_a, events_a) = echo_server(WsConfig::default(), groups_a.clone());
    let (server_b, events_b) = echo_server(WsConfig::default(), groups_b.clone());
    let mut on_a = connect(server_a.addr(), "/ws/articles/news/");
    connected(&events_a);
    let mut on_b: Vec<Client> = (0..3)
        .map(|_| connect(server_b.addr(), "/ws/articles/news/"))
        .collect();
    let mut outsider = connect(server_b.addr(), "/ws/articles/sport/");
    for _ in 0..4 {
        connected(&events_b);
    }

    groups_a
        .broadcast_json(
            "news",
            &serde_json::json!({"type": "comment.created", "comment": {"id": 1}}),
        )
        .unwrap();
    groups_b.broadcast("news", vec![1u8, 2, 3]).unwrap();
    groups_a.broadcast("sport", "for the outsider").unwrap();
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
    assert_eq!(read_text(&mut outsider), "for the outsider");
}

/// Broadcasts far past any single-packet limit arrive whole, in the order
/// one server sent them, with small ones between them.
pub fn large_broadcasts_arrive_whole_and_in_order(groups_a: Groups, groups_b: Groups) {
    let config = WsConfig::default().with_max_message_size(1 << 20);
    let (server_b, events_b) = echo_server(config, groups_b.clone());
    let mut on_b = connect(server_b.addr(), "/ws/articles/big/");
    connected(&events_b);

    // Multi-byte text well past 8000 bytes, binary past it once in base64,
    // and the small one between them keeps its place.
    let text = "é".repeat(6000) + &"x".repeat(100_000);
    let bytes: Vec<u8> = (0..7000u32).map(|i| i as u8).collect();
    groups_a.broadcast("big", text.clone()).unwrap();
    groups_a.broadcast("big", "small").unwrap();
    groups_a.broadcast("big", bytes.clone()).unwrap();
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

/// A flush returns once the broadcasts made before it have left: a server
/// that flushes and then drops its layer loses none of them.
pub fn a_flush_sends_everything_before_the_layer_goes(groups_a: Groups, groups_b: Groups) {
    let (server_b, events_b) = echo_server(WsConfig::default(), groups_b.clone());
    let mut on_b = connect(server_b.addr(), "/ws/articles/last/");
    connected(&events_b);
    for n in 0..200 {
        groups_a.broadcast("last", format!("{n}")).unwrap();
    }
    groups_a.flush(GUARD).unwrap();
    drop(groups_a);
    for n in 0..200 {
        assert_eq!(read_text(&mut on_b), format!("{n}"));
    }
}
