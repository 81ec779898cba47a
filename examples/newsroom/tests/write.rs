//! "My articles" at /write/, end to end over a real socket, on SQLite and
//! PostgreSQL: sign in, list, create with a tag, edit, delete with
//! confirmation; authors see their own articles, editors every one.

mod common;

use common::*;
use http::StatusCode;
use tack_orm::prelude::*;
use tack_test::SocketClient;

use newsroom::models::{Article, Author, Tag};

fn text(response: &http::Response<bytes::Bytes>) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

fn location(response: &http::Response<bytes::Bytes>) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Users `ada` (the author "Ada Reporter") and `chief` (a superuser, an editor).
fn people(url: &str) -> (i64, i64) {
    create_user(url, "ada", false);
    create_user(url, "chief", true);
    let db = Database::connect(url).unwrap();
    let ada: tack_auth::models::User = tack_auth::models::User::objects()
        .filter_by_name("username", "ada")
        .unwrap()
        .one(&db)
        .unwrap();
    let mut reporter = Author::objects()
        .filter(Author::DISPLAY_NAME.eq("Ada Reporter"))
        .one(&db)
        .unwrap();
    reporter.user = Some(ForeignKey::new(ada.id));
    reporter.save(&db).unwrap();
    let science = Tag::objects()
        .filter(Tag::NAME.eq("science"))
        .one(&db)
        .unwrap();
    (reporter.id, science.id)
}

async fn sign_in_over(client: &SocketClient, username: &str) {
    let form = client.get("/accounts/login/").await;
    let token = csrf_token(&text(&form));
    let done = client
        .post_form(
            "/accounts/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", text(&done));
}

async fn post_page(
    client: &SocketClient,
    page: &str,
    fields: &[(&str, &str)],
) -> http::Response<bytes::Bytes> {
    let shown = client.get(page).await;
    assert_eq!(shown.status(), StatusCode::OK, "{page}: {}", text(&shown));
    let token = csrf_token(&text(&shown));
    let mut all = vec![("csrfmiddlewaretoken", token.as_str())];
    all.extend_from_slice(fields);
    client.post_form(page, &all).await
}

async fn the_write_flow(url: String) {
    let setup = url.clone();
    // Opening the app migrates and seeds the database; then the people.
    let (app, (reporter, science)) = tokio::task::spawn_blocking(move || {
        let app = newsroom::app(&settings_for(&setup)).unwrap();
        (app, people(&setup))
    })
    .await
    .unwrap();
    let server = tack_test::serve(app);
    let client = SocketClient::new(server.addr());

    let anonymous = client.get("/write/").await;
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );
    assert!(
        location(&anonymous).starts_with("/accounts/login/?next=/write/"),
        "{}",
        location(&anonymous)
    );

    sign_in_over(&client, "ada").await;
    let mine = text(&client.get("/write/").await);
    assert!(mine.contains("Tides rise faster than forecast"), "{mine}");
    assert!(mine.contains("A field guide to city birds"));
    assert!(
        !mine.contains("Rust reaches the newsroom"),
        "another author's article is not listed"
    );
    assert!(
        mine.contains("My articles"),
        "the site's own layout: {mine}"
    );

    let form = text(&client.get("/write/new/").await);
    assert!(
        form.contains(r#"<select name="tags" id="id_tags" multiple>"#),
        "{form}"
    );
    assert!(
        !form.contains(r#"name="author""#),
        "the author is who signs in"
    );
    let science = science.to_string();
    let created = post_page(
        &client,
        "/write/new/",
        &[
            ("title", "Whales sing in a new key"),
            ("slug", "whales-new-key"),
            ("body", "Recordings from the bay."),
            ("status", "draft"),
            ("tags", &science),
        ],
    )
    .await;
    assert_eq!(
        created.status(),
        StatusCode::SEE_OTHER,
        "{}",
        text(&created)
    );
    let detail_path = location(&created);
    let detail = text(&client.get(&detail_path).await);
    assert!(
        detail.contains("The article “Whales sing in a new key” was added successfully."),
        "{detail}"
    );
    assert!(detail.contains("<dd>science</dd>"), "{detail}");
    assert!(detail.contains("<dd>Ada Reporter</dd>"), "{detail}");

    // A cover image, sent as a multipart form with the CSRF token in its body.
    let edit_form = client.get(&format!("{detail_path}edit/")).await;
    let token = csrf_token(&text(&edit_form));
    assert!(text(&edit_form).contains(r#"enctype="multipart/form-data""#));
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a tiny cover";
    let covered = client
        .post_multipart(
            &format!("{detail_path}edit/"),
            &[
                ("csrfmiddlewaretoken", &token),
                ("title", "Whales sing in a new key"),
                ("slug", "whales-new-key"),
                ("body", "Recordings from the bay."),
                ("status", "draft"),
                ("tags", &science),
            ],
            &[("cover", "whale song.png", "image/png", png)],
        )
        .await;
    assert_eq!(
        covered.status(),
        StatusCode::SEE_OTHER,
        "{}",
        text(&covered)
    );
    let served = client.get("/media/covers/whale%20song.png").await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.body().as_ref(), png);
    let fake = client
        .post_multipart(
            &format!("{detail_path}edit/"),
            &[
                ("csrfmiddlewaretoken", &token),
                ("title", "x"),
                ("slug", "whales-new-key"),
                ("status", "draft"),
            ],
            &[(
                "cover",
                "evil.png",
                "image/png",
                b"<script>alert(1)</script>",
            )],
        )
        .await;
    assert_eq!(fake.status(), StatusCode::OK);
    assert!(
        text(&fake).contains("Upload a valid image."),
        "{}",
        text(&fake)
    );

    let taken = post_page(
        &client,
        "/write/new/",
        &[
            ("title", "Again"),
            ("slug", "whales-new-key"),
            ("status", "draft"),
        ],
    )
    .await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert!(text(&taken).contains("Article with this Slug already exists."));

    let edit_path = format!("{detail_path}edit/");
    let edited = post_page(
        &client,
        &edit_path,
        &[
            ("title", "Whales sing in a new key"),
            ("slug", "whales-new-key"),
            ("body", "Recordings from the bay, now public."),
            ("status", "published"),
            ("published_at", "2030-01-01T08:00"),
            ("tags", &science),
        ],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER, "{}", text(&edited));
    let front = text(&client.get("/articles/whales-new-key/").await);
    assert!(
        front.contains("now public"),
        "published on the site: {front}"
    );

    let db_url = url.clone();
    let others: Vec<i64> = tokio::task::spawn_blocking(move || {
        let db = Database::connect(&db_url).unwrap();
        Article::objects()
            .exclude(Article::AUTHOR.eq(reporter))
            .all(&db)
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect()
    })
    .await
    .unwrap();
    let theirs = client.get(&format!("/write/{}/edit/", others[0])).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    let delete_path = format!("{detail_path}delete/");
    let confirm = text(&client.get(&delete_path).await);
    assert!(
        confirm.contains("Are you sure you want to delete the article “Whales sing in a new key”?"),
        "{confirm}"
    );
    let deleted = post_page(&client, &delete_path, &[]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&deleted), "/write/");
    let after = text(&client.get("/write/").await);
    assert!(after.contains("was deleted successfully."));
    assert!(
        !after.contains(&format!(r#"href="{detail_path}""#)),
        "{after}"
    );

    let editor = SocketClient::new(server.addr());
    sign_in_over(&editor, "chief").await;
    let all = text(&editor.get("/write/").await);
    assert!(
        all.contains("Rust reaches the newsroom") && all.contains("Tides rise"),
        "{all}"
    );

    // The synchronous PostgreSQL client must not be dropped on a runtime thread.
    tokio::task::spawn_blocking(move || drop(server))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_flow_on_sqlite() {
    let file = tack_test::db::sqlite();
    the_write_flow(file.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_flow_on_postgresql() {
    let Some(schema) = tack_test::db::postgres("newsroom write_flow_on_postgresql") else {
        return;
    };
    the_write_flow(schema.url().to_owned()).await;
}
