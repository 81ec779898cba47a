//! The server-rendered pages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::{Request, StatusCode};
use serde::{Deserialize, Serialize};
use tack_auth::{CurrentUser, User};
use tack_forms::{Form, LocalStorage, Storage};
use tack_http::{Body, Response};
use tack_routing::{Error, RequestExt};
use tack_templates::{Serde, Value, context};

use crate::Newsroom;
use crate::models::{Article, Comment, Status};

/// Articles per page on the front page.
pub const PAGE_SIZE: u64 = 10;

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<String>,
}

/// What the templates show of an article.
#[derive(Debug, Serialize)]
struct ArticleView {
    title: String,
    slug: String,
    body: String,
    author_name: String,
    published_at: Option<DateTime<Utc>>,
    tags: Vec<String>,
    /// Where the cover image is served, when there is one.
    cover_url: Option<String>,
}

impl ArticleView {
    fn new(article: &Article, media: &LocalStorage) -> Self {
        ArticleView {
            title: article.title.clone(),
            slug: article.slug.clone(),
            body: article.body.clone(),
            author_name: article
                .author
                .cached()
                .map_or_else(String::new, |author| author.display_name.clone()),
            published_at: article.published_at,
            cover_url: article
                .cover
                .as_deref()
                .filter(|name| !name.is_empty())
                .map(|name| media.url(name)),
            tags: article
                .tags
                .loaded()
                .unwrap_or_default()
                .iter()
                .map(|tag| tag.name.clone())
                .collect(),
        }
    }
}

/// What the templates show of a comment.
#[derive(Debug, Serialize)]
struct CommentView {
    author_name: String,
    body: String,
    created_at: DateTime<Utc>,
}

fn not_found(detail: String) -> Error {
    Error::http(StatusCode::NOT_FOUND, detail)
}

/// A database failure as the router's error: 503 when the database cannot be
/// reached, else 500 (the detail stays in the log, not on the page).
fn database_error(error: tack_orm::Error) -> Error {
    let status = error.status();
    tracing::error!(%error, "a page could not read the database");
    Error::http(status, "The database could not answer this request.")
}

/// Which page the visitor asked for: `?page=N`, 1 when absent; a page that is
/// not a positive number is a 404, as in Django's paginator.
fn page_number(request: &Request<Body>) -> Result<u64, Error> {
    let query: PageQuery = request.query()?;
    match query.page.as_deref() {
        None | Some("") => Ok(1),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| not_found(format!("There is no page {text:?}."))),
    }
}

fn render(state: &Newsroom, request: &Request<Body>, name: &str, ctx: Value) -> Response {
    state
        .templates
        .render_for(request, name, ctx)
        .unwrap_or_else(|error| state.templates.error_response(&error))
}

/// One page of a paginated list: which page, and how many there are.
struct Pages {
    number: u64,
    count: u64,
    size: u64,
}

impl Pages {
    /// Page `number` of `total` items, `size` per page; at least one page.
    fn of(total: u64, size: u64, number: u64) -> Self {
        Pages {
            number,
            count: total.div_ceil(size).max(1),
            size,
        }
    }

    /// Whether the page asked for exists.
    fn exists(&self) -> bool {
        self.number <= self.count
    }

    /// The first item's offset; call only when the page [exists](Self::exists)
    /// (a huge page number must not overflow it).
    fn offset(&self) -> u64 {
        (self.number - 1) * self.size
    }

    /// The `page` a template's pagination links read.
    fn view(&self) -> Value {
        context! {
            number => self.number,
            count => self.count,
            previous => (self.number > 1).then(|| self.number - 1),
            next => (self.number < self.count).then(|| self.number + 1),
        }
    }
}

/// `GET /`: published articles, newest first, paginated.
pub async fn index(state: Arc<Newsroom>, request: Request<Body>) -> Result<Response, Error> {
    let number = page_number(&request)?;
    let (pages, articles) = state
        .db
        .run(move |db| {
            let published = Article::objects().filter(Article::STATUS.eq(Status::Published));
            let pages = Pages::of(published.count(db)?, PAGE_SIZE, number);
            if !pages.exists() {
                return Ok((pages, Vec::new()));
            }
            let page = published
                .order_by(Article::PUBLISHED_AT.desc())
                .select_related("author")
                .prefetch_related("tags")
                .offset(pages.offset())
                .limit(PAGE_SIZE)
                .all(db)?;
            Ok((pages, page))
        })
        .await
        .map_err(database_error)?;
    if !pages.exists() {
        return Err(not_found(format!("There is no page {number}.")));
    }
    let shown: Vec<ArticleView> = articles
        .iter()
        .map(|article| ArticleView::new(article, &state.media))
        .collect();
    Ok(render(
        &state,
        &request,
        "index.html",
        context! { articles => Serde(&shown), page => pages.view() },
    ))
}

/// `GET /articles/{slug}/`: a published article with its comments.
pub async fn article_detail(
    state: Arc<Newsroom>,
    request: Request<Body>,
) -> Result<Response, Error> {
    article_page(&state, request, StatusCode::OK, CommentForm::form().view()).await
}

/// The article page, with `form` (the comment form's values and errors).
async fn article_page(
    state: &Newsroom,
    request: Request<Body>,
    status: StatusCode,
    form: Value,
) -> Result<Response, Error> {
    let slug: String = request.path_param("slug")?;
    let number = page_number(&request)?;
    let wanted = slug.clone();
    let found = state
        .db
        .run(move |db| {
            let article = Article::objects()
                .filter(Article::SLUG.eq(wanted) & Article::STATUS.eq(Status::Published))
                .select_related("author")
                .prefetch_related("tags")
                .first(db)?;
            let Some(article) = article else {
                return Ok(None);
            };
            let of_article = Comment::objects().filter(Comment::ARTICLE.eq(article.id));
            let pages = Pages::of(of_article.count(db)?, COMMENTS_PER_PAGE, number);
            if !pages.exists() {
                return Ok(Some((article, pages, Vec::new())));
            }
            let comments = of_article
                .order_by(Comment::CREATED_AT.asc())
                .offset(pages.offset())
                .limit(COMMENTS_PER_PAGE)
                .all(db)?;
            Ok(Some((article, pages, comments)))
        })
        .await
        .map_err(database_error)?;
    let (article, pages, comments) =
        found.ok_or_else(|| not_found(format!("No published article is called {slug:?}.")))?;
    if !pages.exists() {
        return Err(not_found(format!("There is no page {number} of comments.")));
    }
    let comments: Vec<CommentView> = comments
        .into_iter()
        .map(|c| CommentView {
            author_name: c.author_name,
            body: c.body,
            created_at: c.created_at,
        })
        .collect();
    let article = ArticleView::new(&article, &state.media);
    let ctx = context! {
        article => Serde(&article),
        comments => Serde(&comments),
        page => pages.view(),
        form,
    };
    Ok(state
        .templates
        .render_status_for(&request, status, "article.html", ctx)
        .unwrap_or_else(|error| state.templates.error_response(&error)))
}

/// The longest comment the form accepts: `Comment.body`'s `max_length`,
/// which the API enforces.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Comments shown per page of an article, oldest first.
pub const COMMENTS_PER_PAGE: u64 = 50;

/// The comment form under an article.
#[derive(Debug, Form)]
pub struct CommentForm {
    #[form(
        label = "Your comment",
        widget = "textarea",
        max_length = MAX_COMMENT_CHARS,
        attrs = [("rows", "4")]
    )]
    body: String,
}

/// `POST /articles/{slug}/comments/` (signed-in users): saves the comment,
/// pushes it to the article's live viewers and redirects back with a flash
/// message; invalid input re-renders the page with the errors (422).
pub async fn comment_create(
    state: Arc<Newsroom>,
    mut request: Request<Body>,
) -> Result<Response, Error> {
    let slug: String = request.path_param("slug")?;
    let Some(author_name) = request
        .extensions()
        .get::<CurrentUser<User>>()
        .and_then(CurrentUser::user)
        .map(|user| user.username.clone())
    else {
        // Back to the article, not to this POST-only address, after signing in.
        let next = format!("/articles/{slug}/");
        return Ok(crate::accounts::see_other(
            &tack_auth::guard::login_redirect_url("/accounts/login/", &next),
        ));
    };
    let form = CommentForm::bind(&crate::accounts::form_data(&mut request).await?);
    let body = match form.into_cleaned() {
        Ok(comment) => comment.body,
        Err(form) => {
            return article_page(
                &state,
                request,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.view(),
            )
            .await;
        }
    };
    let messages = request
        .extensions()
        .get::<tack_sessions::Messages>()
        .cloned();
    let groups = state.groups.clone();
    let wanted = slug.clone();
    let saved = state
        .db
        .run(move |db| {
            let article = Article::objects()
                .filter(Article::SLUG.eq(wanted) & Article::STATUS.eq(Status::Published))
                .first(db)?;
            let Some(article) = article else {
                return Ok(None);
            };
            let comment = Comment::objects().create(
                db,
                Comment {
                    id: 0,
                    article: tack_orm::ForeignKey::new(article.id),
                    author_name,
                    body,
                    created_at: Utc::now(),
                },
            )?;
            crate::api::announce(db, &groups, &comment);
            Ok(Some(comment))
        })
        .await
        .map_err(database_error)?;
    if saved.is_none() {
        return Err(not_found(format!(
            "No published article is called {slug:?}."
        )));
    }
    if let Some(messages) = messages {
        let _ = messages.success("Your comment is posted.");
    }
    Ok(crate::accounts::see_other(&format!(
        "/articles/{slug}/#comments"
    )))
}
