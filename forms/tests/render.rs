//! Forms in templates: every widget's HTML (snapshots), escaping, the CSRF
//! field, and a project's own template replacing a built-in one.

use tack_forms::{Field, FieldKind, Form, FormData, FormState, Widget};
use tack_templates::Templates;

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    tack_forms::install(&mut env);
    env
}

fn render(template: &str, form: minijinja::Value) -> String {
    let env = environment();
    env.render_str(template, minijinja::context! { form => form })
        .expect("renders")
}

#[derive(Debug, Form)]
#[allow(dead_code, reason = "only the form's fields are rendered")]
struct Everything {
    #[form(max_length = 50, help_text = "A short name.")]
    title: String,
    #[form(widget = "textarea")]
    body: String,
    #[form(widget = "password")]
    secret: String,
    #[form(widget = "hidden")]
    next: Option<String>,
    #[form(email)]
    email: Option<String>,
    #[form(url)]
    site: Option<String>,
    #[form(min = 1, max = 5)]
    stars: i32,
    ratio: Option<f64>,
    published: bool,
    day: Option<chrono::NaiveDate>,
    at: Option<chrono::NaiveDateTime>,
    time: Option<chrono::NaiveTime>,
    #[form(choices = [("", "---------"), ("d", "Draft"), ("p", "Published")])]
    status: String,
    #[form(choices = [("1", "rust"), ("2", "food")])]
    tags: Vec<String>,
    #[form(choices = [("s", "Small"), ("l", "Large")], widget = "radio")]
    size: String,
    #[form(choices = [("a", "A"), ("b", "B")], widget = "checkboxes")]
    letters: Option<Vec<String>>,
    cover: Option<tack_forms::UploadedFile>,
}

#[test]
fn every_widget_unbound() {
    let form = Everything::form()
        .initial("title", "Hello")
        .initial("status", "p");
    insta::assert_snapshot!("unbound_form", render("{{ form }}", form.view()));
}

#[test]
fn every_widget_bound_with_errors() {
    let data = FormData::from_urlencoded(
        b"title=%3Cscript%3Ealert(1)%3C%2Fscript%3E&body=a%0Ab&secret=hunter2&next=%2Fwrite%2F\
          &email=nope&stars=9&published=on&day=2024-05-01&at=2024-05-01T09%3A30&time=07%3A05\
          &status=d&tags=1&tags=2&size=l&letters=b",
    );
    let form = Everything::bind(&data);
    assert!(!form.is_valid());
    let html = render("{{ form }}", form.view());
    assert!(!html.contains("<script>"), "values are escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(!html.contains("hunter2"), "a password is never shown again");
    insta::assert_snapshot!("bound_form", html);
}

#[test]
fn fields_labels_and_errors_one_by_one() {
    let form = Everything::bind(&FormData::from_urlencoded(b"title=&stars=0"));
    let html = render(
        "{{ form.title.label_tag }}|{{ form.title }}|{{ form.title.errors }}|{{ form.stars.errors }}\
         |{% for e in form.title.errors %}[{{ e }}]{% endfor %}|{{ form.title.help_text }}\
         |{{ form.title.name }}|{{ form.title.auto_id }}|{{ form.errors.title[0] }}",
        form.view(),
    );
    assert_eq!(
        html,
        "<label for=\"id_title\">Title</label>\
         |<input type=\"text\" name=\"title\" id=\"id_title\" value=\"\" maxlength=\"50\" required aria-invalid=\"true\" aria-describedby=\"id_title_helptext\">\
         |<ul class=\"errorlist\"><li>This field is required.</li></ul>\
         |<ul class=\"errorlist\"><li>Ensure this value is greater than or equal to 1.</li></ul>\
         |[This field is required.]|A short name.|title|id_title|This field is required."
    );
}

#[test]
fn the_form_adds_the_csrf_field_when_the_page_has_a_token() {
    let mut state = FormState::new(vec![Field::new("q", FieldKind::Text)]);
    state.set_prefix("s");
    let env = environment();
    let with = env
        .render_str(
            "{{ form }}",
            minijinja::context! { form => state.view(), csrf_token => "a\"b" },
        )
        .unwrap();
    assert!(with.contains(r#"<input type="hidden" name="csrfmiddlewaretoken" value="a&quot;b">"#));
    assert!(with.contains(r#"name="s-q" id="id_s-q""#));
    let without = env
        .render_str("{{ form }}", minijinja::context! { form => state.view() })
        .unwrap();
    assert!(!without.contains("csrfmiddlewaretoken"));
}

#[test]
fn non_field_errors_come_first() {
    let mut form = Everything::form();
    form.add_error(None, "Something <is> wrong.");
    let html = render("{{ form }}", form.view());
    assert!(
        html.starts_with("<ul class=\"errorlist\"><li>Something &lt;is&gt; wrong.</li></ul>"),
        "{html}"
    );
    assert_eq!(
        render("{{ form.non_field_errors }}", form.view()),
        "<ul class=\"errorlist\"><li>Something &lt;is&gt; wrong.</li></ul>"
    );
}

#[test]
fn other_values_print_as_before() {
    let source = "{{ x }} {{ n }} {{ none }} {{ missing }} {{ list }}";
    let context = minijinja::context! { x => "<b>", n => 3, list => vec!["<i>"] };
    let mut plain = minijinja::Environment::new();
    plain.add_template("page.html", source).unwrap();
    let mut installed = environment();
    installed.add_template("page.html", source).unwrap();
    let render = |env: &minijinja::Environment<'_>| {
        env.get_template("page.html")
            .unwrap()
            .render(&context)
            .unwrap()
    };
    assert_eq!(render(&installed), render(&plain));
    assert!(render(&installed).starts_with("&lt;b&gt; 3 "));
}

#[test]
fn a_project_template_replaces_a_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("forms/widgets")).unwrap();
    std::fs::write(
        dir.path().join("forms/widgets/textarea.html"),
        r#"<div class="editor" data-name="{{ field.name }}">{{ field.value }}</div>"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("page.html"), "<form>{{ form }}</form>").unwrap();
    let templates = Templates::builder()
        .dir(dir.path())
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        .build()
        .unwrap();
    let form = Everything::form().initial("body", "<hi>");
    let html = templates
        .render("page.html", minijinja::context! { form => form.view() })
        .unwrap();
    assert!(
        html.contains(r#"<div class="editor" data-name="body">&lt;hi&gt;</div>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<input type="text" name="title""#),
        "the other widgets are built in"
    );
}

#[test]
fn a_widget_with_attributes() {
    let field = Field::new("q", FieldKind::Text)
        .widget(
            Widget::named("text")
                .attr("placeholder", "Search \"news\"")
                .attr("autocomplete", "off"),
        )
        .required(false);
    let state = FormState::new(vec![field]);
    assert_eq!(
        render("{{ form.q }}", state.view()),
        r#"<input type="text" name="q" id="id_q" placeholder="Search &quot;news&quot;" autocomplete="off">"#
    );
}
