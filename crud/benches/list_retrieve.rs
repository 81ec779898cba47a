//! List 50 rows and retrieve one by id, through the CRUD service and
//! through a hand-written handler doing the same queries (a count and a
//! page; a lookup by primary key) with serde serialization, in the same
//! run. Both go through the same `AsyncDatabase` on a SQLite file.
//! Timings are per request, the best of five alternating rounds.
//!
//! `cargo bench -p tack-crud --bench list_retrieve` (with
//! `TACK_TEST_POSTGRES` set, the same on a PostgreSQL schema too).

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use http::Request;
use http_body_util::BodyExt;
use serde::Serialize;
use tack_crud::Crud;
use tack_http::{Body, IntoResponse, Json};
use tack_orm::AsyncDatabase;
use tack_orm::prelude::*;
use tower::ServiceExt;

#[derive(Choices, Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Draft,
    Published,
}

#[derive(Model, Clone, Debug, Serialize)]
#[tack(app = "bench")]
struct Author {
    id: i64,
    #[tack(max_length = 100)]
    name: String,
}

#[derive(Model, Clone, Debug, Serialize)]
#[tack(app = "bench")]
struct Article {
    id: i64,
    #[tack(max_length = 200)]
    title: String,
    #[tack(unique, max_length = 200)]
    slug: String,
    body: String,
    author: ForeignKey<Author>,
    #[tack(choices, default = Status::Draft)]
    status: Status,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Page {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Article>,
}

async fn hand_list(db: &AsyncDatabase) -> http::Response<Body> {
    let page = db
        .run(|db| {
            let conn = db.connection()?;
            let count = Article::objects().count(&*conn)?;
            let results = Article::objects()
                .order_by(Article::ID.asc())
                .limit(50)
                .all(&*conn)?;
            Ok(Page {
                count,
                next: (count > 50).then(|| "/api/articles/?page=2".to_owned()),
                previous: None,
                results,
            })
        })
        .await
        .expect("list");
    Json(page).into_response()
}

async fn hand_retrieve(db: &AsyncDatabase, id: i64) -> http::Response<Body> {
    let article = db
        .run(move |db| Article::find(db, id))
        .await
        .expect("retrieve");
    Json(article).into_response()
}

async fn body(response: http::Response<Body>) -> usize {
    assert!(response.status().is_success(), "{}", response.status());
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

fn time<F: std::future::Future<Output = usize>>(
    n: u32,
    mut f: impl FnMut(u32) -> F,
) -> (Duration, usize) {
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        bytes += futures_executor::block_on(f(i));
    }
    (start.elapsed(), bytes / n as usize)
}

const ROUNDS: usize = 5;

fn best() -> (Duration, usize) {
    (Duration::MAX, 0)
}

fn faster(a: (Duration, usize), b: (Duration, usize)) -> (Duration, usize) {
    if b.0 < a.0 { b } else { a }
}

fn report(name: &str, n: u32, ours: (Duration, usize), hand: (Duration, usize)) {
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "{name:<22} crud {:>8.1} µs/req ({} B)   hand-written {:>8.1} µs/req ({} B)   ratio {:.2}x",
        per(ours.0),
        ours.1,
        per(hand.0),
        hand.1,
        ours.0.as_secs_f64() / hand.0.as_secs_f64()
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("tack-crud-bench-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    println!("SQLite:");
    run(&format!("sqlite://{}", dir.display()), 1);
    let _ = std::fs::remove_file(&dir);
    if let Some(schema) = tack_test::db::postgres("crud_bench") {
        println!("PostgreSQL (loopback):");
        run(schema.url(), 4);
    }
}

/// Seeds 200 rows at `url` and times both paths (`1/scale` of the
/// iterations, for slower databases).
fn run(url: &str, scale: u32) {
    let db = Database::connect(url).expect("open");
    db.create_tables(&[Author::meta(), Article::meta()])
        .expect("tables");
    let mut author = Author {
        id: 0,
        name: "Ada".into(),
    };
    author.save(&db).expect("author");
    let when = Utc
        .with_ymd_and_hms(2024, 1, 1, 12, 0, 0)
        .single()
        .expect("date");
    let rows: Vec<Article> = (0..200)
        .map(|i| Article {
            id: 0,
            title: format!("Article number {i}"),
            slug: format!("article-{i}"),
            body: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(4),
            author: ForeignKey::from(&author),
            status: Status::Published,
            published_at: Some(when),
            created_at: when,
        })
        .collect();
    Article::objects().bulk_create(&db, rows).expect("rows");
    let adb = AsyncDatabase::new(db.clone(), 2);
    let crud = Crud::<Article>::new(adb.clone())
        .page_size(50, 100)
        .base_path("/api/articles/");

    let list = || {
        let crud = crud.clone();
        async move {
            let request = Request::get("/api/articles/")
                .body(Body::empty())
                .expect("request");
            body(crud.oneshot(request).await.expect("infallible")).await
        }
    };
    let retrieve = |i: u32| {
        let crud = crud.clone();
        async move {
            let uri = format!("/api/articles/{}/", 1 + i % 200);
            let request = Request::get(uri).body(Body::empty()).expect("request");
            body(crud.oneshot(request).await.expect("infallible")).await
        }
    };
    // Same bytes on both sides, apart from key order and spacing.
    let ours: serde_json::Value = serde_json::from_slice(&futures_executor::block_on(async {
        let r = crud
            .clone()
            .oneshot(
                Request::get("/api/articles/1/")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        r.into_body().collect().await.unwrap().to_bytes()
    }))
    .unwrap();
    let hand: serde_json::Value = serde_json::from_slice(&futures_executor::block_on(async {
        hand_retrieve(&adb, 1)
            .await
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
    }))
    .unwrap();
    assert_eq!(ours, hand, "the two answers differ");

    // Warm up both paths (statement caches, worker threads).
    time(200, |_| list());
    time(200, |_| async { body(hand_list(&adb).await).await });

    // Rounds alternate the two sides; the best round of each counts, so
    // noise from other processes on the machine hits both alike.
    let n = 400 / scale;
    let (mut ours, mut hand) = (best(), best());
    for _ in 0..ROUNDS {
        hand = faster(
            hand,
            time(n, |_| async { body(hand_list(&adb).await).await }),
        );
        ours = faster(ours, time(n, |_| list()));
    }
    report("list 50 rows", n, ours, hand);

    let n = 2000 / scale;
    let (mut ours, mut hand) = (best(), best());
    for _ in 0..ROUNDS {
        hand = faster(
            hand,
            time(n, |i| {
                let adb = adb.clone();
                async move { body(hand_retrieve(&adb, i64::from(1 + i % 200)).await).await }
            }),
        );
        ours = faster(ours, time(n, retrieve));
    }
    report("retrieve by id", n, ours, hand);
}
