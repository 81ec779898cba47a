//! The admin at /admin/: staff only, models behind their permissions.

mod common;

use common::*;
use http::StatusCode;
use tack_test::TestClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_edit_articles_in_the_admin() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "chief", true);
    create_user(&file.url(), "reader", false);

    let anonymous = TestClient::new(app.clone());
    let away = anonymous.get("/admin/").send().await;
    assert!(away.status().is_redirection());
    assert!(
        away.location()
            .unwrap()
            .starts_with("/accounts/login/?next=/admin/"),
        "{:?}",
        away.location()
    );

    let reader = TestClient::new(app.clone());
    sign_in(&reader, "reader", "/").await;
    assert_eq!(
        reader.get("/admin/").send().await.status(),
        StatusCode::FORBIDDEN
    );

    let chief = TestClient::new(app);
    sign_in(&chief, "chief", "/").await;
    let index = chief.get("/admin/").send().await.text();
    for model in ["article", "author", "tag", "comment"] {
        assert!(
            index.contains(&format!("/admin/newsroom/{model}/")),
            "{model} in {index}"
        );
    }
    let list = chief
        .get("/admin/newsroom/article/?search=tides")
        .send()
        .await
        .text();
    assert!(list.contains("Tides rise faster than forecast"), "{list}");
    assert!(list.contains("Newsroom administration"));
    let form = chief
        .get("/admin/newsroom/article/1/edit/")
        .send()
        .await
        .text();
    assert!(
        form.contains(r#"name="author""#) && form.contains(r#"enctype="multipart/form-data""#),
        "{form}"
    );
    let token = csrf_token(&form);
    let article = chief
        .get("/api/articles/1/")
        .send()
        .await
        .json::<serde_json::Value>();
    let author = article["author"].to_string();
    let saved = chief
        .post("/admin/newsroom/article/1/edit/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("title", "Tides rise faster than ever"),
            ("slug", article["slug"].as_str().unwrap()),
            ("body", "Edited in the admin."),
            ("author", author.as_str()),
            ("status", "published"),
            ("published_at", "2024-01-01T08:00"),
        ])
        .send()
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", saved.text());
    let page = chief.get(saved.location().unwrap()).send().await.text();
    assert!(page.contains("was changed successfully."), "{page}");
    let public = chief.get("/articles/tides-rise/").send().await.text();
    assert!(public.contains("Edited in the admin."));
}
