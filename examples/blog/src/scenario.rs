//! What a browser does with the blog, whichever framework serves it: the
//! public pages, signing in (with the CSRF token the form carries and the
//! session cookie), the admin writing a post, the pages and the API
//! reading it back, and signing out. Both examples' end-to-end tests run it
//! against their own server on a real socket (feature `scenario`).

use bytes::Bytes;
use http::{Response, StatusCode};
use tack_test::{Browser, csrf_token};

/// The password of the user [`visitor_editor_and_api`] signs in as.
pub const PASSWORD: &str = "a long password for the blog's tests";

fn text(response: &Response<Bytes>) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

fn location(response: &Response<Bytes>) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// A fresh blog database (kept while the directory lives) with the staff
/// superuser `editor`, whose password is [`PASSWORD`].
pub fn database() -> (tempfile::TempDir, tack_orm::Database) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("blog.sqlite3").display());
    let db = crate::open(&url).expect("the blog's database opens and migrates");
    crate::create_superuser(&db, "editor", PASSWORD).expect("the editor is created");
    (dir, db)
}

/// Runs the scenario against the blog at `addr`, whose database has the
/// staff superuser `editor` with [`PASSWORD`] and no posts.
///
/// # Panics
///
/// At the first step that goes wrong, saying what came back.
pub async fn visitor_editor_and_api(addr: std::net::SocketAddr) {
    let browser = Browser::new(addr);

    // A visitor: the empty blog, and the admin sends them to sign in.
    let home = browser.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(text(&home).contains("No posts yet"), "{}", text(&home));
    let admin = browser.get("/admin/").await;
    assert!(admin.status().is_redirection(), "{:?}", admin.status());
    assert!(
        location(&admin).starts_with("/login/?next="),
        "{}",
        location(&admin)
    );

    // Signing in through axum's handler: a wrong password is refused on the
    // page, a form without its token is refused by the CSRF layer.
    let login = browser.get("/login/?next=/admin/").await;
    let token = csrf_token(&text(&login));
    let forged = browser
        .post("/login/", &[("username", "editor"), ("password", PASSWORD)])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let wrong = browser
        .post(
            "/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "editor"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(text(&wrong).contains("Sign in"), "{}", text(&wrong));
    let token = csrf_token(&text(&wrong));
    let signed_in = browser
        .post(
            "/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "editor"),
                ("password", PASSWORD),
                ("next", "/admin/"),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "{}",
        text(&signed_in)
    );
    assert_eq!(location(&signed_in), "/admin/");

    // The tack admin, nested in axum, writes a post.
    let index = browser.get("/admin/").await;
    assert!(
        text(&index).contains(r#"href="/admin/blog/post/""#),
        "{}",
        text(&index)
    );
    let form = browser.get("/admin/blog/post/new/").await;
    assert_eq!(form.status(), StatusCode::OK, "{}", text(&form));
    let token = csrf_token(&text(&form));
    let added = browser
        .post(
            "/admin/blog/post/new/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("title", "Hello from the admin"),
                ("slug", "hello"),
                ("body", "Written in tack's admin, read through axum."),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER, "{}", text(&added));

    // axum's pages and the tack API read it back.
    let home = text(&browser.get("/").await);
    assert!(
        home.contains("Hello from the admin") && home.contains("Signed in as editor"),
        "{home}"
    );
    assert!(
        home.contains("Welcome back, editor."),
        "the flash message is shown once: {home}"
    );
    assert!(
        !text(&browser.get("/").await).contains("Welcome back"),
        "and only once"
    );
    let post = browser.get("/posts/hello/").await;
    assert_eq!(post.status(), StatusCode::OK);
    assert!(text(&post).contains("read through axum"), "{}", text(&post));
    assert_eq!(
        browser.get("/posts/nothing/").await.status(),
        StatusCode::NOT_FOUND
    );
    let api: serde_json::Value =
        serde_json::from_slice(browser.get("/api/posts/?search=admin").await.body()).unwrap();
    assert_eq!(api["count"], 1, "{api}");
    assert_eq!(api["results"][0]["slug"], "hello", "{api}");

    // Signing out ends the session: the admin asks to sign in again.
    let page = text(&browser.get("/").await);
    let token = csrf_token(&page);
    let out = browser
        .post("/logout/", &[("csrfmiddlewaretoken", &token)])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let admin = browser.get("/admin/").await;
    assert!(admin.status().is_redirection(), "{:?}", admin.status());
}
