//! The REST API: `/api/articles/`, `/api/comments/`, the OpenAPI document
//! and its docs page (see the newsroom's paths in ARCHITECTURE.md).

use chrono::Utc;
use http::request::Parts;
use serde_json::json;
use tack_apidoc::{ApiDoc, DocsService, SecurityScheme};
use tack_auth::{CurrentUser, User};
use tack_crud::{Action, Crud};
use tack_http::Problem;
use tack_orm::{AsyncDatabase, Database};
use tack_ws::Groups;

use crate::app::article_group;
use crate::models::{Article, Comment, Status};

/// Article writes need the model permission (`newsroom.add_article`,
/// `change_article`, `delete_article`; superusers have them all).
fn may_edit_articles(action: Action, parts: &Parts) -> bool {
    let Some(current) = parts.extensions.get::<CurrentUser<User>>() else {
        return false;
    };
    let needed = match action {
        Action::Create => "newsroom.add_article",
        Action::Delete => "newsroom.delete_article",
        _ => "newsroom.change_article",
    };
    current.has_perm(needed)
}

/// Any signed-in reader may comment; changing or deleting a comment needs
/// the model permission.
fn may_write_comments(action: Action, parts: &Parts) -> bool {
    let Some(current) = parts.extensions.get::<CurrentUser<User>>() else {
        return false;
    };
    match action {
        Action::Create => current.is_authenticated(),
        Action::Delete => current.has_perm("newsroom.delete_comment"),
        _ => current.has_perm("newsroom.change_comment"),
    }
}

/// The article collection at `/api/articles/`.
pub fn articles(db: AsyncDatabase) -> Crud<Article> {
    Crud::<Article>::new(db)
        .fields(&[
            "id",
            "title",
            "slug",
            "body",
            "author",
            "status",
            "published_at",
            "created_at",
            "tags",
        ])
        // The cover is an upload: pages take it, JSON bodies do not.
        .writable(
            &crate::models::ARTICLE_WRITABLE
                .iter()
                .copied()
                .filter(|name| *name != "cover")
                .collect::<Vec<_>>(),
        )
        .filter_fields(&["status", "author"])
        .filter_as("tag", "tags__name", &["exact"])
        .filter("published_at", &["gte", "lte"])
        .search_fields(&["title", "body"])
        .ordering_fields(&["published_at", "created_at", "title"])
        .default_ordering("-published_at")
        .base_path("/api/articles/")
        // Readers who may not write see published articles only.
        .scope(move |parts, articles| {
            if may_edit_articles(Action::Update, parts) {
                articles
            } else {
                articles.filter(Article::STATUS.eq(Status::Published))
            }
        })
        .before_create(|_, _, article: &mut Article| {
            article.created_at = Utc::now();
            Ok(())
        })
        .permission(|action: Action, parts: &Parts| {
            action.is_read() || may_edit_articles(action, parts)
        })
}

/// The comment collection at `/api/comments/`; each new comment is pushed
/// to the article's live viewers.
pub fn comments(db: AsyncDatabase, groups: Groups) -> Crud<Comment> {
    let lookup: Database = db.database().clone();
    Crud::<Comment>::new(db)
        .fields(&["id", "article", "author_name", "body", "created_at"])
        .writable(&["article", "body"])
        .filter_fields(&["article"])
        .ordering_fields(&["created_at"])
        .default_ordering("created_at")
        .base_path("/api/comments/")
        // Readers who may not edit articles see the comments of published
        // articles only.
        .scope(|parts, comments| {
            if may_edit_articles(Action::Update, parts) {
                comments
            } else {
                // A fixed path that exists in the models: the check cannot fail.
                comments
                    .filter_by_name("article__status", "published")
                    .expect("Comment has the path article__status")
            }
        })
        .before_create(|parts, conn, comment: &mut Comment| {
            comment.created_at = Utc::now();
            // The comment is signed by who is signed in, whatever the body says.
            let author = parts
                .extensions
                .get::<CurrentUser<User>>()
                .and_then(CurrentUser::user)
                .ok_or_else(|| Problem::forbidden("Sign in to comment."))?;
            comment.author_name = author.username.clone();
            let open = Article::objects()
                .filter(
                    Article::ID.eq(comment.article.id()) & Article::STATUS.eq(Status::Published),
                )
                .exists(conn)?;
            if !open && !may_edit_articles(Action::Update, parts) {
                return Err(Problem::invalid("The comment could not be saved.")
                    .with_field_error("article", "No published article has this id.")
                    .into());
            }
            Ok(())
        })
        // Hooks run on the database worker after the commit: a query here
        // does not block the async executor.
        .after_create(move |_, comment: &Comment| announce(&lookup, &groups, comment))
        .permission(|action: Action, parts: &Parts| {
            action.is_read() || may_write_comments(action, parts)
        })
}

/// Pushes `{"type": "comment.created", "comment": {...}}` to the viewers of
/// the comment's article, if it is published (a draft's comments are for
/// its editors, and an article unpublished while viewers watch it goes
/// quiet). A failure is logged: the comment is saved anyway.
pub fn announce(db: &Database, groups: &Groups, comment: &Comment) {
    let slug = Article::objects()
        .filter(Article::ID.eq(comment.article.id()) & Article::STATUS.eq(Status::Published))
        .first(db)
        .map(|article| article.map(|a| a.slug));
    let slug = match slug {
        Ok(Some(slug)) => slug,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%error, "live comments: the article lookup failed");
            return;
        }
    };
    let event = json!({
        "type": "comment.created",
        "comment": {
            "id": comment.id,
            "article": comment.article.id(),
            "author_name": comment.author_name,
            "body": comment.body,
            "created_at": comment.created_at,
        },
    });
    if let Err(error) = groups.broadcast_json(&article_group(&slug), &event) {
        tracing::error!(%error, "live comments: the broadcast failed");
    }
}

/// The API token endpoints (hand-written handlers in `accounts`).
fn document_tokens(doc: &mut ApiDoc) -> Result<(), tack_apidoc::Error> {
    use serde_json::json;
    let time = json!({"type": "string", "format": "date-time"});
    let record = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The token's public id, to revoke it by."},
            "name": {"type": "string"},
            "created_at": time,
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "required": ["id", "name", "created_at", "expires_at"],
    });
    let mut minted = record.clone();
    minted["properties"]["token"] =
        json!({"type": "string", "description": "The bearer token, shown this once."});
    minted["required"] = json!(["token", "id", "name", "created_at", "expires_at"]);
    doc.route(
        "POST",
        "/api/auth/token/",
        tack_apidoc::Operation::new()
            .tag("auth")
            .summary("Trade a password for an API token")
            .description(
                "Answers a bearer token for `Authorization: Bearer ...`, shown this once. \
                 Tokens expire after 30 days; a user keeps the newest 10; a password change \
                 revokes them all.",
            )
            .json_body_schema(json!({
                "type": "object",
                "properties": {
                    "username": {"type": "string"},
                    "password": {"type": "string"},
                    "name": {"type": "string", "maxLength": crate::accounts::MAX_TOKEN_NAME_CHARS,
                             "description": "What the token is for (default \"api\")."},
                },
                "required": ["username", "password"],
                "additionalProperties": false,
            }))
            .response_schema(201, "The new token and its record", minted)
            .problem(400, "The body is not the JSON described")
            .problem(401, "Wrong username or password")
            .problem(429, "Too many failed attempts: wait as Retry-After says")
            .public(),
    )?;
    doc.route(
        "GET",
        "/api/auth/tokens/",
        tack_apidoc::Operation::new()
            .tag("auth")
            .summary("List your live tokens, oldest first")
            .response_schema(
                200,
                "The signed-in user's tokens (never the tokens themselves)",
                json!({"type": "object", "properties": {"results": {"type": "array", "items": record}},
                       "required": ["results"]}),
            )
            .problem(401, "Not signed in")
            .security(["session"])
            .security(["bearer"]),
    )?;
    doc.route(
        "DELETE",
        "/api/auth/tokens/{id}/",
        tack_apidoc::Operation::new()
            .tag("auth")
            .summary("Revoke one of your tokens")
            .response_empty(204, "Revoked")
            .problem(401, "Not signed in")
            .problem(404, "You have no token with this id")
            .security(["session", "csrf"])
            .security(["bearer"]),
    )?;
    Ok(())
}

/// The OpenAPI document of the whole API and the service answering
/// `/api/openapi.json` and `/api/docs/`.
pub fn docs(
    articles: &Crud<Article>,
    comments: &Crud<Comment>,
) -> Result<DocsService, tack_apidoc::Error> {
    let mut doc = ApiDoc::new("Newsroom API", "1.0.0")
        .with_description(
            "Articles and comments of the newsroom example. Reading is open; writing \
             needs a signed-in session (with the CSRF header) or a bearer token.",
        )
        .with_tag("articles", "Stories, their authors and tags.")
        .with_tag(
            "comments",
            "Readers' comments, pushed live to the article page.",
        )
        .with_tag("auth", "API tokens for scripts.")
        .with_security_scheme("session", SecurityScheme::session_cookie("sessionid"))
        .with_security_scheme("csrf", SecurityScheme::csrf_header("X-CSRFToken"))
        .with_security_scheme("bearer", SecurityScheme::bearer());
    let secure = |action: Action, op: tack_apidoc::Operation| {
        if action.is_read() {
            op.public()
        } else {
            op.security(["session", "csrf"]).security(["bearer"])
        }
    };
    articles.document_with(&mut doc, "/api/articles", secure)?;
    comments.document_with(&mut doc, "/api/comments", secure)?;
    document_tokens(&mut doc)?;
    Ok(DocsService::new(doc.build()?)
        .with_json_path("/api/openapi.json")
        .with_page_path("/api/docs/"))
}
