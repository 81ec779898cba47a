//! A small newsroom API, documented once through route patterns and once
//! through the builder alone, shared by the behaviour tests.

#![allow(dead_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tack_apidoc::{ApiDoc, OpenApi, Operation, Parameter, SecurityScheme, schema_ref};

/// Whether an article is visible to readers.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Only its author sees it.
    Draft,
    /// Everyone sees it.
    Published,
}

/// A tag on an article.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Tag {
    /// The tag's id.
    pub id: i64,
    /// The tag's unique name.
    pub name: String,
}

/// A news article.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Article {
    /// The article's id.
    pub id: i64,
    /// The headline.
    #[schemars(length(max = 200))]
    pub title: String,
    /// The unique slug used in its URL.
    pub slug: String,
    /// The text.
    pub body: String,
    /// The author's id.
    pub author: i64,
    /// Whether readers see it.
    pub status: Status,
    /// When it was published (RFC 3339), if it was.
    #[schemars(extend("format" = "date-time"))]
    pub published_at: Option<String>,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// The fields a client sends to create or replace an article.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ArticleInput {
    /// The headline.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// The unique slug used in its URL.
    pub slug: String,
    /// The text.
    pub body: String,
    /// Draft unless given.
    pub status: Option<Status>,
}

/// One page of results.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Page<T> {
    /// How many results there are in all.
    pub count: u64,
    /// The next page's URL.
    pub next: Option<String>,
    /// The previous page's URL.
    pub previous: Option<String>,
    /// This page's results.
    pub results: Vec<T>,
}

/// Filters, search and ordering of the article list.
#[derive(Deserialize, JsonSchema)]
pub struct ArticleQuery {
    /// Only articles with this status.
    pub status: Option<Status>,
    /// Only articles by this author (id).
    pub author: Option<i64>,
    /// Only articles whose title or body contains this text.
    pub search: Option<String>,
    /// The field to order by; `-` first for descending (`-published_at`).
    pub ordering: Option<String>,
    /// The page number, from 1.
    #[schemars(range(min = 1))]
    pub page: Option<u32>,
}

/// Which page to show.
#[derive(Deserialize, JsonSchema)]
pub struct PageQuery {
    /// The page number, from 1.
    pub page: u32,
}

/// A username and password to trade for a token.
#[derive(Deserialize, JsonSchema)]
pub struct TokenRequest {
    /// The user's name.
    pub username: String,
    /// The user's password.
    pub password: String,
}

/// An API token.
#[derive(Serialize, JsonSchema)]
pub struct TokenResponse {
    /// Send it as `Authorization: Bearer TOKEN`.
    pub token: String,
}

/// The document's frame: title, server, tags and security schemes.
pub fn frame() -> ApiDoc {
    ApiDoc::new("Newsroom API", "1.0.0")
        .with_description("Articles, tags and comments of the newsroom.\n\nReading is open; writing needs a session with its CSRF token, or a bearer token.")
        .with_server("/api")
        .with_tag("articles", "Published and draft articles.")
        .with_tag("auth", "API tokens.")
        .with_security_scheme("session", SecurityScheme::session_cookie("sessionid"))
        .with_security_scheme("csrf", SecurityScheme::csrf_header("X-CSRFToken"))
        .with_security_scheme("bearer", SecurityScheme::bearer())
}

fn writer(operation: Operation) -> Operation {
    operation
        .security(["session", "csrf"])
        .security(["bearer"])
        .problem(401, "Not signed in")
        .problem(403, "Not allowed")
}

/// The newsroom API through route patterns, as a router feeds its routes.
pub fn routed() -> OpenApi {
    let mut doc = frame();
    let routes: Vec<(&str, &str, Option<Operation>)> = vec![
        (
            "GET",
            "/articles/",
            Some(
                Operation::new()
                    .summary("List articles")
                    .tag("articles")
                    .operation_id("listArticles")
                    .query::<ArticleQuery>()
                    .response::<Page<Article>>(200, "One page of articles")
                    .problem(400, "A filter has an invalid value"),
            ),
        ),
        (
            "POST",
            "/articles/",
            Some(writer(
                Operation::new()
                    .summary("Create an article")
                    .tag("articles")
                    .operation_id("createArticle")
                    .json_body::<ArticleInput>()
                    .response::<Article>(201, "The new article")
                    .problem(422, "Some fields are invalid"),
            )),
        ),
        (
            "GET",
            "/articles/{id:int}/",
            Some(
                Operation::new()
                    .summary("Get an article")
                    .tag("articles")
                    .operation_id("getArticle")
                    .parameter(Parameter::path("id").description("The article's id"))
                    .response::<Article>(200, "The article")
                    .problem(404, "No article has this id"),
            ),
        ),
        (
            "PUT",
            "/articles/{id:int}/",
            Some(writer(
                Operation::new()
                    .summary("Replace an article")
                    .tag("articles")
                    .operation_id("replaceArticle")
                    .json_body::<ArticleInput>()
                    .response::<Article>(200, "The article as saved")
                    .problem(404, "No article has this id")
                    .problem(422, "Some fields are invalid"),
            )),
        ),
        (
            "DELETE",
            "/articles/{id:int}/",
            Some(writer(
                Operation::new()
                    .summary("Delete an article")
                    .tag("articles")
                    .operation_id("deleteArticle")
                    .response_empty(204, "Deleted")
                    .problem(404, "No article has this id"),
            )),
        ),
        (
            "GET",
            "/articles/by-slug/{slug:slug}/",
            Some(
                Operation::new()
                    .summary("Get an article by slug")
                    .tag("articles")
                    .deprecated()
                    .parameter(
                        Parameter::header("Accept-Language").description("Preferred language"),
                    )
                    .response::<Article>(200, "The article")
                    .problem(404, "No article has this slug"),
            ),
        ),
        (
            "GET",
            "/tags/",
            Some(
                Operation::new()
                    .summary("List tags")
                    .tag("tags")
                    .schema(
                        "TagRow",
                        json!({
                            "type": "object",
                            "description": "A tag, described at run time.",
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string", "maxLength": 50}
                            },
                            "required": ["id", "name"]
                        }),
                    )
                    .parameter(
                        Parameter::query("search")
                            .description("Text the tag's name contains")
                            .example(json!("rust")),
                    )
                    .response_schema(
                        200,
                        "The tags",
                        json!({"type": "array", "items": schema_ref("TagRow")}),
                    ),
            ),
        ),
        (
            "GET",
            "/keys/{key:uuid}",
            Some(
                Operation::new()
                    .summary("Look up a key")
                    .tag("tags")
                    .response_schema(200, "The key", json!({"type": "string"}))
                    .problem(404, "Unknown key"),
            ),
        ),
        (
            "GET",
            "/tags/pages/",
            Some(
                Operation::new()
                    .summary("List tags a page at a time")
                    .tag("tags")
                    .query::<PageQuery>()
                    .response::<Page<Tag>>(200, "One page of tags"),
            ),
        ),
        ("GET", "/files/{*path}", None),
        (
            "POST",
            "/auth/token/",
            Some(
                Operation::new()
                    .summary("Get an API token")
                    .tag("auth")
                    .operation_id("createToken")
                    .public()
                    .json_body::<TokenRequest>()
                    .response::<TokenResponse>(200, "A new token")
                    .problem(422, "Wrong username or password"),
            ),
        ),
    ];
    for (method, pattern, operation) in routes {
        doc.route(method, pattern, operation).unwrap();
    }
    doc.build().unwrap()
}

/// The same kind of API described by hand, as an axum user would, with
/// axum's own patterns and parameters typed by hand.
pub fn handmade() -> OpenApi {
    let mut doc = ApiDoc::new("Handmade API", "0.1.0")
        .with_security_scheme("bearer", SecurityScheme::bearer())
        .with_security(["bearer"]);
    doc.route(
        http::Method::GET,
        "/users/{id}",
        Operation::new()
            .summary("Get a user")
            .parameter(
                Parameter::path("id")
                    .schema_of::<u64>()
                    .description("The user's id"),
            )
            .response_schema(
                200,
                "The user",
                json!({
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    "required": ["id", "name"]
                }),
            )
            .problem(404, "No such user"),
    )
    .unwrap()
    .route(
        http::Method::GET,
        "/health",
        Operation::new()
            .summary("Health check")
            .public()
            .response_content(200, "Alive", "text/plain", json!({"type": "string"})),
    )
    .unwrap();
    doc.build().unwrap()
}
