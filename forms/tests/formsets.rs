//! Formsets of typed forms, and inline formsets of a parent's child rows
//! on SQLite and PostgreSQL.

mod common;

use common::*;
use tack_forms::{Form, FormData, FormSet, InlineFormSet};
use tack_orm::prelude::*;
use tack_orm::{Instance, ModelHandle};

#[derive(Debug, Form, PartialEq)]
struct Line {
    #[form(max_length = 20)]
    item: String,
    #[form(min = 1)]
    quantity: u32,
}

fn sent(pairs: &[(&str, &str)]) -> FormData {
    FormData::from_pairs(pairs.iter().copied())
}

#[test]
fn an_unbound_set_shows_initial_and_extra_forms() {
    let set = FormSet::<Line>::new("lines")
        .extra(2)
        .form(&[vec![("item", "tea".to_owned())]]);
    assert_eq!(set.forms().len(), 3);
    assert_eq!(set.forms()[0].state().input("item").text(), "tea");
    let mut env = minijinja::Environment::new();
    tack_forms::install(&mut env);
    env.add_template("s.html", "{{ formset }}").unwrap();
    let html = env
        .get_template("s.html")
        .unwrap()
        .render(minijinja::context! { formset => set.view() })
        .unwrap();
    for expected in [
        r#"<input type="hidden" name="lines-TOTAL_FORMS" id="id_lines-TOTAL_FORMS" value="3" required>"#,
        r#"<input type="hidden" name="lines-INITIAL_FORMS" id="id_lines-INITIAL_FORMS" value="1" required>"#,
        r#"name="lines-0-item" id="id_lines-0-item" value="tea""#,
        r#"name="lines-2-quantity""#,
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    let empty = env
        .render_str(
            "{{ formset.empty_form.item.name }}",
            minijinja::context! { formset => set.view() },
        )
        .unwrap();
    assert_eq!(empty, "lines-__prefix__-item");
}

#[test]
fn extra_forms_left_empty_are_skipped() {
    let data = sent(&[
        ("lines-TOTAL_FORMS", "3"),
        ("lines-INITIAL_FORMS", "0"),
        ("lines-0-item", "tea"),
        ("lines-0-quantity", "2"),
        ("lines-1-item", ""),
        ("lines-1-quantity", ""),
        ("lines-2-item", "cake"),
        ("lines-2-quantity", "1"),
    ]);
    let set = FormSet::<Line>::new("lines").bind(&data);
    assert!(set.is_valid());
    let lines: Vec<&Line> = set.cleaned().unwrap();
    assert_eq!(
        lines,
        [
            &Line {
                item: "tea".into(),
                quantity: 2
            },
            &Line {
                item: "cake".into(),
                quantity: 1
            }
        ]
    );
}

#[test]
fn a_bad_form_makes_the_set_invalid() {
    let data = sent(&[
        ("lines-TOTAL_FORMS", "2"),
        ("lines-INITIAL_FORMS", "0"),
        ("lines-0-item", "tea"),
        ("lines-0-quantity", "0"),
        ("lines-1-item", "cake"),
    ]);
    let set = FormSet::<Line>::new("lines").bind(&data);
    assert!(!set.is_valid());
    assert!(set.cleaned().is_none());
    assert_eq!(
        set.forms()[0].errors().field("quantity"),
        ["Ensure this value is greater than or equal to 1."]
    );
    assert_eq!(
        set.forms()[1].errors().field("quantity"),
        ["This field is required."]
    );
}

#[test]
fn the_set_checks_its_counts_and_its_management_form() {
    let line = |i: usize| {
        [
            (format!("lines-{i}-item"), "tea".to_owned()),
            (format!("lines-{i}-quantity"), "1".to_owned()),
        ]
    };
    let with = |total: usize, filled: usize| {
        let mut data = FormData::new();
        data.push("lines-TOTAL_FORMS", total.to_string());
        data.push("lines-INITIAL_FORMS", "0");
        for i in 0..filled {
            for (k, v) in line(i) {
                data.push(k, v);
            }
        }
        data
    };
    let set = FormSet::<Line>::new("lines").min_num(2).bind(&with(2, 1));
    assert_eq!(
        set.state().non_form_errors(),
        ["Please submit at least 2 forms."]
    );
    let set = FormSet::<Line>::new("lines").max_num(1).bind(&with(2, 2));
    assert_eq!(
        set.state().non_form_errors(),
        ["Please submit at most 1 form."]
    );
    let set = FormSet::<Line>::new("lines")
        .max_num(1)
        .bind(&with(5000, 0));
    assert_eq!(
        set.state().non_form_errors(),
        ["Please submit at most 1 form."]
    );
    assert!(set.forms().len() <= 1001, "a claimed total is capped");

    let set = FormSet::<Line>::new("lines").bind(&sent(&[("lines-0-item", "tea")]));
    assert!(!set.is_valid());
    assert_eq!(
        set.state().non_form_errors(),
        [
            "ManagementForm data is missing or has been tampered with. Missing fields: lines-TOTAL_FORMS, lines-INITIAL_FORMS. You may need to file a bug report if the issue persists."
        ]
    );
    let set = FormSet::<Line>::new("lines").bind(&sent(&[
        ("lines-TOTAL_FORMS", "-1"),
        ("lines-INITIAL_FORMS", "0"),
    ]));
    assert!(!set.is_valid());
}

#[test]
fn deleted_forms_are_not_checked() {
    let data = sent(&[
        ("lines-TOTAL_FORMS", "2"),
        ("lines-INITIAL_FORMS", "2"),
        ("lines-0-item", "tea"),
        ("lines-0-quantity", "1"),
        ("lines-1-item", ""),
        ("lines-1-DELETE", "on"),
    ]);
    let set = FormSet::<Line>::new("lines").can_delete(true).bind(&data);
    assert!(set.is_valid());
    assert_eq!(set.deleted(), [1]);
    assert_eq!(set.cleaned().unwrap().len(), 1);
}

fn article(db: &Database, seed: &Seed, slug: &str) -> Article {
    let mut a = Article {
        id: 0,
        title: slug.into(),
        slug: slug.into(),
        body: String::new(),
        author: ForeignKey::from(&seed.ada),
        status: Status::Draft,
        published_at: None,
        featured: false,
        created_at: chrono::Utc::now(),
        tags: ManyToMany::new(),
    };
    a.save(db).unwrap();
    a
}

fn comment(db: &Database, article: &Article, name: &str) -> Comment {
    let mut c = Comment {
        id: 0,
        article: ForeignKey::from(article),
        name: name.into(),
        body: format!("{name} says hi"),
    };
    c.save(db).unwrap();
    c
}

fn comments() -> InlineFormSet {
    InlineFormSet::new(ModelHandle::of::<Comment>(), "article")
        .can_delete(true)
        .extra(1)
}

fn names(db: &Database, article: &Article) -> Vec<String> {
    let mut names: Vec<String> = Comment::objects()
        .filter(Comment::ARTICLE.eq(article.id))
        .all(db)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

fn inline_forms_show_the_parents_rows(db: &Database) {
    let seed = seed(db);
    let post = article(db, &seed, "post");
    let other = article(db, &seed, "other");
    let ann = comment(db, &post, "ann");
    comment(db, &other, "not mine");
    let set = comments().form(db, &Instance::of(&post)).unwrap();
    assert_eq!(set.state().initial_count(), 1);
    assert_eq!(set.forms().len(), 2);
    let first = set.forms()[0].state();
    assert_eq!(first.input("name").text(), "ann");
    assert_eq!(first.input("id").text(), ann.id.to_string());
    assert!(
        first.field("article").is_none(),
        "the foreign key is set from the parent"
    );
    assert_eq!(first.html_name("name"), "comment-0-name");
}

fn inline_forms_create_change_and_delete_in_one_transaction(db: &Database) {
    let seed = seed(db);
    let post = article(db, &seed, "post");
    let ann = comment(db, &post, "ann");
    let bea = comment(db, &post, "bea");
    let data = FormData::from_pairs([
        ("comment-TOTAL_FORMS", "4".to_owned()),
        ("comment-INITIAL_FORMS", "2".to_owned()),
        ("comment-0-id", ann.id.to_string()),
        ("comment-0-name", "ann (edited)".to_owned()),
        ("comment-0-body", "changed".to_owned()),
        ("comment-1-id", bea.id.to_string()),
        ("comment-1-name", "bea".to_owned()),
        ("comment-1-body", "bye".to_owned()),
        ("comment-1-DELETE", "on".to_owned()),
        ("comment-2-name", "cid".to_owned()),
        ("comment-2-body", "new here".to_owned()),
        ("comment-3-name", "".to_owned()),
        ("comment-3-body", "".to_owned()),
    ]);
    let parent = Instance::of(&post);
    let mut set = comments().bind(db, &data, &parent).unwrap();
    assert!(
        set.is_valid(),
        "{:?}",
        set.forms()
            .iter()
            .map(|f| f.errors().clone())
            .collect::<Vec<_>>()
    );
    let conn = db.connection().unwrap();
    let saved = conn.atomic(|tx| set.save(tx, &parent)).unwrap();
    assert!(saved);
    assert_eq!(names(db, &post), ["ann (edited)", "cid"]);
}

fn a_row_of_another_parent_is_never_written(db: &Database) {
    let seed = seed(db);
    let post = article(db, &seed, "post");
    let other = article(db, &seed, "other");
    let mine = comment(db, &post, "mine");
    let theirs = comment(db, &other, "theirs");
    let data = FormData::from_pairs([
        ("comment-TOTAL_FORMS", "1".to_owned()),
        ("comment-INITIAL_FORMS", "1".to_owned()),
        ("comment-0-id", theirs.id.to_string()),
        ("comment-0-name", "hijacked".to_owned()),
        ("comment-0-body", "x".to_owned()),
        ("comment-0-DELETE", "".to_owned()),
    ]);
    let parent = Instance::of(&post);
    let mut set = comments().bind(db, &data, &parent).unwrap();
    assert!(!set.is_valid());
    assert_eq!(
        set.forms()[0].errors().field("id"),
        ["Select a valid choice. That choice is not one of the available choices."]
    );
    let conn = db.connection().unwrap();
    assert!(!conn.atomic(|tx| set.save(tx, &parent)).unwrap());
    assert_eq!(names(db, &other), ["theirs"]);
    assert_eq!(names(db, &post), ["mine"]);
    let _ = mine;
}

fn an_invalid_child_saves_nothing(db: &Database) {
    let seed = seed(db);
    let post = article(db, &seed, "post");
    let data = FormData::from_pairs([
        ("comment-TOTAL_FORMS", "2".to_owned()),
        ("comment-INITIAL_FORMS", "0".to_owned()),
        ("comment-0-name", "ok".to_owned()),
        ("comment-0-body", "fine".to_owned()),
        ("comment-1-name", "x".repeat(51)),
        ("comment-1-body", "too long a name".to_owned()),
    ]);
    let parent = Instance::of(&post);
    let set = comments().bind(db, &data, &parent).unwrap();
    assert!(!set.is_valid());
    assert_eq!(
        set.forms()[1].errors().field("name"),
        ["Ensure this value has at most 50 characters (it has 51)."]
    );
    assert!(names(db, &post).is_empty());
}

fn a_parent_and_its_inlines_are_saved_together_or_not_at_all(db: &Database) {
    let seed = seed(db);
    let parent_form =
        tack_forms::ModelForm::of::<Article>().fields(&["title", "slug", "author", "status"]);
    let data = |slug: &str, name: &str| {
        FormData::from_pairs([
            ("title", "With comments".to_owned()),
            ("slug", slug.to_owned()),
            ("author", seed.ada.id.to_string()),
            ("status", "draft".to_owned()),
            ("comment-TOTAL_FORMS", "1".to_owned()),
            ("comment-INITIAL_FORMS", "0".to_owned()),
            ("comment-0-name", name.to_owned()),
            ("comment-0-body", "first!".to_owned()),
        ])
    };
    let conn = db.connection().unwrap();
    let sent = data("with-comments", "ann");
    let mut parent = parent_form.bind(db, &sent, None).unwrap();
    let blank = Article::meta().handle().blank();
    let mut set = comments().bind(db, &sent, &blank).unwrap();
    let saved = parent
        .save_with_inlines(&conn, &mut [&mut set])
        .unwrap()
        .expect("saved");
    let article: Article = saved.to_model().unwrap();
    assert_eq!(
        names(db, &article),
        ["ann"],
        "the new child points at the new parent"
    );

    // The database refuses the child after the parent was written: neither stays.
    conn.execute_batch("CREATE UNIQUE INDEX one_name ON news_comment (name)")
        .unwrap();
    let sent = data("second", "ann");
    let mut parent = parent_form.bind(db, &sent, None).unwrap();
    let mut set = comments().bind(db, &sent, &blank).unwrap();
    assert!(parent.is_valid() && set.is_valid());
    assert!(
        parent
            .save_with_inlines(&conn, &mut [&mut set])
            .unwrap()
            .is_none()
    );
    assert!(
        !parent.instance().is_saved(),
        "the form does not keep a rolled-back key"
    );
    assert_eq!(Article::objects().count(db).unwrap(), 1);
    assert!(!set.forms()[0].errors().is_empty());

    // An invalid child: nothing is tried.
    let sent = data("third", &"x".repeat(60));
    let mut parent = parent_form.bind(db, &sent, None).unwrap();
    let mut set = comments().bind(db, &sent, &blank).unwrap();
    assert!(
        parent
            .save_with_inlines(&conn, &mut [&mut set])
            .unwrap()
            .is_none()
    );
    assert_eq!(Article::objects().count(db).unwrap(), 1);
}

on_both_databases!(
    a_parent_and_its_inlines_are_saved_together_or_not_at_all,
    inline_forms_show_the_parents_rows,
    inline_forms_create_change_and_delete_in_one_transaction,
    a_row_of_another_parent_is_never_written,
    an_invalid_child_saves_nothing,
);
