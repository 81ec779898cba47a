//! File fields: uploads checked for size and content type, saved through a
//! storage with the row, kept, replaced or cleared on update; on SQLite and
//! PostgreSQL.

mod common;

use std::sync::Arc;

use common::*;
use tack_forms::{FormData, LocalStorage, ModelForm, UploadedFile};
use tack_orm::prelude::*;

/// An upload: file name, content type, bytes.
type File<'a> = (&'a str, &'a str, &'a [u8]);

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR tiny";

fn storage() -> (tempfile::TempDir, Arc<LocalStorage>) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(LocalStorage::new(dir.path(), "/media/"));
    (dir, storage)
}

fn data(name: &str, file: Option<File<'_>>, clear: bool) -> FormData {
    let mut data = FormData::from_pairs([("name", name)]);
    if let Some((file_name, content_type, bytes)) = file {
        data.push_file(
            "avatar",
            UploadedFile::from_bytes(file_name, content_type, bytes).unwrap(),
        );
    }
    if clear {
        data.push("avatar-clear", "on");
    }
    data
}

fn uploads_are_saved_with_the_row(db: &Database) {
    let (dir, storage) = storage();
    let form = ModelForm::of::<Profile>().storage(storage.clone());
    let conn = db.connection().unwrap();
    let mut bound = form
        .bind(
            db,
            &data("Ada", Some(("me.png", "image/png", PNG)), false),
            None,
        )
        .unwrap();
    assert!(bound.is_valid(), "{:?}", bound.errors());
    let saved: Profile = bound.save(&conn).unwrap().unwrap().to_model().unwrap();
    assert_eq!(saved.avatar.as_deref(), Some("avatars/me.png"));
    assert_eq!(
        std::fs::read(dir.path().join("avatars/me.png")).unwrap(),
        PNG
    );

    // Shown again: a link to the file and a box to clear it.
    let shown = form.form(db, Some(tack_orm::Instance::of(&saved))).unwrap();
    let mut env = minijinja::Environment::new();
    tack_forms::install(&mut env);
    let html = env
        .render_str(
            "{{ form.avatar }}",
            minijinja::context! { form => shown.view() },
        )
        .unwrap();
    let html = html.replace("&#x2f;", "/");
    assert!(
        html.contains(r#"Currently: <a href="/media/avatars/me.png">avatars/me.png</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"name="avatar-clear""#), "{html}");
    assert!(html.contains(r#"accept="image/png,image/gif""#), "{html}");

    // Updated without a file, the file stays; with one, a new name.
    let instance = tack_orm::Instance::of(&saved);
    let mut kept = form
        .bind(db, &data("Ada L.", None, false), Some(instance.clone()))
        .unwrap();
    let kept: Profile = kept.save(&conn).unwrap().unwrap().to_model().unwrap();
    assert_eq!(kept.avatar.as_deref(), Some("avatars/me.png"));
    let mut replaced = form
        .bind(
            db,
            &data("Ada L.", Some(("me.png", "image/png", PNG)), false),
            Some(instance.clone()),
        )
        .unwrap();
    let replaced: Profile = replaced.save(&conn).unwrap().unwrap().to_model().unwrap();
    assert_eq!(
        replaced.avatar.as_deref(),
        Some("avatars/me_1.png"),
        "an existing file is never overwritten"
    );
    let mut cleared = form
        .bind(
            db,
            &data("Ada L.", None, true),
            Some(tack_orm::Instance::of(&replaced)),
        )
        .unwrap();
    let cleared: Profile = cleared.save(&conn).unwrap().unwrap().to_model().unwrap();
    assert_eq!(cleared.avatar, None);
}

fn bad_uploads_are_errors_beside_the_field(db: &Database) {
    let (dir, storage) = storage();
    let form = ModelForm::of::<Profile>().storage(storage);
    let big = [PNG, &[0u8; 2000][..]].concat();
    let cases: Vec<(Option<File<'_>>, bool, &str)> = vec![
        (
            Some(("big.png", "image/png", &big)),
            false,
            "Ensure this file has at most 1000 bytes (it has 2021).",
        ),
        (
            Some(("a.txt", "text/plain", b"hello")),
            false,
            "Upload a valid file: text/plain is not one of image/png, image/gif.",
        ),
        (
            Some(("fake.png", "image/png", b"<?php evil(); ?>")),
            false,
            "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
        ),
        (
            Some(("empty.png", "image/png", b"")),
            false,
            "The submitted file is empty.",
        ),
        (
            Some(("me.png", "image/png", PNG)),
            true,
            "Please either submit a file or check the clear checkbox, not both.",
        ),
    ];
    for (file, clear, message) in cases {
        let mut bound = form.bind(db, &data("Ada", file, clear), None).unwrap();
        assert_eq!(bound.errors().field("avatar"), [message]);
        assert!(bound.save(&db.connection().unwrap()).unwrap().is_none());
    }
    assert_eq!(Profile::objects().count(db).unwrap(), 0);
    assert!(!dir.path().join("avatars").exists(), "nothing was stored");
}

fn a_failed_write_leaves_no_file_behind(db: &Database) {
    let (dir, storage) = storage();
    let form = ModelForm::of::<Profile>().storage(storage);
    let too_long = "x".repeat(40);
    let mut bound = form
        .bind(
            db,
            &data(&too_long, Some(("me.png", "image/png", PNG)), false),
            None,
        )
        .unwrap();
    assert!(bound.is_valid());
    // The database refuses the row (a name longer than its column) after
    // the file was stored: the file goes again.
    let conn = db.connection().unwrap();
    conn.execute_batch("CREATE UNIQUE INDEX only_one ON news_profile (name)")
        .unwrap();
    let mut first = form.bind(db, &data(&too_long, None, false), None).unwrap();
    first.save(&conn).unwrap().unwrap();
    assert!(bound.save(&conn).unwrap().is_none());
    assert!(!dir.path().join("avatars/me.png").exists());
    assert_eq!(Profile::objects().count(db).unwrap(), 1);
}

fn without_a_storage_an_upload_is_an_error(db: &Database) {
    let mut bound = ModelForm::of::<Profile>()
        .bind(
            db,
            &data("Ada", Some(("me.png", "image/png", PNG)), false),
            None,
        )
        .unwrap();
    let error = bound.save(&db.connection().unwrap()).unwrap_err();
    assert!(
        error.to_string().contains("give its ModelForm a storage"),
        "{error}"
    );
}

on_both_databases!(
    uploads_are_saved_with_the_row,
    bad_uploads_are_errors_beside_the_field,
    a_failed_write_leaves_no_file_behind,
    without_a_storage_an_upload_is_an_error,
);
