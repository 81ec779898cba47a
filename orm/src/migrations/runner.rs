//! Applying and rolling back migrations on a database, one transaction per
//! migration, under a lock so that two processes never apply one twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::sql::operation_sql;
use super::state::{Operation, ProjectState};
use super::{DataFunction, MIGRATIONS_TABLE, Migration, Migrations, autodetect};
use crate::connection::{Connection, Database};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::ModelMeta;
use crate::value::Value;

/// The PostgreSQL advisory lock key migrations take ("tackmig").
const LOCK_KEY: i64 = 0x0074_6163_6b6d_6967;

/// `(app, name)`: how the history table knows a migration.
type Key = (String, String);

/// What [`migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// Migrations applied by this call, in order.
    pub applied: Vec<String>,
    /// Migrations rolled back by this call, in order.
    pub rolled_back: Vec<String>,
    /// Battery migrations recorded without running because their tables
    /// were there already (made before the battery shipped migrations).
    pub adopted: Vec<String>,
    /// Whether the changes were only recorded (`--fake`).
    pub fake: bool,
}

impl fmt::Display for MigrateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.applied.is_empty() && self.rolled_back.is_empty() && self.adopted.is_empty() {
            return f.write_str("No migrations to apply");
        }
        let fake = if self.fake { " (fake)" } else { "" };
        let adopted = self
            .adopted
            .iter()
            .map(|n| format!("Adopted {n} (its tables exist already)"));
        let back = self
            .rolled_back
            .iter()
            .map(|n| format!("Rolled back {n}{fake}"));
        let lines = self.applied.iter().map(|n| format!("Applied {n}{fake}"));
        f.write_str(
            &adopted
                .chain(back)
                .chain(lines)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// One migration and whether (and when) it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration's app.
    pub app: String,
    /// The migration's name (`auth.0001_initial` outside the project's app).
    pub name: String,
    /// When it was applied (RFC 3339), or `None`.
    pub applied_at: Option<String>,
}

impl fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.applied_at.is_some() { 'X' } else { ' ' };
        write!(f, "[{mark}] {}", self.name)
    }
}

/// What a starting server is missing: see [`check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Migrations not applied to the database yet.
    pub unapplied: Vec<String>,
    /// Migrations the database has applied that the files do not know.
    pub unknown_applied: Vec<String>,
    /// Model changes that no migration file describes yet.
    pub model_changes: Vec<String>,
}

impl CheckReport {
    /// Whether the database, the migrations and the models agree.
    pub fn is_ok(&self) -> bool {
        self.unapplied.is_empty()
            && self.unknown_applied.is_empty()
            && self.model_changes.is_empty()
    }

    /// `Ok(())` when all agree, else an error with the whole report.
    pub fn into_result(self) -> Result<()> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(Error::query(self.to_string()))
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            return f.write_str("the database schema matches the models");
        }
        let mut parts = Vec::new();
        if !self.unapplied.is_empty() {
            parts.push(format!(
                "unapplied migrations (run migrate): {}",
                self.unapplied.join(", ")
            ));
        }
        if !self.unknown_applied.is_empty() {
            parts.push(format!(
                "applied migrations missing from the files: {}",
                self.unknown_applied.join(", ")
            ));
        }
        if !self.model_changes.is_empty() {
            parts.push(format!(
                "model changes without a migration (run makemigrations): {}",
                self.model_changes.join("; ")
            ));
        }
        f.write_str(&parts.join("\n"))
    }
}

/// Takes the migration lock for the current transaction (call it inside
/// [`atomic`](Connection::atomic)): PostgreSQL's advisory transaction lock,
/// released at commit; on SQLite `BEGIN IMMEDIATE` already holds the write
/// lock.
///
/// Start-up work that every process does after migrating (creating
/// permissions, seeding) runs under it, so that processes starting at the
/// same moment do it once: the second finds what the first committed.
///
/// ```
/// # let db = tack_orm::Database::connect("sqlite::memory:").unwrap();
/// db.atomic(|tx| {
///     tack_orm::migrations::lock(tx)?;
///     // check what is there, then insert what is missing
///     Ok::<_, tack_orm::Error>(())
/// })
/// .unwrap();
/// ```
pub fn lock(tx: &Connection) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        tx.query(
            &format!("SELECT 1 FROM (SELECT pg_advisory_xact_lock({LOCK_KEY})) AS l"),
            &[],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// Creates the history table, or upgrades one from before it kept an app
/// column: those rows belong to the project's app (`legacy_app`).
fn ensure_table(conn: &Connection, legacy_app: &str) -> Result<()> {
    let create = |tx: &Connection, table: &str| {
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (app VARCHAR(100) NOT NULL, \
             name VARCHAR(255) NOT NULL, applied_at VARCHAR(64) NOT NULL, \
             PRIMARY KEY (app, name))"
        ))
    };
    conn.atomic(|tx| {
        lock(tx)?;
        if !table_exists(tx, MIGRATIONS_TABLE)? {
            return create(tx, MIGRATIONS_TABLE);
        }
        if column_exists(tx, MIGRATIONS_TABLE, "app")? {
            return Ok(());
        }
        // Rows, not a renamed table, move over: the new table keeps the
        // names (its primary key's among them) a fresh one would have.
        let mut rows = Vec::new();
        tx.query(
            &format!("SELECT name, applied_at FROM {MIGRATIONS_TABLE}"),
            &[],
            |row| {
                rows.push((row.get::<String>(0)?, row.get::<String>(1)?));
                Ok(())
            },
        )?;
        tx.execute_batch(&format!("DROP TABLE {MIGRATIONS_TABLE}"))?;
        create(tx, MIGRATIONS_TABLE)?;
        let mut sql = format!("INSERT INTO {MIGRATIONS_TABLE} (app, name, applied_at) VALUES (");
        for i in 1..=3 {
            tx.dialect().placeholder_into(&mut sql, i);
            sql.push_str(if i < 3 { ", " } else { ")" });
        }
        for (name, applied_at) in rows {
            let params = [
                Value::Text(legacy_app.to_owned()),
                Value::Text(name),
                Value::Text(applied_at),
            ];
            tx.execute(&sql, &params)?;
        }
        Ok(())
    })
}

fn applied(conn: &Connection) -> Result<BTreeMap<Key, String>> {
    let mut out = BTreeMap::new();
    conn.query(
        &format!("SELECT app, name, applied_at FROM {MIGRATIONS_TABLE}"),
        &[],
        |row| {
            out.insert(
                (row.get::<String>(0)?, row.get::<String>(1)?),
                row.get::<String>(2)?,
            );
            Ok(())
        },
    )?;
    Ok(out)
}

fn is_applied(conn: &Connection, (app, name): &Key) -> Result<bool> {
    let mut sql = format!("SELECT 1 FROM {MIGRATIONS_TABLE} WHERE app = ");
    conn.dialect().placeholder_into(&mut sql, 1);
    sql.push_str(" AND name = ");
    conn.dialect().placeholder_into(&mut sql, 2);
    let mut found = false;
    let params = [Value::Text(app.clone()), Value::Text(name.clone())];
    conn.query(&sql, &params, |_| {
        found = true;
        Ok(())
    })?;
    Ok(found)
}

/// Records `key` as applied (`forward`) or not.
fn record(tx: &Connection, (app, name): &Key, forward: bool) -> Result<()> {
    let d = tx.dialect();
    let mut params = vec![Value::Text(app.clone()), Value::Text(name.clone())];
    let mut sql = if forward {
        format!("INSERT INTO {MIGRATIONS_TABLE} (app, name, applied_at) VALUES (")
    } else {
        format!("DELETE FROM {MIGRATIONS_TABLE} WHERE app = ")
    };
    d.placeholder_into(&mut sql, 1);
    sql.push_str(if forward { ", " } else { " AND name = " });
    d.placeholder_into(&mut sql, 2);
    if forward {
        sql.push_str(", ");
        d.placeholder_into(&mut sql, 3);
        sql.push(')');
        params.push(Value::Text(chrono::Utc::now().to_rfc3339()));
    }
    tx.execute(&sql, &params)?;
    Ok(())
}

/// One thing a migration does on the database.
enum Step {
    Sql(String),
    Rust(String, DataFunction),
}

/// The steps of one operation given the state before it; the state moves on.
fn op_steps(
    d: Dialect,
    state: &mut ProjectState,
    op: &Operation,
    migrations: &Migrations,
    out: &mut Vec<Step>,
) -> Result<()> {
    if let Operation::RunRust { forward, .. } = op {
        out.push(Step::Rust(
            forward.clone(),
            migrations.data_function(forward)?,
        ));
    } else {
        out.extend(operation_sql(d, state, op)?.into_iter().map(Step::Sql));
    }
    state.apply(op)
}

fn forward_steps(
    d: Dialect,
    mut state: ProjectState,
    m: &Migration,
    migrations: &Migrations,
) -> Result<Vec<Step>> {
    let mut out = Vec::new();
    for op in &m.operations {
        op_steps(d, &mut state, op, migrations, &mut out).map_err(|e| {
            Error::query(format!("migration {}: {}: {e}", m.label(), op.describe()))
        })?;
    }
    Ok(out)
}

fn backward_steps(
    d: Dialect,
    mut state: ProjectState,
    m: &Migration,
    migrations: &Migrations,
) -> Result<Vec<Step>> {
    let mut out = Vec::new();
    for op in m.operations.iter().rev() {
        let context =
            |e: Error| Error::query(format!("cannot roll back migration {}: {e}", m.label()));
        for undo in op.reverse().map_err(context)? {
            op_steps(d, &mut state, &undo, migrations, &mut out).map_err(context)?;
        }
    }
    Ok(out)
}

/// The SQL that applies (or, with `backwards`, rolls back) migration `name`
/// (`app.name` outside the project's app) on `dialect`, without running
/// it. A Rust data function shows as a comment. On SQLite, `migrate` also
/// turns `PRAGMA foreign_keys` off around the transaction and checks the
/// keys before committing.
pub fn sqlmigrate(
    dialect: Dialect,
    migrations: &Migrations,
    name: &str,
    backwards: bool,
) -> Result<Vec<String>> {
    let i = migrations.position(name)?;
    let m = migrations.get(i);
    let steps = if backwards {
        backward_steps(dialect, migrations.state_after(i + 1)?, m, migrations)?
    } else {
        forward_steps(dialect, migrations.state_after(i)?, m, migrations)?
    };
    Ok(steps
        .into_iter()
        .map(|step| match step {
            Step::Sql(sql) => sql,
            Step::Rust(name, _) => format!("-- the Rust function {name}"),
        })
        .collect())
}

/// Runs one migration's steps in one transaction and records it (and the
/// migrations it replaces). Answers `false` when another process got there
/// first.
fn run_step(conn: &Connection, m: &Migration, steps: &[Step], forward: bool) -> Result<bool> {
    let sqlite = conn.dialect() == Dialect::Sqlite;
    let name = m.label();
    let mut keys_on = false;
    if sqlite {
        conn.query("PRAGMA foreign_keys", &[], |row| {
            keys_on = row.get::<i64>(0)? == 1;
            Ok(())
        })?;
        // Rebuilding a table drops it: with keys on, that would cascade.
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    }
    let key = (m.app.clone(), m.name.clone());
    let result = conn.atomic(|tx| {
        lock(tx)?;
        if is_applied(tx, &key)? == forward {
            return Ok(false);
        }
        for step in steps {
            match step {
                Step::Sql(statement) => tx.execute_batch(statement).map_err(|e| {
                    Error::query(format!(
                        "migration {name} failed (nothing of it was kept) at `{statement}`: {e}"
                    ))
                })?,
                Step::Rust(function, run) => run(tx).map_err(|e| {
                    Error::query(format!(
                        "migration {name} failed (nothing of it was kept) in the Rust \
                         function {function}: {e}"
                    ))
                })?,
            }
        }
        if sqlite {
            let mut broken = Vec::new();
            tx.query("PRAGMA foreign_key_check", &[], |row| {
                broken.push(row.get::<String>(0)?);
                Ok(())
            })?;
            if !broken.is_empty() {
                broken.dedup();
                return Err(Error::query(format!(
                    "migration {name} would leave rows whose foreign key points nowhere in: {}",
                    broken.join(", ")
                )));
            }
        }
        record(tx, &key, forward)?;
        for replaced in &m.replaces {
            let replaced = (m.app.clone(), replaced.clone());
            if is_applied(tx, &replaced)? != forward {
                record(tx, &replaced, forward)?;
            }
        }
        Ok(true)
    });
    if sqlite && keys_on {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    result
}

/// Which migrations a run moves: see [`Migrate`].
#[derive(Debug, Clone, Copy, Default)]
enum Goal<'a> {
    /// Every migration applied.
    #[default]
    All,
    /// Every migration rolled back.
    Zero,
    /// `app` at `target` (`None`: its last migration; `Some("zero")`: none
    /// of it).
    App(&'a str, Option<&'a str>),
}

/// A migration run, with its options: Django's `migrate [APP [TARGET]]
/// [--fake]`.
///
/// ```no_run
/// # use tack_orm::migrations::{Migrate, Migrations};
/// # fn run(db: &tack_orm::Database, migrations: &Migrations) -> tack_orm::Result<()> {
/// // Roll the auth app back to its first migration (and what depends on it).
/// Migrate::new(migrations).app("auth").target("0001_initial").run(db)?;
/// // Record the project's migrations as applied without running them.
/// Migrate::new(migrations).fake().run(db)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Migrate<'a> {
    migrations: &'a Migrations,
    goal: Goal<'a>,
    fake: bool,
}

impl<'a> Migrate<'a> {
    /// Applies every unapplied migration, in order.
    pub fn new(migrations: &'a Migrations) -> Self {
        Migrate {
            migrations,
            goal: Goal::All,
            fake: false,
        }
    }

    /// Moves only `app` (with the migrations of other apps it needs, or
    /// that need what is rolled back).
    pub fn app(mut self, app: &'a str) -> Self {
        self.goal = Goal::App(app, None);
        self
    }

    /// Moves to just after `target`: a migration name (of the app, or of
    /// the project's app; `app.name` names another), or `zero` for none.
    pub fn target(mut self, target: &'a str) -> Self {
        self.goal = match (self.goal, target) {
            (Goal::App(app, _), target) => Goal::App(app, Some(target)),
            (_, "zero") => Goal::Zero,
            (_, target) => match target.split_once('.') {
                Some((app, name)) if self.migrations.apps().iter().any(|a| a == app) => {
                    Goal::App(app, Some(name))
                }
                _ => Goal::App(self.migrations.project_app(), Some(target)),
            },
        };
        self
    }

    /// Records the changes in the history table without running them
    /// (Django's `--fake`), for a schema changed by hand.
    pub fn fake(mut self) -> Self {
        self.fake = true;
        self
    }

    /// Runs on `db`.
    pub fn run(self, db: &Database) -> Result<MigrateReport> {
        let conn = db.connection()?;
        self.run_on(&conn)
    }

    fn run_on(self, conn: &Connection) -> Result<MigrateReport> {
        let migrations = self.migrations;
        migrations.validate()?;
        ensure_table(conn, migrations.project_app())?;
        let mut done = applied(conn)?;
        let graph = Graph::new(migrations, &done);
        let (keep, roll_back) = graph.plan(self.goal)?;
        let d = conn.dialect();
        let mut report = MigrateReport {
            fake: self.fake,
            ..MigrateReport::default()
        };
        for &i in roll_back.iter().rev() {
            let m = &graph.list[i];
            let steps = if self.fake {
                Vec::new()
            } else {
                backward_steps(d, graph.state_after(i + 1)?, m, migrations)?
            };
            if run_step(conn, m, &steps, false)? {
                report.rolled_back.push(migrations.display_name(m));
            }
        }
        for (i, m) in graph.list.iter().enumerate() {
            if !keep.contains(&i) || graph.applied[i] {
                continue;
            }
            if !self.fake && m.app != migrations.project_app() && adopt(conn, m)? {
                report.adopted.push(migrations.display_name(m));
                continue;
            }
            let steps = if self.fake {
                Vec::new()
            } else {
                forward_steps(d, graph.state_after(i)?, m, migrations)?
            };
            if run_step(conn, m, &steps, true)? {
                report.applied.push(migrations.display_name(m));
            }
        }
        // A squashed migration whose replaced migrations are now all applied
        // counts as applied itself.
        done = applied(conn)?;
        for m in migrations.iter().filter(|m| !m.replaces.is_empty()) {
            let all = m
                .replaces
                .iter()
                .all(|r| done.contains_key(&(m.app.clone(), r.clone())));
            let key = (m.app.clone(), m.name.clone());
            if all && !done.contains_key(&key) {
                conn.atomic(|tx| {
                    lock(tx)?;
                    if !is_applied(tx, &key)? {
                        record(tx, &key, true)?;
                    }
                    Ok::<_, Error>(())
                })?;
            }
        }
        Ok(report)
    }
}

/// The migrations a run works with, given what is applied: a squashed
/// migration stands for the ones it replaces, unless only some of those
/// were applied (then they finish one by one).
struct Graph<'a> {
    list: Vec<&'a Migration>,
    applied: Vec<bool>,
    /// For each migration, the positions of those it depends on.
    parents: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(migrations: &'a Migrations, done: &BTreeMap<Key, String>) -> Graph<'a> {
        let recorded =
            |app: &str, name: &str| done.contains_key(&(app.to_owned(), name.to_owned()));
        let partial = |squash: &Migration| {
            !recorded(&squash.app, &squash.name)
                && squash.replaces.iter().any(|r| recorded(&squash.app, r))
                && !squash.replaces.iter().all(|r| recorded(&squash.app, r))
                && squash
                    .replaces
                    .iter()
                    .all(|r| migrations.of_app(&squash.app).any(|m| m.name == *r))
        };
        let list: Vec<&Migration> = migrations
            .iter()
            .filter(|m| {
                match migrations
                    .of_app(&m.app)
                    .find(|s| s.replaces.contains(&m.name))
                {
                    Some(squash) => partial(squash),
                    None => m.replaces.is_empty() || !partial(m),
                }
            })
            .collect();
        let position: BTreeMap<Key, usize> = list
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                std::iter::once(((m.app.clone(), m.name.clone()), i)).chain(
                    m.replaces
                        .iter()
                        .map(move |r| ((m.app.clone(), r.clone()), i)),
                )
            })
            .collect();
        let parents = list
            .iter()
            .map(|m| {
                m.dependency_keys()
                    .filter_map(|k| position.get(&k).copied())
                    .collect()
            })
            .collect();
        let applied = list
            .iter()
            .map(|m| {
                recorded(&m.app, &m.name)
                    || (!m.replaces.is_empty() && m.replaces.iter().all(|r| recorded(&m.app, r)))
            })
            .collect();
        Graph {
            list,
            applied,
            parents,
        }
    }

    /// `i` and every migration it needs, directly or not.
    fn ancestors(&self, start: &[usize]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = start.to_vec();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(&self.parents[i]);
            }
        }
        seen
    }

    /// The migrations in `start` and every one that needs them.
    fn descendants(&self, start: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut seen = start.clone();
        // The list is in dependency order: one pass finds every descendant.
        for (i, parents) in self.parents.iter().enumerate() {
            if parents.iter().any(|p| seen.contains(p)) {
                seen.insert(i);
            }
        }
        seen
    }

    /// What must be applied (all of `keep` not applied yet) and what must
    /// be rolled back (positions, in order; roll back in reverse).
    fn plan(&self, goal: Goal<'_>) -> Result<(BTreeSet<usize>, Vec<usize>)> {
        let all: BTreeSet<usize> = (0..self.list.len()).collect();
        let keep = match goal {
            Goal::All => all.clone(),
            Goal::Zero => BTreeSet::new(),
            Goal::App(app, target) => {
                let of_app: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&i| self.list[i].app == app)
                    .collect();
                if of_app.is_empty() {
                    return Err(Error::query(format!(
                        "no app {app:?} has migrations here (apps: {})",
                        self.apps().join(", ")
                    )));
                }
                let wanted = match target {
                    None => self.ancestors(&of_app),
                    Some("zero") => BTreeSet::new(),
                    Some(name) => {
                        let i = of_app
                            .iter()
                            .copied()
                            .find(|&i| {
                                self.list[i].name == name
                                    || self.list[i].replaces.iter().any(|r| r == name)
                            })
                            .ok_or_else(|| {
                                let known: Vec<&str> =
                                    of_app.iter().map(|&i| self.list[i].name.as_str()).collect();
                                Error::query(format!(
                                    "app {app} has no migration named {name:?} (known: {})",
                                    known.join(", ")
                                ))
                            })?;
                        self.ancestors(&[i])
                    }
                };
                // Everything else of the app goes, with what depends on it;
                // migrations of other apps that are not in the way stay.
                let leaving: BTreeSet<usize> = of_app
                    .iter()
                    .copied()
                    .filter(|i| !wanted.contains(i))
                    .collect();
                let going = self.descendants(&leaving);
                let others: BTreeSet<usize> = all
                    .iter()
                    .copied()
                    .filter(|&i| self.applied[i] && !going.contains(&i))
                    .collect();
                let keep = wanted.union(&others).copied().collect();
                let roll_back = going
                    .into_iter()
                    .filter(|&i| self.applied[i])
                    .collect::<Vec<_>>();
                return Ok((keep, roll_back));
            }
        };
        let roll_back = all
            .iter()
            .copied()
            .filter(|i| self.applied[*i] && !keep.contains(i))
            .collect();
        Ok((keep, roll_back))
    }

    fn apps(&self) -> Vec<&str> {
        let mut apps: Vec<&str> = Vec::new();
        for m in &self.list {
            if !apps.contains(&m.app.as_str()) {
                apps.push(&m.app);
            }
        }
        apps
    }

    /// The schema after the first `count` migrations of this run's list.
    fn state_after(&self, count: usize) -> Result<ProjectState> {
        super::set::state_of(self.list[..count].iter().copied())
    }
}

/// Applies the unapplied migrations in order (each in its own transaction,
/// recorded in `tack_migrations`), or, with `target`, moves the database to
/// just after that migration of the project's app (`app.name` for
/// another): applying up to it, or rolling back the ones after it and what
/// depends on them. `Some("zero")` rolls back every migration. See
/// [`Migrate`] for the other options.
pub fn migrate(
    db: &Database,
    migrations: &Migrations,
    target: Option<&str>,
) -> Result<MigrateReport> {
    let run = Migrate::new(migrations);
    match target {
        Some(target) => run.target(target).run(db),
        None => run.run(db),
    }
}

/// The migrations not applied to `db` yet, by name, read without writing
/// anything or taking the migration lock (for readiness probes; a missing
/// history table means none is applied). A squashed migration whose
/// replaced migrations are all applied counts as applied.
pub fn unapplied(db: &Database, migrations: &Migrations) -> Result<Vec<String>> {
    let conn = db.connection()?;
    if !table_exists(&conn, MIGRATIONS_TABLE)? {
        return Ok(migrations.names());
    }
    let done = if column_exists(&conn, MIGRATIONS_TABLE, "app")? {
        applied(&conn)?
    } else {
        // A history table from before apps: its rows are the project's.
        let mut done = BTreeMap::new();
        conn.query(
            &format!("SELECT name FROM {MIGRATIONS_TABLE}"),
            &[],
            |row| {
                let key = (migrations.project_app().to_owned(), row.get::<String>(0)?);
                done.insert(key, String::new());
                Ok(())
            },
        )?;
        done
    };
    let graph = Graph::new(migrations, &done);
    Ok(graph
        .list
        .iter()
        .zip(&graph.applied)
        .filter(|(_, applied)| !**applied)
        .map(|(m, _)| migrations.display_name(m))
        .collect())
}

/// Every migration with its applied mark, in order.
pub fn showmigrations(db: &Database, migrations: &Migrations) -> Result<Vec<MigrationStatus>> {
    let conn = db.connection()?;
    ensure_table(&conn, migrations.project_app())?;
    let done = applied(&conn)?;
    Ok(migrations
        .iter()
        .map(|m| MigrationStatus {
            app: m.app.clone(),
            name: migrations.display_name(m),
            applied_at: done.get(&(m.app.clone(), m.name.clone())).cloned(),
        })
        .collect())
}

/// What stands between `db` and `models`: unapplied migrations and model
/// changes without a migration. Servers call it on start and refuse to
/// serve (or warn) with the report instead of failing on the first query.
pub fn check(
    db: &Database,
    models: &[&'static ModelMeta],
    migrations: &Migrations,
) -> Result<CheckReport> {
    migrations.validate()?;
    let conn = db.connection()?;
    ensure_table(&conn, migrations.project_app())?;
    let done = applied(&conn)?;
    let model_changes = match autodetect::diff(
        &migrations.state()?,
        &ProjectState::from_models(models),
        &autodetect::Renames::new(),
    ) {
        Ok(diff) => diff.ops.iter().map(|op| op.describe()).collect(),
        Err(e) => vec![e.to_string()],
    };
    let squashed_away = |m: &Migration| {
        migrations.is_replaced(m)
            && migrations.of_app(&m.app).any(|s| {
                s.replaces.contains(&m.name) && done.contains_key(&(s.app.clone(), s.name.clone()))
            })
    };
    let known: BTreeSet<Key> = migrations
        .iter()
        .map(|m| (m.app.clone(), m.name.clone()))
        .chain(
            migrations
                .iter()
                .flat_map(|m| m.replaces.iter().map(|r| (m.app.clone(), r.clone()))),
        )
        .collect();
    Ok(CheckReport {
        unapplied: migrations
            .iter()
            .filter(|m| !done.contains_key(&(m.app.clone(), m.name.clone())) && !squashed_away(m))
            .map(|m| migrations.display_name(m))
            .collect(),
        unknown_applied: done
            .keys()
            .filter(|k| !known.contains(*k))
            .map(|(app, name)| {
                if app == migrations.project_app() {
                    name.clone()
                } else {
                    format!("{app}.{name}")
                }
            })
            .collect(),
        model_changes,
    })
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        Dialect::Postgres => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let mut found = false;
    conn.query(sql, &[Value::Text(table.to_owned())], |_| {
        found = true;
        Ok(())
    })?;
    Ok(found)
}

fn column_exists(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
        Dialect::Postgres => {
            "SELECT 1 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
        }
    };
    let mut found = false;
    let params = [
        Value::Text(table.to_owned()),
        Value::Text(column.to_owned()),
    ];
    conn.query(sql, &params, |_| {
        found = true;
        Ok(())
    })?;
    Ok(found)
}

/// The tables (with their columns) a migration creates, when creating
/// tables (and their indexes and constraints) is all it does.
fn created_tables(m: &Migration) -> Option<Vec<(&String, Vec<&str>)>> {
    let mut tables = Vec::new();
    for op in &m.operations {
        match op {
            Operation::CreateTable { table, columns } => {
                tables.push((table, columns.iter().map(|c| c.name.as_str()).collect()));
            }
            Operation::CreateJoinTable { table, join } => tables.push((
                table,
                vec![join.source.column.as_str(), join.target.column.as_str()],
            )),
            Operation::AddConstraint { table, .. }
            | Operation::AddIndex { table, .. }
            | Operation::AddUnique { table, .. }
                if tables.iter().any(|(t, _)| *t == table) => {}
            _ => return None,
        }
    }
    Some(tables)
}

/// Records `m` as applied, without running it, when it only creates tables
/// and each of them exists with each of its columns. Answers whether it did.
fn adopt(conn: &Connection, m: &Migration) -> Result<bool> {
    let Some(tables) = created_tables(m) else {
        return Ok(false);
    };
    if tables.is_empty() {
        return Ok(false);
    }
    let key = (m.app.clone(), m.name.clone());
    conn.atomic(|tx| {
        lock(tx)?;
        if is_applied(tx, &key)? {
            return Ok(false);
        }
        for (table, columns) in &tables {
            if !table_exists(tx, table)? {
                return Ok(false);
            }
            for column in columns {
                if !column_exists(tx, table, column)? {
                    return Ok(false);
                }
            }
        }
        record(tx, &key, true)?;
        Ok(true)
    })
}

/// Records as applied, without running them, the leading unapplied
/// migrations of the project's app that only create tables when every one
/// of those tables exists already with its columns: a database whose tables
/// `Database::create_tables` made before the application had migrations is
/// adopted this way (Django's `--fake-initial`). Answers the names recorded.
/// (Battery migrations are adopted this way by every [`migrate`].)
pub fn adopt_existing_tables(db: &Database, migrations: &Migrations) -> Result<Vec<String>> {
    let conn = db.connection()?;
    ensure_table(&conn, migrations.project_app())?;
    let mut adopted = Vec::new();
    for m in migrations.of_app(migrations.project_app()) {
        let key = (m.app.clone(), m.name.clone());
        if is_applied(&conn, &key)? {
            continue;
        }
        if !adopt(&conn, m)? {
            break;
        }
        adopted.push(migrations.display_name(m));
    }
    Ok(adopted)
}
