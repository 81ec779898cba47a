//! Models and the two-database harness shared by the model form and
//! formset tests: each test runs on a temporary SQLite file and on a fresh
//! PostgreSQL schema (skipped with a printed line when TACK_TEST_POSTGRES is unset).

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use tack_orm::ValidationErrors;
use tack_orm::prelude::*;

#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    #[tack(value = "draft", label = "Draft")]
    Draft,
    #[tack(value = "published", label = "Published")]
    Published,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{name}", ordering = "name")]
pub struct Author {
    pub id: i64,
    #[tack(max_length = 100)]
    pub name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "#{name}", ordering = "name")]
pub struct Tag {
    pub id: i64,
    #[tack(unique, max_length = 50)]
    pub name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", clean = "check_article", display = "{title}")]
pub struct Article {
    pub id: i64,
    #[tack(max_length = 200, help_text = "Shown on the front page.")]
    pub title: String,
    #[tack(unique, slug)]
    pub slug: String,
    #[tack(blank)]
    pub body: String,
    pub author: ForeignKey<Author>,
    #[tack(choices, default = Status::Draft)]
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    #[tack(auto_now_add)]
    pub created_at: DateTime<Utc>,
    pub tags: ManyToMany<Tag>,
}

fn check_article(article: &Article, errors: &mut ValidationErrors) {
    if article.status == Status::Published && article.published_at.is_none() {
        errors.add(
            "published_at",
            "A published article needs a publication date.",
        );
    }
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{name}: {body}")]
pub struct Comment {
    pub id: i64,
    #[tack(on_delete = "cascade", related_name = "comments")]
    pub article: ForeignKey<Article>,
    #[tack(max_length = 50)]
    pub name: String,
    #[tack(max_length = 500)]
    pub body: String,
}

/// A model with a file field.
#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{name}")]
pub struct Profile {
    pub id: i64,
    #[tack(max_length = 50)]
    pub name: String,
    #[tack(
        file,
        upload_to = "avatars/",
        max_upload_size = 1000,
        content_types = "image/png, image/gif"
    )]
    pub avatar: Option<String>,
}

pub fn all_models() -> Vec<&'static tack_orm::ModelMeta> {
    vec![
        Author::meta(),
        Tag::meta(),
        Article::meta(),
        Comment::meta(),
        Profile::meta(),
    ]
}

pub struct Seed {
    pub ada: Author,
    pub bob: Author,
    pub rust: Tag,
    pub food: Tag,
}

pub fn seed(db: &Database) -> Seed {
    let author = |name: &str| {
        let mut a = Author {
            id: 0,
            name: name.into(),
        };
        a.save(db).unwrap();
        a
    };
    let (ada, bob) = (author("Ada"), author("Bob"));
    let tag = |name: &str| {
        let mut t = Tag {
            id: 0,
            name: name.into(),
        };
        t.save(db).unwrap();
        t
    };
    let (rust, food) = (tag("rust"), tag("food"));
    Seed {
        ada,
        bob,
        rust,
        food,
    }
}

/// Opens the database at `url` with every model's table and runs `test` on it.
pub fn run_on(url: &str, test: fn(&Database)) {
    let db = Database::connect(url).expect("open the test database");
    db.create_tables(&all_models()).expect("create tables");
    test(&db);
}

/// Defines each listed test twice: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        tack_test::on_both_databases!($crate::common::run_on; $($name),*);
    };
}

/// A change to valid data: a field's new value, or `None` to leave it out.
pub type Change<'a> = (&'a str, Option<&'a str>);

/// A case of bad input: the changes, the field in error, its message.
pub type Case<'a> = (&'a [Change<'a>], &'a str, &'a str);

/// `valid` with `changes` applied (fields not in `valid` are added).
pub fn changed(valid: &[(&str, String)], changes: &[Change<'_>]) -> tack_forms::FormData {
    let mut data = tack_forms::FormData::new();
    for (name, value) in valid {
        match changes.iter().find(|(n, _)| n == name) {
            Some((_, None)) => {}
            Some((_, Some(changed))) => data.push(*name, *changed),
            None => data.push(*name, value.clone()),
        }
    }
    for (name, value) in changes {
        if let Some(value) = value
            && !valid.iter().any(|(n, _)| n == name)
        {
            data.push(*name, *value);
        }
    }
    data
}
