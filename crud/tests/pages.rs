//! The HTML pages of the CRUD controller, through the session, CSRF and
//! template layers a site runs, on SQLite and PostgreSQL.

mod common;

use common::*;
use http::StatusCode;
use minijinja::Value as Tpl;
use tack_crud::{Action, AllowAll, Crud, CrudPages, Permission};
use tack_orm::AsyncDatabase;
use tack_orm::prelude::*;
use tack_security::{CsrfLayer, CsrfToken};
use tack_sessions::{MemoryStore, Messages, SessionLayer};
use tack_templates::Templates;
use tack_test::TestClient;
use tower::ServiceBuilder;

fn templates(dir: Option<&std::path::Path>) -> Templates {
    let mut builder = Templates::builder();
    if let Some(dir) = dir {
        builder = builder.dir(dir);
    }
    builder
        .add_embedded(tack_crud::TEMPLATES)
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        .context_processor("csrf_token", |request| {
            let token = request.extensions().get::<CsrfToken>()?;
            Some(Tpl::from(token.masked()))
        })
        .context_processor("messages", |request| {
            let messages = request.extensions().get::<Messages>()?.take().ok()?;
            Some(Tpl::from(minijinja::value::Serde(messages)))
        })
        .build()
        .unwrap()
}

fn crud(db: &Database) -> Crud<Article> {
    Crud::<Article>::new(AsyncDatabase::new(db.clone(), 2))
        .search_fields(&["title"])
        .filter_fields(&["status", "author"])
        .ordering_fields(&["title"])
        .read_only(&["created_at"])
        .page_size(2, 10)
        .permission(AllowAll)
}

fn pages(crud: Crud<Article>, templates: Templates) -> CrudPages<Article> {
    crud.pages(templates)
        .base_path("/write/")
        .list_display(&["title", "author", "status"])
        .related_models(&all_models())
}

type Site<M = Article> =
    TestClient<tack_sessions::SessionService<tack_security::Csrf<CrudPages<M>>, MemoryStore>>;

fn site<M: Model>(pages: CrudPages<M>) -> Site<M> {
    let service = ServiceBuilder::new()
        .layer(SessionLayer::new(MemoryStore::new()).with_secure(false))
        .layer(CsrfLayer::new().with_secure_cookie(false))
        .service(pages);
    TestClient::new(service)
}

/// The CSRF token a page rendered in its form.
fn token(html: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn post(client: &Site, path: &str, form: &[(&str, String)]) -> tack_test::TestResponse {
    let page = client.get(path).send().await;
    assert_eq!(page.status(), StatusCode::OK, "{path}: {}", page.text());
    let mut fields = vec![("csrfmiddlewaretoken", token(&page.text()))];
    fields.extend(form.iter().cloned());
    client.post(path).form(&fields).send().await
}

async fn the_list_shows_objects_with_search_and_pages(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db), templates(None)));
    let page = client.get("/write/").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<h1>Articles</h1>"), "{html}");
    assert!(html.contains("5 articles"), "{html}");
    assert!(
        html.contains(r#"<a class="button" href="/write/new/">Add article</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"name="search""#) && html.contains(r#"name="status""#));
    assert!(html.contains("Page 1 of 3"));
    assert!(
        html.contains(r#"<a rel="next" href="/write/?page=2">Next</a>"#),
        "{html}"
    );
    let first = &seed.articles[0];
    assert!(html.contains(&format!(
        r#"<a href="/write/{}/">{}</a>"#,
        first.id, first.title
    )));
    assert!(
        html.contains("<td>Ada</td>"),
        "foreign keys show the display string"
    );
    assert!(
        html.contains("<td>Published</td>"),
        "choices show their label"
    );

    assert!(
        html.contains(r#"<select name="status" id="id_status"><option value="">All</option><option value="draft">Draft</option>"#),
        "choices filter as a select: {html}"
    );
    assert!(
        html.contains(&format!(r#"<option value="{}">Bob</option>"#, seed.bob.id)),
        "foreign keys by display string"
    );
    assert!(
        html.contains(r#"<th><a href="/write/?ordering=title">Title</a></th>"#),
        "{html}"
    );
    let sorted = client
        .get("/write/?ordering=title&status=published")
        .send()
        .await
        .text();
    assert!(
        sorted.contains(r#"<th class="sorted ascending"><a href="/write/?status=published&amp;ordering=-title">Title</a></th>"#),
        "{sorted}"
    );
    assert!(sorted.contains(r#"<option value="published" selected>Published</option>"#));
    let first = sorted.find("Advanced rust").unwrap();
    assert!(
        first < sorted.find("Cooking pasta").unwrap(),
        "ordered by title"
    );

    let found = client.get("/write/?search=pasta").send().await.text();
    assert!(
        found.contains("1 article<") && found.contains("Cooking pasta"),
        "{found}"
    );
    let drafts = client.get("/write/?status=draft").send().await.text();
    assert!(drafts.contains("Secret draft") && !drafts.contains("Cooking pasta"));
    let bad = client.get("/write/?page=9").send().await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    assert!(bad.text().contains("<h1>404 Not Found</h1>"));
}

async fn create_redirects_with_a_message(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db), templates(None)));
    let form = client.get("/write/new/").send().await.text();
    assert!(form.contains("<h1>Add article</h1>"), "{form}");
    assert!(
        form.contains(
            r#"<select name="author" id="id_author" required><option value="">---------</option>"#
        ),
        "{form}"
    );
    assert!(
        form.contains(r#"<select name="tags" id="id_tags" multiple>"#),
        "{form}"
    );
    let created = post(
        &client,
        "/write/new/",
        &[
            ("title", "Fresh".into()),
            ("slug", "fresh".into()),
            ("body", "New text".into()),
            ("author", seed.bob.id.to_string()),
            ("status", "draft".into()),
            ("tags", seed.rust.id.to_string()),
            ("tags", seed.food.id.to_string()),
        ],
    )
    .await;
    assert_eq!(
        created.status(),
        StatusCode::SEE_OTHER,
        "{}",
        created.text()
    );
    let location = created.location().unwrap().to_owned();
    let article = Article::objects()
        .get(&db, Article::SLUG.eq("fresh"))
        .unwrap();
    assert_eq!(location, format!("/write/{}/", article.id));
    assert_eq!(article.tags().all(&db).unwrap().len(), 2);
    let detail = client.get(&location).send().await.text();
    assert!(
        detail.contains("The article “Fresh” was added successfully."),
        "{detail}"
    );
    assert!(detail.contains("<dt>Author</dt><dd>Bob</dd>"), "{detail}");
    assert!(
        detail.contains("<dd>rust, food</dd>") || detail.contains("<dd>food, rust</dd>"),
        "{detail}"
    );
    let again = client.get(&location).send().await.text();
    assert!(
        !again.contains("added successfully"),
        "a message is shown once"
    );
}

async fn invalid_input_is_shown_beside_the_fields(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db), templates(None)));
    let before = count_articles(&db);
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("title", "".into()), ("slug", "x".into())],
            "This field is required.",
        ),
        (
            vec![("title", "T".into()), ("slug", "rust-intro".into())],
            "Article with this Slug already exists.",
        ),
        (
            vec![
                ("title", "T".into()),
                ("slug", "t".into()),
                ("published_at", "soon".into()),
            ],
            "Enter a valid date/time.",
        ),
        (
            vec![
                ("title", "T".into()),
                ("slug", "t".into()),
                ("author", "999".into()),
            ],
            "Select a valid choice. 999 is not one of the available choices.",
        ),
        (
            vec![
                ("title", "T".into()),
                ("slug", "t".into()),
                ("status", "published".into()),
            ],
            "a published article needs a publication date",
        ),
    ];
    for (mut fields, message) in cases {
        for (name, value) in [
            ("author", seed.ada.id.to_string()),
            ("status", "draft".to_owned()),
        ] {
            if !fields.iter().any(|(k, _)| *k == name) {
                fields.push((name, value));
            }
        }
        let answer = post(&client, "/write/new/", &fields).await;
        assert_eq!(answer.status(), StatusCode::OK, "{message}");
        let html = answer.text();
        let shown = message.replace('/', "&#x2f;");
        assert!(
            html.contains(&format!("<li>{shown}</li>")),
            "{message} in {html}"
        );
        assert_eq!(html.matches("<li>").count(), 1, "only that error: {html}");
        assert!(html.contains("<h1>Add article</h1>"));
    }
    assert_eq!(count_articles(&db), before, "nothing was written");
}

async fn update_shows_and_saves_the_object(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db), templates(None)));
    let article = &seed.articles[0];
    let path = format!("/write/{}/edit/", article.id);
    let form = client.get(&path).send().await.text();
    assert!(
        form.contains(&format!(r#"value="{}""#, article.title)),
        "{form}"
    );
    assert!(
        form.contains(&format!(
            r#"<option value="{}" selected>rust</option>"#,
            seed.rust.id
        )),
        "{form}"
    );
    let saved = post(
        &client,
        &path,
        &[
            ("title", "Intro, revised".into()),
            ("slug", article.slug.clone()),
            ("body", "Better".into()),
            ("author", seed.ada.id.to_string()),
            ("status", "published".into()),
            ("published_at", "2024-01-01T12:00".into()),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", saved.text());
    let stored = Article::objects()
        .get(&db, Article::ID.eq(article.id))
        .unwrap();
    assert_eq!(stored.title, "Intro, revised");
    assert!(
        stored.tags().all(&db).unwrap().is_empty(),
        "no tag selected: none kept"
    );
    let detail = client.get(saved.location().unwrap()).send().await.text();
    assert!(detail.contains("The article “Intro, revised” was changed successfully."));
}

async fn delete_confirms_what_goes_with_the_object(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db), templates(None)));
    let article = &seed.articles[0];
    let mut comment = Comment {
        id: 0,
        article: ForeignKey::from(article),
        author_name: "Reader".into(),
        body: "Nice".into(),
        created_at: at(2),
    };
    comment.save(&db).unwrap();
    let path = format!("/write/{}/delete/", article.id);
    let confirm = client.get(&path).send().await.text();
    assert!(
        confirm.contains("Are you sure you want to delete the article “Intro to Rust”?"),
        "{confirm}"
    );
    assert!(confirm.contains("<li>Comment: Reader</li>"), "{confirm}");
    assert!(confirm.contains("Links removed"), "{confirm}");
    let page = client.get(&path).send().await.text();
    let deleted = client
        .post(&path)
        .form(&[("csrfmiddlewaretoken", token(&page))])
        .send()
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), Some("/write/"));
    assert!(Comment::objects().all(&db).unwrap().is_empty());
    let list = client.get("/write/").send().await.text();
    assert!(
        list.contains("The article “Intro to Rust” was deleted successfully."),
        "{list}"
    );

    // An author with an invoice is protected: the page says so and POST changes nothing.
    let authors = site(
        Crud::<Author>::new(AsyncDatabase::new(db.clone(), 1))
            .permission(AllowAll)
            .pages(templates(None))
            .base_path("/authors/")
            .related_models(&all_models()),
    );
    let mut invoice = Invoice {
        id: 0,
        author: ForeignKey::from(&seed.bob),
        amount: 3,
    };
    invoice.save(&db).unwrap();
    let path = format!("/authors/{}/delete/", seed.bob.id);
    let page = authors.get(&path).send().await.text();
    assert!(
        page.contains("would require deleting the following protected related objects"),
        "{page}"
    );
    let refused = authors
        .post(&path)
        .form(&[(
            "csrfmiddlewaretoken",
            token(&authors.get("/authors/new/").send().await.text()),
        )])
        .send()
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        Author::objects()
            .filter(Author::ID.eq(seed.bob.id))
            .exists(&db)
            .unwrap()
    );
}

/// Reads allowed, writes refused.
struct Readers;

impl Permission for Readers {
    fn allows(&self, action: Action, _request: &http::request::Parts) -> bool {
        action.is_read()
    }
}

async fn refusals_are_pages(db: Database) {
    let seed = seed(&db);
    let client = site(pages(crud(&db).permission(Readers), templates(None)));
    let list = client.get("/write/").send().await.text();
    assert!(!list.contains("Add article"), "no link to what is refused");
    let refused = client.get("/write/new/").send().await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused.text().contains("<h1>403 Forbidden</h1>"),
        "{}",
        refused.text()
    );
    assert!(refused.content_type().unwrap().starts_with("text/html"));
    let missing = client.get("/write/424242/").send().await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().contains("<h1>404 Not Found</h1>"));
    let junk = client.get("/write/not-a-number/edit/").send().await;
    assert_eq!(junk.status(), StatusCode::FORBIDDEN, "permission first");
    let wrong = client.get("/write/1/nothing/").send().await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let detail = client
        .get(&format!("/write/{}/", seed.articles[0].id))
        .send()
        .await
        .text();
    assert!(!detail.contains("Edit</a>"));
    let forged = client
        .post("/write/new/")
        .form(&[("title", "x")])
        .send()
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(count_articles(&db), 5);
}

async fn a_project_template_for_one_model_wins(db: Database) {
    seed(&db);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("crud")).unwrap();
    std::fs::write(
        dir.path().join("crud/article_list.html"),
        "<p>Our {{ count }} stories</p>{% for o in objects %}<i>{{ o.display }}</i>{% endfor %}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("crud/base.html"),
        "<main class=\"site\">{% block content %}{% endblock %}</main>",
    )
    .unwrap();
    let client = site(pages(crud(&db), templates(Some(dir.path()))));
    let list = client.get("/write/").send().await.text();
    assert!(list.starts_with("<p>Our 5 stories</p><i>"), "{list}");
    let form = client.get("/write/new/").send().await.text();
    assert!(
        form.starts_with("<main class=\"site\">"),
        "the project's base is used: {form}"
    );
}

async fn scoped_objects_outside_the_scope_are_missing(db: Database) {
    let seed = seed(&db);
    let ada = seed.ada.id;
    let scoped = crud(&db).scope(move |_, qs| qs.filter(Article::AUTHOR.eq(ada)));
    let client = site(pages(scoped, templates(None)));
    let list = client.get("/write/").send().await.text();
    assert!(list.contains("3 articles"), "{list}");
    let bobs = &seed.articles[2];
    assert_eq!(
        client
            .get(&format!("/write/{}/edit/", bobs.id))
            .send()
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client
            .get(&format!("/write/{}/delete/", bobs.id))
            .send()
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

on_both_databases!(
    the_list_shows_objects_with_search_and_pages,
    create_redirects_with_a_message,
    invalid_input_is_shown_beside_the_fields,
    update_shows_and_saves_the_object,
    delete_confirms_what_goes_with_the_object,
    refusals_are_pages,
    a_project_template_for_one_model_wins,
    scoped_objects_outside_the_scope_are_missing,
);
