//! `#[derive(Form)]`: fields from struct fields, binding, cleaning.

mod common;

use chrono::NaiveDate;
use common::{Case, Change, changed};
use tack_forms::{Errors, FieldKind, Form, FormData};

#[derive(Debug, Form, PartialEq)]
#[form(clean = Signup::passwords_match)]
struct Signup {
    #[form(
        label = "Your name",
        max_length = 20,
        min_length = 2,
        help_text = "As on your card."
    )]
    username: String,
    #[form(email)]
    email: String,
    #[form(attrs = [("autocomplete", "new-password")], widget = "password")]
    password: String,
    #[form(widget = "password", label = "Password again")]
    password2: String,
    #[form(min = 13, max = 120)]
    age: i32,
    birthday: Option<NaiveDate>,
    #[form(required)]
    terms: bool,
    newsletter: bool,
    #[form(choices = [("en", "English"), ("fr", "French")], initial = "en")]
    language: String,
    #[form(choices = [("rust", "Rust"), ("go", "Go")])]
    interests: Vec<String>,
    #[form(validate = no_admin)]
    nickname: Option<String>,
    #[form(slug)]
    handle: String,
}

fn no_admin(text: &str) -> Result<(), String> {
    if text.eq_ignore_ascii_case("admin") {
        Err("That name is reserved.".to_owned())
    } else {
        Ok(())
    }
}

impl Signup {
    fn passwords_match(&mut self, errors: &mut Errors) {
        if self.password != self.password2 {
            errors.add_form("The two passwords differ.");
        }
    }
}

const VALID: &[(&str, &str)] = &[
    ("username", " ada "),
    ("email", "ada@example.com"),
    ("password", "s3cret!"),
    ("password2", "s3cret!"),
    ("age", "36"),
    ("birthday", "1815-12-10"),
    ("terms", "on"),
    ("language", "fr"),
    ("interests", "rust"),
    ("interests", "go"),
    ("handle", "ada-l"),
];

fn with(changes: &[Change<'_>]) -> FormData {
    let valid: Vec<(&str, String)> = VALID.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    changed(&valid, changes)
}

#[test]
fn fields_come_from_the_struct() {
    let fields = Signup::fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "username",
            "email",
            "password",
            "password2",
            "age",
            "birthday",
            "terms",
            "newsletter",
            "language",
            "interests",
            "nickname",
            "handle"
        ]
    );
    let by = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
    assert_eq!(by("username").label, "Your name");
    assert_eq!(by("username").help_text, "As on your card.");
    assert_eq!(by("username").max_length, Some(20));
    assert_eq!(by("password2").label, "Password again");
    assert_eq!(by("birthday").label, "Birthday");
    assert!(!by("birthday").required);
    assert_eq!(by("birthday").kind, FieldKind::Date);
    assert_eq!(by("email").kind, FieldKind::Email);
    assert_eq!(by("password").widget.name, "password");
    assert_eq!(
        by("password").widget.attrs,
        [("autocomplete".to_owned(), "new-password".to_owned())],
        "attributes stay when the widget is named after them"
    );
    assert!(by("terms").required);
    assert!(!by("newsletter").required);
    assert_eq!(by("language").kind, FieldKind::Choice);
    assert_eq!(by("language").initial, ["en"]);
    assert_eq!(by("interests").kind, FieldKind::MultipleChoice);
    assert_eq!(by("age").min, Some(13.0));
    assert_eq!(by("handle").kind, FieldKind::Slug);
}

#[test]
fn a_valid_submission_is_the_typed_struct() {
    let signup = Signup::bind(&with(&[])).into_cleaned().expect("valid");
    assert_eq!(
        signup,
        Signup {
            username: "ada".into(),
            email: "ada@example.com".into(),
            password: "s3cret!".into(),
            password2: "s3cret!".into(),
            age: 36,
            birthday: NaiveDate::from_ymd_opt(1815, 12, 10),
            terms: true,
            newsletter: false,
            language: "fr".into(),
            interests: vec!["rust".into(), "go".into()],
            nickname: None,
            handle: "ada-l".into(),
        }
    );
}

#[test]
fn each_kind_of_bad_input_is_an_error_beside_its_field() {
    let cases: &[Case<'_>] = &[
        (&[("username", None)], "username", "This field is required."),
        (
            &[("username", Some("a"))],
            "username",
            "Ensure this value has at least 2 characters (it has 1).",
        ),
        (
            &[("username", Some("abcdefghijklmnopqrstu"))],
            "username",
            "Ensure this value has at most 20 characters (it has 21).",
        ),
        (
            &[("email", Some("ada@"))],
            "email",
            "Enter a valid email address.",
        ),
        (&[("age", Some("old"))], "age", "Enter a whole number."),
        (
            &[("age", Some("12"))],
            "age",
            "Ensure this value is greater than or equal to 13.",
        ),
        (
            &[("age", Some("99999999999"))],
            "age",
            "Ensure this value is less than or equal to 120.",
        ),
        (
            &[("birthday", Some("1815-13-10"))],
            "birthday",
            "Enter a valid date.",
        ),
        (&[("terms", None)], "terms", "This field is required."),
        (
            &[("language", Some("de"))],
            "language",
            "Select a valid choice. de is not one of the available choices.",
        ),
        (
            &[("interests", Some("cobol"))],
            "interests",
            "Select a valid choice. cobol is not one of the available choices.",
        ),
        (
            &[("nickname", Some("Admin"))],
            "nickname",
            "That name is reserved.",
        ),
        (
            &[("handle", Some("ada l"))],
            "handle",
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
        (&[("age", Some("1\u{0}"))], "age", "Enter a whole number."),
    ];
    for (changes, field, message) in cases {
        let form = Signup::bind(&with(changes));
        assert!(!form.is_valid(), "{changes:?}");
        assert_eq!(form.errors().field(field), [*message], "{changes:?}");
        let others: Vec<&str> = form
            .errors()
            .fields()
            .map(|(n, _)| n)
            .filter(|n| n != field)
            .collect();
        assert!(others.is_empty(), "{changes:?} also failed {others:?}");
    }
}

#[test]
fn the_clean_hook_runs_once_fields_are_valid() {
    let form = Signup::bind(&with(&[("password2", Some("other"))]));
    assert!(!form.is_valid());
    assert_eq!(form.errors().form(), ["The two passwords differ."]);
    // With a field error the hook does not run: its input is not typed yet.
    let form = Signup::bind(&with(&[("password2", Some("other")), ("age", None)]));
    assert!(form.errors().form().is_empty());
    assert_eq!(form.errors().field("age"), ["This field is required."]);
}

#[test]
fn errors_added_after_validation_make_the_form_invalid() {
    let mut form = Signup::bind(&with(&[]));
    assert!(form.is_valid());
    form.add_error(None, "Please enter a correct username and password.");
    assert!(!form.is_valid());
    assert!(form.cleaned().is_none());
    assert_eq!(
        form.errors().form(),
        ["Please enter a correct username and password."]
    );
}

#[derive(Debug, Form)]
struct Search {
    #[form(max_length = 100)]
    q: Option<String>,
    page: Option<u32>,
    #[form(disabled, initial = "all")]
    scope: String,
}

#[test]
fn prefixes_initial_values_and_disabled_fields() {
    let data = FormData::from_urlencoded(b"s-q=rust&s-page=2&q=ignored&s-scope=mine");
    let search = Search::form()
        .prefix("s")
        .bind(&data)
        .into_cleaned()
        .unwrap();
    assert_eq!(search.q.as_deref(), Some("rust"));
    assert_eq!(search.page, Some(2));
    assert_eq!(
        search.scope, "all",
        "a disabled field keeps its initial value"
    );

    let empty = Search::bind(&FormData::new()).into_cleaned().unwrap();
    assert_eq!((empty.q, empty.page), (None, None));

    let negative = Search::bind(&FormData::from_urlencoded(b"page=-1"));
    assert_eq!(
        negative.errors().field("page"),
        ["Ensure this value is greater than or equal to 0."]
    );

    let shown = Search::form().initial("q", "hello");
    assert!(!shown.state().is_bound());
    assert_eq!(shown.state().input("q").text(), "hello");
}

#[test]
fn derive_mistakes_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
