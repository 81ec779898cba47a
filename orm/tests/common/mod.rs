//! Models and the conformance harness shared by the behaviour tests: every
//! test is a function over a `Database`, run once on a temporary SQLite file
//! and once on a fresh PostgreSQL schema (when TACK_TEST_POSTGRES is set).

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use tack_orm::prelude::*;
use tack_orm::{OneToOne, Reverse, ValidationErrors};
use uuid::Uuid;

#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Draft,
    #[tack(value = "published", label = "Published")]
    Published,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Author {
    pub id: i64,
    #[tack(
        max_length = 100,
        verbose_name = "display name",
        help_text = "Shown on articles"
    )]
    pub name: String,
    #[tack(blank)]
    pub bio: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", display)]
pub struct Tag {
    pub id: i64,
    #[tack(unique, max_length = 50)]
    pub name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news", clean = "check_article", display = "{title} ({status})")]
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
    #[tack(choices, default = Status::Draft, index)]
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    #[tack(default = 0)]
    pub views: i64,
    pub rating: f64,
    pub tags: ManyToMany<Tag>,
    #[tack(related_field = "article")]
    pub comments: Reverse<Comment>,
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
#[tack(app = "news")]
pub struct Comment {
    pub id: i64,
    #[tack(on_delete = "cascade", related_name = "comments")]
    pub article: ForeignKey<Article>,
    #[tack(max_length = 100)]
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Profile {
    pub id: i64,
    pub author: OneToOne<Author>,
    #[tack(on_delete = "set_null")]
    pub mentor: Option<ForeignKey<Author>>,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Invoice {
    pub id: i64,
    #[tack(on_delete = "protect")]
    pub author: ForeignKey<Author>,
    pub amount: i64,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.name)
    }
}

/// An article pinned by an author: the article may not be deleted while
/// pinned (restrict), unless the pin goes in the same delete.
#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Pin {
    pub id: i64,
    #[tack(on_delete = "restrict")]
    pub article: ForeignKey<Article>,
    pub author: ForeignKey<Author>,
}

/// A task goes back to the author with id 1 when its author is deleted.
#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Task {
    pub id: i64,
    #[tack(on_delete = "set_default", default = ForeignKey::new(1))]
    pub author: ForeignKey<Author>,
}

/// The ORM does nothing for a watch; the database refuses the delete.
#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Watch {
    pub id: i64,
    #[tack(on_delete = "do_nothing")]
    pub author: ForeignKey<Author>,
}

/// Model options: a default order, timestamps the ORM sets, a field no
/// form may write.
#[derive(Model, Clone, Debug, PartialEq)]
#[tack(app = "news", ordering = "-pinned,title")]
pub struct Note {
    pub id: i64,
    #[tack(max_length = 100)]
    pub title: String,
    pub pinned: bool,
    #[tack(auto_now_add)]
    pub created_at: DateTime<Utc>,
    #[tack(auto_now)]
    pub updated_at: DateTime<Utc>,
    #[tack(auto_now_add)]
    pub day: NaiveDate,
    #[tack(editable = false, default = 0)]
    pub revision: i64,
}

/// Text fields with a shape: slug, e-mail, URL.
#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Contact {
    pub id: i64,
    #[tack(slug, unique)]
    pub handle: String,
    #[tack(email)]
    pub email: String,
    #[tack(url)]
    pub site: Option<String>,
}

/// Integer choices: stored as their number.
#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    Low = 1,
    #[tack(label = "Normal priority")]
    Normal = 5,
    High = 9,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "news")]
pub struct Ticket {
    pub id: i64,
    #[tack(choices, default = Priority::Normal)]
    pub priority: Priority,
}

fn no_spaces(label: &str) -> Result<(), String> {
    if label.contains(' ') {
        Err("no spaces allowed".into())
    } else {
        Ok(())
    }
}

#[derive(Model, Clone, Debug, PartialEq)]
#[tack(table = "api_token")]
pub struct Token {
    #[tack(primary_key)]
    pub key: Uuid,
    #[tack(validate = "no_spaces", max_length = 20)]
    pub label: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[tack(app = "kinds")]
pub struct Everything {
    pub id: i64,
    pub flag: bool,
    pub small: i32,
    pub big: i64,
    pub ratio: f64,
    pub text: String,
    pub data: Vec<u8>,
    pub day: NaiveDate,
    pub moment: DateTime<Utc>,
    pub uid: Uuid,
    pub doc: serde_json::Value,
    pub maybe_text: Option<String>,
    pub maybe_int: Option<i64>,
    pub maybe_moment: Option<DateTime<Utc>>,
    pub clock: NaiveTime,
    pub maybe_clock: Option<NaiveTime>,
    pub took: chrono::TimeDelta,
    pub price: tack_orm::Decimal,
    pub maybe_price: Option<tack_orm::Decimal>,
}

pub fn all_models() -> Vec<&'static tack_orm::ModelMeta> {
    vec![
        Article::meta(),
        Comment::meta(),
        Author::meta(),
        Tag::meta(),
        Profile::meta(),
        Invoice::meta(),
        Pin::meta(),
        Task::meta(),
        Watch::meta(),
        Note::meta(),
        Contact::meta(),
        Ticket::meta(),
        Token::meta(),
        Everything::meta(),
    ]
}

pub fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, day, 12, 0, 0)
        .single()
        .expect("a valid test date")
}

pub fn author(db: &Database, name: &str) -> Author {
    let mut a = Author {
        id: 0,
        name: name.into(),
        bio: String::new(),
    };
    a.save(db).expect("save author");
    a
}

pub fn article(
    db: &Database,
    author: &Author,
    slug: &str,
    status: Status,
    day: Option<u32>,
    views: i64,
) -> Article {
    let mut a = Article {
        id: 0,
        title: format!("Title of {slug}"),
        slug: slug.into(),
        body: String::new(),
        author: ForeignKey::from(author),
        status,
        published_at: day.map(at),
        views,
        rating: views as f64 / 2.0,
        tags: ManyToMany::new(),
        comments: Reverse::new(),
    };
    a.save(db).expect("save article");
    a
}

/// Two authors, five articles (four published on Jan 1..4, one draft).
pub fn seed(db: &Database) -> (Author, Author, Vec<Article>) {
    let ada = author(db, "Ada");
    let bob = author(db, "Bob");
    let articles = vec![
        article(db, &ada, "rust-intro", Status::Published, Some(1), 10),
        article(db, &ada, "rust-advanced", Status::Published, Some(2), 30),
        article(db, &bob, "cooking", Status::Published, Some(3), 5),
        article(db, &bob, "gardening", Status::Published, Some(4), 0),
        article(db, &ada, "secret-draft", Status::Draft, None, 0),
    ];
    (ada, bob, articles)
}

/// Opens the database at `url` with every model's table and runs `test` on it.
pub fn run_on(url: &str, test: fn(&tack_orm::Database)) {
    let db = tack_orm::Database::connect(url).expect("open the test database");
    db.create_tables(&all_models()).expect("create tables");
    test(&db);
}

/// Defines each listed test twice: `sqlite::NAME` on a temporary file and
/// `postgres::NAME` on its own schema (skipped with a printed line when
/// TACK_TEST_POSTGRES is unset). Each test function takes `&Database`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        tack_test::on_both_databases!($crate::common::run_on; $($name),*);
    };
}
