//! Metadata, field types, validation and choices.

mod common;

use chrono::{NaiveDate, NaiveTime};
use common::*;
use tack_orm::prelude::*;
use tack_orm::{Error, FieldKind, OnDelete, RelationKind, Value};
use uuid::Uuid;

conformance!(
    every_field_type_round_trips,
    validation_refuses_bad_data,
    get_and_set_by_name,
    uuid_primary_key_saves_then_updates
);

#[test]
fn metadata_describes_the_model() {
    let meta = Article::meta();
    assert_eq!(meta.table, "news_article");
    assert_eq!(meta.app, "news");
    assert_eq!(meta.verbose_name, "article");
    assert_eq!(meta.pk_field().name, "id");
    assert!(meta.pk_field().auto);
    let title = meta.field("title").unwrap();
    assert_eq!(title.max_length, Some(200));
    assert_eq!(title.kind, FieldKind::Text);
    let slug = meta.field("slug").unwrap();
    assert!(slug.unique);
    let author = meta.field("author").unwrap();
    assert_eq!(author.column, "author_id");
    let relation = author.relation.unwrap();
    assert_eq!(relation.kind, RelationKind::ForeignKey);
    assert_eq!((relation.target)().name, "Author");
    assert_eq!(relation.on_delete, OnDelete::Cascade);
    assert_eq!(relation.related_name, Some("articles"));
    let status = meta.field("status").unwrap();
    assert_eq!(
        status.choices,
        &[("draft", "Draft"), ("published", "Published")]
    );
    assert_eq!(
        status.default.map(|d| d()),
        Some(Value::Text("draft".into()))
    );
    assert!(status.index);
    assert!(meta.field("published_at").unwrap().null);
    assert!(!meta.field("title").unwrap().null);
    assert_eq!(meta.many_to_many[0].join_table, "news_article_tags");
    assert_eq!(meta.many_to_many[0].source_column, "article_id");
    assert_eq!(meta.many_to_many[0].target_column, "tag_id");
    let reverse = meta.reverse("comments").unwrap();
    assert_eq!(
        ((reverse.source)().name, reverse.field),
        ("Comment", "article")
    );
    assert_eq!(
        meta.fields.len(),
        9,
        "relations that are not columns stay out of the fields"
    );
    let name = Author::meta().field("name").unwrap();
    assert_eq!(name.verbose_name, "display name");
    assert_eq!(name.help_text, "Shown on articles");
    assert_eq!(Token::meta().table, "api_token");
    assert!(!Token::meta().pk_field().auto);
    let profile = Profile::meta();
    assert_eq!(
        profile.field("author").unwrap().relation.unwrap().kind,
        RelationKind::OneToOne
    );
    assert_eq!(
        profile.field("mentor").unwrap().relation.unwrap().on_delete,
        OnDelete::SetNull
    );
    assert_eq!(Status::Published.label(), "Published");
    assert_eq!(Status::from_str_value("draft"), Some(Status::Draft));
}

fn every_field_type_round_trips(db: &Database) {
    let mut e = Everything {
        id: 0,
        flag: true,
        small: -7,
        big: 1 << 40,
        ratio: 2.5,
        text: "héllo 'quoted' \"double\"".into(),
        data: vec![0, 1, 2, 255],
        day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        moment: at(5),
        uid: Uuid::new_v4(),
        doc: serde_json::json!({"a": [1, 2, {"b": null}]}),
        maybe_text: None,
        maybe_int: Some(3),
        maybe_moment: None,
        clock: NaiveTime::from_hms_micro_opt(9, 30, 5, 250).unwrap(),
        maybe_clock: None,
        took: chrono::TimeDelta::microseconds(5_400_000_001),
        // 15 significant digits: exact on both databases.
        price: "1234567890123.45".parse().unwrap(),
        maybe_price: Some("0.1".parse().unwrap()),
    };
    e.save(db).unwrap();
    assert!(e.id > 0);
    let back = Everything::find(db, e.id).unwrap();
    assert_eq!(back, e);
    e.maybe_text = Some("now set".into());
    e.maybe_moment = Some(at(6));
    e.maybe_clock = Some(NaiveTime::from_hms_opt(23, 59, 0).unwrap());
    e.save(db).unwrap();
    assert_eq!(
        Everything::objects().count(db).unwrap(),
        1,
        "save of a saved row updates it"
    );
    assert_eq!(Everything::find(db, e.id).unwrap(), e);
    let found = Everything::objects()
        .filter(Everything::UID.eq(e.uid))
        .filter(Everything::DAY.eq(e.day))
        .one(db)
        .unwrap();
    assert_eq!(found.id, e.id);
    assert_eq!(
        Everything::objects()
            .filter(Everything::MOMENT.gt(at(4)))
            .count(db)
            .unwrap(),
        1
    );
    // Times of day compare in order on both databases, and parse from a form.
    let early = Everything::CLOCK.lt(NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    assert_eq!(Everything::objects().filter(early).count(db).unwrap(), 1);
    let clock = Everything::meta().try_field("clock").unwrap();
    assert_eq!(
        clock.parse_input("07:45").unwrap(),
        Value::Time(NaiveTime::from_hms_opt(7, 45, 0).unwrap())
    );
    assert!(clock.parse_input("25:00").is_err());
    let long = Everything::TOOK.gt(chrono::TimeDelta::hours(1));
    assert_eq!(Everything::objects().filter(long).count(db).unwrap(), 1);
    let took = Everything::meta().try_field("took").unwrap();
    assert_eq!(
        took.parse_input("1 day, 2:00:00").unwrap(),
        Value::Duration(chrono::TimeDelta::hours(26))
    );
    // Decimals are exact, compare as numbers and keep their digits.
    let loaded = Everything::objects()
        .get(db, Everything::ID.eq(e.id))
        .unwrap();
    assert_eq!(
        loaded.price,
        "1234567890123.45".parse::<tack_orm::Decimal>().unwrap()
    );
    assert_eq!(loaded.maybe_price.unwrap().to_string(), "0.1");
    let dear = Everything::PRICE.gt("999999999999.99".parse::<tack_orm::Decimal>().unwrap());
    assert_eq!(Everything::objects().filter(dear).count(db).unwrap(), 1);
    let price = Everything::meta().try_field("price").unwrap();
    assert_eq!(
        price.parse_input(" 12.50 ").unwrap(),
        Value::Decimal("12.50".parse().unwrap())
    );
    assert!(price.parse_input("twelve").is_err());
    assert_eq!(
        Value::from_json(&serde_json::json!(0.3), tack_orm::FieldKind::Decimal).unwrap(),
        Value::Decimal("0.3".parse().unwrap()),
        "a JSON number's digits, not a float's"
    );
    assert_eq!(
        Value::Decimal("12.50".parse().unwrap()).to_json(),
        serde_json::json!("12.50")
    );
    // More digits than SQLite keeps exactly: refused there, not rounded.
    let mut precise = loaded.clone();
    precise.id = 0;
    precise.price = "12345678901234567.891".parse().unwrap();
    let saved = precise.save(db);
    match db.dialect() {
        tack_orm::Dialect::Sqlite => {
            let error = saved.expect_err("SQLite would round it");
            assert!(
                error
                    .to_string()
                    .contains("has 20 significant digits; SQLite keeps 15"),
                "{error}"
            );
        }
        _ => {
            saved.unwrap();
            let back = Everything::objects()
                .get(db, Everything::ID.eq(precise.id))
                .unwrap();
            assert_eq!(back.price.to_string(), "12345678901234567.891");
            Everything::objects()
                .filter(Everything::ID.eq(precise.id))
                .delete(db)
                .unwrap();
        }
    }
    assert_eq!(
        Everything::objects()
            .filter(Everything::FLAG.eq(true))
            .count(db)
            .unwrap(),
        1
    );
}

fn validation_refuses_bad_data(db: &Database) {
    let ada = author(db, "Ada");
    let mut bad = Article {
        id: 0,
        title: "x".repeat(201),
        slug: String::new(),
        body: String::new(),
        author: ForeignKey::from(&ada),
        status: Status::Published,
        published_at: None,
        views: 0,
        rating: 0.0,
        tags: ManyToMany::new(),
        comments: tack_orm::Reverse::new(),
    };
    let errors = bad.validate().unwrap_err();
    assert_eq!(
        errors.get("title"),
        ["at most 200 characters allowed (it has 201)"]
    );
    assert_eq!(errors.get("slug"), ["this field cannot be blank"]);
    assert_eq!(
        errors.get("published_at"),
        ["a published article needs a publication date"]
    );
    assert!(
        errors.get("body").is_empty(),
        "blank = true allows an empty body"
    );
    let error = bad.save(db).unwrap_err();
    assert_eq!(error.status().as_u16(), 422);
    assert!(matches!(error, Error::Validation { .. }));
    assert_eq!(Article::objects().count(db).unwrap(), 0, "nothing written");

    let mut token = Token {
        key: Uuid::new_v4(),
        label: "has space".into(),
    };
    let errors = token.validate().unwrap_err();
    assert_eq!(errors.get("label"), ["no spaces allowed"]);
    assert!(token.save(db).is_err());

    // Choices are checked when a value arrives as text.
    let mut article = article(db, &ada, "ok", Status::Draft, None, 0);
    let error = article
        .set_value("status", Value::Text("archived".into()))
        .unwrap_err();
    assert!(error.to_string().contains("status"), "{error}");
    let error = Article::objects()
        .update(db, &[tack_orm::Assignment::new("title", "y".repeat(300))])
        .unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error}");
}

fn get_and_set_by_name(db: &Database) {
    let ada = author(db, "Ada");
    let mut a = article(db, &ada, "named", Status::Draft, None, 3);
    assert_eq!(
        a.get_value("title"),
        Some(Value::Text("Title of named".into()))
    );
    assert_eq!(a.get_value("author"), Some(Value::I64(ada.id)));
    assert_eq!(a.get_value("status"), Some(Value::Text("draft".into())));
    assert_eq!(a.get_value("nope"), None);
    a.set_value("title", Value::Text("Renamed".into())).unwrap();
    a.set_value("views", Value::Text("42".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    a.set_value("published_at", Value::Text("2024-01-09T10:00:00Z".into()))
        .unwrap();
    a.set_value("status", Value::Text("published".into()))
        .unwrap();
    a.save(db).unwrap();
    let back = Article::find(db, a.id).unwrap();
    assert_eq!(back.title, "Renamed");
    assert_eq!(back.views, 42);
    assert_eq!(back.status, Status::Published);
    let error = a.set_value("missing", Value::Null).unwrap_err();
    assert!(
        matches!(error, Error::UnknownField { ref field, .. } if field == "missing"),
        "{error}"
    );
    assert!(a.set_value("views", Value::Text("many".into())).is_err());
}

fn uuid_primary_key_saves_then_updates(db: &Database) {
    let mut token = Token {
        key: Uuid::new_v4(),
        label: "first".into(),
    };
    token.save(db).unwrap();
    token.label = "second".into();
    token.save(db).unwrap();
    assert_eq!(Token::objects().count(db).unwrap(), 1);
    assert_eq!(Token::find(db, token.key).unwrap(), token);
    assert!(Token::find(db, Uuid::new_v4()).unwrap_err().is_not_found());
}
