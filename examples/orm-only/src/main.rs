//! `cargo run -p orm-only [DATABASE_URL]`: on a database with the program's
//! old table (made by its own SQL when missing, with a few rows), adopts
//! tack-orm's migrations, applies the new one, and uses the model.
//! `cargo run -p orm-only -- makemigrations` and the other migration
//! commands manage `migrations/` (`INVENTORY_DATABASE_URL` names the database).

use std::path::Path;
use std::process::ExitCode;

use orm_only::{APP, Item, LEGACY_SCHEMA_POSTGRES, LEGACY_SCHEMA_SQLITE, MIGRATIONS};
use tack_orm::prelude::*;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("orm-only: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let url = std::env::var("INVENTORY_DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://inventory.sqlite3".to_owned());
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        let models = [Item::meta()];
        let project = tack_orm::migrations::Project {
            app: APP,
            models: &models,
            folder: Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")),
            embedded: MIGRATIONS,
            batteries: &[],
        };
        let output = tack_orm::migrations::run_command(
            &project,
            || tack_orm::Database::connect(&url),
            &args,
        )
        .map_err(|e| e.to_string())?;
        if let Some(text) = output {
            println!("{text}");
        }
        return Ok(());
    }
    let db = tack_orm::Database::connect(&url).map_err(|e| e.to_string())?;
    // The program as it was: its table, made by its own SQL.
    let conn = db.connection().map_err(|e| e.to_string())?;
    let legacy = if url.starts_with("postgres") {
        LEGACY_SCHEMA_POSTGRES
    } else {
        LEGACY_SCHEMA_SQLITE
    };
    if conn.execute_batch(legacy).is_ok() {
        for (name, quantity) in [("bolts", 120), ("nuts", 80)] {
            orm_only::legacy_insert(&conn, name, quantity).map_err(|e| e.to_string())?;
        }
        println!("made the old table inventory_item with 2 rows, as the program used to");
    }
    drop(conn);
    let (adopted, applied) = orm_only::upgrade(&db).map_err(|e| e.to_string())?;
    for name in adopted {
        println!("adopted {name} (its table was already there)");
    }
    for name in applied {
        println!("applied {name}");
    }
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
        .map_err(|e| e.to_string())?;
    for item in Item::objects()
        .order_by(Item::ID.asc())
        .all(&db)
        .map_err(|e| e.to_string())?
    {
        println!("{:>4} {:<10} ({})", item.quantity, item.name, item.location);
    }
    Ok(())
}
