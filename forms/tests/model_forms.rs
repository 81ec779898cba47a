//! Model forms over any model through the ORM's handle, on SQLite and PostgreSQL.

mod common;

use common::*;
use tack_forms::{FieldKind, FormData, ModelForm};
use tack_orm::prelude::*;
use tack_orm::{FromValue, Instance, Value};

fn form() -> ModelForm {
    ModelForm::of::<Article>()
}

fn data(pairs: &[(&str, &str)]) -> FormData {
    FormData::from_pairs(pairs.iter().copied())
}

fn valid(seed: &Seed) -> Vec<(&'static str, String)> {
    vec![
        ("title", "Hello".to_owned()),
        ("slug", "hello".to_owned()),
        ("body", "Some text".to_owned()),
        ("author", seed.ada.id.to_string()),
        ("status", "draft".to_owned()),
        ("tags", seed.rust.id.to_string()),
        ("tags", seed.food.id.to_string()),
    ]
}

fn bind_valid(db: &Database, seed: &Seed, changes: &[Change<'_>]) -> tack_forms::BoundModelForm {
    form()
        .bind(db, &changed(&valid(seed), changes), None)
        .unwrap()
}

fn fields_follow_the_model(db: &Database) {
    let seed = seed(db);
    let shown = form().form(db, None).unwrap();
    let state = shown.state();
    let names: Vec<&str> = state.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "title",
            "slug",
            "body",
            "author",
            "status",
            "published_at",
            "featured",
            "tags"
        ],
        "the auto id and auto_now_add created_at are left out"
    );
    let by = |name: &str| state.field(name).unwrap();
    assert_eq!(by("title").max_length, Some(200));
    assert_eq!(by("title").help_text, "Shown on the front page.");
    assert_eq!(by("title").widget.name, "text");
    assert_eq!(by("slug").kind, FieldKind::Slug);
    assert_eq!(by("body").widget.name, "textarea");
    assert!(!by("body").required);
    assert_eq!(by("featured").widget.name, "checkbox");
    assert_eq!(by("published_at").widget.name, "datetime");
    assert!(!by("published_at").required);
    assert_eq!(by("status").initial, ["draft"], "the default is shown");
    let author: Vec<(&str, &str)> = by("author")
        .choices
        .iter()
        .map(|c| (c.value.as_str(), c.label.as_str()))
        .collect();
    let (ada, bob) = (seed.ada.id.to_string(), seed.bob.id.to_string());
    assert_eq!(
        author,
        [
            ("", "---------"),
            (ada.as_str(), "Ada"),
            (bob.as_str(), "Bob")
        ]
    );
    let tags: Vec<&str> = by("tags")
        .choices
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(
        tags,
        ["#food", "#rust"],
        "labelled by the display string, in the model's ordering"
    );
    assert_eq!(by("tags").widget.name, "select_multiple");

    let chosen = form()
        .fields(&["title", "tags"])
        .exclude(&["tags"])
        .form(db, None)
        .unwrap();
    let names: Vec<&str> = chosen
        .state()
        .fields()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["title"]);
}

fn a_valid_form_creates_the_row_and_its_tags_in_one_go(db: &Database) {
    let seed = seed(db);
    let mut bound = bind_valid(db, &seed, &[("featured", Some("on"))]);
    assert!(bound.is_valid(), "{:?}", bound.errors());
    let saved = bound
        .save(&db.connection().unwrap())
        .unwrap()
        .expect("saved");
    let article: Article = saved.to_model().unwrap();
    assert_eq!(article.title, "Hello");
    assert!(article.featured);
    assert_eq!(article.author.id(), seed.ada.id);
    let mut tags: Vec<String> = article
        .tags()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    tags.sort();
    assert_eq!(tags, ["food", "rust"]);
}

fn each_kind_of_bad_input_changes_nothing(db: &Database) {
    let seed = seed(db);
    let mut taken = Article {
        id: 0,
        title: "Taken".into(),
        slug: "taken".into(),
        body: String::new(),
        author: ForeignKey::from(&seed.bob),
        status: Status::Draft,
        published_at: None,
        featured: false,
        created_at: chrono::Utc::now(),
        tags: ManyToMany::new(),
    };
    taken.save(db).unwrap();
    let cases: &[Case<'_>] = &[
        (&[("title", None)], "title", "This field is required."),
        (
            &[("slug", Some("not a slug"))],
            "slug",
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
        (
            &[("slug", Some("taken"))],
            "slug",
            "Article with this Slug already exists.",
        ),
        (
            &[("author", Some("999999"))],
            "author",
            "Select a valid choice. 999999 is not one of the available choices.",
        ),
        (
            &[("author", Some("ada"))],
            "author",
            "Select a valid choice. ada is not one of the available choices.",
        ),
        (
            &[("status", Some("deleted"))],
            "status",
            "Select a valid choice. deleted is not one of the available choices.",
        ),
        (
            &[("published_at", Some("yesterday"))],
            "published_at",
            "Enter a valid date/time.",
        ),
        (
            &[("status", Some("published"))],
            "published_at",
            "A published article needs a publication date.",
        ),
        (
            &[("tags", Some("424242"))],
            "tags",
            "Select a valid choice. 424242 is not one of the available choices.",
        ),
        (
            &[("title", Some(&"x".repeat(201)))],
            "title",
            "Ensure this value has at most 200 characters (it has 201).",
        ),
    ];
    for (changes, field, message) in cases {
        let mut bound = bind_valid(db, &seed, changes);
        assert!(!bound.is_valid(), "{changes:?}");
        assert_eq!(
            bound.errors().field(field),
            [*message],
            "{changes:?}: {:?}",
            bound.errors()
        );
        assert!(bound.save(&db.connection().unwrap()).unwrap().is_none());
    }
    assert_eq!(
        Article::objects().count(db).unwrap(),
        1,
        "nothing was written"
    );
}

fn an_update_shows_the_object_and_saves_changes(db: &Database) {
    let seed = seed(db);
    let mut created = bind_valid(db, &seed, &[]);
    let saved = created.save(&db.connection().unwrap()).unwrap().unwrap();
    let id = saved.pk().clone();

    let existing = Article::meta().handle().get(db, &id).unwrap();
    let shown = form().form(db, Some(existing.clone())).unwrap();
    assert_eq!(shown.state().input("title").text(), "Hello");
    let mut selected: Vec<String> = shown.state().input("tags").values.to_vec();
    selected.sort();
    let mut expected = vec![seed.rust.id.to_string(), seed.food.id.to_string()];
    expected.sort();
    assert_eq!(selected, expected);

    let sent = data(&[
        ("title", "Hello again"),
        ("slug", "hello"),
        ("author", &seed.bob.id.to_string()),
        ("status", "published"),
        ("published_at", "2024-05-01T09:30"),
        ("tags", &seed.food.id.to_string()),
    ]);
    let mut bound = form().bind(db, &sent, Some(existing)).unwrap();
    assert!(
        bound.is_valid(),
        "keeping its own slug is no conflict: {:?}",
        bound.errors()
    );
    bound.save(&db.connection().unwrap()).unwrap().unwrap();
    let article = Article::objects()
        .get(db, Article::ID.eq(i64::from_value(id.clone()).unwrap()))
        .unwrap();
    assert_eq!(article.title, "Hello again");
    assert_eq!(article.author.id(), seed.bob.id);
    assert_eq!(article.status, Status::Published);
    assert_eq!(
        article.published_at.unwrap().to_rfc3339(),
        "2024-05-01T09:30:00+00:00"
    );
    let tags: Vec<String> = article
        .tags()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tags, ["food"]);
    assert_eq!(Article::objects().count(db).unwrap(), 1);
}

fn read_only_fields_and_values_the_view_sets(db: &Database) {
    let seed = seed(db);
    let limited = form()
        .fields(&["title", "slug", "body"])
        .readonly(&["slug"]);
    let mut blank = Article::meta().handle().blank();
    blank.set("author", Value::I64(seed.bob.id)).unwrap();
    blank.set("slug", Value::Text("fixed".into())).unwrap();
    let sent = data(&[
        ("title", "By Bob"),
        ("slug", "changed"),
        ("author", &seed.ada.id.to_string()),
    ]);
    let mut bound = limited.bind(db, &sent, Some(blank)).unwrap();
    assert!(bound.is_valid(), "{:?}", bound.errors());
    assert!(bound.state().field("slug").unwrap().disabled);
    let saved: Article = bound
        .save(&db.connection().unwrap())
        .unwrap()
        .unwrap()
        .to_model()
        .unwrap();
    assert_eq!(
        saved.slug, "fixed",
        "a read-only field ignores what is sent"
    );
    assert_eq!(
        saved.author.id(),
        seed.bob.id,
        "a field not in the form keeps the view's value"
    );
}

fn the_rendered_form_selects_what_is_chosen(db: &Database) {
    let seed = seed(db);
    let bound = bind_valid(
        db,
        &seed,
        &[("title", None), ("tags", Some(&seed.food.id.to_string()))],
    );
    let mut env = minijinja::Environment::new();
    tack_forms::install(&mut env);
    env.add_template(
        "f.html",
        "{{ form.author }}|{{ form.tags }}|{{ form.title.errors }}",
    )
    .unwrap();
    let html = env
        .get_template("f.html")
        .unwrap()
        .render(minijinja::context! { form => bound.view() })
        .unwrap();
    assert!(
        html.contains(&format!(
            r#"<option value="{}" selected>Ada</option>"#,
            seed.ada.id
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<option value="{}" selected>#food</option>"#,
            seed.food.id
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<option value="{}">#rust</option>"#,
            seed.rust.id
        )),
        "{html}"
    );
    assert!(html.contains("This field is required."));
}

fn a_row_gone_since_the_form_was_read_is_an_error(db: &Database) {
    let seed = seed(db);
    let mut bound = bind_valid(db, &seed, &[]);
    assert!(bound.is_valid());
    // The author is deleted between the check and the save.
    Author::objects()
        .filter(Author::ID.eq(seed.ada.id))
        .delete(db)
        .unwrap();
    let conn = db.connection().unwrap();
    assert!(bound.save(&conn).unwrap().is_none());
    assert!(!bound.errors().form().is_empty(), "{:?}", bound.errors());
    assert_eq!(Article::objects().count(db).unwrap(), 0);
    let _ = Instance::of(&seed.bob);
}

on_both_databases!(
    fields_follow_the_model,
    a_valid_form_creates_the_row_and_its_tags_in_one_go,
    each_kind_of_bad_input_changes_nothing,
    an_update_shows_the_object_and_saves_changes,
    read_only_fields_and_values_the_view_sets,
    the_rendered_form_selects_what_is_chosen,
    a_row_gone_since_the_form_was_read_is_an_error,
);
