//! {{project}} in process: the home page, the static files, the admin
//! behind a sign-in, and signing in as a staff user to reach it.

use tack_test::TestClient;

const PASSWORD: &str = "a long password for the project's test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_answers_and_the_admin_wants_staff() {
    let file = tack_test::db::sqlite();
    let db = {{crate}}::open(&file.url()).unwrap();
    let user = tack_auth::create_superuser(
        "admin",
        "",
        &tack_auth::Password::new(PASSWORD),
        &tack_auth::Validators::default(),
        &tack_auth::PasswordHasher::new(),
    )
    .unwrap();
    tack_auth::db::insert_user(&db, user).unwrap();
    let settings = {{crate}}::Settings {
        database_url: file.url(),
        ..{{crate}}::Settings::from_env()
    };
    let client = TestClient::new({{crate}}::app(&settings, db).unwrap());

    let home = client.get("/").send().await;
    assert_eq!(home.status(), 200);
    assert!(home.text().contains("It works."), "{}", home.text());
    let css = client.get("/static/site.css").send().await;
    assert_eq!(css.status(), 200);
    let admin = client.get("/admin/").send().await;
    assert!(admin.status().is_redirection(), "{}", admin.status());

    let form = client.get("/login/?next=/admin/").send().await.text();
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = form.find(marker).unwrap() + marker.len();
    let token = form[start..].split('"').next().unwrap().to_owned();
    let signed_in = client
        .post("/login/")
        .form(&[("csrfmiddlewaretoken", token.as_str()), ("username", "admin"), ("password", PASSWORD), ("next", "/admin/")])
        .send()
        .await;
    assert_eq!(signed_in.status(), 303, "{}", signed_in.text());
    let index = client.get("/admin/").send().await;
    assert!(index.text().contains("/admin/{{app}}/note/"), "{}", index.text());
}
