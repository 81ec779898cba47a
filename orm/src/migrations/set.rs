//! Migration files and the set a project applies: its own app's files and
//! the files each battery ships, ordered by the dependencies they declare.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::ProjectState;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// The app label of a set built from one folder or one embedded list,
/// until [`Migrations::labelled`] names it.
pub const DEFAULT_APP: &str = "app";

/// A Rust function a data migration runs by name (see
/// [`Migrations::function`]): it gets the migration's transaction.
pub type DataFunction = fn(&Connection) -> Result<()>;

/// A migration another one needs first: `"0001_initial"` in its own app, or
/// `["auth", "0001_initial"]` in another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dependency {
    /// A migration of the same app.
    Same(String),
    /// `(app, name)`: a migration of another app.
    Other(String, String),
}

impl Dependency {
    /// The `(app, name)` it names, seen from a migration of `app`.
    pub fn key(&self, app: &str) -> (String, String) {
        match self {
            Dependency::Same(name) => (app.to_owned(), name.clone()),
            Dependency::Other(app, name) => (app.clone(), name.clone()),
        }
    }
}

impl PartialEq<&str> for Dependency {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Dependency::Same(name) if name == other)
    }
}

impl From<&str> for Dependency {
    fn from(name: &str) -> Self {
        Dependency::Same(name.to_owned())
    }
}

/// One migration file: its app and name, the migrations it depends on and
/// its operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// The app it belongs to (`auth`, or the project's label).
    #[serde(skip)]
    pub app: String,
    /// `0002_add_news_article_subtitle` (the file name without `.json`).
    #[serde(skip)]
    pub name: String,
    /// The migrations that must be applied first.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// The migrations of the same app this one replaces (a squashed
    /// migration): it counts as applied where they all are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// Remarks for the reviewer (an undeclared rename, lost data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The changes, in order.
    pub operations: Vec<super::Operation>,
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
        migration.app = DEFAULT_APP.to_owned();
        Ok(migration)
    }

    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Serializing plain structs, strings and JSON values cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// `auth.0001_initial`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }

    /// The `(app, name)` keys of its dependencies.
    pub fn dependency_keys(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.dependencies.iter().map(|d| d.key(&self.app))
    }

    fn key(&self) -> (String, String) {
        (self.app.clone(), self.name.clone())
    }
}

/// The migrations a battery compiles in under its app label: tack-auth's
/// `MIGRATIONS`, tack-sessions' `MIGRATIONS`. Add them to a project's set
/// with [`Migrations::with`].
#[derive(Debug, Clone, Copy)]
pub struct AppMigrations {
    /// The app label (`auth`).
    pub app: &'static str,
    /// The files, as [`embed_migrations!`](super::embed_migrations) gives them.
    pub files: &'static [(&'static str, &'static str)],
}

/// The migrations of a project and its batteries, in the order they apply:
/// each after the migrations it depends on, in any app.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    list: Vec<Migration>,
    /// The apps, in the order they were added (the first is the project's).
    apps: Vec<String>,
    functions: BTreeMap<String, DataFunction>,
}

impl Migrations {
    /// Reads every `*.json` file of `folder` (none when it does not exist).
    pub fn from_dir(folder: &Path) -> Result<Migrations> {
        Self::from_files(
            read_dir(folder)?
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str())),
        )
    }

    /// The files compiled in by [`embed_migrations!`](super::embed_migrations):
    /// `(name, text)` pairs.
    pub fn from_embedded(files: &[(&str, &str)]) -> Result<Migrations> {
        Self::from_files(files.iter().copied())
    }

    /// Parses `(name, text)` pairs of one app (labelled [`DEFAULT_APP`]
    /// until [`labelled`](Self::labelled)) and orders them, checking that
    /// each dependency within the app exists.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Migrations> {
        let mut set = Migrations::default();
        set.add_app(DEFAULT_APP, files)?;
        Ok(set)
    }

    /// Names the first app (the project's own: `newsroom`). Rows recorded
    /// before the history table kept an app belong to it.
    pub fn labelled(mut self, app: &str) -> Result<Migrations> {
        let old = self.apps.first().cloned().unwrap_or_default();
        if self.apps.iter().skip(1).any(|a| a == app) {
            return Err(Error::query(format!(
                "cannot label the project's migrations {app:?}: a battery uses that label"
            )));
        }
        for m in &mut self.list {
            if m.app == old {
                m.app = app.to_owned();
            }
            for dep in &mut m.dependencies {
                if let Dependency::Other(other, _) = dep
                    && *other == old
                {
                    *other = app.to_owned();
                }
            }
        }
        match self.apps.first_mut() {
            Some(first) => *first = app.to_owned(),
            None => self.apps.push(app.to_owned()),
        }
        Ok(self)
    }

    /// Adds a battery's migrations (`tack_auth::MIGRATIONS`).
    pub fn with(mut self, battery: AppMigrations) -> Result<Migrations> {
        if self.apps.is_empty() {
            self.apps.push(DEFAULT_APP.to_owned());
        }
        self.add_app(battery.app, battery.files.iter().copied())?;
        Ok(self)
    }

    /// Adds the files of a folder as app `app` (a second app of the
    /// project, or a battery's folder in its own tests).
    pub fn with_dir(mut self, app: &str, folder: &Path) -> Result<Migrations> {
        let files = read_dir(folder)?;
        self.add_app(app, files.iter().map(|(n, t)| (n.as_str(), t.as_str())))?;
        Ok(self)
    }

    /// Registers the Rust function that `{"op": "run_rust", "forward":
    /// "name"}` operations call.
    pub fn function(mut self, name: &str, function: DataFunction) -> Migrations {
        self.functions.insert(name.to_owned(), function);
        self
    }

    pub(crate) fn data_function(&self, name: &str) -> Result<DataFunction> {
        self.functions.get(name).copied().ok_or_else(|| {
            Error::query(format!(
                "the Rust data migration function {name:?} is not registered: \
                 add it with Migrations::function({name:?}, ...)"
            ))
        })
    }

    fn add_app<'a>(
        &mut self,
        app: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<()> {
        if self.apps.iter().skip(1).any(|a| a == app) || self.list.iter().any(|m| m.app == app) {
            return Err(Error::query(format!(
                "the migrations of app {app:?} were added twice"
            )));
        }
        if !self.apps.iter().any(|a| a == app) {
            self.apps.push(app.to_owned());
        }
        for (name, text) in files {
            let mut m = Migration::parse(name, text)?;
            m.app = app.to_owned();
            self.list.push(m);
        }
        self.order()
    }

    /// Orders the list: each migration after its dependencies, and among
    /// those ready, by app (in the order added) then by name.
    fn order(&mut self) -> Result<()> {
        // A missing migration of the same app is an error now; one of an
        // app not added yet, when the set is used (see `validate`).
        if let Some(error) = self.missing_dependency(|app, m| app == m.app) {
            return Err(error);
        }
        let keys: BTreeSet<(String, String)> = self.list.iter().map(Migration::key).collect();
        let replaced: BTreeSet<(String, String)> = self
            .list
            .iter()
            .flat_map(|s| s.replaces.iter().map(|r| (s.app.clone(), r.clone())))
            .collect();
        let known = |key: &(String, String)| keys.contains(key) || replaced.contains(key);
        let rank = |m: &Migration| {
            let app = self
                .apps
                .iter()
                .position(|a| *a == m.app)
                .unwrap_or(usize::MAX);
            (app, m.name.clone())
        };
        let mut pending: Vec<Migration> = std::mem::take(&mut self.list);
        pending.sort_by_key(rank);
        let mut done: BTreeSet<(String, String)> = BTreeSet::new();
        while !pending.is_empty() {
            let Some(i) = pending
                .iter()
                .position(|m| m.dependency_keys().all(|k| done.contains(&k) || !known(&k)))
            else {
                let names: Vec<String> = pending.iter().map(Migration::label).collect();
                return Err(Error::query(format!(
                    "the dependencies of these migrations form a cycle: {}",
                    names.join(", ")
                )));
            };
            let m = pending.remove(i);
            done.insert(m.key());
            // A squashed migration stands for the files it replaces that
            // were deleted.
            for replaced in &m.replaces {
                let key = (m.app.clone(), replaced.clone());
                if !keys.contains(&key) {
                    done.insert(key);
                }
            }
            self.list.push(m);
        }
        Ok(())
    }

    /// The first dependency (among those `which` selects) that names a
    /// migration not in the set.
    fn missing_dependency(&self, which: impl Fn(&str, &Migration) -> bool) -> Option<Error> {
        let keys: BTreeSet<(String, String)> = self.list.iter().map(Migration::key).collect();
        for m in &self.list {
            for (app, name) in m.dependency_keys() {
                if !which(&app, m)
                    || keys.contains(&(app.clone(), name.clone()))
                    || self
                        .list
                        .iter()
                        .any(|s| s.app == app && s.replaces.contains(&name))
                {
                    continue;
                }
                let hint = if self.list.iter().any(|other| other.app == app) {
                    format!("app {app:?} has no migration {name:?}")
                } else {
                    format!(
                        "no app {app:?} is in the set: add its migrations with Migrations::with"
                    )
                };
                return Some(Error::query(format!(
                    "migration {} depends on {app}.{name}, but {hint}",
                    m.label()
                )));
            }
        }
        None
    }

    /// Every migration, in the order they apply.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.list.iter()
    }

    /// The names, in order (`auth.0001_initial` for a battery's).
    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|m| self.display_name(m)).collect()
    }

    /// A migration's name as reports print it: bare for the project's own
    /// app, `app.name` for the others.
    pub fn display_name(&self, m: &Migration) -> String {
        if self.apps.first() == Some(&m.app) {
            m.name.clone()
        } else {
            m.label()
        }
    }

    /// The apps, the project's first.
    pub fn apps(&self) -> &[String] {
        &self.apps
    }

    /// The project's own app (the first).
    pub fn project_app(&self) -> &str {
        self.apps.first().map(String::as_str).unwrap_or(DEFAULT_APP)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The migrations of `app`, in order.
    pub fn of_app<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a Migration> + 'a {
        self.list.iter().filter(move |m| m.app == app)
    }

    /// The migrations of `app` that no other migration of `app` depends on:
    /// one, unless two people added migrations at once.
    pub fn leaves<'a>(&'a self, app: &'a str) -> Vec<&'a Migration> {
        let needed: BTreeSet<(String, String)> = self
            .of_app(app)
            .flat_map(Migration::dependency_keys)
            .chain(
                self.of_app(app)
                    .flat_map(|m| m.replaces.iter().map(|r| (app.to_owned(), r.clone()))),
            )
            .collect();
        self.of_app(app)
            .filter(|m| !needed.contains(&m.key()))
            .filter(|m| !self.is_replaced(m))
            .collect()
    }

    /// Checks the set before it is used: every dependency is in it, and no
    /// app has two leaf migrations (an error naming both).
    pub fn validate(&self) -> Result<()> {
        if let Some(error) = self.missing_dependency(|_, _| true) {
            return Err(error);
        }
        for app in &self.apps {
            let leaves = self.leaves(app);
            if leaves.len() > 1 {
                let names: Vec<&str> = leaves.iter().map(|m| m.name.as_str()).collect();
                return Err(Error::query(format!(
                    "conflicting migrations in app {app}: {} do not depend on each other; \
                     run makemigrations --merge to write the migration that joins them",
                    names.join(" and ")
                )));
            }
        }
        Ok(())
    }

    /// Whether a squashed migration in the set replaces `m`.
    pub(crate) fn is_replaced(&self, m: &Migration) -> bool {
        self.of_app(&m.app).any(|s| s.replaces.contains(&m.name))
    }

    /// The position of `name` in `app`, or an error listing the app's names.
    pub(crate) fn position_in(&self, app: &str, name: &str) -> Result<usize> {
        self.list
            .iter()
            .position(|m| m.app == app && m.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.of_app(app).map(|m| m.name.as_str()).collect();
                if known.is_empty() {
                    Error::query(format!(
                        "no app {app:?} in the migrations (apps: {})",
                        self.apps.join(", ")
                    ))
                } else {
                    Error::query(format!(
                        "app {app} has no migration named {name:?} (known: {})",
                        known.join(", ")
                    ))
                }
            })
    }

    /// The position of `name`: `app.name`, or a name of the project's app.
    pub(crate) fn position(&self, name: &str) -> Result<usize> {
        match name.split_once('.') {
            Some((app, name)) if self.apps.iter().any(|a| a == app) => self.position_in(app, name),
            _ => self.position_in(self.project_app(), name),
        }
    }

    pub(crate) fn get(&self, i: usize) -> &Migration {
        &self.list[i]
    }

    /// The schema after the first `count` migrations (squashed migrations
    /// stand for the ones they replace, which are skipped).
    pub(crate) fn state_after(&self, count: usize) -> Result<ProjectState> {
        state_of(self.list[..count].iter().filter(|m| !self.is_replaced(m)))
    }

    /// The schema all the migrations add up to.
    pub fn state(&self) -> Result<ProjectState> {
        self.state_after(self.list.len())
    }

    /// The app whose migrations created `table`, if any.
    pub(crate) fn owner_of(&self, table: &str) -> Option<&str> {
        use super::Operation as O;
        self.list.iter().find_map(|m| {
            m.operations.iter().find_map(|op| match op {
                O::CreateTable { table: t, .. } | O::CreateJoinTable { table: t, .. }
                    if t == table =>
                {
                    Some(m.app.as_str())
                }
                O::RenameTable { new, .. } if new == table => Some(m.app.as_str()),
                _ => None,
            })
        })
    }
}

impl fmt::Display for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

/// The schema `migrations` add up to, applied in the order given.
pub(crate) fn state_of<'a>(
    migrations: impl Iterator<Item = &'a Migration>,
) -> Result<ProjectState> {
    let mut state = ProjectState::default();
    for m in migrations {
        for op in &m.operations {
            state.apply(op).map_err(|e| {
                Error::query(format!("migration {}: {}: {e}", m.label(), op.describe()))
            })?;
        }
    }
    Ok(state)
}

fn read_dir(folder: &Path) -> Result<Vec<(String, String)>> {
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
    Ok(files)
}
