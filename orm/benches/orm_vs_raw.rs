//! The ORM against hand-written raw driver code, side by side in one run:
//! 10,000 rows into structs, one row by primary key 10,000 times, 10,000
//! inserts in one transaction, and a two-table select_related. Prints each
//! timing and the ratio ORM / raw (target: at most 1.15).
//!
//! `cargo bench -p tack-orm --bench orm_vs_raw` (PostgreSQL too when
//! TACK_TEST_POSTGRES is set).

use std::hint::black_box;
use std::time::{Duration, Instant};

use tack_orm::Connection;
use tack_orm::prelude::*;

const ROWS: i64 = 10_000;
const ROUNDS: usize = 7;

#[derive(Model, Clone, Debug)]
#[tack(table = "bench_author")]
struct Author {
    id: i64,
    name: String,
    email: String,
}

#[derive(Model, Clone, Debug)]
#[tack(table = "bench_post")]
struct Post {
    id: i64,
    title: String,
    body: String,
    views: i64,
    score: f64,
    author: ForeignKey<Author>,
}

/// What hand-written code decodes into.
#[derive(Debug)]
#[allow(dead_code)]
struct RawPost {
    id: i64,
    title: String,
    body: String,
    views: i64,
    score: f64,
    author_id: i64,
}

#[derive(Debug)]
#[allow(dead_code)]
struct RawAuthor {
    id: i64,
    name: String,
    email: String,
}

/// Hand-written decoding, by column index.
fn raw_post(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPost> {
    Ok(RawPost {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        views: r.get(3)?,
        score: r.get(4)?,
        author_id: r.get(5)?,
    })
}

fn post(i: i64, author: i64) -> Post {
    Post {
        id: 0,
        title: format!("Post number {i}"),
        body: "Lorem ipsum dolor sit amet, consectetur adipiscing elit.".repeat(2),
        views: i * 3,
        score: i as f64 / 7.0,
        author: ForeignKey::new(author),
    }
}

fn time(f: &mut impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Runs raw and ORM `ROUNDS` times each, taking turns so that noise from
/// other work on the machine falls on both, and prints the best of each.
/// `ORM_BENCH=WORDS` runs only the lines whose name contains WORDS.
fn compare(backend: &str, what: &str, mut raw: impl FnMut(), mut orm: impl FnMut()) {
    if std::env::var("ORM_BENCH").is_ok_and(|only| !what.contains(only.as_str())) {
        return;
    }
    let (mut best_raw, mut best_orm) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        best_raw = best_raw.min(time(&mut raw));
        best_orm = best_orm.min(time(&mut orm));
    }
    line(backend, what, best_raw, best_orm);
}

fn line(backend: &str, what: &str, raw: Duration, orm: Duration) {
    let ratio = orm.as_secs_f64() / raw.as_secs_f64();
    let mark = if ratio <= 1.15 { "ok" } else { "SLOW" };
    println!(
        "{backend:<9} {what:<37} raw {:>9.2} ms   orm {:>9.2} ms   ratio {ratio:.3} {mark}",
        raw.as_secs_f64() * 1e3,
        orm.as_secs_f64() * 1e3
    );
}

fn setup(conn: &Connection) {
    conn.create_tables(&[Author::meta(), Post::meta()]).unwrap();
}

fn clear(conn: &Connection) {
    conn.execute_batch("DELETE FROM bench_post; DELETE FROM bench_author")
        .unwrap();
}

fn seed(conn: &Connection) -> Vec<i64> {
    clear(conn);
    let mut authors = Vec::new();
    for a in 0..10 {
        let mut author = Author {
            id: 0,
            name: format!("Author {a}"),
            email: format!("a{a}@example.com"),
        };
        author.save(conn).unwrap();
        authors.push(author.id);
    }
    let posts: Vec<Post> = (0..ROWS)
        .map(|i| post(i, authors[(i % 10) as usize]))
        .collect();
    let saved = Post::objects().bulk_create(conn, posts).unwrap();
    saved.iter().map(|p| p.id).collect()
}

fn sqlite() {
    let dir = tempfile_dir();
    let path = dir.join("bench.sqlite3");
    let db = Database::connect(&format!("sqlite://{}", path.display())).unwrap();
    let conn = db.connection().unwrap();
    setup(&conn);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
    )
    .unwrap();
    let ids = seed(&conn);

    compare(
        "sqlite",
        "10,000 rows into structs",
        || {
            let mut stmt = raw
                .prepare_cached("SELECT id, title, body, views, score, author_id FROM bench_post")
                .unwrap();
            let rows: Vec<RawPost> = stmt
                .query_map([], raw_post)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), ROWS as usize);
            black_box(rows);
        },
        || {
            let rows = Post::objects().all(&conn).unwrap();
            assert_eq!(rows.len(), ROWS as usize);
            black_box(rows);
        },
    );

    let raw_by_pk = || {
        for id in &ids {
            let mut stmt = raw
                .prepare_cached(
                    "SELECT id, title, body, views, score, author_id FROM bench_post WHERE id = ?1",
                )
                .unwrap();
            black_box(stmt.query_row([id], raw_post).unwrap());
        }
    };
    compare("sqlite", "row by pk x10,000 (find)", &raw_by_pk, || {
        for id in &ids {
            black_box(Post::find(&conn, *id).unwrap());
        }
    });
    compare(
        "sqlite",
        "row by pk x10,000 (objects().get)",
        &raw_by_pk,
        || {
            for id in &ids {
                black_box(Post::objects().get(&conn, Post::ID.eq(*id)).unwrap());
            }
        },
    );

    compare(
        "sqlite",
        "row by pk x10,000 (filter().first())",
        &raw_by_pk,
        || {
            for id in &ids {
                let qs = Post::objects().filter(Post::ID.eq(*id));
                black_box(qs.first(&conn).unwrap().unwrap());
            }
        },
    );

    let author = ids_author(&conn);
    compare(
        "sqlite",
        "10,000 inserts in one transaction",
        || {
            raw.execute_batch("DELETE FROM bench_post").unwrap();
            raw.execute_batch("BEGIN IMMEDIATE").unwrap();
            for i in 0..ROWS {
                let p = post(i, author);
                let mut stmt = raw
                .prepare_cached("INSERT INTO bench_post (title, body, views, score, author_id) VALUES (?1, ?2, ?3, ?4, ?5)")
                .unwrap();
                stmt.execute(rusqlite::params![p.title, p.body, p.views, p.score, author])
                    .unwrap();
                black_box(raw.last_insert_rowid());
            }
            raw.execute_batch("COMMIT").unwrap();
        },
        || {
            clear_posts(&conn);
            conn.atomic(|tx| {
                for i in 0..ROWS {
                    let mut p = post(i, author);
                    p.save(tx)?;
                    black_box(p.id);
                }
                Ok::<_, tack_orm::Error>(())
            })
            .unwrap();
        },
    );

    compare(
        "sqlite",
        "select_related, 10,000 rows",
        || {
            let mut stmt = raw
            .prepare_cached(
                "SELECT p.id, p.title, p.body, p.views, p.score, p.author_id, a.id, a.name, a.email \
                 FROM bench_post AS p LEFT JOIN bench_author AS a ON a.id = p.author_id",
            )
            .unwrap();
            let rows: Vec<(RawPost, RawAuthor)> = stmt
                .query_map([], |r| {
                    Ok((
                        raw_post(r)?,
                        RawAuthor {
                            id: r.get(6)?,
                            name: r.get(7)?,
                            email: r.get(8)?,
                        },
                    ))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), ROWS as usize);
            black_box(rows);
        },
        || {
            let rows = Post::objects().select_related("author").all(&conn).unwrap();
            assert!(rows[0].author.cached().is_some());
            black_box(rows);
        },
    );
}

fn ids_author(conn: &Connection) -> i64 {
    Author::objects().first(conn).unwrap().unwrap().id
}

fn clear_posts(conn: &Connection) {
    conn.execute_batch("DELETE FROM bench_post").unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tack-orm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn postgres() {
    let Some(schema) = tack_test::db::postgres("orm_vs_raw") else {
        return;
    };
    let db = Database::connect(schema.url()).unwrap();
    let conn = db.connection().unwrap();
    setup(&conn);
    let mut raw = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
    let ids = seed(&conn);

    let decode = |r: &postgres::Row| RawPost {
        id: r.get(0),
        title: r.get(1),
        body: r.get(2),
        views: r.get(3),
        score: r.get(4),
        author_id: r.get(5),
    };
    let all_stmt = raw
        .prepare("SELECT id, title, body, views, score, author_id FROM bench_post")
        .unwrap();
    compare(
        "postgres",
        "10,000 rows into structs",
        || {
            let rows: Vec<RawPost> = raw
                .query(&all_stmt, &[])
                .unwrap()
                .iter()
                .map(decode)
                .collect();
            assert_eq!(rows.len(), ROWS as usize);
            black_box(rows);
        },
        || {
            black_box(Post::objects().all(&conn).unwrap());
        },
    );

    let pk_stmt = raw
        .prepare("SELECT id, title, body, views, score, author_id FROM bench_post WHERE id = $1")
        .unwrap();
    compare(
        "postgres",
        "row by pk x10,000 (find)",
        || {
            for id in &ids {
                black_box(decode(&raw.query_one(&pk_stmt, &[id]).unwrap()));
            }
        },
        || {
            for id in &ids {
                black_box(Post::find(&conn, *id).unwrap());
            }
        },
    );

    let author = ids_author(&conn);
    let insert_stmt = raw
        .prepare("INSERT INTO bench_post (title, body, views, score, author_id) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .unwrap();
    compare(
        "postgres",
        "10,000 inserts in one transaction",
        || {
            raw.batch_execute("DELETE FROM bench_post").unwrap();
            let mut tx = raw.transaction().unwrap();
            for i in 0..ROWS {
                let p = post(i, author);
                let row = tx
                    .query_one(
                        &insert_stmt,
                        &[&p.title, &p.body, &p.views, &p.score, &author],
                    )
                    .unwrap();
                black_box(row.get::<_, i64>(0));
            }
            tx.commit().unwrap();
        },
        || {
            clear_posts(&conn);
            conn.atomic(|tx| {
                for i in 0..ROWS {
                    post(i, author).save(tx)?;
                }
                Ok::<_, tack_orm::Error>(())
            })
            .unwrap();
        },
    );

    let join_stmt = raw
        .prepare(
            "SELECT p.id, p.title, p.body, p.views, p.score, p.author_id, a.id, a.name, a.email \
             FROM bench_post AS p LEFT JOIN bench_author AS a ON a.id = p.author_id",
        )
        .unwrap();
    compare(
        "postgres",
        "select_related, 10,000 rows",
        || {
            let rows: Vec<(RawPost, RawAuthor)> = raw
                .query(&join_stmt, &[])
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        decode(r),
                        RawAuthor {
                            id: r.get(6),
                            name: r.get(7),
                            email: r.get(8),
                        },
                    )
                })
                .collect();
            black_box(rows);
        },
        || {
            black_box(Post::objects().select_related("author").all(&conn).unwrap());
        },
    );
    drop(conn);
    drop(db);
}

fn main() {
    println!("tack-orm against raw drivers, best of {ROUNDS} runs each");
    sqlite();
    postgres();
}
