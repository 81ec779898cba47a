//! Models, seed data and the two-database harness shared by the behaviour
//! tests: each test is an async function over a `Database`, run on a
//! temporary SQLite file and on a fresh PostgreSQL schema (skipped with a
//! printed line when TACK_TEST_POSTGRES is unset).

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use tack_crud::{AllowAll, Crud};
use tack_orm::prelude::*;
use tack_orm::{AsyncDatabase, ValidationErrors};
use tack_test::TestClient;

#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    #[tack(value = "draft", label = "Draft")]
    Draft,
    #[tack(value = "published", label = "Published")]
    Published,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{display_name}")]
pub struct Author {
    pub id: i64,
    #[tack(max_length = 100)]
    pub display_name: String,
    #[tack(blank)]
    pub bio: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{name}")]
pub struct Tag {
    pub id: i64,
    #[tack(unique, max_length = 50)]
    pub name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(
    app = "news",
    clean = "check_article",
    unique_together = "author, title",
    display = "{title}"
)]
pub struct Article {
    pub id: i64,
    #[tack(max_length = 200)]
    pub title: String,
    #[tack(unique, max_length = 200)]
    pub slug: String,
    #[tack(blank)]
    pub body: String,
    #[tack(related_name = "articles")]
    pub author: ForeignKey<Author>,
    #[tack(choices, default = Status::Draft)]
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    #[tack(default = Utc::now())]
    pub created_at: DateTime<Utc>,
    pub tags: ManyToMany<Tag>,
}

fn check_article(article: &Article, errors: &mut ValidationErrors) {
    if article.status == Status::Published && article.published_at.is_none() {
        errors.add(
            "published_at",
            "a published article needs a publication date",
        );
    }
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display = "{author_name}")]
pub struct Comment {
    pub id: i64,
    #[tack(on_delete = "cascade", related_name = "comments")]
    pub article: ForeignKey<Article>,
    #[tack(max_length = 100)]
    pub author_name: String,
    pub body: String,
    #[tack(default = Utc::now())]
    pub created_at: DateTime<Utc>,
}

/// A row others refer to with `protect`: deleting an author with one fails.
#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Invoice {
    pub id: i64,
    #[tack(on_delete = "protect")]
    pub author: ForeignKey<Author>,
    pub amount: i64,
}

pub fn all_models() -> Vec<&'static tack_orm::ModelMeta> {
    vec![
        Author::meta(),
        Tag::meta(),
        Article::meta(),
        Comment::meta(),
        Invoice::meta(),
    ]
}

pub fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, day, 12, 0, 0)
        .single()
        .expect("a valid test date")
}

pub struct Seed {
    pub ada: Author,
    pub bob: Author,
    pub rust: Tag,
    pub food: Tag,
    pub articles: Vec<Article>,
}

pub fn article(
    db: &Database,
    author: &Author,
    slug: &str,
    title: &str,
    day: Option<u32>,
) -> Article {
    let mut a = Article {
        id: 0,
        title: title.into(),
        slug: slug.into(),
        body: format!("Body of {slug}"),
        author: ForeignKey::from(author),
        status: if day.is_some() {
            Status::Published
        } else {
            Status::Draft
        },
        published_at: day.map(at),
        created_at: at(1),
        tags: ManyToMany::new(),
    };
    a.save(db).expect("save article");
    a
}

/// Two authors, two tags, five articles (four published on Jan 1..4, one
/// draft); `rust-*` articles are tagged rust, `cooking` food.
pub fn seed(db: &Database) -> Seed {
    let mut ada = Author {
        id: 0,
        display_name: "Ada".into(),
        bio: "Writes Rust".into(),
    };
    ada.save(db).unwrap();
    let mut bob = Author {
        id: 0,
        display_name: "Bob".into(),
        bio: String::new(),
    };
    bob.save(db).unwrap();
    let mut rust = Tag {
        id: 0,
        name: "rust".into(),
    };
    rust.save(db).unwrap();
    let mut food = Tag {
        id: 0,
        name: "food".into(),
    };
    food.save(db).unwrap();
    let articles = vec![
        article(db, &ada, "rust-intro", "Intro to Rust", Some(1)),
        article(db, &ada, "rust-advanced", "Advanced rust", Some(2)),
        article(db, &bob, "cooking", "Cooking pasta", Some(3)),
        article(db, &bob, "gardening", "Gardening", Some(4)),
        article(db, &ada, "secret-draft", "Secret draft", None),
    ];
    articles[0].tags().add(db, &[&rust]).unwrap();
    articles[1].tags().add(db, &[&rust]).unwrap();
    articles[2].tags().add(db, &[&food]).unwrap();
    Seed {
        ada,
        bob,
        rust,
        food,
        articles,
    }
}

/// The article API most tests use: everything allowed, filters, search
/// and ordering declared, mounted at `/api/articles/`.
pub fn articles(db: &Database) -> Crud<Article> {
    Crud::<Article>::new(AsyncDatabase::new(db.clone(), 2))
        .read_only(&["created_at"])
        .filter_fields(&["status", "author", "tags"])
        .filter("title", &["icontains"])
        .filter("published_at", &["gte", "lte", "isnull"])
        .filter_as("tag", "tags__name", &["exact"])
        .search_fields(&["title", "body"])
        .ordering_fields(&["published_at", "title", "id"])
        .default_ordering("-published_at")
        .page_size(2, 3)
        .base_path("/api/articles/")
        .permission(AllowAll)
}

pub fn client<S>(service: S) -> TestClient<S> {
    TestClient::new(service)
}

pub fn count_articles(db: &Database) -> u64 {
    Article::objects().count(db).unwrap()
}

/// Opens the database at `url` with every model's table and runs the async
/// `test` on it to completion.
pub fn run_on<F: Future<Output = ()>>(url: &str, test: impl FnOnce(Database) -> F) {
    let db = Database::connect(url).expect("open the test database");
    db.create_tables(&all_models()).expect("create tables");
    futures_executor::block_on(test(db));
}

/// Defines each listed async test twice: `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        tack_test::on_both_databases!($crate::common::run_on; $($name),*);
    };
}
