//! The `makemigrations`, `migrate`, `showmigrations`, `sqlmigrate`,
//! `squashmigrations` and `checkmigrations` subcommands, for an
//! application's `main` to forward to.

use std::path::Path;

use super::{
    AppMigrations, Migrate, Migrations, RenameQuestion, Renames, adopt_existing_tables, check,
    makemigrations_in, makemigrations_merge, rename_questions, showmigrations, sqlmigrate,
    squashmigrations,
};
use crate::connection::Database;
use crate::error::{Error, Result};
use crate::model::ModelMeta;

/// What an application tells the migration subcommands.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    /// The project's app label (`newsroom`): its migrations are recorded
    /// under it.
    pub app: &'a str,
    /// Every model of the application, the batteries' included.
    pub models: &'a [&'static ModelMeta],
    /// The migrations folder in the source tree (`makemigrations` writes
    /// here; the other commands read it when it exists).
    pub folder: &'a Path,
    /// The files compiled in with `embed_migrations!`, used when the folder
    /// is not beside the binary.
    pub embedded: &'a [(&'a str, &'a str)],
    /// The migrations the batteries ship (`tack_auth::MIGRATIONS`).
    pub batteries: &'a [AppMigrations],
}

impl Project<'_> {
    /// The migrations: the folder's when it exists, else the embedded ones,
    /// with the batteries'.
    pub fn migrations(&self) -> Result<Migrations> {
        let own = if self.folder.is_dir() {
            Migrations::from_dir(self.folder)?
        } else {
            Migrations::from_embedded(self.embedded)?
        };
        self.with_batteries(own)
    }

    /// The folder's migrations with the batteries' (what `makemigrations`
    /// compares the models with).
    fn source(&self) -> Result<Migrations> {
        self.with_batteries(Migrations::from_dir(self.folder)?)
    }

    fn with_batteries(&self, own: Migrations) -> Result<Migrations> {
        let mut set = own.labelled(self.app)?;
        for battery in self.batteries {
            set = set.with(*battery)?;
        }
        Ok(set)
    }
}

/// The usage text of [`run_command`].
pub const USAGE: &str = "\
  makemigrations [--name NAME] [--rename-table OLD=NEW] [--rename-column TABLE.OLD=NEW]
                 [--no-rename]
                   write the next migration file for the model changes; a column removed
                   and one alike added is asked about on a terminal, and off one needs
                   --rename-column or --no-rename
  makemigrations --merge
                   write the migration that joins two leaf migrations
  migrate [APP] [TARGET] [--fake] [--fake-initial]
                   apply unapplied migrations, or move APP (default: the project's) to
                   TARGET (a migration name, or zero); --fake records without running;
                   --fake-initial records initial migrations whose tables exist already
  showmigrations   list the migrations, [X] when applied
  sqlmigrate NAME [--backwards]
                   print the SQL of one migration (APP.NAME for a battery's) without running it
  squashmigrations FROM TO
                   write one migration that replaces the project's migrations FROM to TO
  checkmigrations  report unapplied migrations and model changes without a migration";

/// Runs the subcommand `args[0]` with its arguments and answers what to
/// print, or `None` when `args[0]` is not a migration subcommand.
/// `makemigrations` and `sqlmigrate` need no database: `db` is opened only
/// by the commands that use it. When standard input and error are a
/// terminal, `makemigrations` asks "Did you rename ...? [y/N]" there.
pub fn run_command(
    project: &Project<'_>,
    db: impl FnOnce() -> Result<Database>,
    args: &[String],
) -> Result<Option<String>> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        run_command_asking(project, db, args, Some(&mut ask_on_terminal))
    } else {
        run_command_asking(project, db, args, None)
    }
}

/// Asks `question` on standard error and reads the answer (`y` or `yes`).
fn ask_on_terminal(question: &RenameQuestion) -> bool {
    use std::io::Write;
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// [`run_command`] with `ask` answering `makemigrations`' rename questions
/// (`None`: nobody to ask, so an undecided look-alike stops the command with
/// the flags that decide it).
pub fn run_command_asking(
    project: &Project<'_>,
    db: impl FnOnce() -> Result<Database>,
    args: &[String],
    ask: Option<&mut dyn FnMut(&RenameQuestion) -> bool>,
) -> Result<Option<String>> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(None);
    };
    let usage = |message: String| Error::query(format!("{message}\nusage:\n{USAGE}"));
    let output = match command.as_str() {
        "makemigrations" if rest.iter().any(|a| a == "--merge") => {
            if rest.len() > 1 {
                return Err(usage(format!("--merge takes nothing else, not {rest:?}")));
            }
            makemigrations_merge(&project.source()?, project.folder)?.to_string()
        }
        "makemigrations" => {
            let mut renames = Renames::new();
            let mut name = None;
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                if flag == "--no-rename" {
                    renames = renames.no_renames();
                    continue;
                }
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
            let existing = project.source()?;
            if let Some(ask) = ask {
                let mut renamed: Vec<(String, String)> = Vec::new();
                for question in rename_questions(&existing, project.models, &renames)? {
                    let (table, old, new) = (&question.table, &question.old, &question.new);
                    // A column renamed once is not asked about again.
                    if renamed
                        .iter()
                        .any(|(t, c)| t == table && (c == old || c == new))
                    {
                        continue;
                    }
                    renames = if ask(&question) {
                        renamed.push((table.clone(), old.clone()));
                        renamed.push((table.clone(), new.clone()));
                        renames.column(table, old, new)
                    } else {
                        renames.not_column(table, old, new)
                    };
                }
            }
            makemigrations_in(&existing, project.models, project.folder, &renames, name)?
                .to_string()
        }
        "migrate" => {
            let flag = |name: &str| rest.iter().any(|a| a == name);
            let (fake, fake_initial) = (flag("--fake"), flag("--fake-initial"));
            let positional: Vec<&str> = rest
                .iter()
                .map(String::as_str)
                .filter(|a| !a.starts_with("--"))
                .collect();
            if let Some(unknown) = rest
                .iter()
                .find(|a| a.starts_with("--") && *a != "--fake" && *a != "--fake-initial")
            {
                return Err(usage(format!("migrate does not know {unknown}")));
            }
            let migrations = project.migrations()?;
            let is_app = |a: &str| migrations.apps().iter().any(|app| app == a);
            let mut run = Migrate::new(&migrations);
            run = match positional.as_slice() {
                [] => run,
                [app] if is_app(app) => run.app(app),
                [target] => run.target(target),
                [app, target] if is_app(app) => run.app(app).target(target),
                [app, _] => {
                    return Err(usage(format!(
                        "no app {app:?} has migrations (apps: {})",
                        migrations.apps().join(", ")
                    )));
                }
                _ => {
                    return Err(usage(format!(
                        "migrate takes APP TARGET, not {positional:?}"
                    )));
                }
            };
            if fake {
                run = run.fake();
            }
            let database = db()?;
            let mut lines = Vec::new();
            if fake_initial {
                for name in adopt_existing_tables(&database, &migrations)? {
                    lines.push(format!("Adopted {name} (its tables exist already)"));
                }
            }
            lines.push(run.run(&database)?.to_string());
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
        "squashmigrations" => match rest {
            [from, to] => {
                squashmigrations(&project.source()?, project.folder, from, to)?.to_string()
            }
            _ => {
                return Err(usage(format!(
                    "squashmigrations takes FROM TO, not {rest:?}"
                )));
            }
        },
        "checkmigrations" => check(&db()?, project.models, &project.migrations()?)?.to_string(),
        _ => return Ok(None),
    };
    Ok(Some(output))
}
