//! The newsroom's models (see the newsroom's paths in ARCHITECTURE.md): authors, articles, tags, comments.

use chrono::{DateTime, Utc};
use tack_orm::prelude::*;

/// Whether an article is visible to readers.
#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Only its author sees it.
    Draft,
    /// On the front page.
    Published,
}

/// Someone who writes articles.
#[derive(Model, Clone, Debug)]
#[tack(app = "newsroom", display = "{display_name}")]
pub struct Author {
    /// Primary key.
    pub id: i64,
    /// The user who signs in as this author, if any.
    #[tack(on_delete = "set_null")]
    pub user: Option<ForeignKey<tack_auth::models::User>>,
    /// The name shown on articles.
    #[tack(max_length = 100, verbose_name = "display name")]
    pub display_name: String,
    /// A few words about the author.
    #[tack(blank)]
    pub bio: String,
}

/// A label on articles.
#[derive(Model, Clone, Debug)]
#[tack(app = "newsroom", display = "{name}")]
pub struct Tag {
    /// Primary key.
    pub id: i64,
    /// The tag itself, unique.
    #[tack(unique, max_length = 50)]
    pub name: String,
}

/// A story.
#[derive(Model, Clone, Debug)]
#[tack(app = "newsroom", clean = "check_article", display = "{title}")]
pub struct Article {
    /// Primary key.
    pub id: i64,
    /// The headline.
    #[tack(max_length = 200)]
    pub title: String,
    /// The article's address: `/articles/{slug}/`.
    #[tack(slug, unique, max_length = 200)]
    pub slug: String,
    /// The text; blank lines separate paragraphs.
    #[tack(blank)]
    pub body: String,
    /// Who wrote it.
    #[tack(on_delete = "protect", related_name = "articles")]
    pub author: ForeignKey<Author>,
    /// Draft or published.
    #[tack(choices, default = Status::Draft, index)]
    pub status: Status,
    /// When it was published.
    #[tack(index)]
    pub published_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// A picture above the headline, kept in the media storage.
    #[tack(
        file,
        upload_to = "covers/",
        max_upload_size = 2_000_000,
        content_types = "image/png, image/jpeg, image/gif, image/webp",
        verbose_name = "cover image"
    )]
    pub cover: Option<String>,
    /// Its tags.
    pub tags: ManyToMany<Tag>,
}

/// The article fields people write, in form order (the API takes all but
/// the cover; the admin's form shows them all).
pub const ARTICLE_WRITABLE: &[&str] = &[
    "title",
    "slug",
    "body",
    "author",
    "status",
    "published_at",
    "cover",
    "tags",
];

/// A published article needs a publication date.
fn check_article(article: &Article, errors: &mut tack_orm::ValidationErrors) {
    if article.status == Status::Published && article.published_at.is_none() {
        errors.add(
            "published_at",
            "A published article needs a publication date.",
        );
    }
}

/// A reader's comment on an article.
#[derive(Model, Clone, Debug)]
#[tack(app = "newsroom", display = "{author_name} on {article}")]
pub struct Comment {
    /// Primary key.
    pub id: i64,
    /// The article commented on; deleting it deletes its comments.
    #[tack(on_delete = "cascade", related_name = "comments")]
    pub article: ForeignKey<Article>,
    /// Who wrote the comment.
    #[tack(max_length = 100)]
    pub author_name: String,
    /// What they wrote: a comment, not a book (a long one would make every
    /// reader's page heavier).
    #[tack(max_length = 2000)]
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Every model of the project (the auth models first: authors refer to
/// users), in an order that creates referenced tables first.
pub fn all() -> Vec<&'static tack_orm::ModelMeta> {
    let mut models = tack_auth::models::all();
    models.extend(tack_sessions::models());
    models.extend([
        Author::meta(),
        Tag::meta(),
        Article::meta(),
        Comment::meta(),
    ]);
    models
}
