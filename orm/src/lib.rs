#![doc = include_str!("../README.md")]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "tack-orm needs a database backend: enable the `sqlite` feature, the `postgres` feature, or both"
);

mod asyncdb;
mod connection;
mod deletion;
mod dialect;
mod error;
mod expr;
mod formats;
mod handle;
pub mod migrations;
mod model;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
mod relations;
mod row;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
mod value;
mod write;

pub use asyncdb::{AsyncDatabase, Spawn};
pub use connection::{Connection, Database, Executor, PoolOptions, PooledConnection};
pub use deletion::{Collected, DeletePlan, LinkCount};
pub use dialect::Dialect;
pub use error::{Error, Result, ValidationErrors};
pub use expr::{Assignment, Column, Expr, F, Lookup, Operand, Order, Q};
pub use formats::TextFormat;
pub use handle::{Instance, ListQuery, ModelHandle};
pub use model::{
    AutoNow, Choices, Constraint, ConstraintKind, FieldMeta, FileRules, ManyToManyMeta, Model,
    ModelMeta, OnDelete, Related, Relation, RelationKind, ReverseMeta, StatementCache, Validator,
};
pub use query::{Aggregate, QuerySet, Record, Values, resolve_field};
pub use relations::{ForeignKey, ManyRelated, ManyToMany, OneToOne, RelatedField, Reverse};
pub use row::Row;
/// Exact decimal numbers for `Decimal` fields (`rust_decimal`).
pub use rust_decimal::Decimal;
pub use schema::create_table_sql;
pub use tack_orm_macros::{Choices, Model};
pub use value::{FieldKind, FieldType, FromValue, ToValue, Value, ValueError};
pub use write::ModelExt;

/// The traits and types most code needs: `use tack_orm::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Aggregate, Choices, Database, Executor, F, ForeignKey, ManyToMany, Model, ModelExt,
        OneToOne, Order, Q, QuerySet, Value,
    };
}

/// Items the derive macros use; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    use crate::{Error, FieldType, FromValue, ModelMeta, Result, Row, Value};

    /// Reads field `field` of `model` from column `idx`.
    #[inline]
    pub fn field<T: FieldType>(row: &Row<'_>, idx: usize, model: &str, field: &str) -> Result<T> {
        if let Some(typed) = row.field_fast::<T>(idx) {
            return Ok(typed);
        }
        // The slow path only builds the error that says what was wrong.
        convert(row.value_for(idx, T::KIND)?, model, field)
    }

    /// Converts a value for field `field` of `model`.
    #[inline]
    pub fn convert<T: FromValue>(value: Value, model: &str, field: &str) -> Result<T> {
        T::from_value(value).map_err(|e| Error::InvalidValue {
            field: format!("{model}.{field}"),
            message: e.to_string(),
        })
    }

    /// The error for a related object handed to the wrong model.
    pub fn wrong_model(model: &str) -> Error {
        Error::Query(format!("a related object was not a {model}"))
    }

    pub use crate::handle::{ModelOps, TypedOps};

    /// Appends a field's value to a display string: text as it is, `NULL`
    /// as nothing, anything else as it prints.
    pub fn display_value(out: &mut String, value: &Value) {
        use std::fmt::Write;
        match value {
            Value::Null => {}
            Value::Text(text) => out.push_str(text),
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }

    /// The error for a field `meta` lacks.
    pub fn unknown_field(meta: &ModelMeta, field: &str) -> Error {
        meta.unknown_field(field)
    }
}
