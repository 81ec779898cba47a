//! The harness shared by the migration tests: each test is a function over
//! a database URL and a scratch folder for migration files, run on a
//! temporary SQLite file and on a fresh PostgreSQL schema (skipped with a
//! printed line when TACK_TEST_POSTGRES is unset).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tack_orm::{Database, Value};

/// A scratch folder beside the test database, removed with it.
pub fn scratch(db_file: &Path, name: &str) -> PathBuf {
    let dir = db_file
        .parent()
        .expect("the temporary database lives in a folder")
        .join(name);
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    dir
}

/// The first column of every row of `sql`.
pub fn column(db: &Database, sql: &str) -> Vec<Value> {
    let conn = db.connection().expect("a connection");
    let mut out = Vec::new();
    conn.query(sql, &[], |row| {
        out.push(row.value(0)?);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    out
}

/// Whether `sql` runs at all (a table or column exists).
pub fn runs(db: &Database, sql: &str) -> bool {
    let conn = db.connection().expect("a connection");
    conn.query(sql, &[], |_| Ok(())).is_ok()
}

/// Runs `sql` (setup that the ORM would do).
pub fn exec(db: &Database, sql: &str) {
    let conn = db.connection().expect("a connection");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Defines each listed test twice: `sqlite::NAME` and `postgres::NAME`,
/// calling `NAME(url, scratch_folder)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let file = tack_test::db::sqlite();
                    let dir = $crate::harness::scratch(file.path(), "migrations");
                    super::$name(&file.url(), &dir);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let Some(schema) = tack_test::db::postgres(stringify!($name)) else { return };
                    let file = tack_test::db::sqlite();
                    let dir = $crate::harness::scratch(file.path(), "migrations");
                    super::$name(schema.url(), &dir);
                }
            )*
        }
    };
}
