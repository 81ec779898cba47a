//! The server-rendered pages.

use std::sync::Arc;

use http::Request;
use serde::Deserialize;
use tack_http::{Body, Response};
use tack_routing::{Error, RequestExt};
use tack_templates::minijinja::value::Serde;
use tack_templates::{Value, context};

use crate::Newsroom;

/// Articles per page on the front page.
pub const PAGE_SIZE: usize = 10;

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<String>,
}

/// A placeholder article until the ORM serves real rows.
#[derive(Debug, Clone, serde::Serialize)]
struct ArticleView {
    title: String,
    slug: String,
    body: String,
    author_name: String,
    published_at: Option<String>,
    tags: Vec<String>,
}

fn placeholder_articles() -> Vec<ArticleView> {
    (1..=5)
        .map(|n| ArticleView {
            title: format!("Placeholder article {n}"),
            slug: format!("placeholder-{n}"),
            body: "The real articles arrive with the ORM.".to_owned(),
            author_name: "The newsroom".to_owned(),
            published_at: Some(format!("2026-11-{:02}T09:00:00Z", 20 - n)),
            tags: vec!["news".to_owned()],
        })
        .collect()
}

/// Which page the visitor asked for: `?page=N`, 1 when absent; a page that is
/// not a positive number is a 404, as in Django's paginator.
fn page_number(request: &Request<Body>) -> Result<usize, Error> {
    let query: PageQuery = request.query()?;
    match query.page.as_deref() {
        None | Some("") => Ok(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                Error::http(
                    http::StatusCode::NOT_FOUND,
                    format!("There is no page {text:?}."),
                )
            }),
    }
}

fn render(state: &Newsroom, request: &Request<Body>, name: &str, ctx: Value) -> Response {
    state
        .templates
        .render_for(request, name, ctx)
        .unwrap_or_else(|error| state.templates.error_response(&error))
}

/// `GET /`: published articles, newest first, paginated.
pub async fn index(state: Arc<Newsroom>, request: Request<Body>) -> Result<Response, Error> {
    let number = page_number(&request)?;
    let articles = placeholder_articles();
    let pages = articles.len().div_ceil(PAGE_SIZE).max(1);
    if number > pages {
        return Err(Error::http(
            http::StatusCode::NOT_FOUND,
            format!("There is no page {number}."),
        ));
    }
    let shown: Vec<_> = articles
        .into_iter()
        .skip((number - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let page = context! {
        number => number,
        count => pages,
        previous => (number > 1).then(|| number - 1),
        next => (number < pages).then(|| number + 1),
    };
    Ok(render(
        &state,
        &request,
        "index.html",
        context! { articles => Value::from(Serde(&shown)), page },
    ))
}

/// `GET /articles/{slug}/`: one article with its comments.
pub async fn article_detail(
    state: Arc<Newsroom>,
    request: Request<Body>,
) -> Result<Response, Error> {
    let slug: String = request.path_param("slug")?;
    let article = placeholder_articles()
        .into_iter()
        .find(|a| a.slug == slug)
        .ok_or_else(|| {
            Error::http(
                http::StatusCode::NOT_FOUND,
                format!("No article is called {slug:?}."),
            )
        })?;
    let comments: Vec<()> = Vec::new();
    Ok(render(
        &state,
        &request,
        "article.html",
        context! { article => Value::from(Serde(&article)), comments },
    ))
}
