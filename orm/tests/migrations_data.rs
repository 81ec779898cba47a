//! Data migrations: `run_sql` runs inside the migration's transaction on the
//! way up, its `backward` SQL on the way back, and a failing one changes
//! nothing.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::{column, runs};
use tack_orm::migrations::{self, Migrations};
use tack_orm::{Database, Value};

const INITIAL: &str = r#"{"dependencies": [], "operations": [
    {"op": "create_table", "table": "data_tag", "columns": [
      {"name": "id", "type": "i64", "primary_key": true, "auto": true},
      {"name": "name", "type": "text", "max_length": 20}
    ]}
]}"#;

const SEED: &str = r#"{"dependencies": ["0001_initial"], "operations": [
    {"op": "run_sql",
     "forward": "INSERT INTO data_tag (name) VALUES ('rust'); INSERT INTO data_tag (name) VALUES ('sql')",
     "backward": "DELETE FROM data_tag WHERE name IN ('rust', 'sql')"}
]}"#;

/// The same data, with no way back.
const ONE_WAY: &str = r#"{"dependencies": ["0001_initial"], "operations": [
    {"op": "run_sql", "forward": "INSERT INTO data_tag (name) VALUES ('rust'), ('sql')"}
]}"#;

/// Adds a column, then fails in its SQL: the column must not stay.
const BROKEN: &str = r#"{"dependencies": ["0002_seed"], "operations": [
    {"op": "add_column", "table": "data_tag", "column": {"name": "slug", "type": "text", "null": true}},
    {"op": "run_sql", "forward": "UPDATE data_tag SET slug = no_such_column"}
]}"#;

both_backends!(
    run_sql_goes_forward_and_back,
    a_failing_run_sql_changes_nothing
);

fn names(db: &Database) -> Vec<Value> {
    column(db, "SELECT name FROM data_tag ORDER BY name")
}

fn run_sql_goes_forward_and_back(url: &str, _dir: &Path) {
    let files = Migrations::from_files([("0001_initial", INITIAL), ("0002_seed", SEED)]).unwrap();
    let db = Database::connect(url).unwrap();
    let report = migrations::migrate(&db, &files, None).unwrap();
    assert_eq!(report.applied, ["0001_initial", "0002_seed"]);
    assert_eq!(
        names(&db),
        [Value::Text("rust".into()), Value::Text("sql".into())]
    );
    // The state of the schema is unchanged by data: nothing to detect.
    assert_eq!(files.state().unwrap().tables.len(), 1);
    migrations::migrate(&db, &files, Some("0001_initial")).unwrap();
    assert!(names(&db).is_empty(), "the backward SQL ran");
    // Without backward SQL, rolling back is refused before anything runs.
    let files =
        Migrations::from_files([("0001_initial", INITIAL), ("0002_seed", ONE_WAY)]).unwrap();
    migrations::migrate(&db, &files, None).unwrap();
    let error = migrations::migrate(&db, &files, Some("0001_initial")).unwrap_err();
    assert!(error.to_string().contains("backward"), "{error}");
    assert_eq!(names(&db).len(), 2, "nothing was rolled back");
}

fn a_failing_run_sql_changes_nothing(url: &str, _dir: &Path) {
    let files = Migrations::from_files([
        ("0001_initial", INITIAL),
        ("0002_seed", SEED),
        ("0003_broken", BROKEN),
    ])
    .unwrap();
    let db = Database::connect(url).unwrap();
    let error = migrations::migrate(&db, &files, None).unwrap_err();
    assert!(error.to_string().contains("0003_broken"), "{error}");
    assert!(
        !runs(&db, "SELECT slug FROM data_tag"),
        "the added column went with the failure"
    );
    assert_eq!(names(&db).len(), 2, "the earlier migrations stay applied");
    let applied = column(&db, "SELECT name FROM tack_migrations ORDER BY name");
    assert_eq!(applied.len(), 2);
}
