//! Writes: save, create, get_or_create, update_or_create, bulk_create,
//! update, delete, and transactions with savepoints.

mod common;

use common::*;
use tack_orm::Error;
use tack_orm::prelude::*;

conformance!(
    save_inserts_then_updates,
    create_and_bulk_create,
    bulk_create_is_all_or_nothing,
    get_or_create_and_update_or_create,
    unique_violation_names_the_constraint,
    queryset_delete_and_model_delete,
    atomic_commits_and_rolls_back,
    atomic_nests_with_savepoints,
    atomic_rolls_back_on_panic,
);

fn save_inserts_then_updates(db: &Database) {
    let mut a = Author {
        id: 0,
        name: "Ada".into(),
        bio: String::new(),
    };
    a.save(db).unwrap();
    let first_id = a.id;
    assert!(first_id > 0);
    a.bio = "Mathematician".into();
    a.save(db).unwrap();
    assert_eq!(a.id, first_id);
    assert_eq!(Author::objects().count(db).unwrap(), 1);
    assert_eq!(Author::find(db, first_id).unwrap().bio, "Mathematician");
    // A row saved with an explicit key that does not exist yet is inserted.
    let mut b = Author {
        id: 777,
        name: "Bob".into(),
        bio: String::new(),
    };
    b.save(db).unwrap();
    assert_eq!(Author::find(db, 777).unwrap().name, "Bob");
    let mut refreshed = a.clone();
    Author::objects()
        .filter(Author::ID.eq(a.id))
        .update(db, &[Author::NAME.set("Ada L.")])
        .unwrap();
    refreshed.refresh(db).unwrap();
    assert_eq!(refreshed.name, "Ada L.");
}

fn create_and_bulk_create(db: &Database) {
    let ada = Author::objects()
        .create(
            db,
            Author {
                id: 0,
                name: "Ada".into(),
                bio: String::new(),
            },
        )
        .unwrap();
    assert!(ada.id > 0);
    let tags: Vec<Tag> = (0..50)
        .map(|i| Tag {
            id: 0,
            name: format!("tag-{i}"),
        })
        .collect();
    let saved = Tag::objects().bulk_create(db, tags).unwrap();
    assert_eq!(saved.len(), 50);
    assert!(saved.iter().all(|t| t.id > 0));
    let mut ids: Vec<i64> = saved.iter().map(|t| t.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    assert_eq!(Tag::objects().count(db).unwrap(), 50);
}

fn bulk_create_is_all_or_nothing(db: &Database) {
    let tags = vec![
        Tag {
            id: 0,
            name: "a".into(),
        },
        Tag {
            id: 0,
            name: "b".into(),
        },
        Tag {
            id: 0,
            name: "a".into(),
        },
    ];
    let error = Tag::objects().bulk_create(db, tags).unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
    assert_eq!(
        Tag::objects().count(db).unwrap(),
        0,
        "the whole batch rolled back"
    );
    let invalid = vec![
        Tag {
            id: 0,
            name: "ok".into(),
        },
        Tag {
            id: 0,
            name: String::new(),
        },
    ];
    let error = Tag::objects().bulk_create(db, invalid).unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error}");
    assert_eq!(Tag::objects().count(db).unwrap(), 0);
}

fn get_or_create_and_update_or_create(db: &Database) {
    let make = || Tag {
        id: 0,
        name: "rust".into(),
    };
    let (first, created) = Tag::objects()
        .get_or_create(db, Tag::NAME.eq("rust"), make)
        .unwrap();
    assert!(created);
    let (second, created) = Tag::objects()
        .get_or_create(db, Tag::NAME.eq("rust"), make)
        .unwrap();
    assert!(!created);
    assert_eq!(first.id, second.id);

    let ada = author(db, "Ada");
    let (a, created) = Author::objects()
        .update_or_create(
            db,
            Author::NAME.eq("Ada"),
            |a| a.bio = "updated".into(),
            || unreachable!(),
        )
        .unwrap();
    assert!(!created);
    assert_eq!((a.id, a.bio.as_str()), (ada.id, "updated"));
    let (b, created) = Author::objects()
        .update_or_create(
            db,
            Author::NAME.eq("Bob"),
            |a| a.bio = "new".into(),
            || Author {
                id: 0,
                name: "Bob".into(),
                bio: String::new(),
            },
        )
        .unwrap();
    assert!(created);
    assert_eq!(Author::find(db, b.id).unwrap().bio, "new");
}

fn unique_violation_names_the_constraint(db: &Database) {
    let ada = author(db, "Ada");
    article(db, &ada, "same", Status::Draft, None, 0);
    let mut twin = article(db, &ada, "other", Status::Draft, None, 0);
    twin.slug = "same".into();
    let error = twin.save(db).unwrap_err();
    match &error {
        Error::UniqueViolation { constraint, .. } => {
            assert!(constraint.contains("slug"), "{constraint}")
        }
        other => panic!("expected a unique violation, got {other}"),
    }
    assert_eq!(error.status().as_u16(), 409);
    assert_eq!(Article::find(db, twin.id).unwrap().slug, "other");
}

fn queryset_delete_and_model_delete(db: &Database) {
    let (ada, _, articles) = seed(db);
    let deleted = Article::objects()
        .filter(Article::VIEWS.eq(0))
        .delete(db)
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(Article::objects().count(db).unwrap(), 3);
    assert!(articles[0].delete(db).unwrap());
    assert!(!articles[0].delete(db).unwrap(), "already gone");
    assert_eq!(
        Article::objects()
            .filter_by_name("author__name", "Ada")
            .unwrap()
            .delete(db)
            .unwrap(),
        1
    );
    assert_eq!(Article::objects().count(db).unwrap(), 1);
    assert!(Author::find(db, ada.id).is_ok());
}

fn atomic_commits_and_rolls_back(db: &Database) {
    let committed: Result<(), Error> = db.atomic(|tx| {
        Author {
            id: 0,
            name: "Kept".into(),
            bio: String::new(),
        }
        .save(tx)?;
        Ok(())
    });
    committed.unwrap();
    let failed: Result<(), Error> = db.atomic(|tx| {
        Author {
            id: 0,
            name: "Gone".into(),
            bio: String::new(),
        }
        .save(tx)?;
        Err(Error::NotFound { model: "anything" })
    });
    assert!(failed.is_err());
    let names: Vec<String> = Author::objects()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert!(names.contains(&"Kept".to_owned()));
    assert!(!names.contains(&"Gone".to_owned()));
}

fn atomic_nests_with_savepoints(db: &Database) {
    let result: Result<(), Error> = db.atomic(|tx| {
        Author {
            id: 0,
            name: "Outer".into(),
            bio: String::new(),
        }
        .save(tx)?;
        let inner: Result<(), Error> = tx.atomic(|tx| {
            Author {
                id: 0,
                name: "Inner".into(),
                bio: String::new(),
            }
            .save(tx)?;
            Err(Error::Busy {
                message: "inner fails".into(),
            })
        });
        assert!(inner.is_err());
        tx.atomic(|tx| {
            Author {
                id: 0,
                name: "Inner kept".into(),
                bio: String::new(),
            }
            .save(tx)
        })?;
        assert_eq!(Author::objects().count(tx).unwrap(), 2);
        Ok(())
    });
    result.unwrap();
    let mut names: Vec<String> = Author::objects()
        .all(db)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Inner kept", "Outer"]);
}

fn atomic_rolls_back_on_panic(db: &Database) {
    let db2 = db.clone();
    let outcome = std::panic::catch_unwind(move || {
        let _: Result<(), Error> = db2.atomic(|tx| {
            Author {
                id: 0,
                name: "Panicked".into(),
                bio: String::new(),
            }
            .save(tx)?;
            panic!("boom");
        });
    });
    assert!(outcome.is_err());
    assert_eq!(Author::objects().count(db).unwrap(), 0);
    // The pool still serves after the panic.
    author(db, "After");
    assert_eq!(Author::objects().count(db).unwrap(), 1);
}
