//! Model options: default ordering, `auto_now` and `auto_now_add`,
//! `editable = false`, slug, e-mail and URL fields.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use tack_orm::prelude::*;
use tack_orm::{Instance, ListQuery, Value};

conformance!(
    default_ordering_applies_when_none_is_given,
    timestamps_are_set_by_the_orm,
    timestamps_through_the_model_handle,
    slug_email_and_url_fields_are_checked,
    integer_choices_are_stored_as_numbers,
);

fn note(db: &Database, title: &str, pinned: bool) -> Note {
    let epoch = Utc.timestamp_opt(0, 0).unwrap();
    Note::objects()
        .create(
            db,
            Note {
                id: 0,
                title: title.into(),
                pinned,
                created_at: epoch,
                updated_at: epoch,
                day: epoch.date_naive(),
                revision: 0,
            },
        )
        .unwrap()
}

fn titles(notes: &[Note]) -> Vec<&str> {
    notes.iter().map(|n| n.title.as_str()).collect()
}

fn default_ordering_applies_when_none_is_given(db: &Database) {
    for (title, pinned) in [("b", false), ("a", false), ("z", true), ("c", true)] {
        note(db, title, pinned);
    }
    let all = Note::objects().all(db).unwrap();
    assert_eq!(titles(&all), ["c", "z", "a", "b"], "-pinned, then title");
    let by_title = Note::objects()
        .order_by(Note::TITLE.desc())
        .all(db)
        .unwrap();
    assert_eq!(
        titles(&by_title),
        ["z", "c", "b", "a"],
        "an explicit order wins"
    );
    assert_eq!(Note::objects().first(db).unwrap().unwrap().title, "c");
    assert_eq!(Note::objects().last(db).unwrap().unwrap().title, "b");
    let listed = Note::meta().handle().list(db, &ListQuery::new()).unwrap();
    let listed: Vec<_> = listed
        .iter()
        .map(|n| n.get("title").unwrap().to_string())
        .collect();
    assert_eq!(listed, ["c", "z", "a", "b"], "generic lists keep it too");
    // Models without the option keep the database's order unless asked.
    assert!(Article::meta().default_order().is_empty());
}

fn timestamps_are_set_by_the_orm(db: &Database) {
    let before = Utc::now() - chrono::Duration::seconds(1);
    let mut saved = note(db, "n", false);
    assert!(saved.created_at >= before, "auto_now_add on insert");
    assert!(saved.updated_at >= before, "auto_now on insert");
    assert_eq!(saved.day, saved.created_at.date_naive());
    assert_eq!(
        Note::find(db, saved.id).unwrap(),
        saved,
        "what is stored is what the model holds"
    );

    let long_ago = Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap();
    saved.created_at = long_ago;
    saved.updated_at = long_ago;
    saved.title = "renamed".into();
    saved.save(db).unwrap();
    let stored = Note::find(db, saved.id).unwrap();
    assert_eq!(
        stored.created_at, long_ago,
        "auto_now_add is not set again on update"
    );
    assert!(stored.updated_at >= before, "auto_now is set on every save");
    assert_eq!(stored, saved);
}

fn timestamps_through_the_model_handle(db: &Database) {
    let meta = Note::meta();
    let editable: Vec<&str> = meta
        .fields
        .iter()
        .filter(|f| f.editable)
        .map(|f| f.name)
        .collect();
    assert_eq!(editable, ["title", "pinned"]);
    let required: Vec<&str> = meta.required_fields().map(|f| f.name).collect();
    assert_eq!(required, ["title", "pinned"], "no timestamps, no revision");
    let handle = meta.handle();
    let mut blank = handle.blank();
    blank.set_input("title", "generic").unwrap();
    let before = Utc::now() - chrono::Duration::seconds(1);
    handle.create(db, &mut blank).unwrap();
    let stored: Note = handle.get(db, blank.pk()).unwrap().to_model().unwrap();
    assert!(stored.created_at >= before);
    assert_eq!(
        Instance::of(&stored),
        blank,
        "the instance holds what was stored"
    );
}

fn slug_email_and_url_fields_are_checked(db: &Database) {
    let meta = Contact::meta();
    let lengths: Vec<Option<u32>> = meta.fields[1..].iter().map(|f| f.max_length).collect();
    assert_eq!(
        lengths,
        [Some(50), Some(254), Some(200)],
        "Django's default lengths"
    );
    let contact = |handle: &str, email: &str, site: Option<&str>| Contact {
        id: 0,
        handle: handle.into(),
        email: email.into(),
        site: site.map(str::to_owned),
    };
    let cases = [
        (contact("ada lovelace", "ada@example.com", None), "handle"),
        (contact("ada", "ada@example", None), "email"),
        (
            contact("ada", "ada@example.com", Some("example.com")),
            "site",
        ),
        (
            contact("ada", "ada@example.com", Some("javascript://x.com")),
            "site",
        ),
    ];
    for (bad, field) in cases {
        let error = Contact::objects().create(db, bad.clone()).unwrap_err();
        let errors = error
            .validation_errors()
            .unwrap_or_else(|| panic!("{bad:?}: {error}"));
        assert_eq!(
            errors.fields().keys().collect::<Vec<_>>(),
            [field],
            "{bad:?}"
        );
    }
    assert_eq!(Contact::objects().count(db).unwrap(), 0, "nothing written");
    let good = contact(
        "ada-l_1",
        "ada+news@example.co.uk",
        Some("https://ada.example.org/blog"),
    );
    Contact::objects().create(db, good).unwrap();
    Contact::objects()
        .create(db, contact("bob", "bob@localhost", None))
        .unwrap();
    assert_eq!(Contact::objects().count(db).unwrap(), 2);
}

fn integer_choices_are_stored_as_numbers(db: &Database) {
    let field = Ticket::meta().try_field("priority").unwrap();
    assert_eq!(field.kind, tack_orm::FieldKind::I64);
    assert_eq!(
        field.choices,
        [("1", "Low"), ("5", "Normal priority"), ("9", "High")]
    );
    let handle = Ticket::meta().handle();
    assert_eq!(
        handle.blank().get("priority"),
        Some(&Value::I64(5)),
        "the default"
    );
    for priority in [Priority::High, Priority::Low] {
        Ticket::objects()
            .create(db, Ticket { id: 0, priority })
            .unwrap();
    }
    let stored: Vec<Vec<Value>> = Ticket::objects()
        .order_by(Ticket::ID.asc())
        .values_list(db, &["priority"])
        .unwrap();
    assert_eq!(stored, [vec![Value::I64(9)], vec![Value::I64(1)]]);
    let high = Ticket::objects()
        .filter(Ticket::PRIORITY.eq(Priority::High))
        .one(db)
        .unwrap();
    assert_eq!(high.priority, Priority::High);
    let urgent = Ticket::objects()
        .filter(Ticket::PRIORITY.gt(Priority::Normal))
        .count(db)
        .unwrap();
    assert_eq!(urgent, 1, "numbers compare as numbers");
    // A number that is no choice is refused, naming the field.
    let mut odd = handle.blank();
    odd.set_input("priority", "7").unwrap();
    let error = handle.create(db, &mut odd).unwrap_err();
    let errors = error.validation_errors().expect("a validation error");
    assert!(errors.get("priority")[0].contains("1, 5, 9"), "{errors}");
    let mut fine = handle.blank();
    fine.set_input("priority", "1").unwrap();
    handle.create(db, &mut fine).unwrap();
    assert_eq!(Ticket::objects().count(db).unwrap(), 3);
}
