//! Migrations: the schema is derived from the models, `makemigrations`
//! writes what changed as a reviewable JSON file, and `migrate` applies the
//! files on SQLite or PostgreSQL (and rolls them back).
//!
//! ```no_run
//! use tack_orm::migrations::{self, Migrations};
//! # use tack_orm::{Database, ModelMeta};
//! # fn models() -> Vec<&'static ModelMeta> { Vec::new() }
//! # fn main() -> tack_orm::Result<()> {
//! // Development: write migrations/0002_... when the models changed.
//! println!("{}", migrations::makemigrations(&models(), "migrations".as_ref())?);
//! // Deployment: the files are compiled into the binary (the folder is
//! // relative to the crate's Cargo.toml; usually "migrations").
//! let files = Migrations::from_embedded(migrations::embed_migrations!("tests/migrations/embedded"))?;
//! let db = Database::connect("sqlite://app.sqlite3")?;
//! migrations::migrate(&db, &files, None)?;
//! # Ok(()) }
//! ```
//!
//! The embedding macro reads the folder when the crate compiles: an edited
//! file triggers a rebuild, but a new file in the folder does not by itself.
//! Add a `build.rs` with `println!("cargo:rerun-if-changed=migrations");` so
//! that Cargo rebuilds when the folder changes.

mod autodetect;
mod command;
mod runner;
mod set;
mod sql;
mod state;

use std::fmt;
use std::path::{Path, PathBuf};

pub use autodetect::{RenameQuestion, Renames};
pub use command::{Project, USAGE, run_command, run_command_asking};
pub use runner::{
    CheckReport, Migrate, MigrateReport, MigrationStatus, adopt_existing_tables, check, lock,
    migrate, showmigrations, sqlmigrate, unapplied,
};
pub use set::{AppMigrations, DEFAULT_APP, DataFunction, Dependency, Migration, Migrations};
pub use state::{
    Column, ColumnType, ConstraintRule, JoinSide, JoinTable, Operation, ProjectState, Reference,
    Table, TableConstraint,
};
pub use tack_orm_macros::embed_migrations;

use crate::error::{Error, Result};
use crate::model::ModelMeta;

/// The table that records applied migrations.
pub const MIGRATIONS_TABLE: &str = "tack_migrations";

/// What [`makemigrations`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MakeOutcome {
    /// The models match the migrations: nothing was written.
    NoChanges,
    /// A new file was written.
    Written {
        /// Its path.
        path: PathBuf,
        /// The migration it holds.
        migration: Migration,
    },
}

impl fmt::Display for MakeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MakeOutcome::NoChanges => f.write_str("No changes detected"),
            MakeOutcome::Written { path, migration } => {
                write!(f, "Migration {}:", path.display())?;
                for op in &migration.operations {
                    write!(f, "\n  - {}", op.describe())?;
                }
                for note in &migration.notes {
                    write!(f, "\n  note: {note}")?;
                }
                Ok(())
            }
        }
    }
}

/// Compares `models` with what the files in `folder` add up to and writes
/// the next migration file, or writes nothing when they match.
pub fn makemigrations(models: &[&'static ModelMeta], folder: &Path) -> Result<MakeOutcome> {
    makemigrations_with(models, folder, &Renames::new(), None)
}

/// [`makemigrations`] with declared renames and, optionally, a name for the
/// file (`"add_subtitle"` gives `0002_add_subtitle.json`).
pub fn makemigrations_with(
    models: &[&'static ModelMeta],
    folder: &Path,
    renames: &Renames,
    name: Option<&str>,
) -> Result<MakeOutcome> {
    let existing = Migrations::from_dir(folder)?;
    makemigrations_in(&existing, models, folder, renames, name)
}

/// [`makemigrations_with`] for a project whose migrations depend on
/// batteries': `existing` is the whole set (the project's folder, labelled,
/// with each battery's), and the new file goes into `folder`.
pub fn makemigrations_in(
    existing: &Migrations,
    models: &[&'static ModelMeta],
    folder: &Path,
    renames: &Renames,
    name: Option<&str>,
) -> Result<MakeOutcome> {
    write_next(existing, folder, |set| {
        plan_migration(set, models, renames, name)
    })
}

/// Writes the migration `plan` answers for `existing` into `folder`.
fn write_next(
    existing: &Migrations,
    folder: &Path,
    plan: impl FnOnce(&Migrations) -> Result<Option<Migration>>,
) -> Result<MakeOutcome> {
    let Some(migration) = plan(existing)? else {
        return Ok(MakeOutcome::NoChanges);
    };
    if folder.join(format!("{}.json", migration.name)).exists() {
        return Err(Error::query(format!(
            "{} exists already in {}",
            migration.name,
            folder.display()
        )));
    }
    std::fs::create_dir_all(folder).map_err(|e| {
        Error::query(format!(
            "cannot create migrations folder {}: {e}",
            folder.display()
        ))
    })?;
    let path = folder.join(format!("{}.json", migration.name));
    std::fs::write(&path, migration.to_json())
        .map_err(|e| Error::query(format!("cannot write {}: {e}", path.display())))?;
    Ok(MakeOutcome::Written { path, migration })
}

/// The number of the next migration of the project's app.
fn next_number(existing: &Migrations) -> u32 {
    existing
        .of_app(existing.project_app())
        .filter_map(|m| m.name.split('_').next()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// A file name fragment: lower-case ASCII letters, digits and `_`.
fn file_fragment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}

/// The look-alike removed and added columns (perhaps renames) that
/// `renames` does not decide: [`plan_migration`] refuses to write while
/// there are any. A command asks them on a terminal.
pub fn rename_questions(
    existing: &Migrations,
    models: &[&'static ModelMeta],
    renames: &Renames,
) -> Result<Vec<RenameQuestion>> {
    Ok(autodetect::diff(
        &existing.state()?,
        &ProjectState::from_models(models),
        renames,
    )?
    .questions)
}

/// The migration that would bring `existing` up to `models`, if any: a
/// migration of the project's app (the first of the set) that depends on
/// its last one and on the last migration of each other app whose tables
/// it refers to.
pub fn plan_migration(
    existing: &Migrations,
    models: &[&'static ModelMeta],
    renames: &Renames,
    name: Option<&str>,
) -> Result<Option<Migration>> {
    existing.validate()?;
    let autodetect::Diff {
        ops: operations,
        notes,
        questions,
    } = autodetect::diff(
        &existing.state()?,
        &ProjectState::from_models(models),
        renames,
    )?;
    if let Some(question) = questions.first() {
        return Err(Error::query(format!(
            "{question} makemigrations does not guess: declare it \
             (--rename-column {t}.{o}={n}, or Renames::column(\"{t}\", \"{o}\", \"{n}\")) \
             or say it is not (--no-rename, or Renames::not_column): as a removal and an \
             addition, the data in {t}.{o} would be lost{more}",
            t = question.table,
            o = question.old,
            n = question.new,
            more = match questions.len() {
                1 => String::new(),
                n => format!(" ({} more such columns)", n - 1),
            }
        )));
    }
    if operations.is_empty() {
        return Ok(None);
    }
    let app = existing.project_app().to_owned();
    let description = match name {
        Some(name) => name.to_owned(),
        None if existing.of_app(&app).next().is_none() => "initial".to_owned(),
        None if operations.len() == 1 => operations[0].name_fragment(),
        None => format!("{}_and_more", operations[0].name_fragment()),
    };
    let mut dependencies: Vec<Dependency> = existing
        .leaves(&app)
        .iter()
        .map(|m| Dependency::Same(m.name.clone()))
        .collect();
    for other in operations.iter().flat_map(Operation::referenced_tables) {
        if let Some(owner) = existing.owner_of(other).filter(|owner| **owner != *app)
            && let Some(leaf) = existing.leaves(owner).first()
        {
            let dependency = Dependency::Other(owner.to_owned(), leaf.name.clone());
            if !dependencies.contains(&dependency) {
                dependencies.push(dependency);
            }
        }
    }
    Ok(Some(Migration {
        app,
        name: format!(
            "{:04}_{}",
            next_number(existing),
            file_fragment(&description)
        ),
        dependencies,
        replaces: Vec::new(),
        notes,
        operations,
    }))
}

/// Writes the migration that joins an app's two (or more) leaf migrations
/// (`makemigrations --merge`): it depends on each and changes nothing
/// itself. `existing` is the whole set, as for [`makemigrations_in`].
/// Answers [`MakeOutcome::NoChanges`] when the project's app has one leaf.
pub fn makemigrations_merge(existing: &Migrations, folder: &Path) -> Result<MakeOutcome> {
    write_next(existing, folder, |set| {
        let leaves = set.leaves(set.project_app());
        if leaves.len() < 2 {
            return Ok(None);
        }
        let names: Vec<&str> = leaves.iter().map(|m| m.name.as_str()).collect();
        let fragments: Vec<&str> = names
            .iter()
            .map(|n| n.split_once('_').map_or(*n, |(number, _)| number))
            .collect();
        Ok(Some(Migration {
            app: set.project_app().to_owned(),
            name: format!("{:04}_merge_{}", next_number(set), fragments.join("_")),
            dependencies: names
                .iter()
                .map(|n| Dependency::Same((*n).to_owned()))
                .collect(),
            replaces: Vec::new(),
            notes: vec![format!("merges {}", names.join(" and "))],
            operations: Vec::new(),
        }))
    })
}

/// Writes one migration that replaces the project app's migrations `from`
/// to `to` (Django's `squashmigrations APP FROM TO`): their operations in
/// order, the dependencies they have outside the range, and `replaces`
/// naming them. Databases that applied them all count it as applied; new
/// ones run it alone. Delete the replaced files once every database has
/// moved past them (migrations that depended on them then depend on it).
pub fn squashmigrations(
    existing: &Migrations,
    folder: &Path,
    from: &str,
    to: &str,
) -> Result<MakeOutcome> {
    let app = existing.project_app().to_owned();
    let names: Vec<&str> = existing.of_app(&app).map(|m| m.name.as_str()).collect();
    let position = |name: &str| {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            Error::query(format!(
                "app {app} has no migration named {name:?} (known: {})",
                names.join(", ")
            ))
        })
    };
    let (first, last) = (position(from)?, position(to)?);
    if first >= last {
        return Err(Error::query(format!(
            "squashmigrations takes FROM before TO: {from} does not come before {to}"
        )));
    }
    let range: Vec<&Migration> = existing
        .of_app(&app)
        .skip(first)
        .take(last - first + 1)
        .collect();
    if let Some(squashed) = range.iter().find(|m| !m.replaces.is_empty()) {
        return Err(Error::query(format!(
            "{} is itself a squashed migration: squash the migrations it replaces instead",
            squashed.name
        )));
    }
    let inside: Vec<String> = range.iter().map(|m| m.name.clone()).collect();
    let mut dependencies = Vec::new();
    for m in &range {
        for dependency in &m.dependencies {
            let outside = match dependency {
                Dependency::Same(name) => !inside.contains(name),
                Dependency::Other(..) => true,
            };
            if outside && !dependencies.contains(dependency) {
                dependencies.push(dependency.clone());
            }
        }
    }
    let number = |name: &str| name.split('_').next().unwrap_or(name).to_owned();
    let migration = Migration {
        app: app.clone(),
        name: format!("{}_squashed_{}", number(from), number(to)),
        dependencies,
        replaces: inside,
        notes: range.iter().flat_map(|m| m.notes.clone()).collect(),
        operations: range.iter().flat_map(|m| m.operations.clone()).collect(),
    };
    write_next(existing, folder, |_| Ok(Some(migration)))
}
