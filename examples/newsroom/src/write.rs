//! "My articles" at `/write/`: signed-in authors list, write, edit and
//! delete their own articles; editors (who may change any article) see
//! every one. The same `Crud<Article>` definition as the API, drawn as
//! pages (see the newsroom's paths in ARCHITECTURE.md).

use std::sync::Arc;

use http::request::Parts;
use tack_auth::guard::{Guard, GuardLayer};
use tack_auth::{CurrentUser, User};
use tack_crud::{Action, CrudPages};
use tack_forms::LocalStorage;
use tack_http::Problem;
use tack_orm::{AsyncDatabase, Connection, ForeignKey, Lookup, ModelExt, Q, Value};
use tack_templates::Templates;
use tower::Layer;

use crate::models::{Article, Author};

/// Where the pages are mounted.
pub const PATH: &str = "/write/";

fn current(parts: &Parts) -> Option<&User> {
    parts.extensions.get::<CurrentUser<User>>()?.user()
}

fn is_editor(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<CurrentUser<User>>()
        .is_some_and(|current| current.has_perm("newsroom.change_article"))
}

/// The signed-in user's author row, made for editors on their first article.
fn author_of(conn: &Connection, parts: &Parts) -> Result<Author, tack_crud::Error> {
    let user = current(parts).ok_or_else(|| Problem::forbidden("Sign in to write."))?;
    let id: i64 = user
        .id
        .parse()
        .map_err(|_| Problem::forbidden("This account cannot write articles."))?;
    if let Some(author) = Author::objects().filter_by_name("user", id)?.first(conn)? {
        return Ok(author);
    }
    if !is_editor(parts) {
        return Err(Problem::forbidden(
            "Only authors write articles here: ask an editor to make you one.",
        )
        .into());
    }
    let mut author = Author {
        id: 0,
        user: Some(ForeignKey::new(id)),
        display_name: user.username.clone(),
        bio: String::new(),
    };
    author.save(conn)?;
    Ok(author)
}

/// The pages, behind a sign-in guard.
pub fn pages(
    db: AsyncDatabase,
    templates: Templates,
    media: Arc<LocalStorage>,
) -> Guard<CrudPages<Article>, User> {
    let articles = crate::api::articles(db)
        .base_path(PATH)
        .page_size(20, 100)
        // Authors see their own articles, editors every article.
        .scope(|parts, articles| {
            if is_editor(parts) {
                return articles;
            }
            let user = current(parts)
                .and_then(|u| u.id.parse::<i64>().ok())
                .map_or(Value::Null, Value::I64);
            articles.filter(Q::lookup("author__user", Lookup::Exact, user))
        })
        .before_create(|parts, conn, article: &mut Article| {
            article.author = ForeignKey::from(&author_of(conn, parts)?);
            Ok(())
        })
        .permission(|_: Action, parts: &Parts| current(parts).is_some());
    let pages = articles
        .pages(templates)
        .base_path(PATH)
        .storage(media)
        .form_fields(&[
            "title",
            "slug",
            "body",
            "status",
            "published_at",
            "cover",
            "tags",
        ])
        .list_display(&["title", "status", "published_at"])
        .related_models(&crate::models::all());
    GuardLayer::login_required("/accounts/login/").layer(pages)
}
