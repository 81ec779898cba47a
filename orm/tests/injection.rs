//! Hostile strings at every lookup: they are bound, never spliced, so they
//! match nothing and break nothing.

mod common;

use common::*;
use tack_orm::Lookup;
use tack_orm::prelude::*;

conformance!(hostile_values_are_only_data, hostile_values_round_trip);

const HOSTILE: &[&str] = &[
    "'; DROP TABLE news_article; --",
    "\" OR 1=1 --",
    "' OR '1'='1",
    "1; DELETE FROM news_author",
    "%' OR slug LIKE '%",
    "\\'; SELECT 1; --",
    "$1",
    "?1",
    "\0",
    "Robert'); DROP TABLE news_tag;--",
];

fn hostile_values_are_only_data(db: &Database) {
    seed(db);
    for hostile in HOSTILE {
        for (name, _) in Lookup::ALL {
            let path = format!("slug__{name}");
            let value = match *name {
                "isnull" => continue,
                "range" => format!("{hostile},{hostile}"),
                _ => (*hostile).to_owned(),
            };
            if hostile.contains('\0') {
                let qs = Article::objects()
                    .filter_by_name(&path, value.as_str())
                    .unwrap();
                assert_eq!(qs.count(db).unwrap_err().status().as_u16(), 400, "{path}");
                continue;
            }
            let matched = Article::objects()
                .filter_by_name(&path, value.as_str())
                .unwrap()
                .count(db)
                .unwrap();
            let excluded = Article::objects()
                .exclude_by_name(&path, value.as_str())
                .unwrap()
                .count(db)
                .unwrap();
            assert_eq!(matched + excluded, 5, "{path} = {hostile:?}");
            // Ordering comparisons depend on the collation; the others match no slug.
            let expected = match *name {
                "ne" => 5,
                "lt" | "lte" | "gt" | "gte" => matched,
                _ => 0,
            };
            assert_eq!(matched, expected, "{path} = {hostile:?}");
        }
        if hostile.contains('\0') {
            continue;
        }
        let qs = Article::objects()
            .filter_by_name("author__name__icontains", *hostile)
            .unwrap();
        assert_eq!(qs.count(db).unwrap(), 0);
        let updated = Article::objects()
            .filter(Article::SLUG.eq(*hostile))
            .update(db, &[Article::BODY.set(*hostile)])
            .unwrap();
        assert_eq!(updated, 0);
        assert_eq!(
            Article::objects()
                .filter(Article::TITLE.eq(*hostile))
                .delete(db)
                .unwrap(),
            0
        );
        // As a field name it is refused before any SQL is built.
        assert!(Article::objects().filter_by_name(hostile, "x").is_err());
        assert!(Article::objects().order_by_name(hostile).is_err());
    }
    assert_eq!(Article::objects().count(db).unwrap(), 5);
    assert_eq!(Author::objects().count(db).unwrap(), 2);
}

fn hostile_values_round_trip(db: &Database) {
    let ada = author(db, "Ada");
    for (i, hostile) in HOSTILE.iter().enumerate() {
        if hostile.contains('\0') {
            continue; // PostgreSQL text cannot hold NUL.
        }
        let mut a = article(db, &ada, &format!("slug-{i}"), Status::Draft, None, 0);
        a.title = (*hostile).to_owned();
        a.save(db).unwrap();
        let back = Article::objects()
            .get(db, Article::TITLE.eq(*hostile))
            .unwrap();
        assert_eq!(back.id, a.id);
        let found = Article::objects()
            .filter(Article::TITLE.contains(hostile))
            .count(db)
            .unwrap();
        assert!(found >= 1, "{hostile:?}");
    }
}
