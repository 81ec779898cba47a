//! Where templates come from: directories in order, then embedded sets.

mod common;

use common::dir_with;
use tack_templates::{Error, Templates};

#[test]
fn precedence_is_directories_in_order_then_embedded_in_order() {
    let project = dir_with(&[("admin/base.html", "project"), ("only-project.html", "p")]);
    let shared = dir_with(&[("admin/base.html", "shared"), ("shared.html", "s")]);
    let templates = Templates::builder()
        .dir(project.path())
        .dir(shared.path())
        .add_embedded(&[
            ("admin/base.html", "admin battery"),
            ("admin/list.html", "list A"),
        ])
        .add_embedded(&[("admin/list.html", "list B"), ("other.html", "other")])
        .build()
        .unwrap();
    for (name, expected) in [
        ("admin/base.html", "project"),
        ("only-project.html", "p"),
        ("shared.html", "s"),
        ("admin/list.html", "list A"),
        ("other.html", "other"),
    ] {
        assert_eq!(templates.render(name, ()).unwrap(), expected, "{name}");
    }
}

#[test]
fn a_project_file_overrides_an_embedded_parent_of_an_embedded_child() {
    let project = dir_with(&[(
        "admin/base.html",
        "<h1>Mine</h1>{% block body %}{% endblock %}",
    )]);
    let templates = Templates::builder()
        .dir(project.path())
        .add_embedded(&[
            (
                "admin/base.html",
                "<h1>Admin</h1>{% block body %}{% endblock %}",
            ),
            (
                "admin/index.html",
                "{% extends 'admin/base.html' %}{% block body %}index{% endblock %}",
            ),
        ])
        .build()
        .unwrap();
    assert_eq!(
        templates.render("admin/index.html", ()).unwrap(),
        "<h1>Mine</h1>index"
    );
}

#[test]
fn missing_templates_say_where_they_were_looked_for() {
    let project = dir_with(&[]);
    let templates = Templates::builder()
        .dir(project.path())
        .add_embedded(&[("a.html", "a")])
        .build()
        .unwrap();
    let error = templates.render("nope.html", ()).unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { name, .. } if name == "nope.html"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("\"nope.html\""), "{message}");
    assert!(
        message.contains(&project.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("embedded"), "{message}");
    assert_eq!(error.template_name(), Some("nope.html"));
}

#[test]
fn names_cannot_escape_the_directory() {
    let outside = dir_with(&[("secret.html", "secret"), ("templates/page.html", "page")]);
    let templates = Templates::builder()
        .dir(outside.path().join("templates"))
        .build()
        .unwrap();
    assert_eq!(templates.render("page.html", ()).unwrap(), "page");
    for name in [
        "../secret.html",
        "./../secret.html",
        "/secret.html",
        ".hidden.html",
    ] {
        let error = templates.render(name, ()).unwrap_err();
        assert!(matches!(error, Error::NotFound { .. }), "{name}: {error:?}");
    }
    let path = outside.path().join("secret.html").display().to_string();
    assert!(matches!(
        templates.render(&path, ()),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_missing_directory_is_refused_at_build() {
    let dir = dir_with(&[("file.html", "x")]);
    for path in [dir.path().join("missing"), dir.path().join("file.html")] {
        let error = Templates::builder().dir(&path).build().unwrap_err();
        assert!(matches!(&error, Error::Directory { .. }), "{error:?}");
        assert!(error.to_string().contains(&path.display().to_string()));
    }
}

#[test]
fn a_broken_embedded_template_is_refused_at_build() {
    let error = Templates::builder()
        .add_embedded(&[("ok.html", "fine"), ("bad.html", "line one\n{% if %}")])
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Embedded { name, line: 2, .. } if name == "bad.html"),
        "{error:?}"
    );
}

#[test]
fn includes_and_imports_use_the_same_precedence() {
    let project = dir_with(&[("row.html", "project row {{ item }};")]);
    let templates = Templates::builder()
        .dir(project.path())
        .add_embedded(&[
            ("row.html", "embedded row"),
            (
                "macros.html",
                "{% macro shout(x) %}{{ x|upper }}{% endmacro %}",
            ),
            (
                "list.html",
                "{% from 'macros.html' import shout %}{{ shout('hi') }} \
                 {% for item in items %}{% include 'row.html' %}{% endfor %}",
            ),
        ])
        .build()
        .unwrap();
    let html = templates
        .render("list.html", tack_templates::context! { items => [1, 2] })
        .unwrap();
    assert_eq!(html, "HI project row 1;project row 2;");
}
