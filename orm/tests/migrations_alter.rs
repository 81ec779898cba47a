//! Turning a plain column into a foreign key and back, and altering a
//! column's type and nullability, through `makemigrations` on both backends.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::{column, exec, runs};
use tack_orm::migrations::{self, MakeOutcome, Migrations};
use tack_orm::prelude::*;
use tack_orm::{ModelMeta, Value};

#[derive(Model, Clone, Debug)]
#[tack(table = "alt_owner")]
struct Owner {
    id: i64,
}

mod plain {
    #[derive(tack_orm::Model, Clone, Debug)]
    #[tack(table = "alt_pet")]
    pub struct Pet {
        pub id: i64,
        #[tack(db_column = "owner_id")]
        pub owner_id: i64,
        #[tack(max_length = 10)]
        pub name: String,
    }
}

mod keyed {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "alt_pet")]
    pub struct Pet {
        pub id: i64,
        #[tack(on_delete = "cascade")]
        pub owner: ForeignKey<Owner>,
        #[tack(max_length = 40)]
        pub name: Option<String>,
    }
}

fn apply(url: &str, dir: &Path, models: &[&'static ModelMeta]) -> Vec<String> {
    let outcome = migrations::makemigrations(models, dir).expect("makemigrations");
    let MakeOutcome::Written { migration, .. } = outcome else {
        panic!("expected a migration, got {outcome}");
    };
    let db = Database::connect(url).expect("connect");
    migrations::migrate(&db, &Migrations::from_dir(dir).expect("read"), None).expect("migrate");
    assert_eq!(
        migrations::makemigrations(models, dir).expect("again"),
        MakeOutcome::NoChanges
    );
    migration
        .operations
        .iter()
        .map(|op| op.describe())
        .collect()
}

fn column_becomes_a_foreign_key_and_back(url: &str, dir: &Path) {
    apply(url, dir, &[Owner::meta(), plain::Pet::meta()]);
    let db = Database::connect(url).expect("connect");
    exec(&db, "INSERT INTO alt_owner (id) VALUES (1), (2)");
    exec(
        &db,
        "INSERT INTO alt_pet (owner_id, name) VALUES (1, 'rex'), (2, 'tom'), (2, 'kit')",
    );
    assert!(runs(
        &db,
        "INSERT INTO alt_pet (owner_id, name) VALUES (99, 'x') RETURNING id"
    ));
    exec(&db, "DELETE FROM alt_pet WHERE owner_id = 99");
    drop(db);

    let ops = apply(url, dir, &[Owner::meta(), keyed::Pet::meta()]);
    assert_eq!(
        ops,
        [
            "Add index on alt_pet.owner_id",
            "Add foreign key alt_pet.owner_id -> alt_owner.id",
            "Alter column name of alt_pet"
        ]
    );
    let db = Database::connect(url).expect("connect");
    assert_eq!(column(&db, "SELECT COUNT(*) FROM alt_pet"), [Value::I64(3)]);
    assert!(
        !runs(
            &db,
            "INSERT INTO alt_pet (owner_id, name) VALUES (99, 'x') RETURNING id"
        ),
        "the new foreign key is enforced"
    );
    let long = keyed::Pet {
        id: 0,
        owner: ForeignKey::new(1),
        name: Some("a much longer name".into()),
    };
    long.clone().save(&db).expect("the wider column takes it");
    keyed::Pet { name: None, ..long }
        .save(&db)
        .expect("and NULL");
    exec(&db, "DELETE FROM alt_owner WHERE id = 2");
    assert_eq!(
        column(&db, "SELECT COUNT(*) FROM alt_pet"),
        [Value::I64(3)],
        "cascade"
    );
    exec(
        &db,
        "DELETE FROM alt_pet WHERE name IS NULL OR name = 'a much longer name'",
    );
    drop(db);

    // Back to the plain column, rolling the second migration back.
    let files = Migrations::from_dir(dir).expect("read");
    let db = Database::connect(url).expect("connect");
    migrations::migrate(&db, &files, Some("0001_initial")).expect("roll back");
    drop(db);
    let db = Database::connect(url).expect("connect");
    assert_eq!(texts(&db), ["rex"]);
    assert!(runs(
        &db,
        "INSERT INTO alt_pet (owner_id, name) VALUES (99, 'x') RETURNING id"
    ));
}

fn texts(db: &Database) -> Vec<String> {
    column(db, "SELECT name FROM alt_pet ORDER BY id")
        .into_iter()
        .map(|v| match v {
            Value::Text(s) => s,
            other => format!("{other:?}"),
        })
        .collect()
}

mod moved {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "alt_animal")]
    pub struct Pet {
        pub id: i64,
        #[tack(on_delete = "cascade")]
        pub owner: ForeignKey<Owner>,
        #[tack(max_length = 40, unique)]
        pub name: Option<String>,
    }
}

mod unique_name {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "alt_pet")]
    pub struct Pet {
        pub id: i64,
        #[tack(on_delete = "cascade")]
        pub owner: ForeignKey<Owner>,
        #[tack(max_length = 40, unique)]
        pub name: Option<String>,
    }
}

fn declared_table_rename_keeps_rows_and_constraints(url: &str, dir: &Path) {
    apply(url, dir, &[Owner::meta(), unique_name::Pet::meta()]);
    let db = Database::connect(url).expect("connect");
    exec(&db, "INSERT INTO alt_owner (id) VALUES (1)");
    exec(
        &db,
        "INSERT INTO alt_pet (owner_id, name) VALUES (1, 'rex')",
    );
    drop(db);
    let renames = migrations::Renames::new().table("alt_pet", "alt_animal");
    let models = [Owner::meta(), moved::Pet::meta()];
    let outcome = migrations::makemigrations_with(&models, dir, &renames, None).expect("make");
    assert!(
        outcome
            .to_string()
            .contains("Rename table alt_pet to alt_animal"),
        "{outcome}"
    );
    let files = Migrations::from_dir(dir).expect("read");
    let db = Database::connect(url).expect("connect");
    migrations::migrate(&db, &files, None).expect("rename");
    assert_eq!(
        migrations::makemigrations(&models, dir).expect("again"),
        MakeOutcome::NoChanges
    );
    assert_eq!(
        column(&db, "SELECT name FROM alt_animal"),
        [Value::Text("rex".into())]
    );
    assert!(
        !runs(
            &db,
            "INSERT INTO alt_animal (owner_id, name) VALUES (1, 'rex') RETURNING id"
        ),
        "still unique"
    );
    assert!(
        !runs(
            &db,
            "INSERT INTO alt_animal (owner_id, name) VALUES (7, 'max') RETURNING id"
        ),
        "still a key"
    );
    migrations::migrate(&db, &files, Some("0001_initial")).expect("rename back");
    drop(db);
    let db = Database::connect(url).expect("connect");
    assert_eq!(
        column(&db, "SELECT name FROM alt_pet"),
        [Value::Text("rex".into())]
    );
    migrations::migrate(&db, &files, Some("zero")).expect("to zero");
}

both_backends!(
    column_becomes_a_foreign_key_and_back,
    declared_table_rename_keeps_rows_and_constraints
);
