//! Filters, search and ordering from the query string; unknown names and
//! bad values are 400s naming them.

mod common;

use common::*;
use serde_json::Value;

async fn slugs(c: &tack_test::TestClient<tack_crud::Crud<Article>>, url: &str) -> Vec<String> {
    let r = c.get(url).send().await;
    assert_eq!(r.status(), 200, "{url}: {}", r.text());
    let page: Value = r.json();
    let mut out: Vec<String> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

async fn filters_select_rows(db: tack_orm::Database) {
    let s = seed(&db);
    let c = client(articles(&db).page_size(10, 10));
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("?status=draft".into(), vec!["secret-draft"]),
        (
            format!("?author={}", s.bob.id),
            vec!["cooking", "gardening"],
        ),
        (
            "?title__icontains=RUST".into(),
            vec!["rust-advanced", "rust-intro"],
        ),
        (
            "?published_at__gte=2024-01-03T00:00:00Z".into(),
            vec!["cooking", "gardening"],
        ),
        (
            "?published_at__lte=2024-01-01T12:00:00Z".into(),
            vec!["rust-intro"],
        ),
        ("?published_at__isnull=true".into(), vec!["secret-draft"]),
        (format!("?tags={}", s.food.id), vec!["cooking"]),
        ("?tag=rust".into(), vec!["rust-advanced", "rust-intro"]),
        (
            format!("?tag=rust&author={}", s.ada.id),
            vec!["rust-advanced", "rust-intro"],
        ),
        (
            "?status=published&title__icontains=o".into(),
            vec!["cooking", "rust-intro"],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            slugs(&c, &format!("/api/articles/{query}")).await,
            expected,
            "{query}"
        );
    }
}

async fn search_matches_every_word_in_any_field(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db).page_size(10, 10));
    let cases = [
        ("rust", vec!["rust-advanced", "rust-intro"]),
        ("PASTA", vec!["cooking"]),
        ("body+gardening", vec!["gardening"]),
        ("rust+pasta", vec![]),
    ];
    for (search, expected) in cases {
        assert_eq!(
            slugs(&c, &format!("/api/articles/?search={search}")).await,
            expected,
            "{search}"
        );
    }
}

async fn ordering_follows_the_parameter(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db).page_size(10, 10));
    let cases = [
        (
            "title",
            vec![
                "rust-advanced",
                "cooking",
                "gardening",
                "rust-intro",
                "secret-draft",
            ],
        ),
        (
            "-title",
            vec![
                "secret-draft",
                "rust-intro",
                "gardening",
                "cooking",
                "rust-advanced",
            ],
        ),
        (
            "-id",
            vec![
                "secret-draft",
                "gardening",
                "cooking",
                "rust-advanced",
                "rust-intro",
            ],
        ),
    ];
    for (ordering, expected) in cases {
        let page: Value = c
            .get(&format!("/api/articles/?ordering={ordering}"))
            .send()
            .await
            .json();
        let got: Vec<&str> = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{ordering}");
    }
}

async fn unknown_names_and_bad_values_are_400(db: tack_orm::Database) {
    seed(&db);
    let c = client(articles(&db));
    let cases = [
        ("?colour=red", "colour"),
        ("?body=x", "body"),
        ("?title__startswith=x", "title__startswith"),
        ("?ordering=body", "body"),
        ("?ordering=-slug,title", "-slug"),
        ("?author=abc", "abc"),
        ("?published_at__gte=yesterday", "yesterday"),
        ("?tags=x", "tags"),
        // A choice that does not exist is refused, not an empty page.
        ("?status=null", "expected one of: draft, published"),
    ];
    for (query, needle) in cases {
        let r = c.get(&format!("/api/articles/{query}")).send().await;
        assert_eq!(r.status(), 400, "{query}: {}", r.text());
        assert_eq!(r.content_type(), Some("application/problem+json"));
        assert!(r.text().contains(needle), "{query}: {}", r.text());
    }
}

async fn undeclared_search_and_ordering_are_unknown(db: tack_orm::Database) {
    seed(&db);
    let plain = tack_crud::Crud::<Article>::new(tack_orm::AsyncDatabase::new(db.clone(), 1));
    let c = client(plain);
    for query in ["?search=rust", "?ordering=title", "?status=draft"] {
        let r = c.get(&format!("/{query}")).send().await;
        assert_eq!(r.status(), 400, "{query}");
    }
}

on_both_databases!(
    filters_select_rows,
    search_matches_every_word_in_any_field,
    ordering_follows_the_parameter,
    unknown_names_and_bad_values_are_400,
    undeclared_search_and_ordering_are_unknown,
);
