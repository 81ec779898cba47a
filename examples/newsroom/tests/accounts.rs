//! Signing in and out, the comment form, API tokens, and live comments.

mod common;

use common::{PASSWORD, create_user, csrf_token, sign_in, sqlite_app, token};
use http::StatusCode;
use serde_json::{Value, json};
use tack_test::TestClient;

#[tokio::test]
async fn sign_in_redirects_to_next_and_sign_out_forgets() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);

    let done = sign_in(&client, "reader", "/articles/tides-rise/").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/articles/tides-rise/"));
    let page = client.get("/articles/tides-rise/").send().await.text();
    assert!(page.contains("Signed in as reader"), "{page}");
    assert!(
        page.contains("Welcome back, reader."),
        "the flash message shows once"
    );
    let again = client.get("/articles/tides-rise/").send().await.text();
    assert!(!again.contains("Welcome back"), "and only once");
    assert!(
        again.contains(r#"name="body""#),
        "signed-in readers get the comment form"
    );

    let token = csrf_token(&again);
    let out = client
        .post("/accounts/logout/")
        .form(&[("csrfmiddlewaretoken", token.as_str())])
        .send()
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let page = client.get("/").send().await.text();
    assert!(!page.contains("Signed in as"), "{page}");
    assert!(page.contains("You are signed out."));
}

#[tokio::test]
async fn wrong_passwords_and_foreign_next_targets() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);
    let form = client.get("/accounts/login/?next=/x/").send().await.text();
    assert!(
        form.contains(r#"<input type="hidden" name="next" id="id_next" value="&#x2f;x&#x2f;">"#),
        "{form}"
    );
    let token = csrf_token(&form);
    let wrong = client
        .post("/accounts/login/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "reader"),
            ("password", "nope"),
        ])
        .send()
        .await;
    assert_eq!(wrong.status(), StatusCode::OK);
    assert!(
        wrong
            .text()
            .contains("The username or password is not right.")
    );
    let unknown = client
        .post("/accounts/login/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "ghost"),
            ("password", "nope"),
        ])
        .send()
        .await;
    assert!(
        unknown
            .text()
            .contains("The username or password is not right."),
        "same message"
    );

    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "%2F%2Fevil.example",
    ] {
        let done = sign_in(&client, "reader", next).await;
        assert_eq!(done.location(), Some("/"), "{next}");
    }
}

#[tokio::test]
async fn comment_form_needs_sign_in_validates_and_posts() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);
    let page = client.get("/articles/tides-rise/").send().await.text();
    assert!(
        page.contains("to comment."),
        "anonymous readers are asked to sign in"
    );
    let token = csrf_token(&sign_in_page(&client).await);
    let anonymous = client
        .post("/articles/tides-rise/comments/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("body", "hi")])
        .send()
        .await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.location(),
        Some("/accounts/login/?next=/articles/tides-rise/")
    );

    sign_in(&client, "reader", "/").await;
    let page = client.get("/articles/tides-rise/").send().await.text();
    let token = csrf_token(&page);
    let blank = client
        .post("/articles/tides-rise/comments/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("body", "   ")])
        .send()
        .await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.text().contains("<li>This field is required.</li>"),
        "{}",
        blank.text()
    );

    let posted = client
        .post("/articles/tides-rise/comments/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("body", "<b>Great</b> piece"),
        ])
        .send()
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "{}", posted.text());
    let page = client.get("/articles/tides-rise/").send().await.text();
    assert!(
        page.contains("&lt;b&gt;Great&lt;&#x2f;b&gt; piece"),
        "escaped: {page}"
    );
    assert!(page.contains("Your comment is posted."));
    let comments: Value = client.get("/api/comments/?article=1").send().await.json();
    assert_eq!(comments["count"], 3, "blank comment not saved, one posted");
}

async fn sign_in_page(client: &TestClient<newsroom::App>) -> String {
    client.get("/accounts/login/").send().await.text()
}

#[tokio::test]
async fn api_tokens_permissions_and_validation() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    create_user(&file.url(), "editor", true);
    let client = TestClient::new(app);
    let bad = client
        .post("/api/auth/token/")
        .json(&json!({"username": "reader", "password": "wrong"}))
        .send()
        .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED, "{}", bad.text());
    let reader = token(&client, "reader").await;
    let editor = token(&client, "editor").await;

    let article = json!({"title": "Fresh", "slug": "fresh", "body": "", "author": 1,
                         "status": "draft", "tags": [1]});
    let refused = client
        .post("/api/articles/")
        .header("authorization", &format!("Bearer {reader}"))
        .json(&article)
        .send()
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "readers may not publish"
    );
    let created = client
        .post("/api/articles/")
        .header("authorization", &format!("Bearer {editor}"))
        .json(&article)
        .send()
        .await;
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text());
    let invalid = client
        .post("/api/articles/")
        .header("authorization", &format!("Bearer {editor}"))
        .json(&json!({"title": "", "slug": "fresh", "author": 1, "status": "published"}))
        .send()
        .await;
    assert_eq!(
        invalid.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.text()
    );
    let problem: Value = invalid.json();
    assert!(problem["errors"].get("title").is_some(), "{problem}");
    let taken = client
        .post("/api/articles/")
        .header("authorization", &format!("Bearer {editor}"))
        .json(&json!({"title": "Again", "slug": "fresh", "author": 1, "status": "draft"}))
        .send()
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT, "{}", taken.text());
    assert!(taken.text().contains("slug"), "{}", taken.text());
    let forged = client
        .post("/api/comments/")
        .header("authorization", "Bearer tack_not-a-token")
        .json(&json!({"article": 1, "author_name": "x", "body": "y"}))
        .send()
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_comments_reach_live_viewers_from_the_api_and_the_form() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let server = tack_test::serve(app.clone());
    let addr = server.addr();
    let client = TestClient::new(app);
    // Two viewers on real sockets, reading on plain threads.
    let viewers: Vec<_> = (0..2)
        .map(|_| common::viewer(addr, "tides-rise").expect("the handshake succeeds"))
        .collect();
    let readers: Vec<_> = viewers
        .into_iter()
        .map(|mut socket| {
            std::thread::spawn(move || {
                let mut bodies = Vec::new();
                while bodies.len() < 2 {
                    match socket.read().expect("a comment event within 5 s") {
                        tungstenite::Message::Text(text) => {
                            let event: Value = serde_json::from_str(&text).unwrap();
                            assert_eq!(event["type"], "comment.created");
                            bodies.push(event["comment"]["body"].as_str().unwrap().to_owned());
                        }
                        _ => continue,
                    }
                }
                bodies
            })
        })
        .collect();

    let reader = token(&client, "reader").await;
    let api = client
        .post("/api/comments/")
        .header("authorization", &format!("Bearer {reader}"))
        .json(&json!({"article": 1, "author_name": "reader", "body": "from the API"}))
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::CREATED, "{}", api.text());
    sign_in(&client, "reader", "/").await;
    let token = csrf_token(&client.get("/articles/tides-rise/").send().await.text());
    let form = client
        .post("/articles/tides-rise/comments/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("body", "from the form"),
        ])
        .send()
        .await;
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    for reader in readers {
        let bodies = tokio::task::spawn_blocking(move || reader.join().unwrap())
            .await
            .unwrap();
        assert_eq!(bodies, ["from the API", "from the form"]);
    }
}

#[tokio::test]
async fn createsuperuser_command() {
    let (file, app) = sqlite_app();
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let weak = newsroom::accounts::create_superuser_command(
        &db,
        &args(&["--username", "boss", "--email", "boss@example.com"]),
        Some("12345".into()),
    );
    assert!(weak.unwrap_err().contains("password"), "validators run");
    let missing =
        newsroom::accounts::create_superuser_command(&db, &args(&["--username", "boss"]), None);
    assert!(missing.unwrap_err().contains("--email"));
    let made = newsroom::accounts::create_superuser_command(
        &db,
        &args(&["--username", "boss", "--email", "boss@example.com"]),
        Some(PASSWORD.into()),
    )
    .unwrap();
    assert!(made.contains("boss"));
    let again = newsroom::accounts::create_superuser_command(
        &db,
        &args(&["--username", "boss", "--email", "boss@example.com"]),
        Some(PASSWORD.into()),
    );
    assert!(again.is_err(), "usernames are unique");
    let client = TestClient::new(app);
    assert_eq!(
        sign_in(&client, "boss", "/").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(
        client
            .get("/")
            .send()
            .await
            .text()
            .contains("Signed in as boss")
    );
}

#[tokio::test]
async fn api_comments_are_signed_by_their_author_and_stay_off_drafts() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);
    let reader = token(&client, "reader").await;
    let bearer = format!("Bearer {reader}");
    let forged_name = client
        .post("/api/comments/")
        .header("authorization", &bearer)
        .json(&json!({"article": 1, "author_name": "The Editor", "body": "hello"}))
        .send()
        .await;
    assert_eq!(
        forged_name.status(),
        StatusCode::CREATED,
        "{}",
        forged_name.text()
    );
    assert_eq!(forged_name.json::<Value>()["author_name"], "reader");

    // The seeded draft is the sixth article.
    let drafts = client.get("/api/articles/?status=draft").send().await;
    assert_eq!(
        drafts.json::<Value>()["count"],
        0,
        "readers do not see drafts"
    );
    let on_draft = client
        .post("/api/comments/")
        .header("authorization", &bearer)
        .json(&json!({"article": 6, "body": "sneaky"}))
        .send()
        .await;
    assert_eq!(
        on_draft.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        on_draft.text()
    );
    assert!(
        on_draft
            .text()
            .contains("No published article has this id.")
    );
    let listed: Value = client.get("/api/comments/?article=6").send().await.json();
    assert_eq!(listed["count"], 0);
}
