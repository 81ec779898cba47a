//! Query sets: lookups, Q combinations, F expressions, ordering, slicing,
//! projections and runtime field names.

mod common;

use common::*;
use tack_orm::prelude::*;
use tack_orm::{Error, Lookup, Value};

conformance!(
    lookups_table,
    q_objects_combine,
    f_expressions_in_filters_and_updates,
    first_last_get_count_exists,
    ordering_and_slicing,
    runtime_names_are_checked,
    values_and_values_list,
    iterator_streams_rows,
    lookups_across_relations,
    distinct_rows,
    same_shape_other_values,
    get_by_unique_field_and_duplicates,
);

fn slugs(db: &Database, qs: QuerySet<Article>) -> Vec<String> {
    let mut found: Vec<String> = qs.all(db).unwrap().into_iter().map(|a| a.slug).collect();
    found.sort();
    found
}

fn lookups_table(db: &Database) {
    seed(db);
    let cases: Vec<(&str, Q, &[&str])> = vec![
        ("exact", Article::SLUG.eq("cooking"), &["cooking"]),
        (
            "ne",
            Article::VIEWS.ne(0),
            &["cooking", "rust-advanced", "rust-intro"],
        ),
        (
            "lt",
            Article::VIEWS.lt(10),
            &["cooking", "gardening", "secret-draft"],
        ),
        (
            "lte",
            Article::VIEWS.lte(10),
            &["cooking", "gardening", "rust-intro", "secret-draft"],
        ),
        ("gt", Article::VIEWS.gt(10), &["rust-advanced"]),
        (
            "gte",
            Article::VIEWS.gte(10),
            &["rust-advanced", "rust-intro"],
        ),
        (
            "in",
            Article::SLUG.is_in(["cooking", "gardening", "nope"]),
            &["cooking", "gardening"],
        ),
        ("in empty", Article::SLUG.is_in(Vec::<String>::new()), &[]),
        (
            "contains",
            Article::SLUG.contains("rust"),
            &["rust-advanced", "rust-intro"],
        ),
        (
            "contains is case-sensitive",
            Article::TITLE.contains("title"),
            &[],
        ),
        (
            "icontains",
            Article::TITLE.icontains("TITLE OF RUST"),
            &["rust-advanced", "rust-intro"],
        ),
        (
            "startswith",
            Article::SLUG.startswith("rust-"),
            &["rust-advanced", "rust-intro"],
        ),
        (
            "startswith is case-sensitive",
            Article::SLUG.startswith("RUST"),
            &[],
        ),
        (
            "istartswith",
            Article::SLUG.istartswith("RUST"),
            &["rust-advanced", "rust-intro"],
        ),
        (
            "endswith",
            Article::SLUG.endswith("ing"),
            &["cooking", "gardening"],
        ),
        (
            "iendswith",
            Article::SLUG.iendswith("ING"),
            &["cooking", "gardening"],
        ),
        (
            "contains wildcard is literal",
            Article::SLUG.contains("%"),
            &[],
        ),
        (
            "contains underscore is literal",
            Article::SLUG.contains("_"),
            &[],
        ),
        (
            "isnull",
            Article::PUBLISHED_AT.is_null(true),
            &["secret-draft"],
        ),
        (
            "isnull false",
            Article::PUBLISHED_AT.is_null(false),
            &["cooking", "gardening", "rust-advanced", "rust-intro"],
        ),
        (
            "range",
            Article::PUBLISHED_AT.range(at(2), at(3)),
            &["cooking", "rust-advanced"],
        ),
        (
            "choices",
            Article::STATUS.eq(Status::Draft),
            &["secret-draft"],
        ),
        (
            "float",
            Article::RATING.gt(4.0),
            &["rust-advanced", "rust-intro"],
        ),
    ];
    for (name, q, expected) in cases {
        assert_eq!(
            slugs(db, Article::objects().filter(q)),
            expected.to_vec(),
            "{name}"
        );
    }
}

fn q_objects_combine(db: &Database) {
    seed(db);
    let either = Article::SLUG.eq("cooking") | Article::VIEWS.gte(30);
    assert_eq!(
        slugs(db, Article::objects().filter(either.clone())),
        ["cooking", "rust-advanced"]
    );
    let both = Article::SLUG.startswith("rust") & Article::VIEWS.lt(20);
    assert_eq!(slugs(db, Article::objects().filter(both)), ["rust-intro"]);
    assert_eq!(
        slugs(db, Article::objects().filter(!either)),
        ["gardening", "rust-intro", "secret-draft"]
    );
    // NOT keeps rows whose condition is unknown through NULL.
    let not_early = Article::objects().exclude(Article::PUBLISHED_AT.lt(at(3)));
    assert_eq!(
        slugs(db, not_early),
        ["cooking", "gardening", "secret-draft"]
    );
    let nested =
        (Article::SLUG.eq("cooking") | Article::SLUG.eq("gardening")) & !Article::VIEWS.eq(0);
    assert_eq!(slugs(db, Article::objects().filter(nested)), ["cooking"]);
    assert_eq!(
        slugs(db, Article::objects().filter(Q::Or(vec![]))),
        Vec::<String>::new()
    );
    assert_eq!(
        Article::objects().filter(Q::And(vec![])).count(db).unwrap(),
        5
    );
}

fn f_expressions_in_filters_and_updates(db: &Database) {
    seed(db);
    // views > rating * 2 never holds (rating = views / 2); views >= rating holds for all.
    let qs = Article::objects().filter(Article::VIEWS.cmp(Lookup::Gt, F::new("rating") * 2.0));
    assert_eq!(qs.count(db).unwrap(), 0);
    let qs = Article::objects().filter(Article::VIEWS.cmp(Lookup::Gte, F::new("rating")));
    assert_eq!(qs.count(db).unwrap(), 5);
    let changed = Article::objects()
        .filter(Article::SLUG.startswith("rust"))
        .update(
            db,
            &[
                Article::VIEWS.set_expr(F::new("views") + 1),
                Article::BODY.set("bumped"),
            ],
        )
        .unwrap();
    assert_eq!(changed, 2);
    let intro = Article::objects()
        .get(db, Article::SLUG.eq("rust-intro"))
        .unwrap();
    assert_eq!((intro.views, intro.body.as_str()), (11, "bumped"));
    let cooking = Article::objects()
        .get(db, Article::SLUG.eq("cooking"))
        .unwrap();
    assert_eq!(cooking.views, 5, "rows outside the filter are untouched");
    let error = Article::objects()
        .update(db, &[tack_orm::Assignment::new("nope", 1)])
        .unwrap_err();
    assert!(matches!(error, Error::UnknownField { .. }), "{error}");
}

fn first_last_get_count_exists(db: &Database) {
    let (ada, _, articles) = seed(db);
    let qs = Article::objects();
    assert_eq!(qs.count(db).unwrap(), 5);
    assert!(qs.exists(db).unwrap());
    assert!(
        !qs.clone()
            .filter(Article::SLUG.eq("none"))
            .exists(db)
            .unwrap()
    );
    assert_eq!(qs.first(db).unwrap().unwrap().id, articles[0].id);
    assert_eq!(qs.last(db).unwrap().unwrap().id, articles[4].id);
    let by_views = qs.clone().order_by(Article::VIEWS.desc());
    assert_eq!(by_views.first(db).unwrap().unwrap().slug, "rust-advanced");
    assert_eq!(
        by_views
            .clone()
            .order_by(Article::SLUG.asc())
            .last(db)
            .unwrap()
            .unwrap()
            .slug,
        "secret-draft"
    );
    assert!(
        qs.clone()
            .filter(Article::SLUG.eq("none"))
            .first(db)
            .unwrap()
            .is_none()
    );
    let error = qs.get(db, Article::SLUG.eq("none")).unwrap_err();
    assert!(
        matches!(error, Error::NotFound { model: "Article" }),
        "{error}"
    );
    assert_eq!(error.status().as_u16(), 404);
    let error = qs.get(db, Article::AUTHOR.eq(ada.id)).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MultipleFound {
                model: "Article",
                count: 3
            }
        ),
        "{error}"
    );
    assert_eq!(qs.get(db, Article::SLUG.eq("cooking")).unwrap().views, 5);
    assert!(Article::find(db, 999_999).unwrap_err().is_not_found());
}

fn ordering_and_slicing(db: &Database) {
    seed(db);
    let ordered = Article::objects()
        .order_by(Article::VIEWS.desc())
        .order_by(Article::SLUG.asc());
    let all: Vec<String> = ordered
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.slug)
        .collect();
    assert_eq!(
        all,
        [
            "rust-advanced",
            "rust-intro",
            "cooking",
            "gardening",
            "secret-draft"
        ]
    );
    let page: Vec<String> = ordered
        .clone()
        .offset(1)
        .limit(2)
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.slug)
        .collect();
    assert_eq!(page, ["rust-intro", "cooking"]);
    let tail: Vec<String> = ordered
        .clone()
        .offset(3)
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.slug)
        .collect();
    assert_eq!(tail, ["gardening", "secret-draft"]);
    assert_eq!(ordered.clone().limit(2).count(db).unwrap(), 2);
    let by_name = Article::objects()
        .order_by_name("-published_at,slug")
        .unwrap();
    let first = by_name.first(db).unwrap().unwrap();
    // NULLs sort differently per database; the published ones keep their order.
    let published: Vec<String> = by_name
        .filter(Article::PUBLISHED_AT.is_null(false))
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.slug)
        .collect();
    assert_eq!(
        published,
        ["gardening", "cooking", "rust-advanced", "rust-intro"]
    );
    assert!(first.slug == "gardening" || first.slug == "secret-draft");
}

fn runtime_names_are_checked(db: &Database) {
    seed(db);
    let qs = Article::objects()
        .filter_by_name("title__icontains", "RUST")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 2);
    let qs = Article::objects()
        .filter_by_name("views__gte", "10")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 2);
    let qs = Article::objects()
        .filter_by_name("status", "draft")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 1);
    let qs = Article::objects()
        .filter_by_name("slug__in", "cooking,gardening")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 2);
    let qs = Article::objects()
        .filter_by_name("published_at__isnull", "true")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 1);
    let qs = Article::objects()
        .filter_by_name(
            "published_at__range",
            "2024-01-02T00:00:00Z,2024-01-03T23:00:00Z",
        )
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 2);
    let qs = Article::objects()
        .filter_by_name("author__name", "Ada")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 3);
    let qs = Article::objects()
        .exclude_by_name("author__name__startswith", "A")
        .unwrap();
    assert_eq!(qs.count(db).unwrap(), 2);

    let bad: &[(&str, &str)] = &[
        ("nope", "nope"),
        ("title__nope", "title__nope"),
        ("author__missing", "author__missing"),
        ("title__name", "title__name"),
        (
            "title; DROP TABLE news_article",
            "title; DROP TABLE news_article",
        ),
    ];
    for (name, field) in bad {
        let error = Article::objects().filter_by_name(name, "x").unwrap_err();
        match &error {
            Error::UnknownField {
                field: f, model, ..
            } => {
                assert_eq!(f, field, "{error}");
                assert!(["Article", "Author"].contains(model));
            }
            other => panic!("{name}: {other}"),
        }
        assert_eq!(error.status().as_u16(), 400);
    }
    let error = Article::objects()
        .filter_by_name("views", "many")
        .unwrap_err();
    assert!(
        matches!(error, Error::InvalidValue { ref field, .. } if field == "views"),
        "{error}"
    );
    let error = Article::objects().order_by_name("-secret").unwrap_err();
    assert!(error.to_string().contains("secret"), "{error}");
    assert!(Article::objects().order_by_name("\"title\"").is_err());
    let error = Article::objects()
        .select_related("title")
        .all(db)
        .unwrap_err();
    assert!(error.to_string().contains("title"), "{error}");
}

fn values_and_values_list(db: &Database) {
    seed(db);
    let rows = Article::objects()
        .filter(Article::STATUS.eq(Status::Published))
        .order_by(Article::VIEWS.desc())
        .values(&["slug", "views", "author__name", "published_at"])
        .unwrap()
        .all(db)
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0].get("slug"),
        Some(&Value::Text("rust-advanced".into()))
    );
    assert_eq!(rows[0].get("views"), Some(&Value::I64(30)));
    assert_eq!(
        rows[0].get("author__name"),
        Some(&Value::Text("Ada".into()))
    );
    assert_eq!(rows[0].get("published_at"), Some(&Value::DateTime(at(2))));
    let list = Article::objects()
        .order_by(Article::SLUG.asc())
        .limit(2)
        .values_list(db, &["slug"])
        .unwrap();
    assert_eq!(
        list,
        vec![
            vec![Value::Text("cooking".into())],
            vec![Value::Text("gardening".into())]
        ]
    );
    assert!(Article::objects().values(&["nope"]).is_err());
}

fn iterator_streams_rows(db: &Database) {
    seed(db);
    let mut seen = Vec::new();
    Article::objects()
        .order_by(Article::ID.asc())
        .iterator(db, |article| {
            seen.push(article.slug);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), 5);
    // An error from the callback stops the stream and is returned.
    let mut count = 0;
    let error = Article::objects()
        .iterator(db, |_| {
            count += 1;
            if count == 2 {
                Err(Error::Busy {
                    message: "stop".into(),
                })
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(matches!(error, Error::Busy { .. }));
    assert_eq!(count, 2);
}

fn lookups_across_relations(db: &Database) {
    let (ada, bob, articles) = seed(db);
    let mut comment = Comment {
        id: 0,
        article: ForeignKey::from(&articles[2]),
        author_name: "reader".into(),
        body: "Nice".into(),
        created_at: at(9),
    };
    comment.save(db).unwrap();
    let by_author = Comment::objects()
        .filter_by_name("article__author__name", "Bob")
        .unwrap();
    assert_eq!(by_author.count(db).unwrap(), 1);
    let none = Comment::objects()
        .filter_by_name("article__author__name", "Ada")
        .unwrap();
    assert_eq!(none.count(db).unwrap(), 0);
    assert_eq!(
        Article::objects()
            .filter(Article::AUTHOR.eq(bob.id))
            .count(db)
            .unwrap(),
        2
    );
    assert_eq!(ada.articles().count(db).unwrap(), 3);
    assert_eq!(articles[2].comments().all(db).unwrap()[0].body, "Nice");
    let ordered = Article::objects()
        .order_by_name("author__name,-views")
        .unwrap()
        .all(db)
        .unwrap();
    assert_eq!(ordered[0].slug, "rust-advanced");
    assert_eq!(ordered[4].slug, "gardening");
}

fn distinct_rows(db: &Database) {
    let (_, _, articles) = seed(db);
    let rust = Tag {
        id: 0,
        name: "rust".into(),
    };
    let mut rust = rust;
    rust.save(db).unwrap();
    let mut intro = Tag {
        id: 0,
        name: "intro".into(),
    };
    intro.save(db).unwrap();
    articles[0].tags().add(db, &[&rust, &intro]).unwrap();
    articles[1].tags().add(db, &[&rust]).unwrap();
    let joined = Article::objects()
        .filter_by_name("tags__name__in", "rust,intro")
        .unwrap();
    assert_eq!(joined.count(db).unwrap(), 3, "one row per matching tag");
    assert_eq!(joined.clone().distinct().count(db).unwrap(), 2);
    assert_eq!(joined.distinct().all(db).unwrap().len(), 2);
    assert_eq!(
        Article::objects()
            .filter(Article::TAGS.eq(intro.id))
            .count(db)
            .unwrap(),
        1
    );
}

// A SELECT's text is kept per query shape, so every run must bind its own
// values, and pick its own text where a value shapes it (`NULL`, the length
// of an `in` list, `isnull`); `get` reads a single row only when a unique
// field is pinned and no JOIN can repeat the row.

fn same_shape_other_values(db: &Database) {
    seed(db);
    let published: &[&str] = &["cooking", "gardening", "rust-advanced", "rust-intro"];
    // Neighbouring rows share a shape (or differ only where a value shapes the SQL).
    let cases: Vec<(Q, &[&str])> = vec![
        (Article::SLUG.eq("cooking"), &["cooking"]),
        (Article::SLUG.eq("gardening"), &["gardening"]),
        (
            Article::SLUG.is_in(["cooking", "gardening"]),
            &["cooking", "gardening"],
        ),
        (Article::SLUG.is_in(["rust-intro", "nope"]), &["rust-intro"]),
        (Article::SLUG.is_in(["cooking"]), &["cooking"]),
        (Article::SLUG.is_in(Vec::<String>::new()), &[]),
        (
            Article::SLUG.is_in(["cooking", "gardening", "rust-intro"]),
            &["cooking", "gardening", "rust-intro"],
        ),
        (Article::PUBLISHED_AT.is_null(true), &["secret-draft"]),
        (Article::PUBLISHED_AT.is_null(false), published),
        (
            Q::lookup("published_at", Lookup::Exact, Value::Null),
            &["secret-draft"],
        ),
        (
            Q::lookup("published_at", Lookup::Ne, Value::Null),
            published,
        ),
        (
            Article::VIEWS.gt(5) & Article::SLUG.startswith("rust"),
            &["rust-advanced", "rust-intro"],
        ),
        (
            Article::VIEWS.gt(10) & Article::SLUG.startswith("rust"),
            &["rust-advanced"],
        ),
        (
            Article::VIEWS.gt(0) & Article::SLUG.startswith("cook"),
            &["cooking"],
        ),
        (
            !Article::SLUG.contains("rust"),
            &["cooking", "gardening", "secret-draft"],
        ),
        (
            !Article::SLUG.contains("o"),
            &["gardening", "rust-advanced", "secret-draft"],
        ),
    ];
    for round in 0..2 {
        for (q, expected) in &cases {
            let found = slugs(db, Article::objects().filter(q.clone()));
            assert_eq!(found, *expected, "round {round}: {q:?}");
        }
    }
    // A value that does not fit the field is refused on every run, not only
    // the run that built the SQL text.
    for _ in 0..2 {
        let error = Article::objects()
            .filter(Q::lookup(
                "views",
                Lookup::Exact,
                Value::Text("many".into()),
            ))
            .all(db)
            .unwrap_err();
        assert!(matches!(error, Error::InvalidValue { .. }), "{error}");
    }
}

fn get_by_unique_field_and_duplicates(db: &Database) {
    let (_, _, articles) = seed(db);
    for article in &articles {
        let by_id = Article::objects()
            .get(db, Article::ID.eq(article.id))
            .unwrap();
        assert_eq!(by_id.slug, article.slug);
        let by_slug = Article::objects()
            .get(db, Article::SLUG.eq(article.slug.clone()))
            .unwrap();
        assert_eq!(by_slug.id, article.id);
    }
    let error = Article::objects()
        .get(db, Article::ID.eq(999_999))
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = Article::objects()
        .get(db, Q::lookup("id", Lookup::Exact, "first"))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidValue { .. }), "{error}");
    let filtered = Article::objects().filter(Article::SLUG.eq("cooking"));
    let error = filtered
        .get(db, Article::ID.eq(articles[0].id))
        .unwrap_err();
    assert!(error.is_not_found(), "the set's own filters apply: {error}");

    // A pinned primary key with a JOIN that repeats the row: still two rows.
    let (mut rust, mut systems) = (
        Tag {
            id: 0,
            name: "rust".into(),
        },
        Tag {
            id: 0,
            name: "systems".into(),
        },
    );
    rust.save(db).unwrap();
    systems.save(db).unwrap();
    articles[0].tags().add(db, &[&rust, &systems]).unwrap();
    let pinned = Article::ID.eq(articles[0].id) & Q::lookup("tags__id", Lookup::Gt, 0);
    let error = Article::objects().get(db, pinned).unwrap_err();
    assert!(matches!(error, Error::MultipleFound { .. }), "{error}");
    let one = Article::ID.eq(articles[0].id) & Q::lookup("tags__name", Lookup::Exact, "rust");
    assert_eq!(Article::objects().get(db, one).unwrap().id, articles[0].id);
}
