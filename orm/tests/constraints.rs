//! Table-level constraints: unique together, partial unique, multi-column
//! indexes and checks, from `create_tables` and from migrations (added,
//! enforced, rolled back, rows kept), on both backends.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::column;
use tack_orm::migrations::{self, MakeOutcome, Migrations, Operation};
use tack_orm::prelude::*;
use tack_orm::{Dialect, Error, Instance, ModelMeta};

#[derive(Model, Clone, Debug)]
#[tack(table = "con_author")]
struct Author {
    id: i64,
    #[tack(max_length = 50)]
    name: String,
}

/// The model before it had constraints.
mod plain {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "con_entry")]
    pub struct Entry {
        pub id: i64,
        pub author: ForeignKey<Author>,
        #[tack(max_length = 50)]
        pub slug: String,
        pub featured: bool,
        pub words: i64,
    }
}

#[derive(Model, Clone, Debug)]
#[tack(
    table = "con_entry",
    unique_together = "author, slug",
    unique(
        name = "con_entry_one_featured",
        fields = "author",
        condition = "featured = TRUE"
    ),
    index(fields = "author, words"),
    check(name = "con_entry_words_not_negative", sql = "words >= 0")
)]
struct Entry {
    id: i64,
    author: ForeignKey<Author>,
    #[tack(max_length = 50)]
    slug: String,
    featured: bool,
    words: i64,
}

/// `Entry` with `words` renamed: the check and the index follow the column.
mod renamed {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(
        table = "con_entry",
        unique_together = "author, slug",
        unique(
            name = "con_entry_one_featured",
            fields = "author",
            condition = "featured = TRUE"
        ),
        index(fields = "author, word_count", name = "con_entry_author_words_idx"),
        check(name = "con_entry_words_not_negative", sql = "word_count >= 0")
    )]
    pub struct Entry {
        pub id: i64,
        pub author: ForeignKey<Author>,
        #[tack(max_length = 50)]
        pub slug: String,
        pub featured: bool,
        pub word_count: i64,
    }
}

both_backends!(
    constraints_hold_from_create_tables,
    constraints_come_and_go_with_migrations,
    a_renamed_column_keeps_its_check,
);

/// Renaming a column that a check and an index name is one rename: the
/// migration state follows the column into the check's SQL, as the
/// databases do, so nothing is dropped and added again.
fn a_renamed_column_keeps_its_check(url: &str, dir: &Path) {
    make(dir, &[Author::meta(), Entry::meta()]);
    let models = [Author::meta(), renamed::Entry::meta()];
    let renames = migrations::Renames::new().column("con_entry", "words", "word_count");
    let outcome = migrations::makemigrations_with(&models, dir, &renames, None).unwrap();
    let MakeOutcome::Written { migration, .. } = outcome else {
        panic!("a migration")
    };
    let ops: Vec<String> = migration
        .operations
        .iter()
        .map(|op| op.describe())
        .collect();
    assert_eq!(ops, ["Rename column words of con_entry to word_count"]);
    let db = Database::connect(url).unwrap();
    let files = Migrations::from_dir(dir).unwrap();
    migrations::migrate(&db, &files, None).unwrap();
    assert!(migrations::check(&db, &models, &files).unwrap().is_ok());
    let ada = author(&db, "Ada");
    let negative = renamed::Entry {
        id: 0,
        author: ForeignKey::from(&ada),
        slug: "neg".into(),
        featured: false,
        word_count: -1,
    };
    let error = renamed::Entry::objects()
        .create(&db, negative)
        .expect_err("the check holds");
    assert!(matches!(error, Error::Integrity { .. }), "{error}");
}

fn author(db: &Database, name: &str) -> Author {
    let author = Author {
        id: 0,
        name: name.into(),
    };
    Author::objects().create(db, author).unwrap()
}

fn entry(author: &Author, slug: &str, featured: bool, words: i64) -> Entry {
    Entry {
        id: 0,
        author: ForeignKey::from(author),
        slug: slug.into(),
        featured,
        words,
    }
}

fn index_exists(db: &Database, name: &str) -> bool {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '{name}'")
        }
        _ => format!(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname = '{name}'"
        ),
    };
    !column(db, &sql).is_empty()
}

/// The fields a unique violation names.
fn violated(error: &Error) -> Vec<&'static str> {
    let Error::UniqueViolation { constraint, .. } = error else {
        panic!("a unique violation, not {error}");
    };
    let fields = Entry::meta().unique_violation_fields(constraint);
    assert!(!fields.is_empty(), "no fields for {constraint}");
    fields.iter().map(|f| f.name).collect()
}

/// What every schema with the constraints must refuse, and what it allows.
fn enforced(db: &Database) {
    let ada = author(db, "Ada");
    let bob = author(db, "Bob");
    Entry::objects()
        .create(db, entry(&ada, "intro", true, 10))
        .unwrap();
    Entry::objects()
        .create(db, entry(&bob, "intro", false, 10))
        .unwrap();

    // Unique together: the same author and slug again.
    let twin = entry(&ada, "intro", false, 3);
    let conflicts = Entry::meta()
        .handle()
        .unique_conflicts(db, &Instance::of(&twin), true)
        .unwrap();
    assert_eq!(
        conflicts.fields().keys().collect::<Vec<_>>(),
        ["author", "slug"]
    );
    assert_eq!(
        conflicts.get("slug"),
        ["Entry with this Author and Slug already exists."]
    );
    let error = Entry::objects().create(db, twin).unwrap_err();
    assert_eq!(violated(&error), ["author", "slug"]);

    // Partial unique: one featured entry per author; unfeatured ones are free.
    Entry::objects()
        .create(db, entry(&ada, "second", false, 1))
        .unwrap();
    Entry::objects()
        .create(db, entry(&ada, "third", false, 1))
        .unwrap();
    let error = Entry::objects()
        .create(db, entry(&ada, "fourth", true, 1))
        .unwrap_err();
    assert_eq!(violated(&error), ["author"]);
    let fine = entry(&bob, "fourth", true, 1);
    let conflicts = Entry::meta()
        .handle()
        .unique_conflicts(db, &Instance::of(&fine), true);
    assert!(
        conflicts.unwrap().is_empty(),
        "conditional rules are left to the database"
    );
    Entry::objects().create(db, fine).unwrap();

    // Check: no negative word counts; nothing is written.
    let error = Entry::objects()
        .create(db, entry(&bob, "bad", false, -1))
        .unwrap_err();
    assert!(matches!(error, Error::Integrity { .. }), "{error}");
    assert_eq!(Entry::objects().count(db).unwrap(), 5);
    assert!(index_exists(db, "con_entry_author_words_idx"));
}

fn constraints_hold_from_create_tables(url: &str, _dir: &Path) {
    let db = Database::connect(url).unwrap();
    db.create_tables(&[Author::meta(), Entry::meta()]).unwrap();
    enforced(&db);
}

fn make(dir: &Path, models: &[&'static ModelMeta]) -> String {
    match migrations::makemigrations(models, dir).expect("makemigrations") {
        MakeOutcome::Written { migration, .. } => migration.name,
        other => panic!("expected a migration, got: {other}"),
    }
}

fn constraints_come_and_go_with_migrations(url: &str, dir: &Path) {
    let first = make(dir, &[Author::meta(), plain::Entry::meta()]);
    let db = Database::connect(url).unwrap();
    let files = Migrations::from_dir(dir).unwrap();
    migrations::migrate(&db, &files, None).unwrap();
    let ada = author(&db, "Ada");
    plain::Entry::objects()
        .create(
            &db,
            plain::Entry {
                id: 0,
                author: ForeignKey::from(&ada),
                slug: "kept".into(),
                featured: false,
                words: 4,
            },
        )
        .unwrap();

    let models = [Author::meta(), Entry::meta()];
    let second = make(dir, &models);
    let files = Migrations::from_dir(dir).unwrap();
    let ops = &files
        .iter()
        .find(|m| m.name == second)
        .expect("the new file")
        .operations;
    let added: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::AddConstraint { constraint, .. } => Some(constraint.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        added,
        [
            "con_entry_author_slug_uniq",
            "con_entry_one_featured",
            "con_entry_author_words_idx",
            "con_entry_words_not_negative"
        ]
    );
    let db = Database::connect(url).unwrap();
    migrations::migrate(&db, &files, None).unwrap();
    assert_eq!(
        migrations::makemigrations(&models, dir).unwrap(),
        MakeOutcome::NoChanges,
        "models and migrations agree"
    );
    assert!(migrations::check(&db, &models, &files).unwrap().is_ok());
    let kept = Entry::objects().all(&db).unwrap();
    assert_eq!(kept.len(), 1, "the row survived the table rebuild");
    assert_eq!(kept[0].slug, "kept");
    Entry::objects().delete(&db).unwrap();
    Author::objects().delete(&db).unwrap();
    enforced(&db);

    // Back to the first migration: the constraints go, the rows stay.
    Entry::objects()
        .filter(Entry::WORDS.eq(10))
        .delete(&db)
        .unwrap();
    let db = Database::connect(url).unwrap();
    migrations::migrate(&db, &files, Some(&first)).unwrap();
    assert!(!index_exists(&db, "con_entry_author_words_idx"));
    let rows = Entry::objects().count(&db).unwrap();
    assert_eq!(rows, 3);
    let author = Author::objects().first(&db).unwrap().unwrap();
    Entry::objects()
        .create(&db, entry(&author, "neg", true, -5))
        .unwrap();
    Entry::objects()
        .create(&db, entry(&author, "neg2", true, 5))
        .unwrap();
}
