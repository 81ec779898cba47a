//! Ping/pong keepalive: live clients stay, silent ones are closed with 1001.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tack_ws::{CloseCode, Groups, WsConfig};

#[test]
fn silent_clients_are_closed_and_answering_ones_stay() {
    let config =
        WsConfig::default().with_keepalive(Duration::from_millis(100), Duration::from_millis(100));
    let (server, events) = echo_server(config, Groups::in_memory());
    let silent = connect(server.addr(), "/ws/articles/a/");
    let silent_id = connected(&events);
    let mut live = connect(server.addr(), "/ws/articles/a/");
    let live_id = connected(&events);

    // The live client reads (tungstenite answers each ping with a pong while reading).
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = live.get_mut() {
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
    }
    let started = Instant::now();
    let mut pings = 0;
    let mut silent_closed = None;
    while started.elapsed() < Duration::from_millis(800) {
        match live.read() {
            Ok(tungstenite::Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::Io(error))
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(error) => panic!("the live client was dropped: {error}"),
        }
        if let Ok(event) = events.try_recv() {
            assert_eq!(
                event,
                Event::Disconnected(silent_id, CloseCode::Away),
                "only the silent client goes"
            );
            silent_closed = Some(started.elapsed());
        }
    }
    assert!(
        pings >= 3,
        "the server pinged the idle client ({pings} pings)"
    );
    let closed_after = silent_closed.expect("the silent client is closed");
    assert!(
        closed_after < Duration::from_millis(600),
        "closed after {closed_after:?}"
    );
    assert!(
        events.try_recv().is_err(),
        "the live client {live_id} is still connected"
    );
    drop(silent);
}
