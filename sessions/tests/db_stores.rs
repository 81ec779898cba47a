//! The database store passes the store conformance suite on SQLite and
//! PostgreSQL (the latter when `TACK_TEST_POSTGRES` names a server).
#![cfg(feature = "orm")]

mod common;

use tack_orm::{AsyncDatabase, Database};
use tack_sessions::{DbStore, Record, SessionLayer, SessionStore, StoreFuture};
use tack_test::TestClient;
use tower::Layer;

/// A store that keeps its temporary database alive.
struct Guarded<G> {
    store: DbStore,
    _database: G,
}

impl<G: Send + Sync + 'static> SessionStore for Guarded<G> {
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>> {
        self.store.load(cookie_value)
    }
    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String> {
        self.store.save(record)
    }
    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, Option<String>> {
        self.store.update(record)
    }
    fn delete<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, ()> {
        self.store.delete(cookie_value)
    }
    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        self.store.clear_expired()
    }
}

fn store_on(url: &str) -> DbStore {
    let db = Database::connect(url).expect("the test database opens");
    let store = DbStore::new(AsyncDatabase::new(db, 2));
    store.create_table().expect("the session table is created");
    // Twice: creating the table is idempotent.
    store
        .create_table()
        .expect("creating the table again is a no-op");
    store
}

fn sqlite() -> Option<Guarded<tack_test::db::TempSqlite>> {
    let file = tack_test::db::sqlite();
    Some(Guarded {
        store: store_on(&file.url()),
        _database: file,
    })
}

fn postgres() -> Option<Guarded<tack_test::db::PgSchema>> {
    let schema = tack_test::db::postgres("session store conformance")?;
    Some(Guarded {
        store: store_on(schema.url()),
        _database: schema,
    })
}

store_conformance!(on_sqlite, sqlite(), server_side = true);
store_conformance!(on_postgres, postgres(), server_side = true);

#[test]
fn the_layer_runs_on_the_database_store() {
    let Some(store) = sqlite() else { return };
    futures_executor::block_on(async {
        let client = TestClient::new(
            SessionLayer::new(store)
                .with_secure(false)
                .layer(tower::service_fn(common::app)),
        );
        client.get("/set?k=v").send().await;
        let before = client.cookie("sessionid").unwrap();
        assert_eq!(client.get("/get?k").send().await.text(), "v");
        client.get("/login").send().await;
        assert_ne!(client.cookie("sessionid").unwrap(), before);
        assert_eq!(client.get("/get?k").send().await.text(), "v");
    });
}
