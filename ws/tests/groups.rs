//! Group broadcasts to many real clients, and slow clients dropped.

mod common;

use std::sync::mpsc::channel;

use common::*;
use tack_ws::{CloseCode, Groups, WsConfig};

#[test]
fn broadcast_reaches_every_member_and_no_one_else() {
    let groups = Groups::in_memory();
    let (server, events) = echo_server(WsConfig::default(), groups.clone());
    let mut members: Vec<Client> = (0..50)
        .map(|_| connect(server.addr(), "/ws/articles/hello/"))
        .collect();
    let mut outsider = connect(server.addr(), "/ws/articles/other/");
    for _ in 0..51 {
        connected(&events);
    }
    assert_eq!(groups.local_len("hello"), 50);

    for n in 0..3 {
        groups
            .broadcast_json(
                "hello",
                &serde_json::json!({"type": "comment.created", "n": n}),
            )
            .unwrap();
    }
    groups.broadcast("other", "for the outsider").unwrap();
    for client in &mut members {
        for n in 0..3 {
            let value: serde_json::Value = serde_json::from_str(&read_text(client)).unwrap();
            assert_eq!(value["n"], n, "messages arrive in order");
        }
    }
    assert_eq!(read_text(&mut outsider), "for the outsider");

    // Members that leave stop counting.
    for client in members.drain(..10) {
        drop(client);
    }
    for _ in 0..10 {
        assert!(matches!(next_event(&events), Event::Disconnected(..)));
    }
    assert_eq!(groups.local_len("hello"), 40);
}

#[test]
fn a_slow_client_is_dropped_and_the_others_keep_up() {
    let groups = Groups::in_memory();
    let config = WsConfig::default().with_send_queue(8);
    let (server, events) = echo_server(config, groups.clone());
    let slow = connect(server.addr(), "/ws/articles/live/");
    let slow_id = connected(&events);
    let mut fast = connect(server.addr(), "/ws/articles/live/");
    connected(&events);

    // The fast client acknowledges each message; the slow one never reads,
    // so its socket buffers fill, then its queue, then it is disconnected.
    let (acks, acked) = channel();
    let reader = std::thread::spawn(move || {
        while let Ok(tungstenite::Message::Binary(bytes)) = fast.read() {
            acks.send(bytes.len()).unwrap();
        }
    });
    let payload = bytes::Bytes::from(vec![7u8; 256 * 1024]);
    let mut dropped_after = None;
    for sent in 1..=400 {
        groups.broadcast("live", payload.clone()).unwrap();
        assert_eq!(
            acked.recv_timeout(GUARD).unwrap(),
            payload.len(),
            "the fast client keeps up"
        );
        if let Ok(event) = events.try_recv() {
            assert_eq!(event, Event::Disconnected(slow_id, CloseCode::Policy));
            dropped_after = Some(sent);
            break;
        }
    }
    let sent = dropped_after.expect("the slow client is disconnected within 100 MiB of backlog");
    eprintln!("slow client dropped after {sent} broadcasts");
    assert!(
        sent > 8,
        "the queue absorbs a burst first (dropped after {sent})"
    );
    assert_eq!(groups.local_len("live"), 1);
    drop(slow);
    drop(server);
    let _ = reader.join();
}

#[test]
fn sending_from_another_thread_through_the_handle() {
    // A consumer that hands its connection to a worker thread, which answers later.
    use tack_ws::{Connection, Consumer};
    struct Worker;
    impl Consumer for Worker {
        fn text(&mut self, connection: &Connection, text: &str) {
            let (connection, text) = (connection.clone(), text.to_owned());
            std::thread::spawn(move || connection.send(format!("done: {text}")).unwrap());
        }
    }
    let server = serve(endpoint(|| Worker, WsConfig::default()));
    let mut client = connect(server.addr(), "/ws/jobs/");
    client.send(tungstenite::Message::text("resize")).unwrap();
    assert_eq!(read_text(&mut client), "done: resize");
}

/// The channel-layer conformance suite on the in-process layer: two
/// `Groups` sharing one `InMemoryLayer` stand for two servers.
fn two_in_memory() -> (Groups, Groups) {
    let layer = tack_ws::InMemoryLayer::new();
    (
        Groups::new(layer.clone()).unwrap(),
        Groups::new(layer).unwrap(),
    )
}

#[test]
fn the_in_memory_layer_conforms() {
    let (a, b) = two_in_memory();
    layers::broadcasts_reach_clients_of_both_servers(a, b);
    let (a, b) = two_in_memory();
    layers::large_broadcasts_arrive_whole_and_in_order(a, b);
    let (a, b) = two_in_memory();
    layers::a_flush_sends_everything_before_the_layer_goes(a, b);
}
