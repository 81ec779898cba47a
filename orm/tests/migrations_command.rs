//! The subcommands an application forwards to, and adopting tables that
//! `create_tables` made before the application had migrations.

#[path = "migrations/harness.rs"]
mod harness;

use std::path::Path;

use tack_orm::migrations::{Project, run_command, run_command_asking};
use tack_orm::prelude::*;
use tack_orm::{Database, ModelMeta};

#[derive(Model, Clone, Debug)]
#[tack(app = "cmd")]
struct Writer {
    id: i64,
    #[tack(max_length = 40)]
    name: String,
}

#[derive(Model, Clone, Debug)]
#[tack(app = "cmd")]
struct Story {
    id: i64,
    #[tack(index)]
    title: String,
    #[tack(on_delete = "cascade")]
    writer: ForeignKey<Writer>,
}

mod later {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "cmd", table = "cmd_story")]
    pub struct Story {
        pub id: i64,
        #[tack(index)]
        pub title: String,
        #[tack(on_delete = "cascade")]
        pub writer: ForeignKey<Writer>,
        #[tack(default = false)]
        pub featured: bool,
    }
}

fn run(project: &Project<'_>, url: &str, line: &str) -> String {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    run_command(project, || Database::connect(url), &args)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .unwrap_or_else(|| panic!("{line} is a migration command"))
}

fn subcommands_adopt_and_evolve(url: &str, dir: &Path) {
    let models: [&'static ModelMeta; 2] = [Writer::meta(), Story::meta()];
    // The application created its tables before it had migrations.
    let db = Database::connect(url).expect("connect");
    db.create_tables(&models).expect("create tables");
    let mut ada = Writer {
        id: 0,
        name: "Ada".into(),
    };
    ada.save(&db).expect("save");

    let project = Project {
        app: "cmd",
        batteries: &[],
        models: &models,
        folder: dir,
        embedded: &[],
    };
    let out = run(&project, url, "makemigrations");
    assert!(
        out.contains("0001_initial") && out.contains("Create table cmd_story"),
        "{out}"
    );
    assert_eq!(run(&project, url, "makemigrations"), "No changes detected");
    assert_eq!(run(&project, url, "showmigrations"), "[ ] 0001_initial");
    let out = run(&project, url, "migrate --fake-initial");
    assert_eq!(
        out,
        "Adopted 0001_initial (its tables exist already)\nNo migrations to apply"
    );
    assert!(run(&project, url, "showmigrations").starts_with("[X] 0001_initial"));

    let models: [&'static ModelMeta; 2] = [Writer::meta(), later::Story::meta()];
    let project = Project {
        app: "cmd",
        batteries: &[],
        models: &models,
        folder: dir,
        embedded: &[],
    };
    let out = run(&project, url, "checkmigrations");
    assert!(out.contains("Add column featured to cmd_story"), "{out}");
    let out = run(&project, url, "makemigrations --name featured");
    assert!(out.contains("0002_featured"), "{out}");
    let sql = run(&project, url, "sqlmigrate 0002_featured");
    assert!(sql.contains("featured"), "{sql}");
    assert_eq!(run(&project, url, "migrate"), "Applied 0002_featured");
    assert_eq!(
        run(&project, url, "checkmigrations"),
        "the database schema matches the models"
    );
    drop(db);
    let db = Database::connect(url).expect("connect");
    let mut story = later::Story {
        id: 0,
        title: "Tides".into(),
        writer: ForeignKey::new(ada.id),
        featured: true,
    };
    story.save(&db).expect("save with the new column");
    assert_eq!(
        run(&project, url, "migrate 0001_initial"),
        "Rolled back 0002_featured"
    );

    let args = vec!["serve".to_owned()];
    let none = run_command(&project, || Database::connect(url), &args).expect("not ours");
    assert!(none.is_none());
    let args = vec!["migrate".to_owned(), "a".to_owned(), "b".to_owned()];
    let error = run_command(&project, || Database::connect(url), &args).expect_err("two targets");
    assert!(error.to_string().contains("usage"), "{error}");
}

mod renamed {
    use super::*;
    #[derive(Model, Clone, Debug)]
    #[tack(app = "cmd", table = "cmd_writer")]
    pub struct Writer {
        pub id: i64,
        #[tack(max_length = 40)]
        pub full_name: String,
    }
}

/// A column removed and one alike added: asked about, never guessed.
fn look_alike_columns_are_asked_about(url: &str, dir: &Path) {
    let before: [&'static ModelMeta; 1] = [Writer::meta()];
    let after: [&'static ModelMeta; 1] = [renamed::Writer::meta()];
    let project = |models: &'static [&'static ModelMeta]| Project {
        app: "cmd",
        batteries: &[],
        models,
        folder: dir,
        embedded: &[],
    };
    let before: &'static [&'static ModelMeta] = Box::leak(Box::new(before));
    let after: &'static [&'static ModelMeta] = Box::leak(Box::new(after));
    run(&project(before), url, "makemigrations");
    let args = |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_owned).collect() };
    let connect = || Database::connect(url);

    // Nobody to ask: the command stops and names the flags that decide.
    let error = run_command_asking(&project(after), connect, &args("makemigrations"), None)
        .expect_err("undecided");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "Did you rename cmd_writer.name to cmd_writer.full_name? makemigrations does not \
             guess: declare it (--rename-column cmd_writer.name=full_name"
        ) && message.contains("--no-rename"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(dir).expect("list").count(),
        1,
        "nothing written"
    );

    // On a terminal the answer decides; "yes" is a rename.
    let mut asked = Vec::new();
    let mut yes = |q: &tack_orm::migrations::RenameQuestion| {
        asked.push(q.to_string());
        true
    };
    let out = run_command_asking(
        &project(after),
        connect,
        &args("makemigrations"),
        Some(&mut yes),
    )
    .expect("asked")
    .expect("ours");
    assert!(
        out.contains("Rename column name of cmd_writer to full_name"),
        "{out}"
    );
    assert_eq!(
        asked,
        ["Did you rename cmd_writer.name to cmd_writer.full_name?"]
    );

    // --no-rename: a removal and an addition (the data goes), with a note.
    let newest = dir.join("0002_rename_cmd_writer_name_full_name.json");
    std::fs::remove_file(&newest).expect("the rename was written");
    let error = run_command_asking(
        &project(after),
        connect,
        &args("makemigrations --no-rename"),
        None,
    )
    .expect_err("full_name has no default");
    assert!(
        error.to_string().contains("cmd_writer.full_name"),
        "{error}"
    );
    let out = run(
        &project(after),
        url,
        "makemigrations --rename-column cmd_writer.name=full_name",
    );
    assert!(
        out.contains("Rename column name of cmd_writer to full_name"),
        "{out}"
    );
}

both_backends!(
    subcommands_adopt_and_evolve,
    look_alike_columns_are_asked_about
);
