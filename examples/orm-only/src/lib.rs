//! An inventory program that had its own table long before it had an ORM,
//! and adopts tack-orm without a web framework, a runtime or a rewrite:
//!
//! 1. The model describes the table as it is, and `makemigrations` writes
//!    `0001_initial` from it.
//! 2. On a database that already has the table, [`upgrade`] records
//!    `0001_initial` as applied without running it (Django's
//!    `migrate --fake-initial`), because the table and every column it
//!    creates exist; on a new database it creates the table.
//! 3. The program evolves: a field added to the model, `makemigrations`
//!    writes `0002_add_inventory_item_location`, and [`upgrade`] applies it
//!    to old and new databases alike, keeping every row.

use tack_orm::migrations::{self, Migrations};
use tack_orm::prelude::*;
use tack_orm::{Connection, Database};

/// One kind of thing on the shelves.
#[derive(Model, Clone, Debug, PartialEq)]
#[tack(app = "inventory", table = "inventory_item", display = "{name}")]
pub struct Item {
    /// Primary key.
    pub id: i64,
    /// What it is.
    #[tack(max_length = 100)]
    pub name: String,
    /// How many there are.
    pub quantity: i64,
    /// Where they are kept: the field the second migration adds.
    #[tack(max_length = 50, default = "back room".to_owned())]
    pub location: String,
}

/// The migrations of `migrations/`, compiled in.
pub static MIGRATIONS: &[(&str, &str)] = migrations::embed_migrations!("migrations");

/// The program's app label.
pub const APP: &str = "inventory";

/// The table as the program made it before it used tack-orm, with its own
/// SQL (what an existing database holds).
pub const LEGACY_SCHEMA_SQLITE: &str = "CREATE TABLE inventory_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    quantity INTEGER NOT NULL
)";

/// The same table on PostgreSQL.
pub const LEGACY_SCHEMA_POSTGRES: &str = "CREATE TABLE inventory_item (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    quantity BIGINT NOT NULL
)";

/// The migrations, labelled with the program's app.
pub fn migration_set() -> tack_orm::Result<Migrations> {
    Migrations::from_embedded(MIGRATIONS)?.labelled(APP)
}

/// Brings `db` up to date: adopts the initial migration when its table is
/// already there, then applies the rest. Answers what was adopted and what
/// was applied, by name.
pub fn upgrade(db: &Database) -> tack_orm::Result<(Vec<String>, Vec<String>)> {
    let set = migration_set()?;
    let adopted = migrations::adopt_existing_tables(db, &set)?;
    let report = migrations::migrate(db, &set, None)?;
    migrations::check(db, &[Item::meta()], &set)?.into_result()?;
    Ok((adopted, report.applied))
}

/// The program's old way of writing a row, with its own SQL: the rows an
/// existing database holds.
pub fn legacy_insert(conn: &Connection, name: &str, quantity: i64) -> tack_orm::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO inventory_item (name, quantity) VALUES ('{}', {quantity})",
        name.replace('\'', "''")
    ))
}
