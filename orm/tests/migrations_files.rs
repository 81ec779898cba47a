//! Migration files: what `makemigrations` writes (and refuses), declared and
//! undeclared renames, join tables, embedding, plan mode, `check` and
//! irreversible operations.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::runs;
use tack_orm::migrations::{self, MakeOutcome, Migrations, Renames};
use tack_orm::prelude::*;
use tack_orm::{Dialect, ModelMeta};

mod before {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop")]
    pub struct Tag {
        pub id: i64,
        #[tack(unique, max_length = 30)]
        pub name: String,
    }
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop")]
    pub struct Item {
        pub id: i64,
        #[tack(max_length = 80)]
        pub title: String,
        #[tack(default = 1.5)]
        pub price: f64,
        pub tags: ManyToMany<Tag>,
    }
}

mod after {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop", table = "shop_item")]
    pub struct Item {
        pub id: i64,
        #[tack(max_length = 80)]
        pub label: String,
        #[tack(default = 1.5)]
        pub price: f64,
    }
}

mod strict {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop", table = "shop_item")]
    pub struct Item {
        pub id: i64,
        #[tack(max_length = 80)]
        pub title: String,
        #[tack(default = 1.5)]
        pub price: f64,
        pub stock: i64,
    }
}

fn before_models() -> Vec<&'static ModelMeta> {
    vec![before::Item::meta(), before::Tag::meta()]
}

fn written(outcome: MakeOutcome) -> migrations::Migration {
    match outcome {
        MakeOutcome::Written { migration, .. } => migration,
        other => panic!("expected a migration, got: {other}"),
    }
}

#[test]
fn initial_file_is_readable_json() {
    let file = tack_test::db::sqlite();
    let dir = harness::scratch(file.path(), "m");
    let outcome = migrations::makemigrations(&before_models(), &dir).expect("make");
    assert!(
        outcome
            .to_string()
            .contains("Create join table shop_item_tags"),
        "{outcome}"
    );
    let text = std::fs::read_to_string(dir.join("0001_initial.json")).expect("the file");
    let expected = r#"{
  "dependencies": [],
  "operations": [
    {
      "op": "create_table",
      "table": "shop_item",
      "columns": [
        {
          "name": "id",
          "type": "i64",
          "primary_key": true,
          "auto": true
        },
        {
          "name": "title",
          "type": "text",
          "max_length": 80
        },
        {
          "name": "price",
          "type": "f64",
          "default": 1.5
        }
      ]
    },
    {
      "op": "create_table",
      "table": "shop_tag",
      "columns": [
        {
          "name": "id",
          "type": "i64",
          "primary_key": true,
          "auto": true
        },
        {
          "name": "name",
          "type": "text",
          "max_length": 30,
          "unique": true
        }
      ]
    },
    {
      "op": "create_join_table",
      "table": "shop_item_tags",
      "source": {
        "column": "item_id",
        "table": "shop_item",
        "references": "id",
        "type": "i64"
      },
      "target": {
        "column": "tag_id",
        "table": "shop_tag",
        "references": "id",
        "type": "i64"
      }
    }
  ]
}
"#;
    assert_eq!(text, expected);
    let again = migrations::makemigrations(&before_models(), &dir).expect("make again");
    assert_eq!(again.to_string(), "No changes detected");
    assert_eq!(
        std::fs::read_dir(&dir).expect("list").count(),
        1,
        "nothing more written"
    );
}

#[test]
fn not_null_column_without_default_is_refused() {
    let file = tack_test::db::sqlite();
    let dir = harness::scratch(file.path(), "m");
    migrations::makemigrations(&before_models(), &dir).expect("initial");
    let error = migrations::makemigrations(&[strict::Item::meta(), before::Tag::meta()], &dir)
        .expect_err("stock has no default");
    let message = error.to_string();
    assert!(
        message.contains("shop_item.stock") && message.contains("default"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
}

#[test]
fn undeclared_rename_is_remove_and_add_with_a_note() {
    let file = tack_test::db::sqlite();
    let dir = harness::scratch(file.path(), "m");
    migrations::makemigrations(&before_models(), &dir).expect("initial");
    // `label` has no default: as an undeclared rename it cannot be added...
    let error = migrations::makemigrations(&[after::Item::meta()], &dir).expect_err("no default");
    assert!(error.to_string().contains("shop_item.label"), "{error}");
    // ...declared, it is a rename.
    let renames = Renames::new().column("shop_item", "title", "label");
    let m = written(
        migrations::makemigrations_with(&[after::Item::meta()], &dir, &renames, None)
            .expect("make"),
    );
    let ops: Vec<String> = m.operations.iter().map(|o| o.describe()).collect();
    assert_eq!(
        ops,
        [
            "Drop join table shop_item_tags",
            "Rename column title of shop_item to label",
            "Drop table shop_tag"
        ]
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
}

mod nullable_label {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "shop", table = "shop_item")]
    pub struct Item {
        pub id: i64,
        pub label: Option<String>,
        #[tack(default = 1.5)]
        pub price: f64,
        pub tags: ManyToMany<before::Tag>,
    }
}

#[test]
fn undeclared_rename_note_is_in_the_file() {
    let file = tack_test::db::sqlite();
    let dir = harness::scratch(file.path(), "m");
    migrations::makemigrations(&before_models(), &dir).expect("initial");
    let models = [nullable_label::Item::meta(), before::Tag::meta()];
    let outcome = migrations::makemigrations(&models, &dir).expect("make");
    let MakeOutcome::Written { path, migration } = outcome else {
        panic!("a file")
    };
    assert_eq!(migration.dependencies, ["0001_initial"]);
    assert!(
        path.ends_with("0002_remove_shop_item_title_and_more.json"),
        "{}",
        path.display()
    );
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains("\"notes\"") && text.contains("If this is a rename, declare it"),
        "{text}"
    );
}

#[test]
fn embedded_migrations_apply_without_the_folder() {
    const FILES: &[(&str, &str)] =
        tack_orm::migrations::embed_migrations!("tests/migrations/embedded");
    let files = Migrations::from_embedded(FILES).expect("parse");
    assert_eq!(files.names(), ["0001_initial", "0002_add_emb_note_pinned"]);
    let file = tack_test::db::sqlite();
    let db = Database::connect(&file.url()).expect("open");
    let report = migrations::migrate(&db, &files, None).expect("migrate");
    assert_eq!(
        report.to_string(),
        "Applied 0001_initial\nApplied 0002_add_emb_note_pinned"
    );
    assert!(runs(&db, "SELECT pinned FROM emb_note"));
    assert_eq!(
        migrations::migrate(&db, &files, None)
            .expect("again")
            .to_string(),
        "No migrations to apply"
    );
}

#[test]
fn plan_mode_prints_sql_per_dialect() {
    const FILES: &[(&str, &str)] =
        tack_orm::migrations::embed_migrations!("tests/migrations/embedded");
    let files = Migrations::from_embedded(FILES).expect("parse");
    let pg = migrations::sqlmigrate(Dialect::Postgres, &files, "0002_add_emb_note_pinned", false)
        .expect("pg");
    assert_eq!(
        pg,
        [r#"ALTER TABLE "emb_note" ADD COLUMN "pinned" BOOLEAN NOT NULL DEFAULT FALSE"#]
    );
    let back = migrations::sqlmigrate(Dialect::Sqlite, &files, "0002_add_emb_note_pinned", true)
        .expect("sqlite");
    assert_eq!(
        back,
        [
            r#"CREATE TABLE "emb_note__tack_new" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "body" TEXT NOT NULL)"#,
            r#"INSERT INTO "emb_note__tack_new" ("id", "body") SELECT "id", "body" FROM "emb_note""#,
            r#"DROP TABLE "emb_note""#,
            r#"ALTER TABLE "emb_note__tack_new" RENAME TO "emb_note""#,
        ]
    );
    let error =
        migrations::sqlmigrate(Dialect::Sqlite, &files, "0003_nope", false).expect_err("unknown");
    assert!(error.to_string().contains("0001_initial"), "{error}");
}

#[test]
fn irreversible_operations_say_so() {
    let first = r#"{"operations": [{"op": "create_table", "table": "irr", "columns": [
        {"name": "id", "type": "i64", "primary_key": true, "auto": true},
        {"name": "gone", "type": "text", "null": true}]}]}"#;
    let second = r#"{"dependencies": ["0001_initial"], "operations": [
        {"op": "remove_column", "table": "irr", "column": "gone"}]}"#;
    let files = Migrations::from_files([("0001_initial", first), ("0002_drop_gone", second)])
        .expect("parse");
    let file = tack_test::db::sqlite();
    let db = Database::connect(&file.url()).expect("open");
    migrations::migrate(&db, &files, None).expect("forward");
    let error = migrations::migrate(&db, &files, Some("0001_initial")).expect_err("irreversible");
    let message = error.to_string();
    assert!(
        message.contains("cannot be reversed") && message.contains("irr"),
        "{message}"
    );
}

fn join_tables_and_check(url: &str, dir: &Path) {
    migrations::makemigrations(&before_models(), dir).expect("initial");
    let files = Migrations::from_dir(dir).expect("read");
    let db = Database::connect(url).expect("connect");

    // A server whose models are ahead of the database gets a report.
    let models = [nullable_label::Item::meta(), before::Tag::meta()];
    let report = migrations::check(&db, &models, &files).expect("check");
    assert_eq!(report.unapplied, ["0001_initial"]);
    assert!(
        report
            .model_changes
            .iter()
            .any(|c| c == "Add column label to shop_item"),
        "{report}"
    );
    assert!(report.clone().into_result().is_err());

    migrations::migrate(&db, &files, None).expect("migrate");
    let mut tag = before::Tag {
        id: 0,
        name: "red".into(),
    };
    tag.save(&db).expect("tag");
    let mut item = before::Item {
        id: 0,
        title: "cup".into(),
        price: 2.0,
        tags: ManyToMany::default(),
    };
    item.save(&db).expect("item");
    item.tags().add(&db, &[&tag]).expect("tag the item");

    let renames = Renames::new().column("shop_item", "title", "label");
    written(
        migrations::makemigrations_with(&[after::Item::meta()], dir, &renames, None).expect("make"),
    );
    let files = Migrations::from_dir(dir).expect("read");
    migrations::migrate(&db, &files, None).expect("drop join table and tag");
    assert!(!runs(&db, "SELECT 1 FROM shop_item_tags") && !runs(&db, "SELECT 1 FROM shop_tag"));
    drop(db);
    let db = Database::connect(url).expect("connect");
    let items = after::Item::objects().all(&db).expect("items");
    assert_eq!(items[0].label, "cup");
    assert!(
        migrations::check(&db, &[after::Item::meta()], &files)
            .expect("check")
            .is_ok()
    );

    migrations::migrate(&db, &files, Some("zero")).expect("roll everything back");
    assert!(!runs(&db, "SELECT 1 FROM shop_item"));
}

both_backends!(join_tables_and_check);
