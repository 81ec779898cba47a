//! Saving and deleting models, and the query-set writes built on them.

use crate::connection::{Connection, Executor};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::expr::Q;
use chrono::SubsecRound;

use crate::model::{AutoNow, Model, ModelMeta, is_unset};
use crate::model::{Statement, validate_values};
use crate::query::{QuerySet, Sql};
use crate::value::FieldKind;
use crate::value::{ToValue, Value};

fn insert_sql(meta: &'static ModelMeta, dialect: Dialect, with_pk: bool) -> &'static str {
    let shape = if with_pk {
        Statement::InsertPk
    } else {
        Statement::Insert
    };
    meta.statements.get(shape, dialect, || {
        let mut sql = Sql::new(dialect);
        sql.push("INSERT INTO ");
        sql.ident(meta.table);
        sql.push(" (");
        let columns: Vec<_> = meta
            .fields
            .iter()
            .enumerate()
            .filter(|(i, _)| with_pk || *i != meta.pk)
            .collect();
        for (n, (_, field)) in columns.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            sql.ident(field.column);
        }
        sql.push(") VALUES (");
        for n in 0..columns.len() {
            if n > 0 {
                sql.push(", ");
            }
            dialect.placeholder_into(&mut sql.text, n + 1);
        }
        sql.push(")");
        // SQLite reads the new key with last_insert_rowid(), which costs no
        // extra row step; PostgreSQL returns it.
        if dialect == Dialect::Postgres {
            sql.push(" RETURNING ");
            sql.ident(meta.pk_field().column);
        }
        sql.text
    })
}

fn update_sql(meta: &'static ModelMeta, dialect: Dialect) -> &'static str {
    meta.statements.get(Statement::Update, dialect, || {
        let mut sql = Sql::new(dialect);
        sql.push("UPDATE ");
        sql.ident(meta.table);
        sql.push(" SET ");
        let mut n = 0;
        for (i, field) in meta.fields.iter().enumerate() {
            if i == meta.pk {
                continue;
            }
            if n > 0 {
                sql.push(", ");
            }
            n += 1;
            sql.ident(field.column);
            sql.push(" = ");
            dialect.placeholder_into(&mut sql.text, n);
        }
        sql.push(" WHERE ");
        sql.ident(meta.pk_field().column);
        sql.push(" = ");
        dialect.placeholder_into(&mut sql.text, n + 1);
        sql.text
    })
}

pub(crate) fn by_pk_sql(meta: &'static ModelMeta, dialect: Dialect) -> &'static str {
    meta.statements.get(Statement::ByPk, dialect, || {
        let mut sql = Sql::new(dialect);
        sql.push("SELECT ");
        crate::query::select_columns(&mut sql, "t0", meta);
        sql.push(" FROM ");
        sql.ident(meta.table);
        sql.push(" AS t0 WHERE t0.");
        sql.ident(meta.pk_field().column);
        sql.push(" = ");
        dialect.placeholder_into(&mut sql.text, 1);
        sql.text
    })
}

/// Sets the `auto_now` fields, and when `inserting` the `auto_now_add`
/// ones, to now (to the microsecond both databases keep), on the model and
/// in its `values`.
fn stamp<M: Model>(model: &mut M, values: &mut [Value], inserting: bool) -> Result<()> {
    let meta = M::meta();
    let mut now = None;
    for (field, value) in meta.fields.iter().zip(values.iter_mut()) {
        let due = match field.auto_now {
            Some(AutoNow::Save) => true,
            Some(AutoNow::Create) => inserting,
            _ => false,
        };
        if !due {
            continue;
        }
        let now = *now.get_or_insert_with(|| chrono::Utc::now().trunc_subsecs(6));
        let stamped = match field.kind {
            FieldKind::Date => Value::Date(now.date_naive()),
            _ => Value::DateTime(now),
        };
        model.set_value(field.name, stamped.clone())?;
        *value = stamped;
    }
    Ok(())
}

fn insert<M: Model>(conn: &Connection, model: &mut M, mut values: Vec<Value>) -> Result<()> {
    let meta = M::meta();
    stamp(model, &mut values, true)?;
    let auto = meta.pk_field().auto && is_unset(&values[meta.pk]);
    let sql = insert_sql(meta, conn.dialect(), !auto);
    if auto {
        values.remove(meta.pk);
    }
    if let Some(pk) = conn.insert(sql, &values, auto)? {
        model.set_value(meta.pk_field().name, pk)?;
    }
    Ok(())
}

pub(crate) fn delete_sql(meta: &'static ModelMeta, dialect: Dialect) -> &'static str {
    meta.statements.get(Statement::Delete, dialect, || {
        let mut sql = Sql::new(dialect);
        sql.push("DELETE FROM ");
        sql.ident(meta.table);
        sql.push(" WHERE ");
        sql.ident(meta.pk_field().column);
        sql.push(" = ");
        dialect.placeholder_into(&mut sql.text, 1);
        sql.text
    })
}

/// How a save writes its row.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Insert when the primary key is unset or the row is missing, else update.
    Upsert,
    /// Always insert (a taken primary key is a unique violation).
    Insert,
    /// Only update (`NotFound` when the row is missing).
    Update,
}

/// Inserts (when the primary key is unset or the row is missing) or updates.
pub(crate) fn save<M: Model>(conn: &Connection, model: &mut M) -> Result<()> {
    save_as(conn, model, SaveMode::Upsert)
}

/// Validates `model`, then writes it as `mode` says.
pub(crate) fn save_as<M: Model>(conn: &Connection, model: &mut M, mode: SaveMode) -> Result<()> {
    let meta = M::meta();
    let mut values = model.to_values();
    validate_values(model, &values).map_err(|errors| Error::Validation {
        model: meta.name,
        errors,
    })?;
    let unset = is_unset(&values[meta.pk]) && meta.pk_field().auto;
    if mode == SaveMode::Insert || (unset && mode == SaveMode::Upsert) {
        return insert(conn, model, values);
    }
    if unset {
        return Err(Error::NotFound { model: meta.name });
    }
    stamp(model, &mut values, false)?;
    let pk = values.remove(meta.pk);
    values.push(pk);
    let changed = conn.execute(update_sql(meta, conn.dialect()), &values)?;
    if changed == 0 {
        if mode == SaveMode::Update {
            return Err(Error::NotFound { model: meta.name });
        }
        let pk = values.pop().unwrap_or(Value::Null);
        values.insert(meta.pk, pk);
        insert(conn, model, values)?;
    }
    Ok(())
}

/// Writes that every model has, as methods: `article.save(&db)?`.
pub trait ModelExt: Model {
    /// Validates, then inserts (unset primary key) or updates the row,
    /// setting the primary key the database assigned. Invalid data is
    /// refused with [`Error::Validation`] and nothing is written.
    fn save(&mut self, exec: &impl Executor) -> Result<()> {
        exec.with_connection(|conn| save(conn, self))
    }

    /// Deletes this row (the database applies on-delete rules); returns
    /// whether a row was deleted.
    fn delete(&self, exec: &impl Executor) -> Result<bool> {
        let sql = delete_sql(Self::meta(), exec.dialect());
        let pk = self.pk().to_value();
        Ok(exec.with_connection(|conn| conn.execute(sql, &[pk]))? > 0)
    }

    /// The row with primary key `pk` (one cached statement; `NotFound` when missing).
    fn find(exec: &impl Executor, pk: impl Into<Self::Pk>) -> Result<Self> {
        let meta = Self::meta();
        let sql = by_pk_sql(meta, exec.dialect());
        let pk = pk.into().to_value();
        let mut found = None;
        exec.with_connection(|conn| {
            conn.query_first(sql, std::slice::from_ref(&pk), |row| {
                found = Some(Self::from_row(row, 0)?);
                Ok(())
            })
        })?;
        found.ok_or(Error::NotFound { model: meta.name })
    }

    /// Reloads every field from the database.
    fn refresh(&mut self, exec: &impl Executor) -> Result<()> {
        *self = Self::find(exec, self.pk())?;
        Ok(())
    }

    /// Runs raw SQL with bound `params` and maps each row into a model by
    /// column name (every field's column must be selected). Write
    /// placeholders as `$1`, `$2`, ... in order: both backends accept them.
    fn raw(exec: &impl Executor, sql: &str, params: &[Value]) -> Result<Vec<Self>> {
        let meta = Self::meta();
        let mut out = Vec::new();
        let mut positions: Option<Vec<usize>> = None;
        exec.with_connection(|conn| {
            conn.query(sql, params, |row| {
                if positions.is_none() {
                    let names: Vec<String> = (0..row.len())
                        .filter_map(|i| row.column_name(i).map(str::to_owned))
                        .collect();
                    let mut found = Vec::with_capacity(meta.fields.len());
                    for field in meta.fields {
                        let at = names
                            .iter()
                            .position(|n| n == field.column)
                            .ok_or_else(|| {
                                Error::query(format!(
                                    "raw SQL for {} must select column {:?}",
                                    meta.name, field.column
                                ))
                            })?;
                        found.push(at);
                    }
                    positions = Some(found);
                }
                let values: Vec<Value> = match &positions {
                    Some(positions) => positions
                        .iter()
                        .map(|i| row.value(*i))
                        .collect::<Result<_>>()?,
                    None => Vec::new(),
                };
                out.push(Self::from_row(&crate::row::Row::from_values(&values), 0)?);
                Ok(())
            })
        })?;
        Ok(out)
    }
}

impl<M: Model> ModelExt for M {}

impl<M: Model> QuerySet<M> {
    /// Saves `model` as a new row and returns it with its primary key.
    pub fn create(&self, exec: &impl Executor, mut model: M) -> Result<M> {
        exec.with_connection(|conn| save(conn, &mut model))?;
        Ok(model)
    }

    /// The row matching `q`, or a new one from `make` saved; the flag says
    /// whether it was created. A concurrent insert of the same unique row
    /// is caught and the winner returned.
    pub fn get_or_create(
        &self,
        exec: &impl Executor,
        q: Q,
        make: impl FnOnce() -> M,
    ) -> Result<(M, bool)> {
        exec.with_connection(|conn| {
            match self.get(conn, q.clone()) {
                Ok(found) => return Ok((found, false)),
                Err(Error::NotFound { .. }) => {}
                Err(other) => return Err(other),
            }
            let mut model = make();
            let saved = conn.atomic(|tx| save(tx, &mut model));
            match saved {
                Ok(()) => Ok((model, true)),
                Err(Error::UniqueViolation { .. }) => Ok((self.get(conn, q)?, false)),
                Err(other) => Err(other),
            }
        })
    }

    /// Updates the row matching `q` with `apply`, or creates one from `make`
    /// (then `apply`), in one transaction; the flag says whether it was created.
    pub fn update_or_create(
        &self,
        exec: &impl Executor,
        q: Q,
        apply: impl FnOnce(&mut M),
        make: impl FnOnce() -> M,
    ) -> Result<(M, bool)> {
        exec.with_connection(|conn| {
            conn.atomic(|tx| {
                let (mut model, created) = match self.get(tx, q) {
                    Ok(found) => (found, false),
                    Err(Error::NotFound { .. }) => (make(), true),
                    Err(other) => return Err(other),
                };
                apply(&mut model);
                save(tx, &mut model)?;
                Ok((model, created))
            })
        })
    }

    /// Validates every model, then inserts them all in one transaction
    /// (nothing is written if any is invalid or any insert fails). Returns
    /// the models with their primary keys.
    pub fn bulk_create(&self, exec: &impl Executor, mut models: Vec<M>) -> Result<Vec<M>> {
        let meta = M::meta();
        for model in &models {
            model.validate().map_err(|errors| Error::Validation {
                model: meta.name,
                errors,
            })?;
        }
        exec.with_connection(|conn| {
            conn.atomic(|tx| {
                for model in &mut models {
                    let values = model.to_values();
                    insert(tx, model, values)?;
                }
                // Validated above, before the transaction opened.
                Ok(())
            })
        })?;
        Ok(models)
    }
}
