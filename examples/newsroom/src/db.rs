//! Opening the database, creating the tables and seeding demo data.

use chrono::{Duration, Utc};
use tack_orm::Connection;
use tack_orm::migrations::{self, AppMigrations, Migrations};
use tack_orm::prelude::*;

use crate::models::{self, Article, Author, Comment, Status, Tag};

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Connecting, migrating or seeding failed.
    #[error(transparent)]
    Orm(#[from] tack_orm::Error),
    /// The models' permissions could not be created.
    #[error("creating the models' permissions: {0}")]
    Permissions(tack_auth::Error),
}

/// The migration files of `migrations/`, compiled into the binary.
pub static MIGRATIONS: &[(&str, &str)] = tack_orm::migrations::embed_migrations!("migrations");

/// The newsroom's app label: its migrations are recorded under it.
pub const APP: &str = "newsroom";

/// The migrations the batteries ship: the auth tables and the session table.
pub const BATTERIES: &[AppMigrations] = &[tack_auth::MIGRATIONS, tack_sessions::MIGRATIONS];

/// The newsroom's migrations (compiled in) with the batteries'.
pub fn migrations() -> tack_orm::Result<Migrations> {
    let mut set = Migrations::from_embedded(MIGRATIONS)?.labelled(APP)?;
    for battery in BATTERIES {
        set = set.with(*battery)?;
    }
    Ok(set)
}

/// Opens `url`, applies the migrations that are not applied yet, refuses to
/// go on when the models are ahead of the migrations, and seeds the demo data
/// into an empty database.
pub fn open(url: &str) -> Result<Database, OpenError> {
    let db = open_unseeded(url)?;
    seed_if_empty(&db)?;
    Ok(db)
}

/// [`open`] without the demo data.
pub fn open_unseeded(url: &str) -> Result<Database, OpenError> {
    let db = Database::connect(url)?;
    let files = migrations()?;
    migrations::migrate(&db, &files, None)?;
    migrations::check(&db, &models::all(), &files)?.into_result()?;
    // view/add/change/delete for every model, as Django creates them.
    tack_auth::ensure_permissions(&db, &models::all()).map_err(OpenError::Permissions)?;
    Ok(db)
}

/// Seeds the demo data when there are no authors yet; answers whether it
/// did. Under the migration lock: of processes starting together on an
/// empty database, one seeds and the others find its rows.
pub fn seed_if_empty(db: &Database) -> tack_orm::Result<bool> {
    db.atomic(|tx| {
        migrations::lock(tx)?;
        if Author::objects().exists(tx)? {
            return Ok(false);
        }
        seed(tx)?;
        Ok(true)
    })
}

/// Writes the demo data (3 authors, 5 published articles, 1 draft, a few
/// comments) in one transaction.
pub fn seed(db: &Connection) -> tack_orm::Result<()> {
    db.atomic(|conn| {
        let authors = Author::objects().bulk_create(
            conn,
            [
                ("Ada Reporter", "Covers science and the sea."),
                ("Grace Editor", "Edits the front page."),
                ("Linus Columnist", "Writes about software."),
            ]
            .into_iter()
            .map(|(name, bio)| Author {
                id: 0,
                user: None,
                display_name: name.into(),
                bio: bio.into(),
            })
            .collect(),
        )?;
        let tags = Tag::objects().bulk_create(
            conn,
            ["science", "rust", "city", "opinion"]
                .into_iter()
                .map(|name| Tag {
                    id: 0,
                    name: name.into(),
                })
                .collect(),
        )?;
        let now = Utc::now();
        let stories = [
            (
                "Tides rise faster than forecast",
                "tides-rise",
                0,
                &[0][..],
                Status::Published,
            ),
            (
                "Rust reaches the newsroom",
                "rust-newsroom",
                2,
                &[1][..],
                Status::Published,
            ),
            (
                "The bridge reopens on Monday",
                "bridge-reopens",
                1,
                &[2][..],
                Status::Published,
            ),
            (
                "Why we still print a paper",
                "still-print",
                1,
                &[3][..],
                Status::Published,
            ),
            (
                "A field guide to city birds",
                "city-birds",
                0,
                &[0, 2][..],
                Status::Published,
            ),
            (
                "Notes for next week",
                "notes-next-week",
                2,
                &[][..],
                Status::Draft,
            ),
        ];
        for (age, (title, slug, author, tag_ids, status)) in stories.into_iter().enumerate() {
            let created = now - Duration::days(age as i64 + 1);
            let mut article = Article {
                id: 0,
                title: title.into(),
                slug: slug.into(),
                body: format!(
                    "{title}.\n\nThis is a demo article seeded by the newsroom example.\n\n\
                     Edit it through the API at /api/articles/."
                ),
                author: ForeignKey::new(authors[author].id),
                status,
                published_at: (status == Status::Published).then_some(created),
                created_at: created,
                cover: None,
                tags: ManyToMany::new(),
            };
            article.save(conn)?;
            let chosen: Vec<&Tag> = tag_ids.iter().map(|&i| &tags[i]).collect();
            article.tags().add(conn, &chosen)?;
            if age < 2 {
                for (n, who) in ["A reader", "Another reader"].into_iter().enumerate() {
                    Comment::objects().create(
                        conn,
                        Comment {
                            id: 0,
                            article: ForeignKey::new(article.id),
                            author_name: who.into(),
                            body: format!("Comment {} on {title}.", n + 1),
                            created_at: created + Duration::hours(n as i64 + 1),
                        },
                    )?;
                }
            }
        }
        Ok(())
    })
}
