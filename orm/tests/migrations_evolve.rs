//! A model evolves through seven migrations on both backends; the data
//! survives every step, `makemigrations` then finds nothing, and rolling
//! back to an earlier migration keeps the rows.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use harness::column;
use tack_orm::migrations::{self, MakeOutcome, Migrations, Renames};
use tack_orm::prelude::*;
use tack_orm::{ModelMeta, Value};

#[derive(Model, Clone, Debug)]
#[tack(table = "evo_author")]
struct Author {
    id: i64,
    #[tack(max_length = 50)]
    name: String,
}

mod v1 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100)]
        pub title: String,
    }
}

mod v2 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100)]
        pub title: String,
        pub subtitle: Option<String>,
    }
}

mod v3 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100)]
        pub title: String,
        pub subtitle: Option<String>,
        #[tack(default = 7)]
        pub views: i64,
    }
}

mod v4 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100)]
        pub headline: String,
        pub subtitle: Option<String>,
        #[tack(default = 7)]
        pub views: i64,
    }
}

mod v5 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100, index)]
        pub headline: String,
        pub subtitle: Option<String>,
        #[tack(default = 7)]
        pub views: i64,
    }
}

mod v6 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100, index)]
        pub headline: String,
        pub subtitle: Option<String>,
        #[tack(default = 7)]
        pub views: i64,
        #[tack(on_delete = "set_null")]
        pub author: Option<ForeignKey<Author>>,
    }
}

mod v7 {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(table = "evo_post")]
    pub struct Post {
        pub id: i64,
        #[tack(max_length = 100, index)]
        pub headline: String,
        #[tack(default = 7)]
        pub views: i64,
        #[tack(on_delete = "set_null")]
        pub author: Option<ForeignKey<Author>>,
    }
}

/// Writes the next migration for `models`, applies it, and checks that the
/// models and the files then agree. Answers a fresh database handle (so no
/// connection keeps statements prepared against the old schema).
fn step(
    url: &str,
    dir: &Path,
    models: &[&'static ModelMeta],
    renames: Renames,
    expect: &str,
) -> Database {
    let outcome =
        migrations::makemigrations_with(models, dir, &renames, None).expect("makemigrations");
    let MakeOutcome::Written { migration, .. } = outcome else {
        panic!("expected a migration for {expect}, got: {outcome}");
    };
    assert!(
        migration.name.contains(expect),
        "{} should mention {expect}",
        migration.name
    );
    let files = Migrations::from_dir(dir).expect("read the folder");
    let db = Database::connect(url).expect("connect");
    let report = migrations::migrate(&db, &files, None).expect("migrate");
    assert_eq!(report.applied, vec![migration.name.clone()]);
    let again = migrations::makemigrations(models, dir).expect("makemigrations again");
    assert_eq!(
        again,
        MakeOutcome::NoChanges,
        "models and migrations should agree"
    );
    let check = migrations::check(&db, models, &files).expect("check");
    assert!(check.is_ok(), "{check}");
    drop(db);
    Database::connect(url).expect("connect")
}

fn texts(values: Vec<Value>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| match v {
            Value::Text(s) => s,
            Value::Null => "NULL".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn evolves_through_seven_steps(url: &str, dir: &Path) {
    let db = step(
        url,
        dir,
        &[Author::meta(), v1::Post::meta()],
        Renames::new(),
        "initial",
    );
    let mut first = v1::Post {
        id: 0,
        title: "first".into(),
    };
    first.save(&db).expect("save v1");
    let mut ann = Author {
        id: 0,
        name: "Ann".into(),
    };
    ann.save(&db).expect("save author");

    // 1. A nullable column.
    let db = step(
        url,
        dir,
        &[Author::meta(), v2::Post::meta()],
        Renames::new(),
        "add_evo_post_subtitle",
    );
    let rows = v2::Post::objects().all(&db).expect("read v2");
    assert_eq!(
        (rows.len(), rows[0].title.as_str(), rows[0].subtitle.clone()),
        (1, "first", None)
    );
    let mut second = v2::Post {
        id: 0,
        title: "second".into(),
        subtitle: Some("sub".into()),
    };
    second.save(&db).expect("save v2");

    // 2. A column with a default, on a table with rows.
    let db = step(
        url,
        dir,
        &[Author::meta(), v3::Post::meta()],
        Renames::new(),
        "add_evo_post_views",
    );
    let rows = v3::Post::objects()
        .order_by_name("id")
        .expect("order")
        .all(&db)
        .expect("read v3");
    assert_eq!(rows.iter().map(|p| p.views).collect::<Vec<_>>(), [7, 7]);
    assert_eq!(rows[1].subtitle.as_deref(), Some("sub"));

    // 3. A declared rename keeps the data.
    let renames = Renames::new().column("evo_post", "title", "headline");
    let db = step(
        url,
        dir,
        &[Author::meta(), v4::Post::meta()],
        renames,
        "rename_evo_post_title_headline",
    );
    assert_eq!(
        texts(column(&db, "SELECT headline FROM evo_post ORDER BY id")),
        ["first", "second"]
    );

    // 4. An index.
    let db = step(
        url,
        dir,
        &[Author::meta(), v5::Post::meta()],
        Renames::new(),
        "index_evo_post_headline",
    );
    assert_eq!(v5::Post::objects().count(&db).expect("count"), 2);

    // 5. A foreign key.
    let db = step(
        url,
        dir,
        &[Author::meta(), v6::Post::meta()],
        Renames::new(),
        "add_evo_post_author",
    );
    let mut post = v6::Post::objects()
        .order_by_name("id")
        .expect("order")
        .first(&db)
        .expect("query")
        .expect("a post");
    assert!(post.author.is_none());
    post.author = Some(ForeignKey::new(ann.id));
    post.save(&db).expect("save with author");
    let bad = v6::Post {
        id: 0,
        headline: "x".into(),
        subtitle: None,
        views: 1,
        author: Some(ForeignKey::new(9999)),
    };
    assert!(
        bad.clone().save(&db).is_err(),
        "the foreign key is enforced"
    );

    // 6. Drop a column.
    let db = step(
        url,
        dir,
        &[Author::meta(), v7::Post::meta()],
        Renames::new(),
        "remove_evo_post_subtitle",
    );
    let rows = v7::Post::objects()
        .order_by_name("id")
        .expect("order")
        .all(&db)
        .expect("read v7");
    assert_eq!(
        rows.iter().map(|p| p.headline.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(rows[0].author.as_ref().map(ForeignKey::id), Some(ann.id));
    assert_eq!(rows.iter().map(|p| p.views).collect::<Vec<_>>(), [7, 7]);

    // Every row survived; rolling back to the rename keeps them too.
    let files = Migrations::from_dir(dir).expect("read");
    assert_eq!(files.len(), 7);
    let target = files.names()[3].to_owned();
    let report = migrations::migrate(&db, &files, Some(&target)).expect("roll back");
    assert_eq!(report.rolled_back.len(), 3, "{report}");
    drop(db);
    let db = Database::connect(url).expect("connect");
    let rows = v4::Post::objects()
        .order_by_name("id")
        .expect("order")
        .all(&db)
        .expect("read v4 again");
    assert_eq!(
        rows.iter().map(|p| p.headline.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    let status = migrations::showmigrations(&db, &files).expect("show");
    let marks: Vec<String> = status.iter().map(ToString::to_string).collect();
    assert!(
        marks[3].starts_with("[X]") && marks[4].starts_with("[ ]"),
        "{marks:?}"
    );

    // Forward again to the end, then all the way back.
    let report = migrations::migrate(&db, &files, None).expect("forward again");
    assert_eq!(report.applied.len(), 3);
    let report = migrations::migrate(&db, &files, Some("zero")).expect("back to zero");
    assert_eq!(report.rolled_back.len(), 7);
    assert!(!harness::runs(&db, "SELECT 1 FROM evo_post"));
}

both_backends!(evolves_through_seven_steps);
