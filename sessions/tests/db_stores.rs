//! The database store passes the store conformance suite on SQLite and
//! PostgreSQL (the latter when `TACK_TEST_POSTGRES` names a server).
#![cfg(feature = "orm")]

mod common;

use tack_orm::migrations::{self, Migrations};
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

/// The store on a table made by the migration tack-sessions ships.
fn migrated_store_on(url: &str) -> DbStore {
    let db = Database::connect(url).expect("the test database opens");
    let set = Migrations::default()
        .with(tack_sessions::MIGRATIONS)
        .expect("the migrations load");
    let report = migrations::migrate(&db, &set, None).expect("the migration runs");
    assert_eq!(report.applied, ["sessions.0001_initial"]);
    DbStore::new(AsyncDatabase::new(db, 2))
}

fn sqlite_with(open: fn(&str) -> DbStore) -> Option<Guarded<tack_test::db::TempSqlite>> {
    let file = tack_test::db::sqlite();
    Some(Guarded {
        store: open(&file.url()),
        _database: file,
    })
}

fn postgres_with(open: fn(&str) -> DbStore) -> Option<Guarded<tack_test::db::PgSchema>> {
    let schema = tack_test::db::postgres("session store conformance")?;
    Some(Guarded {
        store: open(schema.url()),
        _database: schema,
    })
}

fn sqlite() -> Option<Guarded<tack_test::db::TempSqlite>> {
    sqlite_with(store_on)
}

store_conformance!(on_sqlite, sqlite(), server_side = true);
store_conformance!(on_postgres, postgres_with(store_on), server_side = true);
store_conformance!(
    migrated_on_sqlite,
    sqlite_with(migrated_store_on),
    server_side = true
);
store_conformance!(
    migrated_on_postgres,
    postgres_with(migrated_store_on),
    server_side = true
);

/// A table `create_table` made before the migration existed is adopted:
/// recorded as applied, its rows kept.
fn adopts_a_table_made_by_create_table(url: &str) {
    let store = store_on(url);
    let record = common::record(serde_json::json!({"user": 7}), 3600);
    let key = futures_executor::block_on(store.save(&record)).expect("save");
    let db = Database::connect(url).expect("open");
    let set = Migrations::default()
        .with(tack_sessions::MIGRATIONS)
        .expect("the migrations load");
    let report = migrations::migrate(&db, &set, None).expect("migrate");
    assert_eq!(report.adopted, ["sessions.0001_initial"], "{report}");
    let check = migrations::check(&db, &[], &set).expect("check");
    assert!(check.unapplied.is_empty(), "{check}");
    let loaded = futures_executor::block_on(store.load(&key)).expect("load");
    assert!(loaded.is_some(), "the session is still there");
}

#[test]
fn adopts_a_table_made_by_create_table_on_sqlite() {
    let file = tack_test::db::sqlite();
    adopts_a_table_made_by_create_table(&file.url());
}

#[test]
fn adopts_a_table_made_by_create_table_on_postgres() {
    let Some(schema) = tack_test::db::postgres("session table adoption") else {
        return;
    };
    adopts_a_table_made_by_create_table(schema.url());
}

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
