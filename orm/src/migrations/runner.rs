//! Applying and rolling back migrations on a database, one transaction per
//! migration, under a lock so that two processes never apply one twice.

use std::collections::BTreeMap;
use std::fmt;

use super::sql::operation_sql;
use super::state::ProjectState;
use super::{MIGRATIONS_TABLE, Migration, Migrations, autodetect};
use crate::connection::{Connection, Database};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::ModelMeta;
use crate::value::Value;

/// The PostgreSQL advisory lock key migrations take ("tackmig").
const LOCK_KEY: i64 = 0x0074_6163_6b6d_6967;

/// What [`migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// Migrations applied by this call, in order.
    pub applied: Vec<String>,
    /// Migrations rolled back by this call, in order.
    pub rolled_back: Vec<String>,
}

impl fmt::Display for MigrateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.applied.is_empty() && self.rolled_back.is_empty() {
            return f.write_str("No migrations to apply");
        }
        let lines = self.applied.iter().map(|n| format!("Applied {n}"));
        let back = self.rolled_back.iter().map(|n| format!("Rolled back {n}"));
        f.write_str(&lines.chain(back).collect::<Vec<_>>().join("\n"))
    }
}

/// One migration and whether (and when) it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration's name.
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

fn ensure_table(conn: &Connection) -> Result<()> {
    conn.atomic(|tx| {
        lock(tx)?;
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} \
             (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at VARCHAR(64) NOT NULL)"
        ))
    })
}

fn applied(conn: &Connection) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    conn.query(
        &format!("SELECT name, applied_at FROM {MIGRATIONS_TABLE}"),
        &[],
        |row| {
            out.insert(row.get::<String>(0)?, row.get::<String>(1)?);
            Ok(())
        },
    )?;
    Ok(out)
}

fn is_applied(conn: &Connection, name: &str) -> Result<bool> {
    let mut sql = format!("SELECT 1 FROM {MIGRATIONS_TABLE} WHERE name = ");
    conn.dialect().placeholder_into(&mut sql, 1);
    let mut found = false;
    conn.query(&sql, &[Value::Text(name.to_owned())], |_| {
        found = true;
        Ok(())
    })?;
    Ok(found)
}

fn forward_sql(d: Dialect, mut state: ProjectState, m: &Migration) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for op in &m.operations {
        let context =
            |e: Error| Error::query(format!("migration {}: {}: {e}", m.name, op.describe()));
        out.extend(operation_sql(d, &state, op).map_err(context)?);
        state.apply(op).map_err(context)?;
    }
    Ok(out)
}

fn backward_sql(d: Dialect, mut state: ProjectState, m: &Migration) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for op in m.operations.iter().rev() {
        let context =
            |e: Error| Error::query(format!("cannot roll back migration {}: {e}", m.name));
        for undo in op.reverse().map_err(context)? {
            out.extend(operation_sql(d, &state, &undo).map_err(context)?);
            state.apply(&undo).map_err(context)?;
        }
    }
    Ok(out)
}

/// The SQL that applies (or, with `backwards`, rolls back) migration `name`
/// on `dialect`, without running it. On SQLite, `migrate` also turns
/// `PRAGMA foreign_keys` off around the transaction and checks the keys
/// before committing.
pub fn sqlmigrate(
    dialect: Dialect,
    migrations: &Migrations,
    name: &str,
    backwards: bool,
) -> Result<Vec<String>> {
    let i = migrations.position(name)?;
    if backwards {
        backward_sql(dialect, migrations.state_after(i + 1)?, migrations.get(i))
    } else {
        forward_sql(dialect, migrations.state_after(i)?, migrations.get(i))
    }
}

/// Runs one migration's statements in one transaction and records it.
/// Answers `false` when another process got there first.
fn run_step(conn: &Connection, name: &str, statements: &[String], forward: bool) -> Result<bool> {
    let sqlite = conn.dialect() == Dialect::Sqlite;
    let mut keys_on = false;
    if sqlite {
        conn.query("PRAGMA foreign_keys", &[], |row| {
            keys_on = row.get::<i64>(0)? == 1;
            Ok(())
        })?;
        // Rebuilding a table drops it: with keys on, that would cascade.
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    }
    let result = conn.atomic(|tx| {
        lock(tx)?;
        if is_applied(tx, name)? == forward {
            return Ok(false);
        }
        for statement in statements {
            tx.execute_batch(statement).map_err(|e| {
                Error::query(format!(
                    "migration {name} failed (nothing of it was kept) at `{statement}`: {e}"
                ))
            })?;
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
        let mut sql = if forward {
            format!("INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (")
        } else {
            format!("DELETE FROM {MIGRATIONS_TABLE} WHERE name = ")
        };
        let mut params = vec![Value::Text(name.to_owned())];
        tx.dialect().placeholder_into(&mut sql, 1);
        if forward {
            sql.push_str(", ");
            tx.dialect().placeholder_into(&mut sql, 2);
            sql.push(')');
            params.push(Value::Text(chrono::Utc::now().to_rfc3339()));
        }
        tx.execute(&sql, &params)?;
        Ok(true)
    });
    if sqlite && keys_on {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    result
}

/// Applies the unapplied migrations in order (each in its own transaction,
/// recorded in `tack_migrations`), or, with `target`, moves the database to
/// just after that migration: applying up to it, or rolling back the ones
/// after it. `Some("zero")` rolls back every migration.
pub fn migrate(
    db: &Database,
    migrations: &Migrations,
    target: Option<&str>,
) -> Result<MigrateReport> {
    let conn = db.connection()?;
    migrate_on(&conn, migrations, target)
}

fn migrate_on(
    conn: &Connection,
    migrations: &Migrations,
    target: Option<&str>,
) -> Result<MigrateReport> {
    ensure_table(conn)?;
    let done = applied(conn)?;
    let d = conn.dialect();
    let mut report = MigrateReport::default();
    let end = match target {
        None => migrations.len(),
        Some("zero") => 0,
        Some(name) => migrations.position(name)? + 1,
    };
    // Roll back, newest first, what is applied beyond the target.
    for i in (end..migrations.len()).rev() {
        let m = migrations.get(i);
        if done.contains_key(&m.name) {
            let statements = backward_sql(d, migrations.state_after(i + 1)?, m)?;
            if run_step(conn, &m.name, &statements, false)? {
                report.rolled_back.push(m.name.clone());
            }
        }
    }
    for i in 0..end {
        let m = migrations.get(i);
        if !done.contains_key(&m.name) {
            let statements = forward_sql(d, migrations.state_after(i)?, m)?;
            if run_step(conn, &m.name, &statements, true)? {
                report.applied.push(m.name.clone());
            }
        }
    }
    Ok(report)
}

/// Every migration with its applied mark, in order.
pub fn showmigrations(db: &Database, migrations: &Migrations) -> Result<Vec<MigrationStatus>> {
    let conn = db.connection()?;
    ensure_table(&conn)?;
    let done = applied(&conn)?;
    Ok(migrations
        .iter()
        .map(|m| MigrationStatus {
            name: m.name.clone(),
            applied_at: done.get(&m.name).cloned(),
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
    let conn = db.connection()?;
    ensure_table(&conn)?;
    let done = applied(&conn)?;
    let names = migrations.names();
    let model_changes = match autodetect::diff(
        &migrations.state()?,
        &ProjectState::from_models(models),
        &autodetect::Renames::new(),
    ) {
        Ok((ops, _)) => ops.iter().map(|op| op.describe()).collect(),
        Err(e) => vec![e.to_string()],
    };
    Ok(CheckReport {
        unapplied: names
            .iter()
            .filter(|n| !done.contains_key(**n))
            .map(|n| (*n).to_owned())
            .collect(),
        unknown_applied: done
            .keys()
            .filter(|n| !names.contains(&n.as_str()))
            .cloned()
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

/// Records as applied, without running them, the leading unapplied
/// migrations that only create tables when every one of those tables
/// exists already: a database whose tables `Database::create_tables` made
/// before the application had migrations is adopted this way (Django's
/// `--fake-initial`). Answers the names recorded.
pub fn adopt_existing_tables(db: &Database, migrations: &Migrations) -> Result<Vec<String>> {
    use super::state::Operation;
    let conn = db.connection()?;
    ensure_table(&conn)?;
    let mut adopted = Vec::new();
    for m in migrations.iter() {
        let tables: Option<Vec<&String>> =
            m.operations
                .iter()
                .map(|op| match op {
                    Operation::CreateTable { table, .. }
                    | Operation::CreateJoinTable { table, .. } => Some(table),
                    _ => None,
                })
                .collect();
        let Some(tables) = tables else { break };
        let recorded = conn.atomic(|tx| {
            lock(tx)?;
            if is_applied(tx, &m.name)? {
                return Ok(true);
            }
            for table in &tables {
                if !table_exists(tx, table)? {
                    return Ok(false);
                }
            }
            let mut sql = format!("INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (");
            tx.dialect().placeholder_into(&mut sql, 1);
            sql.push_str(", ");
            tx.dialect().placeholder_into(&mut sql, 2);
            sql.push(')');
            let now = Value::Text(chrono::Utc::now().to_rfc3339());
            tx.execute(&sql, &[Value::Text(m.name.clone()), now])?;
            adopted.push(m.name.clone());
            Ok::<_, Error>(true)
        })?;
        if !recorded {
            break;
        }
    }
    Ok(adopted)
}
