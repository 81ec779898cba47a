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
mod sql;
mod state;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use autodetect::Renames;
pub use command::{Project, USAGE, run_command};
pub use runner::{
    CheckReport, MigrateReport, MigrationStatus, adopt_existing_tables, check, lock, migrate,
    showmigrations, sqlmigrate,
};
pub use state::{
    Column, ColumnType, ConstraintRule, JoinSide, JoinTable, Operation, ProjectState, Reference,
    Table, TableConstraint,
};
pub use tack_orm_macros::embed_migrations;

use crate::error::{Error, Result};
use crate::model::ModelMeta;

/// The table that records applied migrations.
pub const MIGRATIONS_TABLE: &str = "tack_migrations";

/// One migration file: its name (the file name without `.json`), the
/// migrations it depends on and its operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// `0002_add_news_article_subtitle`.
    #[serde(skip)]
    pub name: String,
    /// The migrations that must be applied first.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Remarks for the reviewer (an undeclared rename, lost data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The changes, in order.
    pub operations: Vec<Operation>,
}

impl Migration {
    /// Parses a migration file's text.
    pub fn parse(name: &str, text: &str) -> Result<Migration> {
        let mut migration: Migration = serde_json::from_str(text).map_err(|e| {
            Error::query(format!(
                "migration {name} is not a valid migration file: {e}"
            ))
        })?;
        migration.name = name.to_owned();
        Ok(migration)
    }

    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Serializing plain structs, strings and JSON values cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The migrations of an application, in dependency order.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    list: Vec<Migration>,
}

impl Migrations {
    /// Reads every `*.json` file of `folder` (none when it does not exist).
    pub fn from_dir(folder: &Path) -> Result<Migrations> {
        let io = |e: std::io::Error| {
            Error::query(format!(
                "cannot read migrations folder {}: {e}",
                folder.display()
            ))
        };
        let mut files = Vec::new();
        if folder.exists() {
            for entry in std::fs::read_dir(folder).map_err(io)? {
                let path = entry.map_err(io)?.path();
                if path.extension().is_some_and(|e| e == "json")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                {
                    let text = std::fs::read_to_string(&path).map_err(io)?;
                    files.push((stem.to_owned(), text));
                }
            }
        }
        Self::from_files(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// The files compiled in by [`embed_migrations!`]: `(name, text)` pairs.
    pub fn from_embedded(files: &[(&str, &str)]) -> Result<Migrations> {
        Self::from_files(files.iter().copied())
    }

    /// Parses `(name, text)` pairs and orders them by name, checking that
    /// each dependency exists and comes earlier.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Migrations> {
        let mut list: Vec<Migration> = files
            .into_iter()
            .map(|(name, text)| Migration::parse(name, text))
            .collect::<Result<_>>()?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        for (i, m) in list.iter().enumerate() {
            for dep in &m.dependencies {
                if !list[..i].iter().any(|earlier| earlier.name == *dep) {
                    return Err(Error::query(format!(
                        "migration {} depends on {dep}, which is not an earlier migration of the folder",
                        m.name
                    )));
                }
            }
        }
        Ok(Migrations { list })
    }

    /// Every migration, in the order they apply.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.list.iter()
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|m| m.name.as_str()).collect()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The position of `name`, or an error listing the names.
    pub(crate) fn position(&self, name: &str) -> Result<usize> {
        self.list
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| {
                Error::query(format!(
                    "no migration named {name:?} (known: {})",
                    self.names().join(", ")
                ))
            })
    }

    pub(crate) fn get(&self, i: usize) -> &Migration {
        &self.list[i]
    }

    /// The schema after the first `count` migrations.
    pub(crate) fn state_after(&self, count: usize) -> Result<ProjectState> {
        let mut state = ProjectState::default();
        for m in &self.list[..count] {
            for op in &m.operations {
                state.apply(op).map_err(|e| {
                    Error::query(format!("migration {}: {}: {e}", m.name, op.describe()))
                })?;
            }
        }
        Ok(state)
    }

    /// The schema all the migrations add up to.
    pub fn state(&self) -> Result<ProjectState> {
        self.state_after(self.list.len())
    }
}

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
    let Some(migration) = plan_migration(&existing, models, renames, name)? else {
        return Ok(MakeOutcome::NoChanges);
    };
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

/// The migration that would bring `existing` up to `models`, if any.
pub fn plan_migration(
    existing: &Migrations,
    models: &[&'static ModelMeta],
    renames: &Renames,
    name: Option<&str>,
) -> Result<Option<Migration>> {
    let (operations, notes) = autodetect::diff(
        &existing.state()?,
        &ProjectState::from_models(models),
        renames,
    )?;
    if operations.is_empty() {
        return Ok(None);
    }
    let number = existing
        .iter()
        .filter_map(|m| m.name.split('_').next()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let description = match name {
        Some(name) => name.to_owned(),
        None if existing.is_empty() => "initial".to_owned(),
        None if operations.len() == 1 => operations[0].name_fragment(),
        None => format!("{}_and_more", operations[0].name_fragment()),
    };
    let description: String = description
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    Ok(Some(Migration {
        name: format!("{number:04}_{description}"),
        dependencies: existing
            .list
            .last()
            .map(|m| m.name.clone())
            .into_iter()
            .collect(),
        notes,
        operations,
    }))
}
