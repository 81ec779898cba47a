//! Two newsroom processes on one fresh PostgreSQL database, as a scaled-out
//! site runs behind a load balancer, once with each channel layer: they
//! start at the same moment, a login throttle made through one holds on
//! the other, a comment posted through either reaches the live viewers of
//! both, and one stopped with SIGTERM in the middle of a request and a
//! websocket finishes the request, closes the socket with 1001 and exits 0
//! while the other keeps serving. Skipped (with a printed line) without
//! TACK_TEST_POSTGRES, and without TACK_TEST_REDIS for the Redis layer.

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, Process, create_user, post_json, viewer};
use serde_json::{Value, json};

type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

#[test]
fn two_processes_share_postgres_listen_notify() {
    two_processes(
        "two_processes_share_postgres_listen_notify",
        "postgres",
        || Some("postgres".to_owned()),
    );
}

#[test]
fn two_processes_share_a_redis_channel_layer() {
    two_processes("two_processes_share_a_redis_channel_layer", "redis", || {
        tack_test::db::redis_url("two_processes_share_a_redis_channel_layer")
    });
}

fn two_processes(test: &str, name: &str, layer: impl Fn() -> Option<String>) {
    let Some(schema) = tack_test::db::postgres(test) else {
        return;
    };
    let Some(layer) = layer() else {
        return;
    };
    let url = schema.url();
    let vars = [("NEWSROOM_CHANNEL_LAYER", layer.as_str())];

    // Both start together on the empty database: one migrates and seeds,
    // the other waits for it and finds the work done.
    let started = Instant::now();
    let mut a = Process::start(url, &vars);
    let mut b = Process::start(url, &vars);
    a.wait_ready();
    b.wait_ready();
    let both_ready = started.elapsed();
    let db = tack_orm::Database::connect(url).unwrap();
    let authors = newsroom::models::Author::objects().count(&db).unwrap();
    assert_eq!(authors, 3, "seeded once");

    // A comment posted through either process reaches the viewers of both.
    create_user(url, "reader", false);
    let (status, answer) = post_json(
        a.port,
        "/api/auth/token/",
        &json!({"username": "reader", "password": PASSWORD}).to_string(),
        None,
    );
    assert_eq!(status, 201, "{answer}");
    let token: Value = serde_json::from_str(&answer).unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let mut on_a = viewer(a.addr(), "tides-rise").unwrap();
    let mut on_b = viewer(b.addr(), "tides-rise").unwrap();
    let mut latency = Vec::new();
    for (from, body) in [(&a, "posted through A"), (&b, "posted through B")] {
        let sent = Instant::now();
        let comment = json!({"article": 1, "author_name": "reader", "body": body}).to_string();
        let (status, answer) = post_json(from.port, "/api/comments/", &comment, Some(&token));
        assert_eq!(status, 201, "{answer}");
        for socket in [&mut on_a, &mut on_b] {
            await_comment(socket, body);
        }
        latency.push(sent.elapsed());
    }

    // A burst of wrong passwords through A slows the account down on B.
    create_user(url, "target", false);
    let wrong = json!({"username": "target", "password": "wrong"}).to_string();
    let mut statuses: Vec<u16> = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..10)
            .map(|_| scope.spawn(|| post_json(a.port, "/api/auth/token/", &wrong, None).0))
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    statuses.sort_unstable();
    assert!(statuses.contains(&429), "{statuses:?}");
    let right = json!({"username": "target", "password": PASSWORD}).to_string();
    let (on_other, answer) = post_json(b.port, "/api/auth/token/", &right, None);
    assert_eq!(
        on_other, 429,
        "the throttle made through A holds on B: {answer}"
    );

    // A rolling deploy stops A in the middle of a request and a websocket;
    // B goes on serving its viewers.
    drop(on_a);
    let stopped = common::sigterm_during_a_request_and_a_websocket(&mut a);
    stopped.assert_graceful();
    let comment =
        json!({"article": 1, "author_name": "reader", "body": "after A left"}).to_string();
    let (status, answer) = post_json(b.port, "/api/comments/", &comment, Some(&token));
    assert_eq!(status, 201, "{answer}");
    await_comment(&mut on_b, "after A left");

    println!(
        "two newsroom processes on PostgreSQL, channel layer {name}: both ready {} ms after \
         starting together; comments reached both viewers in {} ms and {} ms; \
         10 parallel wrong passwords through A {statuses:?}, the right one through B {on_other}; \
         SIGTERM to A: in-flight request {:?}, websocket close {:?}, exit code {:?}; \
         B still serves",
        both_ready.as_millis(),
        latency[0].as_millis(),
        latency[1].as_millis(),
        stopped.answer,
        stopped.close_code,
        stopped.exit.code(),
    );
}

/// Reads `socket` until the `comment.created` event of `body` (other tests
/// may comment on the same article through the same channel meanwhile).
fn await_comment(socket: &mut Socket, body: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == "comment.created" && event["comment"]["body"] == body {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => panic!("no {body:?} event: {error}"),
        }
    }
    panic!("no {body:?} event within 10 s");
}
