//! `tack new` and `tack startapp` write what they promise and refuse what
//! they must, before writing anything. (That the project builds and its
//! test passes is `.ci/run`'s last step: it needs a cargo of its own.)

use std::path::Path;
use std::process::Command;

fn tack(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tack"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the tack binary runs")
}

#[test]
fn new_writes_a_whole_project_with_every_placeholder_filled() {
    let parent = tempfile::tempdir().unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = tack(
        parent.path(),
        &["new", "my-site", "--tack-path", workspace.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = parent.path().join("my-site");
    for file in [
        "Cargo.toml",
        ".gitignore",
        "build.rs",
        "src/lib.rs",
        "src/main.rs",
        "src/models.rs",
        "migrations/0001_initial.json",
        "templates/base.html",
        "templates/index.html",
        "templates/login.html",
        "static/site.css",
        "tests/site.rs",
    ] {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|_| panic!("{file} is written"));
        for placeholder in ["{{project}}", "{{crate}}", "{{app}}", "{{tack}}"] {
            assert!(
                !text.contains(placeholder),
                "{file} still holds {placeholder}"
            );
        }
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"my-site\""), "{manifest}");
    // Every path dependency names a crate of this workspace.
    let paths: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.split("path = \"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(paths.len(), 11, "{manifest}");
    for path in paths {
        assert!(Path::new(path).join("Cargo.toml").exists(), "{path}");
    }
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains("pub const APP: &str = \"my_site\";"));
    let migration = std::fs::read_to_string(dir.join("migrations/0001_initial.json")).unwrap();
    assert!(
        migration.contains("\"table\": \"my_site_note\""),
        "{migration}"
    );

    // Then an app, declared in lib.rs.
    let out = tack(&dir, &["startapp", "shop"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = std::fs::read_to_string(dir.join("src/shop/mod.rs")).unwrap();
    assert!(
        app.contains("pub struct Shop") && app.contains("table = \"my_site_shop\""),
        "{app}"
    );
    assert!(
        std::fs::read_to_string(dir.join("src/lib.rs"))
            .unwrap()
            .ends_with("pub mod shop;\n")
    );
}

#[test]
fn the_git_source_is_the_default() {
    let parent = tempfile::tempdir().unwrap();
    let out = tack(parent.path(), &["new", "site"]);
    assert!(out.status.success());
    let manifest = std::fs::read_to_string(parent.path().join("site/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!(
            "tack-orm = {{ git = \"{}\"",
            env!("CARGO_PKG_REPOSITORY")
        )),
        "{manifest}"
    );
}

#[test]
fn bad_names_and_existing_folders_are_refused_and_nothing_is_written() {
    let parent = tempfile::tempdir().unwrap();
    for name in ["My Site", "1site", "fn", "../escape", "site/sub", ""] {
        let out = tack(parent.path(), &["new", name]);
        assert!(!out.status.success(), "{name:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("lowercase letters") || message.contains("usage"),
            "{name:?}: {message}"
        );
    }
    assert_eq!(
        std::fs::read_dir(parent.path()).unwrap().count(),
        0,
        "nothing written"
    );
    std::fs::create_dir(parent.path().join("taken")).unwrap();
    let out = tack(parent.path(), &["new", "taken"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    let out = tack(parent.path(), &["startapp", "shop"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("made by `tack new`"));
    let out = tack(parent.path(), &["frobnicate"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
