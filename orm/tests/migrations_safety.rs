//! A failed migration leaves the database as it was, and two processes
//! starting at once never apply a migration twice.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;
use std::sync::{Arc, Barrier};

use harness::{column, exec, runs};
use tack_orm::migrations::{self, Migrations};
use tack_orm::{Database, Value};

const INITIAL: &str = r#"{
  "dependencies": [],
  "operations": [
    {"op": "create_table", "table": "safe_item", "columns": [
      {"name": "id", "type": "i64", "primary_key": true, "auto": true},
      {"name": "code", "type": "text", "max_length": 20}
    ]}
  ]
}"#;

/// Its third operation fails: `code` holds duplicates.
const FAILING: &str = r#"{
  "dependencies": ["0001_initial"],
  "operations": [
    {"op": "create_table", "table": "safe_other", "columns": [
      {"name": "id", "type": "i64", "primary_key": true, "auto": true}
    ]},
    {"op": "add_column", "table": "safe_item", "column": {"name": "note", "type": "text", "null": true}},
    {"op": "add_unique", "table": "safe_item", "column": "code"},
    {"op": "add_index", "table": "safe_item", "column": "note"}
  ]
}"#;

fn failed_migration_changes_nothing(url: &str, _dir: &Path) {
    let files = Migrations::from_files([("0001_initial", INITIAL), ("0002_unique_code", FAILING)])
        .expect("parse");
    let db = Database::connect(url).expect("connect");
    migrations::migrate(&db, &files, Some("0001_initial")).expect("initial");
    exec(
        &db,
        "INSERT INTO safe_item (code) VALUES ('a'), ('a'), ('b')",
    );

    let error =
        migrations::migrate(&db, &files, None).expect_err("duplicates refuse the unique index");
    let message = error.to_string();
    assert!(message.contains("0002_unique_code"), "{message}");
    assert!(
        !runs(&db, "SELECT 1 FROM safe_other"),
        "the new table was rolled back"
    );
    assert!(
        !runs(&db, "SELECT note FROM safe_item"),
        "the new column was rolled back"
    );
    assert_eq!(
        column(&db, "SELECT COUNT(*) FROM safe_item"),
        [Value::I64(3)]
    );
    assert_eq!(
        column(&db, "SELECT name FROM tack_migrations"),
        [Value::Text("0001_initial".into())]
    );
    // Once the data is fixed, the same migration applies.
    exec(&db, "UPDATE safe_item SET code = 'c' WHERE id = 2");
    let report = migrations::migrate(&db, &files, None).expect("now it applies");
    assert_eq!(report.applied, ["0002_unique_code"]);
    assert!(runs(&db, "SELECT note FROM safe_item"));
}

fn racing_processes_apply_once(url: &str, _dir: &Path) {
    let second = r#"{"dependencies": ["0001_initial"], "operations": [
        {"op": "add_column", "table": "safe_item", "column": {"name": "n", "type": "i64", "default": 0}}]}"#;
    let third = r#"{"dependencies": ["0002_n"], "operations": [
        {"op": "add_index", "table": "safe_item", "column": "n"}]}"#;
    let files = Arc::new(
        Migrations::from_files([
            ("0001_initial", INITIAL),
            ("0002_n", second),
            ("0003_index", third),
        ])
        .expect("parse"),
    );
    let start = Arc::new(Barrier::new(2));
    let runners: Vec<_> = (0..2)
        .map(|_| {
            let (files, start, url) = (files.clone(), start.clone(), url.to_owned());
            std::thread::spawn(move || {
                let db = Database::connect(&url).expect("connect");
                start.wait();
                migrations::migrate(&db, &files, None).expect("migrate")
            })
        })
        .collect();
    let mut applied: Vec<String> = runners
        .into_iter()
        .flat_map(|r| r.join().expect("the runner did not panic").applied)
        .collect();
    applied.sort();
    assert_eq!(
        applied,
        ["0001_initial", "0002_n", "0003_index"],
        "each exactly once"
    );
    let db = Database::connect(url).expect("connect");
    assert_eq!(column(&db, "SELECT name FROM tack_migrations").len(), 3);
}

const FAMILY: &str = r#"{"operations": [
  {"op": "create_table", "table": "fam_parent", "columns": [
    {"name": "id", "type": "i64", "primary_key": true, "auto": true},
    {"name": "name", "type": "text"}]},
  {"op": "create_table", "table": "fam_child", "columns": [
    {"name": "id", "type": "i64", "primary_key": true, "auto": true},
    {"name": "parent_id", "type": "i64", "index": true,
     "references": {"table": "fam_parent", "column": "id", "on_delete": "cascade"}}]}
]}"#;

const LOOSEN: &str = r#"{"dependencies": ["0001_initial"], "operations": [
  {"op": "alter_column", "table": "fam_parent", "column": "name",
   "old": {"type": "text"}, "new": {"type": "text", "null": true}}
]}"#;

fn rebuilding_a_referenced_table_keeps_its_references(url: &str, _dir: &Path) {
    let files =
        Migrations::from_files([("0001_initial", FAMILY), ("0002_loosen", LOOSEN)]).expect("parse");
    let db = Database::connect(url).expect("connect");
    migrations::migrate(&db, &files, Some("0001_initial")).expect("initial");
    exec(&db, "INSERT INTO fam_parent (name) VALUES ('a'), ('b')");
    exec(
        &db,
        "INSERT INTO fam_child (parent_id) VALUES (1), (1), (2)",
    );
    migrations::migrate(&db, &files, None).expect("loosen (a rebuild on SQLite)");
    drop(db);
    let db = Database::connect(url).expect("connect");
    assert_eq!(
        column(&db, "SELECT COUNT(*) FROM fam_child"),
        [Value::I64(3)],
        "no cascade"
    );
    exec(&db, "INSERT INTO fam_parent (name) VALUES (NULL)");
    assert!(
        !runs(
            &db,
            "INSERT INTO fam_child (parent_id) VALUES (99) RETURNING id"
        ),
        "keys enforced"
    );
    exec(&db, "DELETE FROM fam_parent WHERE id = 1");
    assert_eq!(
        column(&db, "SELECT COUNT(*) FROM fam_child"),
        [Value::I64(1)],
        "cascade still works"
    );
    migrations::migrate(&db, &files, Some("0001_initial"))
        .expect_err("a NULL name blocks the rollback");
    exec(&db, "DELETE FROM fam_parent WHERE name IS NULL");
    migrations::migrate(&db, &files, Some("0001_initial")).expect("rollback");
    assert_eq!(
        column(&db, "SELECT COUNT(*) FROM fam_child"),
        [Value::I64(1)]
    );
}

both_backends!(
    failed_migration_changes_nothing,
    racing_processes_apply_once,
    rebuilding_a_referenced_table_keeps_its_references
);
