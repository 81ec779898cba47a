//! The PostgreSQL channel layer: the channel-layer conformance suite, and
//! what is PostgreSQL's own. Skipped (with a printed line) without
//! TACK_TEST_POSTGRES.
#![cfg(feature = "postgres")]

mod common;

use common::layers;
use tack_ws::{Error, Groups, PostgresLayer};

fn channel(test: &str) -> String {
    format!("tack_ws_{test}_{}", std::process::id())
}

/// Two app servers' groups, each on its own layer instance.
fn two_servers(test: &str) -> Option<(Groups, Groups)> {
    let url = tack_test::db::postgres_url(test)?;
    let channel = channel(test);
    let layer = || Groups::new(PostgresLayer::connect(&url, &channel).unwrap()).unwrap();
    Some((layer(), layer()))
}

#[test]
fn a_broadcast_reaches_clients_of_another_server() {
    if let Some((a, b)) = two_servers("two_servers") {
        layers::broadcasts_reach_clients_of_both_servers(a, b);
    }
}

#[test]
fn broadcasts_over_the_notify_limit_reach_every_server() {
    let Some(url) = tack_test::db::postgres_url("large") else {
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
    layers::large_broadcasts_arrive_whole_and_in_order(
        Groups::new(layers[0].clone()).unwrap(),
        Groups::new(layers[1].clone()).unwrap(),
    );
}

#[test]
fn a_flush_sends_what_was_queued() {
    if let Some((a, b)) = two_servers("flush") {
        layers::a_flush_sends_everything_before_the_layer_goes(a, b);
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
