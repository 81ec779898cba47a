//! Errors name the template, the line and the problem; the debug page shows
//! the source around the line; nothing panics on bad templates or input.

mod common;

use common::dir_with;
use tack_templates::{Error, Templates, context};

fn templates(debug: bool, files: &[(&str, &str)]) -> (tempfile::TempDir, Templates) {
    let dir = dir_with(files);
    let templates = Templates::builder()
        .dir(dir.path())
        .debug(debug)
        .build()
        .unwrap();
    (dir, templates)
}

#[test]
fn each_kind_of_error_names_template_line_and_problem() {
    let (_dir, templates) = templates(
        false,
        &[
            ("syntax.html", "ok\nok\n{% for x in %}\n"),
            ("unclosed.html", "a\n{% if x %}\nb\n"),
            ("filter.html", "a\n\n\n{{ x|no_such_filter }}"),
            ("operation.html", "{{ 1 }}\n{{ 'a' * 'b' }}"),
            ("include.html", "one\ntwo\n{% include 'missing.html' %}"),
            (
                "macro.html",
                "{% macro m() %}\n{{ x.y.z() }}\n{% endmacro %}{{ m() }}",
            ),
            ("date.html", "\n{{ 'soon'|date }}"),
        ],
    );
    for (name, kind, line, fragment) in [
        ("syntax.html", "syntax", Some(3), "unexpected"),
        (
            "unclosed.html",
            "syntax",
            Some(2),
            "unexpected end of input",
        ),
        ("filter.html", "render", Some(4), "no_such_filter"),
        ("operation.html", "render", Some(2), "multiplied"),
        ("include.html", "render", Some(3), "missing.html"),
        ("macro.html", "render", Some(2), ""),
        ("date.html", "render", Some(2), "date: cannot read 'soon'"),
    ] {
        let error = templates.render(name, context! { x => 1 }).unwrap_err();
        let message = error.to_string();
        match kind {
            "syntax" => assert!(matches!(error, Error::Syntax { .. }), "{name}: {error:?}"),
            _ => assert!(matches!(error, Error::Render { .. }), "{name}: {error:?}"),
        }
        assert_eq!(error.template_name(), Some(name), "{message}");
        assert_eq!(error.line(), line, "{name}: {message}");
        assert!(
            message.contains(&format!("{name:?} line {}", line.unwrap())),
            "{message}"
        );
        assert!(message.contains(fragment), "{name}: {message}");
        assert_eq!(error.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    }
}

#[test]
fn errors_in_includes_name_the_inner_template_and_where_it_was_included() {
    let (_dir, templates) = templates(
        false,
        &[
            (
                "base.html",
                "<main>{% block content %}{% endblock %}</main>",
            ),
            (
                "list.html",
                "{% extends 'base.html' %}\n{% block content %}\n{% for i in items %}\n{% include 'row.html' %}{% endfor %}{% endblock %}",
            ),
            ("row.html", "<li>\n{{ i|bogus }}</li>"),
        ],
    );
    let error = templates
        .render("list.html", context! { items => [1] })
        .unwrap_err();
    assert_eq!(error.template_name(), Some("row.html"));
    assert_eq!(error.line(), Some(2));
    let message = error.to_string();
    assert!(
        message.contains("\"row.html\" line 2, included from \"list.html\" line 4"),
        "{message}"
    );
}

#[test]
fn the_debug_page_shows_escaped_source_around_the_line() {
    let source = (1..=20)
        .map(|n| {
            if n == 12 {
                "{{ x + '<script>alert(1)</script>' }}".to_owned()
            } else {
                format!("line {n} <b>")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (_dir, templates) = templates(true, &[("page.html", &source)]);
    let error = templates
        .render("page.html", context! { x => 1 })
        .unwrap_err();
    assert_eq!(error.line(), Some(12));
    let page = error.debug_page();
    assert!(page.contains("Template error in page.html"), "{page}");
    assert!(
        page.contains("<span class=\"line at\"><span class=\"no\">  12 </span>"),
        "{page}"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("line 7 &lt;b&gt;") && page.contains("line 17 &lt;b&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("line 6 ") && !page.contains("line 18 "),
        "{page}"
    );
}

#[test]
fn the_debug_page_shows_every_template_of_an_include_chain() {
    let (_dir, templates) = templates(
        true,
        &[
            ("outer.html", "a\n{% include 'inner.html' %}"),
            ("inner.html", "b\nc\n{{ nope() }}"),
        ],
    );
    let page = templates.render("outer.html", ()).unwrap_err().debug_page();
    let inner = page
        .find("<h2>inner.html, line 3</h2>")
        .expect("inner section");
    let outer = page
        .find("<h2>outer.html, line 2</h2>")
        .expect("outer section");
    assert!(inner < outer, "the failing template comes first");
}

#[test]
fn production_errors_keep_no_source() {
    let (_dir, templates) = templates(false, &[("page.html", "secret\n{{ nope() }}")]);
    let page = templates.render("page.html", ()).unwrap_err().debug_page();
    assert!(!page.contains("secret"), "{page}");
    assert!(page.contains("No template source is available"), "{page}");
}

#[test]
fn hostile_templates_and_values_give_errors_not_panics() {
    let (_dir, templates) = templates(
        false,
        &[
            ("self.html", "{% include 'self.html' %}"),
            (
                "deep.html",
                &format!(
                    "{}x{}",
                    "{% if true %}".repeat(300),
                    "{% endif %}".repeat(300)
                ),
            ),
            ("huge.html", "{{ range(100000000000)|length }}"),
            ("nul.html", "\0{{ x }}\u{feff}"),
            (
                "args.html",
                "{{ x|truncatewords('many') }}{{ x|pluralize(1, 2, 3) }}",
            ),
        ],
    );
    assert!(matches!(
        templates.render("self.html", ()),
        Err(Error::Render { .. })
    ));
    assert!(templates.render("deep.html", ()).is_err());
    assert!(templates.render("huge.html", ()).is_err());
    assert_eq!(
        templates.render("nul.html", context! { x => "y" }).unwrap(),
        "\0y\u{feff}"
    );
    assert!(
        templates
            .render("args.html", context! { x => "a b" })
            .is_err()
    );
}
