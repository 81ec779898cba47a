//! The executor-agnostic async adapter, under tokio and under a plain
//! futures executor.

mod common;

use common::*;
use tack_orm::prelude::*;
use tack_orm::{AsyncDatabase, Error, Spawn};

fn database() -> (tack_test::db::TempSqlite, Database) {
    let file = tack_test::db::sqlite();
    let db = Database::connect(&file.url()).unwrap();
    db.create_tables(&all_models()).unwrap();
    (file, db)
}

async fn exercise(adb: &AsyncDatabase) {
    let saved = adb
        .run(|db| {
            let mut a = Author {
                id: 0,
                name: "Async".into(),
                bio: String::new(),
            };
            a.save(db)?;
            Ok(a)
        })
        .await
        .unwrap();
    assert!(saved.id > 0);
    let count = adb.run(|db| Author::objects().count(db)).await.unwrap();
    assert_eq!(count, 1);
    let missing = adb.run(|db| Author::find(db, 999)).await.unwrap_err();
    assert!(missing.is_not_found());
    let panicked = adb
        .run(|_| -> tack_orm::Result<()> { panic!("job panics") })
        .await
        .unwrap_err();
    assert!(matches!(panicked, Error::Query(_)), "{panicked}");
    // Still serving after the panic.
    assert_eq!(adb.run(|db| Author::objects().count(db)).await.unwrap(), 1);
}

#[test]
fn runs_under_a_futures_executor() {
    let (_file, db) = database();
    let adb = AsyncDatabase::new(db, 2);
    futures_executor::block_on(exercise(&adb));
}

#[test]
fn runs_under_tokio_with_own_threads() {
    let (_file, db) = database();
    let adb = AsyncDatabase::new(db, 2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let adb = adb.clone();
                tokio::spawn(async move {
                    adb.run(move |db| {
                        Tag {
                            id: 0,
                            name: format!("tag{i}"),
                        }
                        .save(db)
                    })
                    .await
                    .unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(adb.run(|db| Tag::objects().count(db)).await.unwrap(), 8);
    });
}

struct TokioBlocking(tokio::runtime::Handle);

impl Spawn for TokioBlocking {
    fn spawn(&self, job: Box<dyn FnOnce() + Send>) {
        self.0.spawn_blocking(job);
    }
}

#[test]
fn runs_under_tokio_with_a_user_spawner() {
    let (_file, db) = database();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let adb = AsyncDatabase::with_spawner(db, TokioBlocking(runtime.handle().clone()));
    runtime.block_on(exercise(&adb));
}

#[test]
fn postgres_from_tokio_runs_off_the_runtime() {
    let Some(schema) = tack_test::db::postgres("postgres_from_tokio_runs_off_the_runtime") else {
        return;
    };
    let url = schema.url().to_owned();
    let db = std::thread::spawn(move || {
        let db = Database::connect(&url).unwrap();
        db.create_tables(&all_models()).unwrap();
        db
    })
    .join()
    .unwrap();
    let adb = AsyncDatabase::new(db, 2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async move {
        exercise(&adb).await;
        // Dropping the last handle on a runtime worker closes the
        // PostgreSQL connections without the driver's runtime-in-runtime panic.
        tokio::spawn(async move { drop(adb) }).await.unwrap();
    });
}
