//! Property test: whatever the query string, the list answers 200, 400 or
//! 404 with a JSON body, never a panic or a 500.

mod common;

use common::*;
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("page".to_owned()),
        Just("page_size".to_owned()),
        Just("search".to_owned()),
        Just("ordering".to_owned()),
        Just("status".to_owned()),
        Just("author".to_owned()),
        Just("tags".to_owned()),
        Just("tag".to_owned()),
        Just("title__icontains".to_owned()),
        Just("published_at__gte".to_owned()),
        Just("published_at__isnull".to_owned()),
        "[a-z_]{1,12}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_owned()),
        Just("-title,published_at".to_owned()),
        Just("2024-01-02T00:00:00Z".to_owned()),
        Just("published".to_owned()),
        Just("true".to_owned()),
        "[0-9]{0,20}",
        "\\PC{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn any_query_gets_a_clear_answer(pairs in proptest::collection::vec((key(), value()), 0..4)) {
        let file = tack_test::db::sqlite();
        let db = tack_orm::Database::connect(&file.url()).unwrap();
        db.create_tables(&all_models()).unwrap();
        seed(&db);
        let c = client(articles(&db));
        let query = serde_urlencoded::to_string(&pairs).unwrap();
        let r = futures_executor::block_on(c.get(&format!("/api/articles/?{query}")).send());
        let status = r.status().as_u16();
        prop_assert!([200, 400, 404].contains(&status), "{query}: {status} {}", r.text());
        let expected = if status == 200 { "application/json" } else { "application/problem+json" };
        prop_assert_eq!(r.content_type(), Some(expected));
        let _: serde_json::Value = serde_json::from_slice(r.bytes()).unwrap();
    }
}
