//! A database outage: the newsroom reaches PostgreSQL through a TCP proxy
//! that the test cuts and restores. Skipped (with a printed line) without
//! TACK_TEST_POSTGRES.

mod common;

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use common::{create_user, settings_for};
use tack_test::proxy::TcpProxy;

/// Where `host:port` is in a `postgres://user@host:port/db` URL.
fn authority(url: &str) -> std::ops::Range<usize> {
    let start = url
        .find('@')
        .or_else(|| url.find("://").map(|i| i + 2))
        .unwrap()
        + 1;
    start..start + url[start..].find('/').unwrap()
}

/// Posts one comment; the status (0 if the request took over 10 s) and,
/// when created, its id.
async fn comment(addr: std::net::SocketAddr, token: &str, n: u32) -> (u16, Option<i64>) {
    let body = serde_json::json!({"article": 1, "body": format!("comment {n}")}).to_string();
    let request = http::Request::post("/api/comments/")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(bytes::Bytes::from(body))
        .unwrap();
    let sent = tokio::time::timeout(Duration::from_secs(10), tack_test::send(addr, request));
    let Ok(response) = sent.await else {
        return (0, None);
    };
    let id = serde_json::from_slice::<serde_json::Value>(response.body())
        .ok()
        .and_then(|created| created["id"].as_i64());
    (response.status().as_u16(), id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_503s_then_recovery_and_no_acknowledged_write_is_lost() {
    let Some(schema) = tack_test::db::postgres("newsroom database outage") else {
        return;
    };
    let direct = schema.url().to_owned();
    let server_at = authority(&direct);
    let upstream = direct[server_at.clone()]
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let proxy = TcpProxy::start(upstream).unwrap();
    let mut proxied = direct.clone();
    proxied.replace_range(server_at, &proxy.addr().to_string());
    let setup = direct.clone();
    let app = tokio::task::spawn_blocking(move || {
        let app = newsroom::app(&settings_for(&proxied)).unwrap();
        create_user(&setup, "reader", false);
        app
    })
    .await
    .unwrap();
    let server = tack_test::serve(app.clone());
    let addr = server.addr();
    let client = tack_test::TestClient::new(app);
    let token = common::token(&client, "reader").await;

    let mut acknowledged = Vec::new();
    let mut n = 0;
    let mut write = async |expect_ok: bool| {
        n += 1;
        let started = Instant::now();
        let (status, id) = comment(addr, &token, n).await;
        assert!(
            status == 201 || (!expect_ok && status == 503),
            "write {n}: status {status} after {:?}",
            started.elapsed()
        );
        acknowledged.extend(id);
        status
    };
    for _ in 0..5 {
        write(true).await;
    }

    // The outage: every request answers 503 within the timeout, none hangs.
    proxy.cut();
    let mut refused = 0;
    for _ in 0..5 {
        if write(false).await == 503 {
            refused += 1;
        }
    }
    assert!(
        refused >= 4,
        "{refused} of 5 writes during the outage were 503"
    );

    // Back: the pool reconnects within a few seconds.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while write(false).await != 201 {
        assert!(Instant::now() < deadline, "no recovery within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..5 {
        write(true).await;
    }

    // Every acknowledged write is in the database.
    let ids = acknowledged.clone();
    let missing = tokio::task::spawn_blocking(move || {
        let db = tack_orm::Database::connect(&direct).unwrap();
        ids.into_iter()
            .filter(|id| {
                !newsroom::models::Comment::objects()
                    .filter(newsroom::models::Comment::ID.eq(*id))
                    .exists(&db)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(acknowledged.len() >= 11, "{acknowledged:?}");
    assert_eq!(missing, Vec::<i64>::new(), "acknowledged writes lost");
}
