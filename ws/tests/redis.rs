//! The Redis channel layer: the channel-layer conformance suite, and what
//! is Redis's own (a lost connection). Skipped (with a printed line)
//! without TACK_TEST_REDIS.
#![cfg(feature = "redis")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use tack_ws::{Error, Groups, RedisLayer, WsConfig};

fn channel(test: &str) -> String {
    format!("tack_ws_{test}_{}", std::process::id())
}

/// Two app servers' groups, each on its own layer instance.
fn two_servers(test: &str) -> Option<(String, Groups, Groups)> {
    let url = tack_test::db::redis_url(test)?;
    let channel = channel(test);
    let layer = || Groups::new(RedisLayer::connect(&url, &channel).unwrap()).unwrap();
    Some((channel.clone(), layer(), layer()))
}

#[test]
fn a_broadcast_reaches_clients_of_another_server() {
    if let Some((_, a, b)) = two_servers("two_servers") {
        layers::broadcasts_reach_clients_of_both_servers(a, b);
    }
}

#[test]
fn large_broadcasts_reach_every_server() {
    if let Some((_, a, b)) = two_servers("large") {
        layers::large_broadcasts_arrive_whole_and_in_order(a, b);
    }
}

#[test]
fn a_flush_sends_what_was_queued() {
    if let Some((_, a, b)) = two_servers("flush") {
        layers::a_flush_sends_everything_before_the_layer_goes(a, b);
    }
}

#[test]
fn the_listener_comes_back_after_redis_drops_it() {
    let Some((channel, groups_a, groups_b)) = two_servers("reconnect") else {
        return;
    };
    let url = tack_test::db::redis_url("reconnect").unwrap();
    let (server_b, events_b) = echo_server(WsConfig::default(), groups_b.clone());
    let mut on_b = connect(server_b.addr(), "/ws/articles/back/");
    connected(&events_b);

    // Redis closes the test's two listeners (what a restart or a failover
    // does to the layer's connections); the layer names them for this.
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let clients: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let ours: Vec<&str> = clients
        .lines()
        .filter(|line| line.contains(&format!(" name=tack-ws-listen:{channel} ")))
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next())
        .collect();
    assert_eq!(ours.len(), 2, "{clients}");
    for id in ours {
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut admin)
            .unwrap();
        assert_eq!(killed, 1);
    }

    // Once the listener has subscribed again, broadcasts arrive again.
    let deadline = Instant::now() + GUARD;
    loop {
        let subscribers: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query(&mut admin)
            .unwrap();
        if subscribers[0].1 >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the listeners did not come back");
        std::thread::sleep(Duration::from_millis(50));
    }
    groups_a.broadcast("back", "after the outage").unwrap();
    assert_eq!(read_text(&mut on_b), "after the outage");
}

#[test]
fn an_unreachable_server_is_reported() {
    let error = RedisLayer::connect("redis://:secret@127.0.0.1:1/", "tack_ws").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("127.0.0.1:1") && !message.contains("secret"),
        "{message}"
    );
}

#[test]
fn a_bad_url_or_channel_is_refused_before_connecting() {
    let error = RedisLayer::connect("postgres://127.0.0.1/", "tack_ws").unwrap_err();
    assert!(error.to_string().contains("not valid"), "{error}");
    let error = RedisLayer::connect("redis://127.0.0.1:1/", "a\nb").unwrap_err();
    assert!(matches!(error, Error::InvalidName { .. }), "{error}");
}
