//! The pool, typed database errors, and concurrent writers.

mod common;

use std::time::Duration;

use common::*;
use tack_orm::prelude::*;
use tack_orm::{Error, PoolOptions};

conformance!(concurrent_writers_wait_instead_of_failing);

fn concurrent_writers_wait_instead_of_failing(db: &Database) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    db.atomic(|tx| {
                        let mut tag = Tag {
                            id: 0,
                            name: format!("t{t}-{i}"),
                        };
                        tag.save(tx)?;
                        Tag::objects()
                            .filter(Tag::ID.eq(tag.id))
                            .update(tx, &[Tag::NAME.set(format!("w{t}-{i}"))])?;
                        Ok::<_, Error>(())
                    })
                    .unwrap_or_else(|e| panic!("writer {t} failed: {e}"));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(Tag::objects().count(db).unwrap(), 100);
    assert_eq!(
        Tag::objects()
            .filter(Tag::NAME.startswith("w"))
            .count(db)
            .unwrap(),
        100
    );
}

#[test]
fn exhausted_pool_answers_busy() {
    let file = tack_test::db::sqlite();
    let options = PoolOptions::default()
        .with_max_connections(1)
        .with_acquire_timeout(Duration::from_millis(50));
    let db = Database::connect_with(&file.url(), options).unwrap();
    let held = db.connection().unwrap();
    let error = db.connection().unwrap_err();
    assert!(matches!(error, Error::Busy { .. }), "{error}");
    assert_eq!(error.status().as_u16(), 503);
    drop(held);
    assert!(db.connection().is_ok(), "the returned connection is reused");
}

#[test]
fn bad_urls_are_refused_with_the_reason() {
    for url in ["mysql://x", "", "sqlite:///nonexistent-dir/deeper/x.db"] {
        let error = Database::connect(url).unwrap_err();
        assert!(matches!(error, Error::InvalidUrl { .. }), "{url}: {error}");
    }
}

#[test]
fn lost_postgres_connections_are_replaced() {
    let Some(schema) = tack_test::db::postgres("lost_postgres_connections_are_replaced") else {
        return;
    };
    let url = schema.url().to_owned();
    std::thread::spawn(move || {
        let db =
            Database::connect_with(&url, PoolOptions::default().with_max_connections(1)).unwrap();
        db.create_tables(&all_models()).unwrap();
        let pid = {
            let conn = db.connection().unwrap();
            let mut pid = 0i32;
            conn.query("SELECT pg_backend_pid()", &[], |row| {
                pid = row.get(0)?;
                Ok(())
            })
            .unwrap();
            pid
        };
        let killer = tack_orm::Connection::open(&url).unwrap();
        killer
            .execute("SELECT pg_terminate_backend($1)", &[Value::I32(pid)])
            .unwrap();
        let error = Author::objects().count(&db).unwrap_err();
        assert!(matches!(error, Error::ConnectionLost { .. }), "{error}");
        assert_eq!(error.status().as_u16(), 503);
        // The broken connection was dropped; the pool opens a new one.
        assert_eq!(Author::objects().count(&db).unwrap(), 0);
        author(&db, "After");
        assert_eq!(Author::objects().count(&db).unwrap(), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn in_memory_sqlite_shares_one_connection() {
    let options = PoolOptions::default()
        .with_max_connections(8)
        .with_acquire_timeout(Duration::from_millis(50));
    let db = Database::connect_with("sqlite::memory:", options).unwrap();
    db.create_tables(&all_models()).unwrap();
    let held = db.connection().unwrap();
    // A second connection would be a second, empty database: the pool waits instead.
    assert!(matches!(db.connection().unwrap_err(), Error::Busy { .. }));
    drop(held);
    author(&db, "Ada");
    assert_eq!(Author::objects().count(&db).unwrap(), 1);
}
