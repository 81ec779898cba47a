//! Migrations across apps: a battery's embedded set beside the project's
//! folder, one history table keyed by app, per-app targets, `--fake`,
//! leaf conflicts and `--merge`, squashed migrations, Rust data functions,
//! and databases made before any of that.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::{column, exec, runs};
use tack_orm::migrations::{
    self, AppMigrations, MakeOutcome, Migrate, Migrations, Project, run_command,
};
use tack_orm::{Connection, Database, Value};

/// A battery ("lib") with one table of its own.
const LIB: AppMigrations = AppMigrations {
    app: "lib",
    files: &[
        (
            "0001_initial",
            r#"{"operations": [
                {"op": "create_table", "table": "lib_owner", "columns": [
                  {"name": "id", "type": "i64", "primary_key": true, "auto": true},
                  {"name": "name", "type": "text", "max_length": 40}
                ]}
            ]}"#,
        ),
        (
            "0002_owner_email",
            r#"{"dependencies": ["0001_initial"], "operations": [
                {"op": "add_column", "table": "lib_owner",
                 "column": {"name": "email", "type": "text", "default": ""}}
            ]}"#,
        ),
    ],
};

const SHOP_INITIAL: &str = r#"{"operations": [
    {"op": "create_table", "table": "shop_item", "columns": [
      {"name": "id", "type": "i64", "primary_key": true, "auto": true},
      {"name": "title", "type": "text", "max_length": 40}
    ]}
]}"#;

/// Needs the battery's first migration: its foreign key points there.
const SHOP_OWNER: &str = r#"{"dependencies": ["0001_initial", ["lib", "0001_initial"]],
  "operations": [
    {"op": "add_column", "table": "shop_item", "column": {"name": "owner_id", "type": "i64",
      "null": true, "index": true,
      "references": {"table": "lib_owner", "column": "id", "on_delete": "set_null"}}}
]}"#;

const SHOP_PRICE: &str = r#"{"dependencies": ["0002_owner"], "operations": [
    {"op": "add_column", "table": "shop_item",
     "column": {"name": "price", "type": "i64", "default": 0}}
]}"#;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(format!("{name}.json")), text).expect("write a migration");
    }
}

fn shop(dir: &Path) -> Migrations {
    Migrations::from_dir(dir)
        .and_then(|set| set.labelled("shop"))
        .and_then(|set| set.with(LIB))
        .expect("the migrations load")
}

fn history(db: &Database) -> Vec<String> {
    let conn = db.connection().expect("a connection");
    let mut out = Vec::new();
    conn.query(
        "SELECT app, name FROM tack_migrations ORDER BY app, name",
        &[],
        |row| {
            out.push(format!(
                "{}.{}",
                row.get::<String>(0)?,
                row.get::<String>(1)?
            ));
            Ok(())
        },
    )
    .expect("read the history");
    out
}

fn apps_order_by_dependencies_and_move_one_at_a_time(url: &str, dir: &Path) {
    write(
        dir,
        &[
            ("0001_initial", SHOP_INITIAL),
            ("0002_owner", SHOP_OWNER),
            ("0003_price", SHOP_PRICE),
        ],
    );
    let set = shop(dir);
    assert_eq!(
        set.names(),
        [
            "0001_initial",
            "lib.0001_initial",
            "0002_owner",
            "0003_price",
            "lib.0002_owner_email"
        ],
        "each migration after what it depends on"
    );
    let db = Database::connect(url).expect("connect");

    // Only the battery, to its first migration.
    let report = Migrate::new(&set)
        .app("lib")
        .target("0001_initial")
        .run(&db)
        .expect("migrate lib 0001");
    assert_eq!(report.applied, ["lib.0001_initial"]);

    // The project's app to 0002 applies what it needs and nothing more.
    let report = migrations::migrate(&db, &set, Some("0002_owner")).expect("to 0002");
    assert_eq!(report.applied, ["0001_initial", "0002_owner"]);
    assert!(!runs(&db, "SELECT price FROM shop_item"));

    let report = migrations::migrate(&db, &set, None).expect("all");
    assert_eq!(report.applied, ["0003_price", "lib.0002_owner_email"]);
    assert_eq!(
        history(&db),
        [
            "lib.0001_initial",
            "lib.0002_owner_email",
            "shop.0001_initial",
            "shop.0002_owner",
            "shop.0003_price"
        ],
        "one history table, keyed by app"
    );
    exec(
        &db,
        "INSERT INTO lib_owner (name, email) VALUES ('Ada', 'ada@example.com')",
    );
    exec(
        &db,
        "INSERT INTO shop_item (title, owner_id, price) VALUES ('Lamp', 1, 12)",
    );

    // Rolling the battery back to zero takes what depends on it along.
    let report = Migrate::new(&set)
        .app("lib")
        .target("zero")
        .run(&db)
        .expect("lib to zero");
    assert_eq!(
        report.rolled_back,
        [
            "lib.0002_owner_email",
            "0003_price",
            "0002_owner",
            "lib.0001_initial"
        ],
        "newest first, dependents before what they depend on"
    );
    assert_eq!(history(&db), ["shop.0001_initial"]);
    assert_eq!(
        column(&db, "SELECT title FROM shop_item"),
        [Value::Text("Lamp".into())],
        "the project's first table and its rows stay"
    );

    // Back again; an unknown app or migration is named in the error.
    migrations::migrate(&db, &set, None).expect("all again");
    let error = Migrate::new(&set)
        .app("lib")
        .target("0009_nothing")
        .run(&db)
        .expect_err("unknown target");
    assert!(
        error
            .to_string()
            .contains("app lib has no migration named \"0009_nothing\""),
        "{error}"
    );
    let error = Migrate::new(&set)
        .app("nope")
        .run(&db)
        .expect_err("unknown app");
    assert!(error.to_string().contains("no app \"nope\""), "{error}");
}

fn a_missing_app_or_a_cycle_is_named(_url: &str, dir: &Path) {
    write(
        dir,
        &[("0001_initial", SHOP_INITIAL), ("0002_owner", SHOP_OWNER)],
    );
    let error = Migrations::from_dir(dir)
        .and_then(|set| set.labelled("shop"))
        .and_then(|set| set.validate())
        .expect_err("lib is not in the set");
    assert!(
        error
            .to_string()
            .contains("migration shop.0002_owner depends on lib.0001_initial, but no app \"lib\" is in the set"),
        "{error}"
    );
    let cycle = AppMigrations {
        app: "lib",
        files: &[(
            "0001_initial",
            r#"{"dependencies": [["shop", "0002_owner"]], "operations": []}"#,
        )],
    };
    let error =
        Migrations::from_embedded(&[("0001_initial", SHOP_INITIAL), ("0002_owner", SHOP_OWNER)])
            .and_then(|set| set.labelled("shop"))
            .and_then(|set| set.with(cycle))
            .expect_err("a cycle");
    assert!(error.to_string().contains("form a cycle"), "{error}");
}

fn fake_records_without_running(url: &str, dir: &Path) {
    write(dir, &[("0001_initial", SHOP_INITIAL)]);
    let set = shop(dir);
    let db = Database::connect(url).expect("connect");
    // The table was made by hand: record the migration only.
    exec(
        &db,
        "CREATE TABLE shop_item (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL)",
    );
    let report = Migrate::new(&set)
        .app("shop")
        .fake()
        .run(&db)
        .expect("fake");
    assert_eq!(report.to_string(), "Applied 0001_initial (fake)");
    assert_eq!(history(&db), ["shop.0001_initial"]);
    let report = Migrate::new(&set)
        .app("shop")
        .target("zero")
        .fake()
        .run(&db)
        .expect("fake back");
    assert_eq!(report.rolled_back, ["0001_initial"]);
    assert!(runs(&db, "SELECT title FROM shop_item"), "the table stays");
    assert!(history(&db).is_empty());
}

fn two_leaves_are_an_error_until_merged(url: &str, dir: &Path) {
    let second = |column: &str| {
        format!(
            r#"{{"dependencies": ["0001_initial"], "operations": [
            {{"op": "add_column", "table": "shop_item",
              "column": {{"name": "{column}", "type": "text", "default": ""}}}}]}}"#
        )
    };
    let (colour, size) = (second("colour"), second("size"));
    write(
        dir,
        &[
            ("0001_initial", SHOP_INITIAL),
            ("0002_colour", &colour),
            ("0002_size", &size),
        ],
    );
    let set = Migrations::from_dir(dir)
        .and_then(|set| set.labelled("shop"))
        .expect("load");
    let db = Database::connect(url).expect("connect");
    let error = migrations::migrate(&db, &set, None).expect_err("two leaves");
    assert!(
        error.to_string().contains(
            "conflicting migrations in app shop: 0002_colour and 0002_size do not depend on each other; run makemigrations --merge"
        ),
        "{error}"
    );
    assert!(!runs(&db, "SELECT 1 FROM shop_item"), "nothing ran");

    let project = Project {
        app: "shop",
        models: &[],
        folder: dir,
        embedded: &[],
        batteries: &[],
    };
    let args = ["makemigrations".to_owned(), "--merge".to_owned()];
    let out = run_command(&project, || Database::connect(url), &args)
        .expect("merge")
        .expect("a command");
    assert!(out.contains("0003_merge_0002_0002.json"), "{out}");
    let merged = project.migrations().expect("load again");
    let report = migrations::migrate(&db, &merged, None).expect("migrate after the merge");
    assert_eq!(report.applied.len(), 4, "{report}");
    assert!(runs(&db, "SELECT colour, size FROM shop_item"));
    let again = migrations::makemigrations_merge(&merged, dir).expect("nothing to merge");
    assert_eq!(again, MakeOutcome::NoChanges);
}

fn squashed_migrations_stand_for_the_ones_they_replace(url: &str, dir: &Path) {
    let files = [
        ("0001_initial", SHOP_INITIAL),
        ("0002_owner", SHOP_OWNER),
        ("0003_price", SHOP_PRICE),
    ];
    write(dir, &files);
    let old = Database::connect(url).expect("connect");
    // A database that applied 0001 only, before the squash.
    migrations::migrate(&old, &shop(dir), Some("0001_initial")).expect("to 0001");

    let outcome = migrations::squashmigrations(&shop(dir), dir, "0001_initial", "0003_price")
        .expect("squash");
    let MakeOutcome::Written { migration, .. } = outcome else {
        panic!("a file was written")
    };
    assert_eq!(migration.name, "0001_squashed_0003");
    assert_eq!(
        migration.replaces,
        ["0001_initial", "0002_owner", "0003_price"]
    );
    assert_eq!(migration.operations.len(), 3);

    // Partly applied: the remaining replaced migrations run one by one.
    let report = migrations::migrate(&old, &shop(dir), None).expect("finish");
    assert!(
        report.applied.contains(&"0002_owner".to_owned()),
        "{report}"
    );
    assert!(history(&old).contains(&"shop.0001_squashed_0003".to_owned()));
    assert!(runs(&old, "SELECT price, owner_id FROM shop_item"));

    // With the replaced files gone, a new database runs the squash alone,
    // and the old one has nothing left to do.
    for (name, _) in files {
        std::fs::remove_file(dir.join(format!("{name}.json"))).expect("remove");
    }
    let set = shop(dir);
    let report = migrations::migrate(&old, &set, None).expect("the old database");
    assert!(report.applied.is_empty(), "{report}");
    old.atomic(|tx| {
        tx.execute_batch("DROP TABLE shop_item; DROP TABLE lib_owner; DROP TABLE tack_migrations")
    })
    .expect("start over");
    let report = migrations::migrate(&old, &set, None).expect("a new database");
    assert_eq!(
        report.applied,
        [
            "lib.0001_initial",
            "0001_squashed_0003",
            "lib.0002_owner_email"
        ]
    );
    let recorded = history(&old);
    assert!(
        recorded.contains(&"shop.0002_owner".to_owned()),
        "the replaced migrations are recorded too: {recorded:?}"
    );
    let error = migrations::squashmigrations(&set, dir, "0003_price", "0001_initial")
        .expect_err("backwards");
    assert!(error.to_string().contains("no migration named"), "{error}");
}

fn fill_titles(tx: &Connection) -> tack_orm::Result<()> {
    tx.execute("UPDATE shop_item SET title = title || '!'", &[])?;
    Ok(())
}

fn unfill_titles(tx: &Connection) -> tack_orm::Result<()> {
    tx.execute("UPDATE shop_item SET title = REPLACE(title, '!', '')", &[])?;
    Ok(())
}

fn refuse(tx: &Connection) -> tack_orm::Result<()> {
    // A statement the database refuses, as a data function's bug would be.
    tx.execute("UPDATE shop_item SET no_such_column = 1", &[])?;
    Ok(())
}

fn rust_data_migrations_run_in_the_transaction(url: &str, dir: &Path) {
    let data = r#"{"dependencies": ["0001_initial"], "operations": [
        {"op": "run_rust", "forward": "fill_titles", "backward": "unfill_titles"}
    ]}"#;
    let broken = r#"{"dependencies": ["0002_data"], "operations": [
        {"op": "add_column", "table": "shop_item", "column": {"name": "note", "type": "text", "null": true}},
        {"op": "run_rust", "forward": "refuse"}
    ]}"#;
    write(dir, &[("0001_initial", SHOP_INITIAL), ("0002_data", data)]);
    let db = Database::connect(url).expect("connect");
    let unregistered = Migrations::from_dir(dir).expect("load");
    let error = migrations::migrate(&db, &unregistered, None).expect_err("unregistered");
    assert!(
        error
            .to_string()
            .contains("the Rust data migration function \"fill_titles\" is not registered"),
        "{error}"
    );
    let set = |dir: &Path| {
        Migrations::from_dir(dir)
            .expect("load")
            .function("fill_titles", fill_titles)
            .function("unfill_titles", unfill_titles)
            .function("refuse", refuse)
    };
    migrations::migrate(&db, &set(dir), Some("0001_initial")).expect("0001");
    exec(&db, "INSERT INTO shop_item (title) VALUES ('Lamp')");
    migrations::migrate(&db, &set(dir), None).expect("the data migration");
    assert_eq!(
        column(&db, "SELECT title FROM shop_item"),
        [Value::Text("Lamp!".into())]
    );
    let sql = migrations::sqlmigrate(db.dialect(), &set(dir), "0002_data", false).expect("sql");
    assert_eq!(sql, ["-- the Rust function fill_titles"]);

    write(dir, &[("0003_broken", broken)]);
    let error = migrations::migrate(&db, &set(dir), None).expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("failed (nothing of it was kept) in the Rust function refuse"),
        "{error}"
    );
    assert!(
        !runs(&db, "SELECT note FROM shop_item"),
        "the column went with it"
    );
    std::fs::remove_file(dir.join("0003_broken.json")).expect("remove");

    migrations::migrate(&db, &set(dir), Some("0001_initial")).expect("back");
    assert_eq!(
        column(&db, "SELECT title FROM shop_item"),
        [Value::Text("Lamp".into())]
    );
}

fn databases_from_before_apps_keep_working(url: &str, dir: &Path) {
    write(dir, &[("0001_initial", SHOP_INITIAL)]);
    let db = Database::connect(url).expect("connect");
    // The history table as it was, and the battery's table made by hand
    // (as the project's own migration used to make it).
    exec(
        &db,
        "CREATE TABLE tack_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, \
         applied_at VARCHAR(64) NOT NULL)",
    );
    for statement in migrations::sqlmigrate(
        db.dialect(),
        &Migrations::from_dir(dir).expect("load"),
        "0001_initial",
        false,
    )
    .expect("sql")
    {
        exec(&db, &statement);
    }
    exec(
        &db,
        "INSERT INTO tack_migrations (name, applied_at) VALUES ('0001_initial', '2026-01-01T00:00:00+00:00')",
    );
    exec(
        &db,
        "CREATE TABLE lib_owner (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
    );
    exec(&db, "INSERT INTO lib_owner (id, name) VALUES (1, 'Ada')");

    write(dir, &[("0002_owner", SHOP_OWNER)]);
    // What a readiness probe reads, without touching the old table.
    let pending = migrations::unapplied(&db, &shop(dir)).expect("unapplied");
    assert_eq!(
        pending,
        ["lib.0001_initial", "0002_owner", "lib.0002_owner_email"]
    );
    assert!(
        !runs(&db, "SELECT app FROM tack_migrations"),
        "nothing was written"
    );
    let report = migrations::migrate(&db, &shop(dir), None).expect("migrate");
    assert_eq!(report.adopted, ["lib.0001_initial"], "{report}");
    assert_eq!(report.applied, ["0002_owner", "lib.0002_owner_email"]);
    assert_eq!(
        history(&db),
        [
            "lib.0001_initial",
            "lib.0002_owner_email",
            "shop.0001_initial",
            "shop.0002_owner"
        ],
        "the old row belongs to the project's app"
    );
    assert_eq!(
        column(&db, "SELECT name FROM lib_owner"),
        [Value::Text("Ada".into())]
    );
    assert!(
        migrations::unapplied(&db, &shop(dir))
            .expect("unapplied")
            .is_empty()
    );
    let check = migrations::check(&db, &[], &shop(dir)).expect("check");
    assert!(
        check.unapplied.is_empty() && check.unknown_applied.is_empty(),
        "{check}"
    );
}

both_backends!(
    apps_order_by_dependencies_and_move_one_at_a_time,
    a_missing_app_or_a_cycle_is_named,
    fake_records_without_running,
    two_leaves_are_an_error_until_merged,
    squashed_migrations_stand_for_the_ones_they_replace,
    rust_data_migrations_run_in_the_transaction,
    databases_from_before_apps_keep_working,
    decimal_columns_migrate,
);

mod priced {
    use tack_orm::prelude::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop", table = "shop_priced")]
    pub struct Priced {
        pub id: i64,
        pub price: tack_orm::Decimal,
        pub discount: Option<tack_orm::Decimal>,
    }
}

/// A decimal column comes and goes with migrations, and keeps its digits.
fn decimal_columns_migrate(url: &str, dir: &Path) {
    use tack_orm::prelude::*;
    let models = [priced::Priced::meta()];
    let outcome = migrations::makemigrations(&models, dir).expect("makemigrations");
    let MakeOutcome::Written { path, .. } = outcome else {
        panic!("a migration")
    };
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(r#""type": "decimal""#), "{text}");
    let db = Database::connect(url).expect("connect");
    let set = Migrations::from_dir(dir).expect("load");
    migrations::migrate(&db, &set, None).expect("migrate");
    assert!(
        migrations::check(&db, &models, &set)
            .expect("check")
            .is_ok()
    );
    let mut row = priced::Priced {
        id: 0,
        price: "19.99".parse().unwrap(),
        discount: None,
    };
    row.save(&db).expect("save");
    let back = priced::Priced::objects().all(&db).expect("load");
    assert_eq!(back[0].price.to_string(), "19.99");
    migrations::migrate(&db, &set, Some("zero")).expect("back to zero");
}
