//! An existing database adopts tack-orm: the table the program made with
//! its own SQL is recorded as migrated (not made again: its rows stay), and
//! the next migration evolves it; a new database gets both. On SQLite, and
//! on PostgreSQL when TACK_TEST_POSTGRES names a server.

use orm_only::{Item, LEGACY_SCHEMA_POSTGRES, LEGACY_SCHEMA_SQLITE, legacy_insert, upgrade};
use tack_orm::Database;

fn adopts_then_evolves(old: &str, new: &str, legacy_schema: &str) {
    // The program as it was, with two rows.
    let db = Database::connect(old).unwrap();
    let conn = db.connection().unwrap();
    conn.execute_batch(legacy_schema).unwrap();
    legacy_insert(&conn, "bolts", 120).unwrap();
    legacy_insert(&conn, "nut's", 80).unwrap();
    drop(conn);

    let (adopted, applied) = upgrade(&db).unwrap();
    assert_eq!(adopted, ["0001_initial"]);
    assert_eq!(applied, ["0002_add_inventory_item_location"]);
    let items = Item::objects().order_by(Item::ID.asc()).all(&db).unwrap();
    let kept: Vec<(&str, i64, &str)> = items
        .iter()
        .map(|item| (item.name.as_str(), item.quantity, item.location.as_str()))
        .collect();
    assert_eq!(
        kept,
        [("bolts", 120, "back room"), ("nut's", 80, "back room")]
    );
    // The ORM writes where the old SQL did, with the new column.
    Item::objects()
        .create(
            &db,
            Item {
                id: 0,
                name: "washers".into(),
                quantity: 500,
                location: "aisle 3".into(),
            },
        )
        .unwrap();
    assert_eq!(Item::objects().count(&db).unwrap(), 3);
    // Up to date: a second run does nothing.
    assert_eq!(upgrade(&db).unwrap(), (vec![], vec![]));

    // A new database is made by the migrations themselves.
    let fresh = Database::connect(new).unwrap();
    let (adopted, applied) = upgrade(&fresh).unwrap();
    assert!(adopted.is_empty(), "{adopted:?}");
    assert_eq!(
        applied,
        ["0001_initial", "0002_add_inventory_item_location"]
    );
    assert_eq!(Item::objects().count(&fresh).unwrap(), 0);
}

#[test]
fn an_old_sqlite_database_is_adopted_and_evolved() {
    let (old, new) = (tack_test::db::sqlite(), tack_test::db::sqlite());
    adopts_then_evolves(&old.url(), &new.url(), LEGACY_SCHEMA_SQLITE);
}

#[test]
fn an_old_postgres_database_is_adopted_and_evolved() {
    let Some(old) = tack_test::db::postgres("an_old_postgres_database_is_adopted_and_evolved")
    else {
        return;
    };
    let new = tack_test::db::postgres("an_old_postgres_database_is_adopted_and_evolved").unwrap();
    adopts_then_evolves(old.url(), new.url(), LEGACY_SCHEMA_POSTGRES);
}
