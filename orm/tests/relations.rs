//! Relations: foreign keys and their on-delete rules, one-to-one,
//! many-to-many, select_related, prefetch_related; aggregates; raw SQL.

mod common;

use common::*;
use tack_orm::prelude::*;
use tack_orm::{Error, RelatedField};

conformance!(
    on_delete_rules,
    one_to_one_is_unique,
    many_to_many_add_remove_all,
    select_related_loads_in_one_query,
    prefetch_related_fills_relations,
    aggregates_and_group_by,
    raw_sql_maps_rows_into_models,
    foreign_key_get_fetches_when_not_loaded,
);

fn on_delete_rules(db: &Database) {
    let (ada, bob, articles) = seed(db);
    let mut comment = Comment {
        id: 0,
        article: ForeignKey::from(&articles[0]),
        author_name: "r".into(),
        body: "b".into(),
        created_at: at(1),
    };
    comment.save(db).unwrap();
    // Cascade: deleting Ada removes her articles and their comments.
    let mut mentee = Profile {
        id: 0,
        author: ForeignKey::from(&bob),
        mentor: Some(ForeignKey::from(&ada)),
    };
    mentee.save(db).unwrap();
    assert!(ada.delete(db).unwrap());
    assert_eq!(Article::objects().count(db).unwrap(), 2);
    assert_eq!(Comment::objects().count(db).unwrap(), 0);
    // Set null: the profile stays, its mentor is cleared.
    let profile = Profile::find(db, mentee.id).unwrap();
    assert!(profile.mentor.is_none());
    // Protect: an invoice keeps its author from being deleted.
    let mut invoice = Invoice {
        id: 0,
        author: ForeignKey::from(&bob),
        amount: 10,
    };
    invoice.save(db).unwrap();
    let error = bob.delete(db).unwrap_err();
    assert!(matches!(error, Error::Integrity { .. }), "{error}");
    assert_eq!(error.status().as_u16(), 409);
    assert!(Author::find(db, bob.id).is_ok(), "nothing deleted");
    assert_eq!(Article::objects().count(db).unwrap(), 2, "nothing cascaded");
    invoice.delete(db).unwrap();
    assert!(bob.delete(db).unwrap());
    // A foreign key to a missing row is refused.
    let mut orphan = Invoice {
        id: 0,
        author: ForeignKey::new(424_242),
        amount: 1,
    };
    assert!(matches!(
        orphan.save(db).unwrap_err(),
        Error::Integrity { .. }
    ));
}

fn one_to_one_is_unique(db: &Database) {
    let ada = author(db, "Ada");
    Profile {
        id: 0,
        author: ForeignKey::from(&ada),
        mentor: None,
    }
    .save(db)
    .unwrap();
    let error = Profile {
        id: 0,
        author: ForeignKey::from(&ada),
        mentor: None,
    }
    .save(db)
    .unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
}

fn many_to_many_add_remove_all(db: &Database) {
    let (_, _, articles) = seed(db);
    let tags: Vec<Tag> = Tag::objects()
        .bulk_create(
            db,
            ["rust", "web", "db"]
                .iter()
                .map(|n| Tag {
                    id: 0,
                    name: (*n).into(),
                })
                .collect(),
        )
        .unwrap();
    let intro = &articles[0];
    intro.tags().add(db, &[&tags[0], &tags[1]]).unwrap();
    intro.tags().add(db, &[&tags[0]]).unwrap(); // already linked: skipped
    let names: Vec<String> = intro
        .tags()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["rust", "web"]);
    intro.tags().remove(db, &[&tags[0]]).unwrap();
    assert_eq!(intro.tags().all(db).unwrap().len(), 1);
    intro.tags().set(db, &[&tags[2], &tags[0]]).unwrap();
    let names: Vec<String> = intro
        .tags()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["rust", "db"]);
    intro.tags().clear(db).unwrap();
    assert!(intro.tags().all(db).unwrap().is_empty());
    // Deleting a tag removes its links.
    intro.tags().add(db, &[&tags[1]]).unwrap();
    tags[1].delete(db).unwrap();
    assert!(intro.tags().all(db).unwrap().is_empty());
    let unsaved = Article {
        id: 0,
        ..intro.clone()
    };
    assert!(unsaved.tags().add(db, &[&tags[0]]).is_err());
}

fn select_related_loads_in_one_query(db: &Database) {
    seed(db);
    let articles = Article::objects()
        .select_related("author")
        .order_by(Article::ID.asc())
        .all(db)
        .unwrap();
    assert_eq!(articles.len(), 5);
    let names: Vec<&str> = articles
        .iter()
        .map(|a| a.author.cached().expect("loaded").name.as_str())
        .collect();
    assert_eq!(names, ["Ada", "Ada", "Bob", "Bob", "Ada"]);
    // Nullable foreign keys: a missing target leaves the field unloaded.
    let bob = Author::objects().get(db, Author::NAME.eq("Bob")).unwrap();
    Profile {
        id: 0,
        author: ForeignKey::from(&bob),
        mentor: None,
    }
    .save(db)
    .unwrap();
    let profiles = Profile::objects()
        .select_related("mentor")
        .select_related("author")
        .all(db)
        .unwrap();
    assert!(profiles[0].mentor.is_none());
    assert_eq!(profiles[0].author.cached().unwrap().name, "Bob");
    let plain = Article::objects().first(db).unwrap().unwrap();
    assert!(plain.author.cached().is_none());

    // Nested: a comment's article and that article's author, in one query.
    let article = Article::objects()
        .get(db, Article::SLUG.eq("cooking"))
        .unwrap();
    let mut comment = Comment {
        id: 0,
        article: ForeignKey::from(&article),
        author_name: "r".into(),
        body: "b".into(),
        created_at: at(1),
    };
    comment.save(db).unwrap();
    for paths in [
        &["article__author"][..],
        &["article", "article__author"][..],
    ] {
        let mut qs = Comment::objects();
        for path in paths {
            qs = qs.select_related(path);
        }
        let before = db.queries_run();
        let loaded = qs.all(db).unwrap();
        assert_eq!(db.queries_run() - before, 1);
        let article = loaded[0].article.cached().expect("article loaded");
        assert_eq!(article.slug, "cooking");
        assert_eq!(article.author.cached().expect("author loaded").name, "Bob");
    }
    let error = Comment::objects()
        .select_related("article__title")
        .all(db)
        .unwrap_err();
    assert!(error.to_string().contains("article__title"), "{error}");
}

fn prefetch_related_fills_relations(db: &Database) {
    let (_, _, articles) = seed(db);
    let mut rust = Tag {
        id: 0,
        name: "rust".into(),
    };
    rust.save(db).unwrap();
    let mut web = Tag {
        id: 0,
        name: "web".into(),
    };
    web.save(db).unwrap();
    articles[0].tags().add(db, &[&rust, &web]).unwrap();
    articles[1].tags().add(db, &[&rust]).unwrap();
    let before = db.queries_run();
    let loaded = Article::objects()
        .order_by(Article::ID.asc())
        .prefetch_related("tags")
        .prefetch_related("author")
        .all(db)
        .unwrap();
    assert_eq!(
        db.queries_run() - before,
        3,
        "one query plus one per relation"
    );
    let tag_names = |a: &Article| -> Vec<String> {
        a.tags
            .loaded()
            .expect("prefetched")
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    assert_eq!(tag_names(&loaded[0]), ["rust", "web"]);
    assert_eq!(tag_names(&loaded[1]), ["rust"]);
    assert!(tag_names(&loaded[2]).is_empty());
    assert_eq!(loaded[2].author.cached().unwrap().name, "Bob");
    assert_eq!(loaded[0].author.cached().unwrap().name, "Ada");

    // Reverse foreign keys: every article's comments in one more query.
    for (i, body) in [(0, "first"), (0, "second"), (2, "third")] {
        let mut comment = Comment {
            id: 0,
            article: ForeignKey::from(&articles[i]),
            author_name: "r".into(),
            body: body.into(),
            created_at: at(1),
        };
        comment.save(db).unwrap();
    }
    let before = db.queries_run();
    let loaded = Article::objects()
        .order_by(Article::ID.asc())
        .prefetch_related("comments")
        .all(db)
        .unwrap();
    assert_eq!(db.queries_run() - before, 2);
    let bodies = |a: &Article| -> Vec<String> {
        a.comments
            .loaded()
            .unwrap()
            .iter()
            .map(|c| c.body.clone())
            .collect()
    };
    assert_eq!(bodies(&loaded[0]), ["first", "second"]);
    assert!(bodies(&loaded[1]).is_empty());
    assert_eq!(bodies(&loaded[2]), ["third"]);
    let error = Article::objects()
        .prefetch_related("nothing")
        .all(db)
        .unwrap_err();
    assert!(error.to_string().contains("nothing"), "{error}");
}

fn aggregates_and_group_by(db: &Database) {
    seed(db);
    let totals = Article::objects()
        .aggregate(
            db,
            &[
                ("n", Aggregate::count_all()),
                ("views", Aggregate::sum("views")),
                ("avg", Aggregate::avg("views")),
                ("low", Aggregate::min("views")),
                ("high", Aggregate::max("views")),
                ("authors", Aggregate::count_distinct("author")),
            ],
        )
        .unwrap();
    assert_eq!(totals.get("n"), Some(&Value::I64(5)));
    assert_eq!(totals.get("views"), Some(&Value::I64(45)));
    assert_eq!(totals.get("avg"), Some(&Value::F64(9.0)));
    assert_eq!(totals.get("low"), Some(&Value::I64(0)));
    assert_eq!(totals.get("high"), Some(&Value::I64(30)));
    assert_eq!(totals.get("authors"), Some(&Value::I64(2)));
    let per_author = Article::objects()
        .values(&["author__name"])
        .unwrap()
        .annotate("n", Aggregate::count("id"))
        .annotate("views", Aggregate::sum("views"))
        .order_by_name("-n")
        .unwrap()
        .all(db)
        .unwrap();
    assert_eq!(per_author.len(), 2);
    assert_eq!(
        per_author[0].get("author__name"),
        Some(&Value::Text("Ada".into()))
    );
    assert_eq!(per_author[0].get("n"), Some(&Value::I64(3)));
    assert_eq!(per_author[0].get("views"), Some(&Value::I64(40)));
    assert_eq!(per_author[1].get("views"), Some(&Value::I64(5)));
    let published = Article::objects()
        .filter(Article::STATUS.eq(Status::Published))
        .aggregate(db, &[("n", Aggregate::count_all())])
        .unwrap();
    assert_eq!(published.get("n"), Some(&Value::I64(4)));
    let empty = Article::objects()
        .filter(Article::VIEWS.gt(1000))
        .aggregate(db, &[("s", Aggregate::sum("views"))])
        .unwrap();
    assert_eq!(empty.get("s"), Some(&Value::Null));
}

fn raw_sql_maps_rows_into_models(db: &Database) {
    seed(db);
    let found = Article::raw(
        db,
        "SELECT * FROM news_article WHERE views >= $1 AND slug <> $2 ORDER BY views DESC",
        &[Value::I64(5), Value::Text("cooking".into())],
    )
    .unwrap();
    let slugs: Vec<&str> = found.iter().map(|a| a.slug.as_str()).collect();
    assert_eq!(slugs, ["rust-advanced", "rust-intro"]);
    assert_eq!(found[0].status, Status::Published);
    let error = Article::raw(db, "SELECT id FROM news_article", &[]).unwrap_err();
    assert!(error.to_string().contains("title"), "{error}");
    let hostile = Article::raw(
        db,
        "SELECT * FROM news_article WHERE slug = $1",
        &[Value::Text("' OR 1=1 --".into())],
    )
    .unwrap();
    assert!(hostile.is_empty());
}

fn foreign_key_get_fetches_when_not_loaded(db: &Database) {
    let (ada, _, _) = seed(db);
    let article = Article::objects()
        .get(db, Article::SLUG.eq("rust-intro"))
        .unwrap();
    assert!(article.author.cached().is_none());
    assert_eq!(article.author.get(db).unwrap().name, "Ada");
    assert_eq!(article.author.id(), ada.id);
}

#[test]
fn relations_serialize_as_primary_keys() {
    let mut tags = ManyToMany::<Tag>::new();
    assert_eq!(serde_json::to_string(&tags).unwrap(), "[]");
    tags.set_related(tack_orm::Related::Many(vec![Box::new(Tag {
        id: 7,
        name: "x".into(),
    })]))
    .unwrap();
    assert_eq!(serde_json::to_string(&tags).unwrap(), "[7]");
    let fk: ForeignKey<Author> = ForeignKey::new(3);
    assert_eq!(serde_json::to_string(&fk).unwrap(), "3");
    assert_eq!(
        serde_json::to_string(&tack_orm::Reverse::<Comment>::new()).unwrap(),
        "[]"
    );
}
