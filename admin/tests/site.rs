//! The admin site through the session and CSRF layers, on SQLite and
//! PostgreSQL: staff only, each page behind the model's permission, the
//! index shows what the user may see, deletes list related rows of every
//! registered model.

use std::time::SystemTime;

use http::StatusCode;
use tack_admin::{AdminSite, ModelAdmin};
use tack_auth::{AuthMethod, CurrentUser, PermissionSet, User};
use tack_orm::AsyncDatabase;
use tack_orm::prelude::*;
use tack_templates::Templates;
use tack_test::TestClient;

#[derive(Model, Clone, Debug)]
#[tack(app = "press", display = "{name}")]
struct Writer {
    id: i64,
    #[tack(max_length = 50)]
    name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "press", display = "{headline}")]
struct Story {
    id: i64,
    #[tack(max_length = 100)]
    headline: String,
    #[tack(on_delete = "cascade")]
    writer: ForeignKey<Writer>,
}

fn user(staff: bool, permissions: &[&str]) -> User {
    let mut set = PermissionSet::new();
    for p in permissions {
        set.insert(*p);
    }
    User {
        id: "7".into(),
        username: "ed".into(),
        email: String::new(),
        password: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        is_active: true,
        is_staff: staff,
        is_superuser: false,
        last_login: None,
        date_joined: SystemTime::now(),
        groups: Vec::new(),
        permissions: set,
    }
}

fn site(db: &Database) -> AdminSite {
    let templates = Templates::builder()
        .add_embedded(tack_admin::TEMPLATES)
        .add_embedded(tack_crud::TEMPLATES)
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        .build()
        .unwrap();
    AdminSite::new(
        "Press administration",
        "/admin/",
        AsyncDatabase::new(db.clone(), 1),
        templates,
    )
    .register::<Writer>(ModelAdmin::new())
    .register::<Story>(
        ModelAdmin::new()
            .list_display(&["headline", "writer"])
            .crud(|crud| crud.search_fields(&["headline"])),
    )
}

fn client_as(
    db: &Database,
    who: Option<User>,
) -> TestClient<
    impl tower::Service<
        http::Request<tack_http::Body>,
        Response = tack_http::Response,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone,
> {
    let site = site(db);
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut request: http::Request<tack_http::Body>| {
            if let Some(user) = &who {
                request.extensions_mut().insert(CurrentUser::authenticated(
                    user.clone(),
                    AuthMethod::Session,
                ));
            }
            request
        })
        .service(site);
    TestClient::new(service)
}

fn seed(db: &Database) -> (Writer, Story) {
    let mut writer = Writer {
        id: 0,
        name: "Ada".into(),
    };
    writer.save(db).unwrap();
    let mut story = Story {
        id: 0,
        headline: "Tides rise".into(),
        writer: ForeignKey::from(&writer),
    };
    story.save(db).unwrap();
    (writer, story)
}

fn staff_only_and_permissions_per_page(db: Database) {
    let (writer, story) = seed(&db);
    futures_executor::block_on(async {
        let nobody = client_as(&db, None);
        assert_eq!(
            nobody.get("/admin/").send().await.status(),
            StatusCode::FORBIDDEN
        );
        let reader = client_as(&db, Some(user(false, &["press.view_story"])));
        assert_eq!(
            reader.get("/admin/press/story/").send().await.status(),
            StatusCode::FORBIDDEN,
            "not staff"
        );

        let viewer = client_as(&db, Some(user(true, &["press.view_story"])));
        let index = viewer.get("/admin/").send().await.text();
        assert!(
            index.contains(r#"<a href="/admin/press/story/">Storys</a>"#)
                || index.contains("/admin/press/story/"),
            "{index}"
        );
        assert!(
            !index.contains("/admin/press/writer/"),
            "no permission on writers: not listed"
        );
        assert!(!index.contains("addlink"), "may not add");
        let list = viewer.get("/admin/press/story/").send().await;
        assert_eq!(list.status(), StatusCode::OK);
        let list = list.text();
        assert!(
            list.contains("Tides rise") && list.contains("<td>Ada</td>"),
            "{list}"
        );
        assert!(
            list.contains("| Press administration</title>"),
            "the admin's layout: {list}"
        );
        assert_eq!(
            viewer
                .get(&format!("/admin/press/story/{}/edit/", story.id))
                .send()
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            viewer.get("/admin/press/writer/").send().await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            viewer.get("/admin/press/nothing/").send().await.status(),
            StatusCode::NOT_FOUND
        );

        let editor = client_as(&db, Some(user(true, &["press.change_story"])));
        assert_eq!(
            editor.get("/admin/press/story/").send().await.status(),
            StatusCode::OK,
            "change implies view"
        );
        let changed = editor
            .post(&format!("/admin/press/story/{}/edit/", story.id))
            .form(&[
                ("headline", "Tides rise faster"),
                ("writer", &writer.id.to_string()),
            ])
            .send()
            .await;
        assert_eq!(
            changed.status(),
            StatusCode::SEE_OTHER,
            "{}",
            changed.text()
        );
        assert_eq!(
            changed.location(),
            Some(format!("/admin/press/story/{}/", story.id).as_str())
        );
        let stored = Story::objects().get(&db, Story::ID.eq(story.id)).unwrap();
        assert_eq!(stored.headline, "Tides rise faster");
    });
}

fn deletes_list_what_goes_across_registered_models(db: Database) {
    let (writer, _) = seed(&db);
    futures_executor::block_on(async {
        let admin = client_as(
            &db,
            Some(user(true, &["press.delete_writer", "press.view_writer"])),
        );
        let confirm = admin
            .get(&format!("/admin/press/writer/{}/delete/", writer.id))
            .send()
            .await
            .text();
        assert!(confirm.contains("<li>Story: Tides rise</li>"), "{confirm}");
        let deleted = admin
            .post(&format!("/admin/press/writer/{}/delete/", writer.id))
            .form(&[("x", "")])
            .send()
            .await;
        assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
        assert_eq!(Story::objects().count(&db).unwrap(), 0);
    });
}

fn run_on(url: &str, test: fn(Database)) {
    let db = Database::connect(url).unwrap();
    db.create_tables(&[Writer::meta(), Story::meta()]).unwrap();
    test(db);
}

tack_test::on_both_databases!(crate::run_on; staff_only_and_permissions_per_page, deletes_list_what_goes_across_registered_models);
