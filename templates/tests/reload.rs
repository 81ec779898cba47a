//! Debug mode reloads changed files; production keeps what it compiled.

mod common;

use common::{dir_with, write_files};
use tack_templates::Templates;

#[test]
fn debug_mode_sees_changes_to_files_and_to_their_parents() {
    let dir = dir_with(&[
        ("base.html", "v1[{% block b %}{% endblock %}]"),
        (
            "page.html",
            "{% extends 'base.html' %}{% block b %}one{% endblock %}",
        ),
    ]);
    let templates = Templates::builder()
        .dir(dir.path())
        .debug(true)
        .build()
        .unwrap();
    assert_eq!(templates.render("page.html", ()).unwrap(), "v1[one]");

    // Different lengths, so the change is seen even within one mtime tick.
    write_files(
        dir.path(),
        &[(
            "page.html",
            "{% extends 'base.html' %}{% block b %}two!{% endblock %}",
        )],
    );
    assert_eq!(templates.render("page.html", ()).unwrap(), "v1[two!]");

    write_files(
        dir.path(),
        &[("base.html", "version 2 <{% block b %}{% endblock %}>")],
    );
    assert_eq!(
        templates.render("page.html", ()).unwrap(),
        "version 2 <two!>"
    );
}

#[test]
fn debug_mode_lets_a_new_project_file_shadow_an_embedded_one() {
    let dir = dir_with(&[]);
    let templates = Templates::builder()
        .dir(dir.path())
        .add_embedded(&[("admin/base.html", "embedded")])
        .debug(true)
        .build()
        .unwrap();
    assert_eq!(templates.render("admin/base.html", ()).unwrap(), "embedded");
    write_files(dir.path(), &[("admin/base.html", "overridden")]);
    assert_eq!(
        templates.render("admin/base.html", ()).unwrap(),
        "overridden"
    );
    std::fs::remove_file(dir.path().join("admin/base.html")).unwrap();
    assert_eq!(templates.render("admin/base.html", ()).unwrap(), "embedded");
}

#[test]
fn debug_mode_lets_a_new_file_in_an_earlier_directory_win() {
    let project = dir_with(&[]);
    let shared = dir_with(&[("page.html", "shared")]);
    let templates = Templates::builder()
        .dir(project.path())
        .dir(shared.path())
        .debug(true)
        .build()
        .unwrap();
    assert_eq!(templates.render("page.html", ()).unwrap(), "shared");
    write_files(project.path(), &[("page.html", "project")]);
    assert_eq!(templates.render("page.html", ()).unwrap(), "project");
}

#[test]
fn unreadable_files_are_errors_naming_the_file() {
    let dir = dir_with(&[]);
    std::fs::write(dir.path().join("latin1.html"), b"caf\xe9").unwrap();
    let templates = Templates::builder().dir(dir.path()).build().unwrap();
    let error = templates.render("latin1.html", ()).unwrap_err();
    assert!(error.to_string().contains("latin1.html"), "{error}");
    assert!(error.to_string().contains("cannot be read"), "{error}");
}

#[test]
fn production_mode_caches_compiled_templates() {
    let dir = dir_with(&[("page.html", "cached")]);
    let templates = Templates::builder().dir(dir.path()).build().unwrap();
    assert!(!templates.is_debug());
    assert_eq!(templates.render("page.html", ()).unwrap(), "cached");
    write_files(dir.path(), &[("page.html", "changed on disk")]);
    assert_eq!(templates.render("page.html", ()).unwrap(), "cached");
    std::fs::remove_file(dir.path().join("page.html")).unwrap();
    assert_eq!(templates.render("page.html", ()).unwrap(), "cached");
}

#[test]
fn clones_share_one_cache_across_threads() {
    let dir = dir_with(&[("page.html", "{{ n }}")]);
    let templates = Templates::builder().dir(dir.path()).build().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let templates = templates.clone();
            std::thread::spawn(move || {
                templates
                    .render("page.html", tack_templates::context! { n })
                    .unwrap()
            })
        })
        .collect();
    let outputs: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outputs, ["0", "1", "2", "3"]);
}
