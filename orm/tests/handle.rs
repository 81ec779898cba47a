//! The model handle: generic code reads, writes and deletes any model by
//! field name, and learns what a delete would take with it.

mod common;

use common::*;
use tack_orm::prelude::*;
use tack_orm::{Error, Instance, ListQuery, ModelHandle, Value};

conformance!(
    blank_instances_and_required_fields,
    text_input_is_coerced_per_field,
    create_get_update_delete_by_field_name,
    invalid_writes_change_nothing,
    list_and_count_with_filters,
    many_to_many_ids_are_read_and_replaced,
    display_strings,
    delete_plan_lists_cascade_set_null_and_protect,
    delete_plan_restrict_allows_rows_deleted_together,
    set_default_and_do_nothing,
);

fn blank_instances_and_required_fields(_db: &Database) {
    let handle = Article::meta().handle();
    let blank = handle.blank();
    assert_eq!(blank.get("title"), Some(&Value::Text(String::new())));
    assert_eq!(blank.get("status"), Some(&Value::Text("draft".into())));
    assert_eq!(blank.get("views"), Some(&Value::I64(0)));
    assert_eq!(blank.get("published_at"), Some(&Value::Null));
    assert!(!blank.is_saved());
    let required: Vec<&str> = handle.required_fields().iter().map(|f| f.name).collect();
    assert_eq!(required, ["title", "slug", "author", "rating"]);
    // The blank instance converts to the typed model.
    let article: Article = blank.to_model().unwrap();
    assert_eq!(article.status, Status::Draft);
    assert!(blank.to_model::<Author>().is_err(), "not an author");
}

fn text_input_is_coerced_per_field(_db: &Database) {
    let mut article = Article::meta().handle().blank();
    article.set_input("views", " 42 ").unwrap();
    assert_eq!(article.get("views"), Some(&Value::I64(42)));
    article
        .set_input("published_at", "2024-05-01T09:30")
        .unwrap();
    let published: Article = article.to_model().unwrap();
    assert_eq!(
        published.published_at.unwrap().to_rfc3339(),
        "2024-05-01T09:30:00+00:00"
    );
    article.set_input("published_at", "").unwrap();
    assert_eq!(article.get("published_at"), Some(&Value::Null));
    let error = article.set_input("views", "many").unwrap_err();
    assert!(
        matches!(&error, Error::InvalidValue { field, .. } if field == "views"),
        "{error}"
    );
    assert_eq!(article.get("views"), Some(&Value::I64(42)), "unchanged");
    let error = article
        .set("headline", Value::Text("x".into()))
        .unwrap_err();
    assert!(
        error.to_string().contains("title"),
        "lists the fields: {error}"
    );
}

fn new_article(author: &Author, slug: &str) -> Instance {
    let mut article = Article::meta().handle().blank();
    article
        .set_input("title", &format!("About {slug}"))
        .unwrap();
    article.set_input("slug", slug).unwrap();
    article.set("author", Value::I64(author.id)).unwrap();
    article.set_input("rating", "4.5").unwrap();
    article
}

fn create_get_update_delete_by_field_name(db: &Database) {
    let ada = author(db, "Ada");
    let handle = ModelHandle::of::<Article>();
    let mut article = new_article(&ada, "generic");
    handle.create(db, &mut article).unwrap();
    assert!(article.is_saved());
    let pk = article.pk().clone();
    let id = match pk {
        Value::I64(id) => id,
        ref other => panic!("an integer key, not {other:?}"),
    };
    let typed = Article::find(db, id).unwrap();
    assert_eq!(typed.slug, "generic");
    assert_eq!(typed.rating, 4.5);

    let mut loaded = handle.get(db, &Value::Text(pk.to_string())).unwrap();
    assert_eq!(
        loaded, article,
        "a key given as text is read as the primary key"
    );
    loaded.set_input("title", "Renamed").unwrap();
    handle.update(db, &mut loaded).unwrap();
    assert_eq!(Article::find(db, id).unwrap().title, "Renamed");

    assert!(handle.delete(db, &pk).unwrap());
    assert!(!handle.delete(db, &pk).unwrap(), "already gone");
    assert!(handle.get(db, &pk).unwrap_err().is_not_found());
    let error = handle.update(db, &mut loaded).unwrap_err();
    assert!(error.is_not_found(), "an update never recreates: {error}");
    assert_eq!(Article::objects().count(db).unwrap(), 0);
    let error = handle.get(db, &Value::Text("seven".into())).unwrap_err();
    assert_eq!(error.status().as_u16(), 400, "{error}");
}

fn invalid_writes_change_nothing(db: &Database) {
    let ada = author(db, "Ada");
    let handle = Article::meta().handle();
    let mut article = new_article(&ada, "first");
    handle.create(db, &mut article).unwrap();

    let mut long = new_article(&ada, "second");
    long.set_input("title", &"x".repeat(201)).unwrap();
    let error = handle.create(db, &mut long).unwrap_err();
    let errors = error.validation_errors().expect("a validation error");
    assert_eq!(errors.fields().keys().collect::<Vec<_>>(), ["title"]);
    // The model's clean hook runs as well.
    let mut undated = new_article(&ada, "third");
    undated.set_input("status", "published").unwrap();
    let error = handle.create(db, &mut undated).unwrap_err();
    assert!(error.validation_errors().unwrap().get("published_at")[0].contains("publication"));
    // A taken unique value, and a taken primary key, are refused.
    let mut twin = new_article(&ada, "first");
    let error = handle.create(db, &mut twin).unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
    let mut tag = Tag::meta().handle().blank();
    tag.set_input("name", "rust").unwrap();
    Tag::meta().handle().create(db, &mut tag).unwrap();
    let mut same_pk = tag.clone();
    same_pk.set_input("name", "other").unwrap();
    let error = Tag::meta().handle().create(db, &mut same_pk).unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
    assert_eq!(
        Tag::objects().all(db).unwrap()[0].name,
        "rust",
        "not overwritten"
    );
    assert_eq!(Article::objects().count(db).unwrap(), 1);
    // An instance of another model is refused by the handle.
    let error = Tag::meta().handle().create(db, &mut article).unwrap_err();
    assert!(error.to_string().contains("Article"), "{error}");
}

fn list_and_count_with_filters(db: &Database) {
    seed(db);
    let handle = Article::meta().handle();
    let published = Q::lookup("status", tack_orm::Lookup::Exact, "published");
    assert_eq!(handle.count(db, &published).unwrap(), 4);
    assert_eq!(handle.count(db, &Q::default()).unwrap(), 5);
    let query = ListQuery::new()
        .filter(published)
        .filter(Q::parse(Article::meta(), "author__name", "Ada").unwrap())
        .order_by(Order::desc("views"))
        .limit(1);
    let top = handle.list(db, &query).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(
        top[0].get("slug"),
        Some(&Value::Text("rust-advanced".into()))
    );
    let second = handle.list(db, &query.clone().offset(1)).unwrap();
    assert_eq!(
        second[0].get("slug"),
        Some(&Value::Text("rust-intro".into()))
    );
    let bad = ListQuery::new().filter(Q::lookup("nope", tack_orm::Lookup::Exact, 1));
    assert!(matches!(
        handle.list(db, &bad),
        Err(Error::UnknownField { .. })
    ));
}

fn many_to_many_ids_are_read_and_replaced(db: &Database) {
    let (_, _, articles) = seed(db);
    let tags: Vec<Tag> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            Tag::objects()
                .create(
                    db,
                    Tag {
                        id: 0,
                        name: (*name).into(),
                    },
                )
                .unwrap()
        })
        .collect();
    let handle = Article::meta().handle();
    let pk = Value::I64(articles[0].id);
    let ids = |list: &[&Tag]| list.iter().map(|t| Value::I64(t.id)).collect::<Vec<_>>();
    handle
        .set_many_ids(db, "tags", &pk, &ids(&[&tags[2], &tags[0], &tags[0]]))
        .unwrap();
    assert_eq!(
        handle.many_ids(db, "tags", &pk).unwrap(),
        ids(&[&tags[0], &tags[2]])
    );
    let typed: Vec<i64> = articles[0]
        .tags()
        .all(db)
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(typed, [tags[0].id, tags[2].id]);
    // An id with no row is refused, naming the field, and nothing changes.
    let mut wrong = ids(&[&tags[1]]);
    wrong.push(Value::I64(9999));
    let error = handle.set_many_ids(db, "tags", &pk, &wrong).unwrap_err();
    let errors = error.validation_errors().expect("a validation error");
    assert!(errors.get("tags")[0].contains("9999"), "{errors}");
    assert_eq!(
        handle.many_ids(db, "tags", &pk).unwrap(),
        ids(&[&tags[0], &tags[2]])
    );
    // Many objects at once, in the order asked.
    let other = Value::I64(articles[1].id);
    handle
        .set_many_ids(db, "tags", &other, &ids(&[&tags[1]]))
        .unwrap();
    let both = handle
        .many_ids_for(db, "tags", &[other.clone(), Value::I64(4242), pk.clone()])
        .unwrap();
    assert_eq!(both, [ids(&[&tags[1]]), vec![], ids(&[&tags[0], &tags[2]])]);
    handle.set_many_ids(db, "tags", &pk, &[]).unwrap();
    assert!(handle.many_ids(db, "tags", &pk).unwrap().is_empty());
    let error = handle.many_ids(db, "labels", &pk).unwrap_err();
    assert!(error.to_string().contains("tags"), "{error}");
}

fn display_strings(db: &Database) {
    let (ada, _, articles) = seed(db);
    let article = Instance::of(&articles[0]);
    assert_eq!(
        Article::meta().handle().display(&article).unwrap(),
        "Title of rust-intro (published)"
    );
    assert_eq!(articles[0].display(), "Title of rust-intro (published)");
    assert_eq!(ada.display(), format!("Author object ({})", ada.id));
    let tag = Tag::objects()
        .create(
            db,
            Tag {
                id: 0,
                name: "rust".into(),
            },
        )
        .unwrap();
    assert_eq!(tag.display(), "#rust", "the model's own Display");
}

fn delete_plan_lists_cascade_set_null_and_protect(db: &Database) {
    let (ada, bob, articles) = seed(db);
    let comment = |article: &Article| Comment {
        id: 0,
        article: ForeignKey::from(article),
        author_name: "r".into(),
        body: "b".into(),
        created_at: at(1),
    };
    for article in [&articles[0], &articles[0], &articles[1], &articles[2]] {
        Comment::objects().create(db, comment(article)).unwrap();
    }
    let tag = Tag::objects()
        .create(
            db,
            Tag {
                id: 0,
                name: "t".into(),
            },
        )
        .unwrap();
    articles[0].tags().add(db, &[&tag]).unwrap();
    articles[1].tags().add(db, &[&tag]).unwrap();
    let mentee = Profile::objects()
        .create(
            db,
            Profile {
                id: 0,
                author: ForeignKey::from(&bob),
                mentor: Some(ForeignKey::from(&ada)),
            },
        )
        .unwrap();
    let invoice = Invoice::objects()
        .create(
            db,
            Invoice {
                id: 0,
                author: ForeignKey::from(&ada),
                amount: 5,
            },
        )
        .unwrap();

    let handle = Author::meta().handle();
    let models = all_models();
    let plan = handle
        .delete_plan(db, &[Value::I64(ada.id)], &models)
        .unwrap();
    assert_eq!(
        plan.counts(),
        [("authors", 1), ("articles", 3), ("comments", 3)]
    );
    assert_eq!(plan.total(), 7);
    assert_eq!(plan.updated.len(), 1);
    assert_eq!(plan.updated[0].model.name, "Profile");
    assert_eq!(plan.updated[0].field.unwrap().name, "mentor");
    assert_eq!(plan.updated[0].instances[0].pk(), &Value::I64(mentee.id));
    assert!(!plan.is_allowed());
    assert_eq!(plan.protected[0].model.name, "Invoice");
    let links: Vec<(&str, u64)> = plan
        .links
        .iter()
        .map(|l| (l.relation.name, l.count))
        .collect();
    assert_eq!(links, [("tags", 2)]);
    // The plan changed nothing; the database refuses as it said.
    assert_eq!(Article::objects().count(db).unwrap(), 5);
    assert!(matches!(
        handle.delete(db, &Value::I64(ada.id)),
        Err(Error::Integrity { .. })
    ));

    invoice.delete(db).unwrap();
    let plan = handle
        .delete_plan(db, &[Value::I64(ada.id)], &models)
        .unwrap();
    assert!(plan.is_allowed());
    assert!(handle.delete(db, &Value::I64(ada.id)).unwrap());
    // What the plan listed is what went.
    assert_eq!(Article::objects().count(db).unwrap(), 2);
    assert_eq!(Comment::objects().count(db).unwrap(), 1);
    assert!(Profile::find(db, mentee.id).unwrap().mentor.is_none());
    // Without the referring models, only the rows themselves are listed.
    let alone = handle.delete_plan(db, &[Value::I64(bob.id)], &[]).unwrap();
    assert_eq!(alone.counts(), [("authors", 1)]);
}

fn delete_plan_restrict_allows_rows_deleted_together(db: &Database) {
    let (ada, _, articles) = seed(db);
    Pin::objects()
        .create(
            db,
            Pin {
                id: 0,
                article: ForeignKey::from(&articles[0]),
                author: ForeignKey::from(&ada),
            },
        )
        .unwrap();
    let models = all_models();
    // Deleting the article alone: the pin restricts it.
    let article = Article::meta().handle();
    let plan = article
        .delete_plan(db, &[Value::I64(articles[0].id)], &models)
        .unwrap();
    assert!(!plan.is_allowed());
    assert_eq!(plan.protected[0].model.name, "Pin");
    assert!(matches!(
        article.delete(db, &Value::I64(articles[0].id)),
        Err(Error::Integrity { .. })
    ));
    // Deleting the author takes the pin too: allowed, and the database agrees.
    let author = Author::meta().handle();
    let plan = author
        .delete_plan(db, &[Value::I64(ada.id)], &models)
        .unwrap();
    assert!(plan.is_allowed(), "{:?}", plan.protected);
    assert!(plan.counts().contains(&("pins", 1)));
    assert!(author.delete(db, &Value::I64(ada.id)).unwrap());
    assert_eq!(Pin::objects().count(db).unwrap(), 0);
}

fn set_default_and_do_nothing(db: &Database) {
    let nobody = author(db, "Nobody");
    assert_eq!(nobody.id, 1, "the default author is the first row");
    let ada = author(db, "Ada");
    let task = Task::objects()
        .create(
            db,
            Task {
                id: 0,
                author: ForeignKey::from(&ada),
            },
        )
        .unwrap();
    let handle = Author::meta().handle();
    let plan = handle
        .delete_plan(db, &[Value::I64(ada.id)], &all_models())
        .unwrap();
    assert_eq!(plan.updated[0].model.name, "Task");
    assert!(plan.is_allowed());
    assert!(ada.delete(db).unwrap());
    assert_eq!(
        Task::find(db, task.id).unwrap().author.id(),
        nobody.id,
        "set to the default"
    );

    let bob = author(db, "Bob");
    Watch::objects()
        .create(
            db,
            Watch {
                id: 0,
                author: ForeignKey::from(&bob),
            },
        )
        .unwrap();
    let plan = handle
        .delete_plan(db, &[Value::I64(bob.id)], &all_models())
        .unwrap();
    assert_eq!(
        plan.counts(),
        [("authors", 1)],
        "do_nothing: the ORM lists nothing"
    );
    assert!(plan.updated.is_empty() && plan.protected.is_empty());
    let error = bob.delete(db).unwrap_err();
    assert!(
        matches!(error, Error::Integrity { .. }),
        "the database refuses: {error}"
    );
    assert!(Author::find(db, bob.id).is_ok());
}
