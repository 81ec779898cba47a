//! The `makemigrations`, `migrate`, `showmigrations`, `sqlmigrate` and
//! `checkmigrations` subcommands, for an application's `main` to forward to.

use std::path::Path;

use super::{
    Migrations, Renames, adopt_existing_tables, check, makemigrations_with, migrate,
    showmigrations, sqlmigrate,
};
use crate::connection::Database;
use crate::error::{Error, Result};
use crate::model::ModelMeta;

/// What an application tells the migration subcommands.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    /// Every model of the application.
    pub models: &'a [&'static ModelMeta],
    /// The migrations folder in the source tree (`makemigrations` writes
    /// here; the other commands read it when it exists).
    pub folder: &'a Path,
    /// The files compiled in with `embed_migrations!`, used when the folder
    /// is not beside the binary.
    pub embedded: &'a [(&'a str, &'a str)],
}

impl Project<'_> {
    /// The migrations: the folder's when it exists, else the embedded ones.
    pub fn migrations(&self) -> Result<Migrations> {
        if self.folder.is_dir() {
            Migrations::from_dir(self.folder)
        } else {
            Migrations::from_embedded(self.embedded)
        }
    }
}

/// The usage text of [`run_command`].
pub const USAGE: &str = "\
  makemigrations [--name NAME] [--rename-table OLD=NEW] [--rename-column TABLE.OLD=NEW]
                   write the next migration file for the model changes
  migrate [TARGET] [--fake-initial]
                   apply unapplied migrations, or move to TARGET (a migration name, or zero);
                   --fake-initial records initial migrations whose tables exist already
  showmigrations   list the migrations, [X] when applied
  sqlmigrate NAME [--backwards]
                   print the SQL of one migration without running it
  checkmigrations  report unapplied migrations and model changes without a migration";

/// Runs the subcommand `args[0]` with its arguments and answers what to
/// print, or `None` when `args[0]` is not a migration subcommand.
/// `makemigrations` and `sqlmigrate` need no database: `db` is opened only
/// by the commands that use it.
pub fn run_command(
    project: &Project<'_>,
    db: impl FnOnce() -> Result<Database>,
    args: &[String],
) -> Result<Option<String>> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(None);
    };
    let usage = |message: String| Error::query(format!("{message}\nusage:\n{USAGE}"));
    let output = match command.as_str() {
        "makemigrations" => {
            let mut renames = Renames::new();
            let mut name = None;
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let value = it
                    .next()
                    .ok_or_else(|| usage(format!("{flag} needs a value")))?;
                match (flag.as_str(), value.split_once('=')) {
                    ("--name", _) => name = Some(value.as_str()),
                    ("--rename-table", Some((old, new))) => renames = renames.table(old, new),
                    ("--rename-column", Some((old, new))) => {
                        let (table, old) = old.rsplit_once('.').ok_or_else(|| {
                            usage(format!("--rename-column takes TABLE.OLD=NEW, not {value}"))
                        })?;
                        renames = renames.column(table, old, new);
                    }
                    _ => return Err(usage(format!("unexpected {flag} {value}"))),
                }
            }
            makemigrations_with(project.models, project.folder, &renames, name)?.to_string()
        }
        "migrate" => {
            let fake_initial = rest.iter().any(|a| a == "--fake-initial");
            let rest: Vec<&String> = rest.iter().filter(|a| *a != "--fake-initial").collect();
            let target = match rest.as_slice() {
                [] => None,
                [target] => Some(target.as_str()),
                _ => return Err(usage(format!("migrate takes one target, not {rest:?}"))),
            };
            let (database, migrations) = (db()?, project.migrations()?);
            let mut lines = Vec::new();
            if fake_initial {
                for name in adopt_existing_tables(&database, &migrations)? {
                    lines.push(format!("Adopted {name} (its tables exist already)"));
                }
            }
            lines.push(migrate(&database, &migrations, target)?.to_string());
            lines.join("\n")
        }
        "showmigrations" => showmigrations(&db()?, &project.migrations()?)?
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        "sqlmigrate" => {
            let (name, backwards) = match rest {
                [name] => (name, false),
                [name, flag] if flag == "--backwards" => (name, true),
                _ => {
                    return Err(usage(format!(
                        "sqlmigrate takes NAME [--backwards], not {rest:?}"
                    )));
                }
            };
            let database = db()?;
            let statements =
                sqlmigrate(database.dialect(), &project.migrations()?, name, backwards)?;
            statements
                .iter()
                .map(|s| format!("{s};"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        "checkmigrations" => check(&db()?, project.models, &project.migrations()?)?.to_string(),
        _ => return Ok(None),
    };
    Ok(Some(output))
}
