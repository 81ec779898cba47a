//! The schema a set of models (or a folder of migrations) describes, and the
//! operations that change it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Constraint, ConstraintKind, ModelMeta, RelationKind};
use crate::value::{FieldKind, Value};

fn is_false(b: &bool) -> bool {
    !*b
}

/// Serializes a [`FieldKind`] as its short name (`"text"`).
mod kind_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::value::FieldKind;

    pub(super) fn serialize<S: Serializer>(kind: &FieldKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FieldKind, D::Error> {
        let name = String::deserialize(d)?;
        super::kind_from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown column type {name:?} (expected bool, i32, i64, f64, text, bytes, \
                 date, time, duration, datetime, uuid or json)"
            ))
        })
    }
}

pub(crate) fn kind_from_name(name: &str) -> Option<FieldKind> {
    Some(match name {
        "bool" => FieldKind::Bool,
        "i32" => FieldKind::I32,
        "i64" => FieldKind::I64,
        "f64" => FieldKind::F64,
        "text" => FieldKind::Text,
        "bytes" => FieldKind::Bytes,
        "date" => FieldKind::Date,
        "time" => FieldKind::Time,
        "duration" => FieldKind::Duration,
        "decimal" => FieldKind::Decimal,
        "datetime" => FieldKind::DateTime,
        "uuid" => FieldKind::Uuid,
        "json" => FieldKind::Json,
        _ => return None,
    })
}

/// A foreign key: the column refers to `table.column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The referenced table.
    pub table: String,
    /// The referenced column (its primary key).
    pub column: String,
    /// `cascade`, `set_null`, `protect` or `restrict`.
    pub on_delete: String,
}

/// A column's type part: what an `alter_column` operation changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnType {
    /// The value kind.
    #[serde(rename = "type", with = "kind_name")]
    pub kind: FieldKind,
    /// The most characters (a `VARCHAR(n)` on PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Whether `NULL` is allowed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub null: bool,
    /// The database default, as JSON (text, number, boolean or document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Type, nullability and default.
    #[serde(flatten)]
    pub ty: ColumnType,
    /// Whether this is the primary key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// Whether the database assigns the value (an identity primary key).
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto: bool,
    /// Whether values are unique (a unique index `TABLE_COLUMN_uniq`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Whether the column is indexed (`TABLE_COLUMN_idx`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub index: bool,
    /// The foreign key, when the column is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Reference>,
}

/// A table-level constraint or index: unique together (partial with a
/// condition), a multi-column index, or a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableConstraint {
    /// The constraint's or index's name.
    pub name: String,
    /// What it says.
    #[serde(flatten)]
    pub rule: ConstraintRule,
}

/// The shapes of a [`TableConstraint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConstraintRule {
    /// A unique index over `columns` (partial, `WHERE condition`, when given).
    Unique {
        /// The columns, in order.
        columns: Vec<String>,
        /// The rows it covers, as SQL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<String>,
    },
    /// A plain index over `columns`.
    Index {
        /// The columns, in order.
        columns: Vec<String>,
    },
    /// `CHECK (check)`.
    Check {
        /// The SQL expression every row meets.
        check: String,
    },
}

impl ConstraintRule {
    /// The columns it covers (none for a check).
    pub fn columns(&self) -> &[String] {
        match self {
            ConstraintRule::Unique { columns, .. } | ConstraintRule::Index { columns } => columns,
            ConstraintRule::Check { .. } => &[],
        }
    }

    fn columns_mut(&mut self) -> &mut [String] {
        match self {
            ConstraintRule::Unique { columns, .. } | ConstraintRule::Index { columns } => columns,
            ConstraintRule::Check { .. } => &mut [],
        }
    }

    /// Follows a column rename: in the column list, and in the SQL of a
    /// check or a partial index's condition (as the databases do).
    fn rename_column(&mut self, old: &str, new: &str) {
        for column in self.columns_mut() {
            if column == old {
                *column = new.to_owned();
            }
        }
        match self {
            ConstraintRule::Check { check: sql }
            | ConstraintRule::Unique {
                condition: Some(sql),
                ..
            } => *sql = rename_identifier(sql, old, new),
            _ => {}
        }
    }
}

/// `sql` with every use of the identifier `old` (bare or double-quoted,
/// outside string literals) written as `new`.
fn rename_identifier(sql: &str, old: &str, new: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            // A literal, with '' for a quote inside it.
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if c == '"' {
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
            if rest[..end] == format!("\"{old}\"") {
                out.push_str(&format!("\"{new}\""));
            } else {
                out.push_str(&rest[..end]);
            }
            rest = &rest[end..];
        } else if is_word(c) {
            let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
            out.push_str(if &rest[..end] == old {
                new
            } else {
                &rest[..end]
            });
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A table: its columns in order, and its table-level constraints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in creation order.
    pub columns: Vec<Column>,
    /// Constraints and indexes over several columns, in creation order.
    pub constraints: Vec<TableConstraint>,
}

impl Table {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn column_mut(&mut self, table: &str, name: &str) -> Result<&mut Column> {
        self.columns
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::query(format!("table {table} has no column {name:?}")))
    }
}

/// One side of a many-to-many join table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSide {
    /// The join table's column (`article_id`).
    pub column: String,
    /// The table it refers to.
    pub table: String,
    /// That table's primary key column.
    pub references: String,
    /// The primary key's kind.
    #[serde(rename = "type", with = "kind_name")]
    pub kind: FieldKind,
}

/// A many-to-many join table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTable {
    /// The column pointing at the model declaring the relation.
    pub source: JoinSide,
    /// The column pointing at the related model.
    pub target: JoinSide,
}

/// The whole schema: tables and join tables by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectState {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Many-to-many join tables by name.
    pub join_tables: BTreeMap<String, JoinTable>,
}

/// A model's constraint in the schema, its fields named by column.
fn table_constraint(meta: &ModelMeta, constraint: &Constraint) -> TableConstraint {
    let columns = |fields: &[&str]| -> Vec<String> {
        fields
            .iter()
            .map(|name| meta.field(name).map_or(*name, |f| f.column).to_owned())
            .collect()
    };
    let rule = match constraint.kind {
        ConstraintKind::Unique { fields, condition } => ConstraintRule::Unique {
            columns: columns(fields),
            condition: condition.map(str::to_owned),
        },
        ConstraintKind::Index { fields } => ConstraintRule::Index {
            columns: columns(fields),
        },
        ConstraintKind::Check { sql } => ConstraintRule::Check {
            check: sql.to_owned(),
        },
    };
    TableConstraint {
        name: constraint.name.to_owned(),
        rule,
    }
}

/// A default value as JSON, or `None` for no default (or `NULL`).
pub(crate) fn default_json(value: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => J::Bool(*b),
        Value::I32(i) => J::from(*i),
        Value::I64(i) => J::from(*i),
        Value::F64(x) => J::from(*x),
        Value::Text(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(b.iter().map(|byte| format!("{byte:02x}")).collect()),
        Value::Date(d) => J::String(d.to_string()),
        Value::Time(t) => J::String(t.to_string()),
        Value::Duration(d) => J::from(crate::value::micros(*d)),
        Value::Decimal(d) => J::String(d.to_string()),
        Value::DateTime(dt) => J::String(dt.to_rfc3339()),
        Value::Uuid(u) => J::String(u.to_string()),
        Value::Json(j) => j.clone(),
    })
}

/// The value a JSON default stands for in a column of `kind`.
pub(crate) fn default_value(kind: FieldKind, json: &serde_json::Value) -> Result<Value> {
    use serde_json::Value as J;
    let bad = || {
        Error::query(format!(
            "default {json} does not fit a {} column",
            kind.name()
        ))
    };
    let text = || json.as_str().ok_or_else(bad);
    Ok(match kind {
        FieldKind::Bool => Value::Bool(json.as_bool().ok_or_else(bad)?),
        FieldKind::I32 => Value::I32(
            json.as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(bad)?,
        ),
        FieldKind::I64 => Value::I64(json.as_i64().ok_or_else(bad)?),
        FieldKind::F64 => Value::F64(json.as_f64().ok_or_else(bad)?),
        FieldKind::Text => Value::Text(text()?.to_owned()),
        FieldKind::Bytes => {
            let hex = text()?;
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect();
            Value::Bytes(bytes.ok_or_else(bad)?)
        }
        FieldKind::Date => Value::Date(text()?.parse().map_err(|_| bad())?),
        FieldKind::Time => Value::Time(text()?.parse().map_err(|_| bad())?),
        FieldKind::Duration => Value::Duration(chrono::TimeDelta::microseconds(
            json.as_i64().ok_or_else(bad)?,
        )),
        FieldKind::Decimal => Value::Decimal(text()?.parse().map_err(|_| bad())?),
        FieldKind::DateTime => Value::DateTime(
            chrono::DateTime::parse_from_rfc3339(text()?)
                .map_err(|_| bad())?
                .with_timezone(&chrono::Utc),
        ),
        FieldKind::Uuid => Value::Uuid(text()?.parse().map_err(|_| bad())?),
        FieldKind::Json => match json {
            J::Null => Value::Null,
            other => Value::Json(other.clone()),
        },
    })
}

/// One change to the schema, as stored in a migration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Creates a table with its columns, indexes and foreign keys.
    CreateTable {
        /// The table.
        table: String,
        /// Its columns.
        columns: Vec<Column>,
    },
    /// Drops a table (reversible when `columns` keeps its definition).
    DropTable {
        /// The table.
        table: String,
        /// The dropped definition, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        columns: Option<Vec<Column>>,
    },
    /// Renames a table.
    RenameTable {
        /// The old name.
        old: String,
        /// The new name.
        new: String,
    },
    /// Adds a column.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// Removes a column (reversible when `old` keeps its definition).
    RemoveColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The removed definition, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<Column>,
    },
    /// Changes a column's type, nullability or default.
    AlterColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The previous type part, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<ColumnType>,
        /// The new type part.
        new: ColumnType,
    },
    /// Renames a column (declared; an undeclared rename is a remove and an add).
    RenameColumn {
        /// The table.
        table: String,
        /// The old name.
        old: String,
        /// The new name.
        new: String,
    },
    /// Adds an index on a column.
    AddIndex {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Removes a column's index.
    RemoveIndex {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Makes a column's values unique.
    AddUnique {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Drops a column's unique constraint.
    RemoveUnique {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Makes an existing column a foreign key.
    AddForeignKey {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// What it refers to.
        references: Reference,
    },
    /// Drops a column's foreign key (the column stays).
    RemoveForeignKey {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The dropped reference, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<Reference>,
    },
    /// Creates a many-to-many join table.
    CreateJoinTable {
        /// The join table.
        table: String,
        /// Its two sides.
        #[serde(flatten)]
        join: JoinTable,
    },
    /// Drops a many-to-many join table (reversible when `old` is kept).
    DropJoinTable {
        /// The join table.
        table: String,
        /// The dropped definition, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<JoinTable>,
    },
    /// A data migration in SQL: `forward` runs on the way up, `backward`
    /// (when given) on the way back, both inside the migration's
    /// transaction. The schema state does not change.
    RunSql {
        /// The statements to run (several, separated by `;`, are allowed).
        forward: String,
        /// The statements that undo them; without them the migration
        /// cannot be rolled back (an empty string undoes nothing, on purpose).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backward: Option<String>,
    },
    /// A data migration in Rust: `forward` names the function (registered
    /// with [`Migrations::function`](super::Migrations::function)) run on the
    /// way up, `backward` the one run on the way back, both inside the
    /// migration's transaction. The schema state does not change.
    RunRust {
        /// The function to run.
        forward: String,
        /// The function that undoes it; without one the migration cannot
        /// be rolled back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backward: Option<String>,
    },
    /// Adds a table-level constraint or index.
    AddConstraint {
        /// The table.
        table: String,
        /// The constraint.
        constraint: TableConstraint,
    },
    /// Removes a table-level constraint or index (reversible when `old`
    /// keeps its definition).
    RemoveConstraint {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// The removed definition, for rolling back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old: Option<TableConstraint>,
    },
}

impl Operation {
    /// A one-line description (`Add column subtitle to news_article`).
    pub fn describe(&self) -> String {
        use Operation as O;
        match self {
            O::CreateTable { table, .. } => format!("Create table {table}"),
            O::DropTable { table, .. } => format!("Drop table {table}"),
            O::RenameTable { old, new } => format!("Rename table {old} to {new}"),
            O::AddColumn { table, column } => format!("Add column {} to {table}", column.name),
            O::RemoveColumn { table, column, .. } => format!("Remove column {column} from {table}"),
            O::AlterColumn { table, column, .. } => format!("Alter column {column} of {table}"),
            O::RenameColumn { table, old, new } => {
                format!("Rename column {old} of {table} to {new}")
            }
            O::AddIndex { table, column } => format!("Add index on {table}.{column}"),
            O::RemoveIndex { table, column } => format!("Remove index on {table}.{column}"),
            O::AddUnique { table, column } => format!("Make {table}.{column} unique"),
            O::RemoveUnique { table, column } => format!("Make {table}.{column} not unique"),
            O::AddForeignKey {
                table,
                column,
                references,
            } => format!(
                "Add foreign key {table}.{column} -> {}.{}",
                references.table, references.column
            ),
            O::RemoveForeignKey { table, column, .. } => {
                format!("Remove foreign key {table}.{column}")
            }
            O::CreateJoinTable { table, .. } => format!("Create join table {table}"),
            O::DropJoinTable { table, .. } => format!("Drop join table {table}"),
            O::RunSql { forward, .. } => {
                let first = forward.lines().next().unwrap_or_default();
                format!("Run SQL: {}", first.chars().take(60).collect::<String>())
            }
            O::RunRust { forward, .. } => format!("Run the Rust function {forward}"),
            O::AddConstraint { table, constraint } => {
                format!("Add constraint {} to {table}", constraint.name)
            }
            O::RemoveConstraint { table, name, .. } => {
                format!("Remove constraint {name} from {table}")
            }
        }
    }

    /// The tables this operation's foreign keys and join tables point to.
    pub fn referenced_tables(&self) -> Vec<&str> {
        use Operation as O;
        match self {
            O::CreateTable { columns, .. } => columns
                .iter()
                .filter_map(|c| c.references.as_ref())
                .map(|r| r.table.as_str())
                .collect(),
            O::AddColumn { column, .. } => {
                column.references.iter().map(|r| r.table.as_str()).collect()
            }
            O::AddForeignKey { references, .. } => vec![references.table.as_str()],
            O::CreateJoinTable { join, .. } => {
                vec![join.source.table.as_str(), join.target.table.as_str()]
            }
            _ => Vec::new(),
        }
    }

    /// A short snake_case fragment for a migration file name.
    pub(crate) fn name_fragment(&self) -> String {
        use Operation as O;
        match self {
            O::CreateTable { table, .. } => table.clone(),
            O::DropTable { table, .. } => format!("delete_{table}"),
            O::RenameTable { old, new } => format!("rename_{old}_{new}"),
            O::AddColumn { table, column } => format!("add_{table}_{}", column.name),
            O::RemoveColumn { table, column, .. } => format!("remove_{table}_{column}"),
            O::AlterColumn { table, column, .. } => format!("alter_{table}_{column}"),
            O::RenameColumn { table, old, new } => format!("rename_{table}_{old}_{new}"),
            O::AddIndex { table, column } => format!("index_{table}_{column}"),
            O::RemoveIndex { table, column } => format!("unindex_{table}_{column}"),
            O::AddUnique { table, column } => format!("unique_{table}_{column}"),
            O::RemoveUnique { table, column } => format!("not_unique_{table}_{column}"),
            O::AddForeignKey { table, column, .. } => format!("fk_{table}_{column}"),
            O::RemoveForeignKey { table, column, .. } => format!("remove_fk_{table}_{column}"),
            O::CreateJoinTable { table, .. } => table.clone(),
            O::DropJoinTable { table, .. } => format!("delete_{table}"),
            O::RunSql { .. } => "run_sql".into(),
            O::RunRust { forward, .. } => forward.clone(),
            O::AddConstraint { constraint, .. } => constraint.name.clone(),
            O::RemoveConstraint { name, .. } => format!("remove_{name}"),
        }
    }

    /// The operations that undo this one, or an error naming why it cannot
    /// be undone.
    pub fn reverse(&self) -> Result<Vec<Operation>> {
        use Operation as O;
        let irreversible = |what: &str| {
            Err(Error::query(format!(
                "{} cannot be reversed: the file does not keep the {what} (add it as \"{}\")",
                self.describe(),
                if what == "table definition" {
                    "columns"
                } else {
                    "old"
                }
            )))
        };
        Ok(vec![match self.clone() {
            O::CreateTable { table, columns } => O::DropTable {
                table,
                columns: Some(columns),
            },
            O::DropTable { table, columns } => match columns {
                Some(columns) => O::CreateTable { table, columns },
                None => return irreversible("table definition"),
            },
            O::RenameTable { old, new } => O::RenameTable { old: new, new: old },
            O::AddColumn { table, column } => O::RemoveColumn {
                table,
                column: column.name.clone(),
                old: Some(column),
            },
            O::RemoveColumn { table, old, .. } => match old {
                Some(column) => O::AddColumn { table, column },
                None => return irreversible("column definition"),
            },
            O::AlterColumn {
                table,
                column,
                old,
                new,
            } => match old {
                Some(old) => O::AlterColumn {
                    table,
                    column,
                    old: Some(new),
                    new: old,
                },
                None => return irreversible("previous column type"),
            },
            O::RenameColumn { table, old, new } => O::RenameColumn {
                table,
                old: new,
                new: old,
            },
            O::AddIndex { table, column } => O::RemoveIndex { table, column },
            O::RemoveIndex { table, column } => O::AddIndex { table, column },
            O::AddUnique { table, column } => O::RemoveUnique { table, column },
            O::RemoveUnique { table, column } => O::AddUnique { table, column },
            O::AddForeignKey {
                table,
                column,
                references,
            } => O::RemoveForeignKey {
                table,
                column,
                old: Some(references),
            },
            O::RemoveForeignKey { table, column, old } => match old {
                Some(references) => O::AddForeignKey {
                    table,
                    column,
                    references,
                },
                None => return irreversible("reference"),
            },
            O::CreateJoinTable { table, join } => O::DropJoinTable {
                table,
                old: Some(join),
            },
            O::DropJoinTable { table, old } => match old {
                Some(join) => O::CreateJoinTable { table, join },
                None => return irreversible("join table definition"),
            },
            O::RunSql { forward, backward } => match backward {
                Some(backward) => O::RunSql {
                    forward: backward,
                    backward: Some(forward),
                },
                None => {
                    return Err(Error::query(format!(
                        "{} cannot be reversed: the file gives no \"backward\" SQL \
                         (add \"backward\": \"\" if undoing needs nothing)",
                        self.describe()
                    )));
                }
            },
            O::RunRust { forward, backward } => match backward {
                Some(backward) => O::RunRust {
                    forward: backward,
                    backward: Some(forward),
                },
                None => {
                    return Err(Error::query(format!(
                        "{} cannot be reversed: the file names no \"backward\" function",
                        self.describe()
                    )));
                }
            },
            O::AddConstraint { table, constraint } => O::RemoveConstraint {
                table,
                name: constraint.name.clone(),
                old: Some(constraint),
            },
            O::RemoveConstraint { table, old, .. } => match old {
                Some(constraint) => O::AddConstraint { table, constraint },
                None => return irreversible("constraint definition"),
            },
        }])
    }
}

impl ProjectState {
    /// The schema `models` describe (pass every model of the application).
    pub fn from_models(models: &[&'static ModelMeta]) -> ProjectState {
        let mut state = ProjectState::default();
        for meta in models {
            let columns = meta
                .fields
                .iter()
                .map(|field| {
                    let one_to_one = field
                        .relation
                        .is_some_and(|r| r.kind == RelationKind::OneToOne);
                    let unique = (field.unique || one_to_one) && !field.primary_key;
                    Column {
                        name: field.column.to_owned(),
                        ty: ColumnType {
                            kind: field.kind,
                            max_length: field.max_length,
                            null: field.null && !field.primary_key,
                            // A default that changes per call (the time now)
                            // is the application's, not the schema's.
                            default: field
                                .default
                                .and_then(|d| Some(d()).filter(|first| *first == d()))
                                .and_then(|v| default_json(&v)),
                        },
                        primary_key: field.primary_key,
                        auto: field.primary_key && field.auto,
                        unique,
                        index: (field.index || field.relation.is_some())
                            && !unique
                            && !field.primary_key,
                        references: field.relation.map(|r| {
                            let target = (r.target)();
                            Reference {
                                table: target.table.to_owned(),
                                column: target.pk_field().column.to_owned(),
                                on_delete: r.on_delete.name().to_owned(),
                            }
                        }),
                    }
                })
                .collect();
            let constraints = meta
                .constraints
                .iter()
                .map(|c| table_constraint(meta, c))
                .collect();
            state.tables.insert(
                meta.table.to_owned(),
                Table {
                    columns,
                    constraints,
                },
            );
            for m2m in meta.many_to_many {
                let target = (m2m.target)();
                let side = |column: &str, meta: &ModelMeta| JoinSide {
                    column: column.to_owned(),
                    table: meta.table.to_owned(),
                    references: meta.pk_field().column.to_owned(),
                    kind: meta.pk_field().kind,
                };
                state.join_tables.insert(
                    m2m.join_table.to_owned(),
                    JoinTable {
                        source: side(m2m.source_column, meta),
                        target: side(m2m.target_column, target),
                    },
                );
            }
        }
        state
    }

    /// The constraint of `table` named `name`.
    pub fn constraint(&self, table: &str, name: &str) -> Option<&TableConstraint> {
        self.tables
            .get(table)?
            .constraints
            .iter()
            .find(|c| c.name == name)
    }

    fn table_mut(&mut self, table: &str) -> Result<&mut Table> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| Error::query(format!("there is no table {table:?} at this point")))
    }

    /// Applies one operation, checking that it makes sense here.
    pub fn apply(&mut self, op: &Operation) -> Result<()> {
        use Operation as O;
        let taken = |name: &str| Error::query(format!("a table {name:?} already exists"));
        match op {
            O::CreateTable { table, columns } => {
                if self.tables.contains_key(table) || self.join_tables.contains_key(table) {
                    return Err(taken(table));
                }
                self.tables.insert(
                    table.clone(),
                    Table {
                        columns: columns.clone(),
                        constraints: Vec::new(),
                    },
                );
            }
            O::DropTable { table, .. } => {
                self.tables
                    .remove(table)
                    .ok_or_else(|| Error::query(format!("cannot drop missing table {table:?}")))?;
            }
            O::RenameTable { old, new } => {
                if self.tables.contains_key(new) {
                    return Err(taken(new));
                }
                let t = self
                    .tables
                    .remove(old)
                    .ok_or_else(|| Error::query(format!("cannot rename missing table {old:?}")))?;
                self.tables.insert(new.clone(), t);
                let refs = self
                    .tables
                    .values_mut()
                    .flat_map(|t| t.columns.iter_mut())
                    .filter_map(|c| c.references.as_mut());
                for r in refs {
                    if r.table == *old {
                        r.table.clone_from(new);
                    }
                }
                for join in self.join_tables.values_mut() {
                    for side in [&mut join.source, &mut join.target] {
                        if side.table == *old {
                            side.table.clone_from(new);
                        }
                    }
                }
            }
            O::AddColumn { table, column } => {
                let t = self.table_mut(table)?;
                if t.column(&column.name).is_some() {
                    return Err(Error::query(format!(
                        "table {table} already has a column {:?}",
                        column.name
                    )));
                }
                t.columns.push(column.clone());
            }
            O::RemoveColumn { table, column, .. } => {
                let t = self.table_mut(table)?;
                t.column_mut(table, column)?;
                t.columns.retain(|c| c.name != *column);
            }
            O::AlterColumn {
                table, column, new, ..
            } => self.table_mut(table)?.column_mut(table, column)?.ty = new.clone(),
            O::RenameColumn { table, old, new } => {
                let t = self.table_mut(table)?;
                if t.column(new).is_some() {
                    return Err(Error::query(format!(
                        "table {table} already has a column {new:?}"
                    )));
                }
                t.column_mut(table, old)?.name.clone_from(new);
                for constraint in &mut t.constraints {
                    constraint.rule.rename_column(old, new);
                }
                for t in self.tables.values_mut() {
                    for r in t.columns.iter_mut().filter_map(|c| c.references.as_mut()) {
                        if r.table == *table && r.column == *old {
                            r.column.clone_from(new);
                        }
                    }
                }
            }
            O::AddIndex { table, column } | O::RemoveIndex { table, column } => {
                self.table_mut(table)?.column_mut(table, column)?.index =
                    matches!(op, O::AddIndex { .. });
            }
            O::AddUnique { table, column } | O::RemoveUnique { table, column } => {
                self.table_mut(table)?.column_mut(table, column)?.unique =
                    matches!(op, O::AddUnique { .. });
            }
            O::AddForeignKey {
                table,
                column,
                references,
            } => {
                self.table_mut(table)?.column_mut(table, column)?.references =
                    Some(references.clone());
            }
            O::RemoveForeignKey { table, column, .. } => {
                self.table_mut(table)?.column_mut(table, column)?.references = None;
            }
            O::CreateJoinTable { table, join } => {
                if self.tables.contains_key(table) || self.join_tables.contains_key(table) {
                    return Err(taken(table));
                }
                self.join_tables.insert(table.clone(), join.clone());
            }
            O::DropJoinTable { table, .. } => {
                self.join_tables.remove(table).ok_or_else(|| {
                    Error::query(format!("cannot drop missing join table {table:?}"))
                })?;
            }
            O::RunSql { .. } | O::RunRust { .. } => {}
            O::AddConstraint { table, constraint } => {
                let t = self.table_mut(table)?;
                if t.constraints.iter().any(|c| c.name == constraint.name) {
                    return Err(Error::query(format!(
                        "table {table} already has a constraint {:?}",
                        constraint.name
                    )));
                }
                for column in constraint.rule.columns() {
                    t.column_mut(table, column)?;
                }
                t.constraints.push(constraint.clone());
            }
            O::RemoveConstraint { table, name, .. } => {
                let t = self.table_mut(table)?;
                let before = t.constraints.len();
                t.constraints.retain(|c| c.name != *name);
                if t.constraints.len() == before {
                    return Err(Error::query(format!(
                        "table {table} has no constraint {name:?}"
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_columns_are_followed_into_check_sql() {
        let cases = [
            ("views >= 0", "hits >= 0"),
            (
                "views >= 0 AND views < max_views",
                "hits >= 0 AND hits < max_views",
            ),
            ("\"views\" > 1", "\"hits\" > 1"),
            ("label <> 'views'", "label <> 'views'"),
            (
                "note = 'it''s views' OR views = 2",
                "note = 'it''s views' OR hits = 2",
            ),
            ("preview_views > 0", "preview_views > 0"),
        ];
        for (before, after) in cases {
            assert_eq!(
                rename_identifier(before, "views", "hits"),
                after,
                "{before}"
            );
        }
    }

    fn column(name: &str, kind: FieldKind) -> Column {
        Column {
            name: name.into(),
            ty: ColumnType {
                kind,
                max_length: None,
                null: false,
                default: None,
            },
            primary_key: false,
            auto: false,
            unique: false,
            index: false,
            references: None,
        }
    }

    #[test]
    fn defaults_round_trip_through_json() {
        let values = [
            Value::Bool(true),
            Value::I32(-3),
            Value::I64(1 << 40),
            Value::F64(1.5),
            Value::Text("it's".into()),
            Value::Bytes(vec![0, 255, 16]),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).expect("a leap day")),
            Value::Uuid(uuid::Uuid::nil()),
            Value::Json(serde_json::json!({"a": [1, 2]})),
            Value::Time(chrono::NaiveTime::from_hms_opt(9, 30, 0).expect("a time")),
            Value::Duration(chrono::TimeDelta::minutes(90)),
        ];
        for value in values {
            let kind = match &value {
                Value::Bool(_) => FieldKind::Bool,
                Value::I32(_) => FieldKind::I32,
                Value::I64(_) => FieldKind::I64,
                Value::F64(_) => FieldKind::F64,
                Value::Text(_) => FieldKind::Text,
                Value::Bytes(_) => FieldKind::Bytes,
                Value::Date(_) => FieldKind::Date,
                Value::Uuid(_) => FieldKind::Uuid,
                Value::Time(_) => FieldKind::Time,
                Value::Duration(_) => FieldKind::Duration,
                _ => FieldKind::Json,
            };
            let json = default_json(&value).expect("a default");
            assert_eq!(default_value(kind, &json).expect("decodes"), value);
        }
        assert!(default_json(&Value::Null).is_none());
        assert!(default_value(FieldKind::I32, &serde_json::json!("x")).is_err());
    }

    #[test]
    fn every_operation_is_undone_by_its_reverse() {
        let mut state = ProjectState::default();
        let mut id = column("id", FieldKind::I64);
        id.primary_key = true;
        id.auto = true;
        let setup = Operation::CreateTable {
            table: "t".into(),
            columns: vec![id, column("a", FieldKind::Text)],
        };
        state.apply(&setup).expect("create");
        let ops = [
            Operation::AddColumn {
                table: "t".into(),
                column: column("b", FieldKind::I64),
            },
            Operation::RenameColumn {
                table: "t".into(),
                old: "a".into(),
                new: "c".into(),
            },
            Operation::AddIndex {
                table: "t".into(),
                column: "a".into(),
            },
            Operation::AddUnique {
                table: "t".into(),
                column: "a".into(),
            },
            Operation::AddConstraint {
                table: "t".into(),
                constraint: TableConstraint {
                    name: "t_a_id_uniq".into(),
                    rule: ConstraintRule::Unique {
                        columns: vec!["a".into(), "id".into()],
                        condition: Some("a <> ''".into()),
                    },
                },
            },
            Operation::RenameTable {
                old: "t".into(),
                new: "u".into(),
            },
            Operation::RemoveColumn {
                table: "t".into(),
                column: "a".into(),
                old: Some(column("a", FieldKind::Text)),
            },
            Operation::AlterColumn {
                table: "t".into(),
                column: "a".into(),
                old: Some(column("a", FieldKind::Text).ty),
                new: ColumnType {
                    kind: FieldKind::Text,
                    max_length: Some(9),
                    null: true,
                    default: Some("x".into()),
                },
            },
            Operation::DropTable {
                table: "t".into(),
                columns: Some(state.tables["t"].columns.clone()),
            },
        ];
        for op in ops {
            let mut changed = state.clone();
            changed
                .apply(&op)
                .unwrap_or_else(|e| panic!("{}: {e}", op.describe()));
            assert_ne!(changed, state, "{}", op.describe());
            for undo in op.reverse().expect("reversible") {
                changed.apply(&undo).expect("undo applies");
            }
            assert_eq!(changed, state, "{} and back", op.describe());
        }
    }

    #[test]
    fn operations_without_the_old_definition_are_irreversible() {
        let op = Operation::RemoveColumn {
            table: "t".into(),
            column: "a".into(),
            old: None,
        };
        let message = op.reverse().expect_err("irreversible").to_string();
        assert!(
            message.contains("Remove column a from t cannot be reversed"),
            "{message}"
        );
    }

    #[test]
    fn nonsense_operations_are_refused() {
        let mut state = ProjectState::default();
        let op = Operation::AddIndex {
            table: "nope".into(),
            column: "a".into(),
        };
        assert!(
            state
                .apply(&op)
                .expect_err("no table")
                .to_string()
                .contains("nope")
        );
    }
}
