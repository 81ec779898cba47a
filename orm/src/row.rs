//! A result row, decoded by column index, whatever the backend.

use crate::error::{Error, Result};
use crate::value::{FromValue, Value};

/// One row of a result. Columns are read by index.
pub struct Row<'r> {
    inner: RowRef<'r>,
}

enum RowRef<'r> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'r rusqlite::Row<'r>),
    #[cfg(feature = "postgres")]
    Postgres(&'r postgres::Row),
    #[allow(dead_code)]
    Values(&'r [Value]),
}

impl std::fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("columns", &self.len()).finish()
    }
}

impl<'r> Row<'r> {
    #[cfg(feature = "sqlite")]
    #[inline]
    pub(crate) fn sqlite(row: &'r rusqlite::Row<'r>) -> Self {
        Row {
            inner: RowRef::Sqlite(row),
        }
    }

    #[cfg(feature = "postgres")]
    #[inline]
    pub(crate) fn postgres(row: &'r postgres::Row) -> Self {
        Row {
            inner: RowRef::Postgres(row),
        }
    }

    /// A row over plain values (for tests and adapters).
    pub fn from_values(values: &'r [Value]) -> Self {
        Row {
            inner: RowRef::Values(values),
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => row.as_ref().column_count(),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => row.len(),
            RowRef::Values(values) => values.len(),
        }
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column `idx` as the value the database holds.
    #[inline]
    pub fn value(&self, idx: usize) -> Result<Value> {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => crate::sqlite::value_at(row, idx),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => crate::postgres::value_at(row, idx),
            RowRef::Values(values) => values
                .get(idx)
                .cloned()
                .ok_or_else(|| Error::query(format!("no column {idx} in the row"))),
        }
    }

    /// Column `idx` for a field of `kind` (faster on PostgreSQL, where the
    /// driver then decodes straight into the field's type).
    #[inline]
    pub fn value_for(&self, idx: usize, kind: crate::value::FieldKind) -> Result<Value> {
        match &self.inner {
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => crate::postgres::value_as(row, idx, kind),
            _ => {
                let _ = kind;
                self.value(idx)
            }
        }
    }

    /// Column `idx` as field type `T`, or `None` when it cannot be read
    /// that way (then [`Row::value_for`] and `T::from_value` say why). The
    /// decoding hot path: no intermediate value and no error is built.
    #[doc(hidden)]
    #[inline]
    pub fn field_fast<T: crate::value::FieldType>(&self, idx: usize) -> Option<T> {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => T::from_borrowed(crate::sqlite::borrowed(row, idx)?),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => match crate::postgres::borrowed(row, idx, T::KIND) {
                Some(value) => T::from_borrowed(value),
                None => T::from_value(crate::postgres::value_as(row, idx, T::KIND).ok()?).ok(),
            },
            _ => T::from_value(self.value_for(idx, T::KIND).ok()?).ok(),
        }
    }

    /// Whether column `idx` is `NULL` (an unreadable column counts as not).
    #[inline]
    pub fn is_null(&self, idx: usize) -> bool {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => matches!(row.get_ref(idx), Ok(rusqlite::types::ValueRef::Null)),
            _ => self.value(idx).is_ok_and(|v| v.is_null()),
        }
    }

    /// Column `idx` converted to `T`.
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T> {
        let value = self.value(idx)?;
        T::from_value(value).map_err(|e| Error::InvalidValue {
            field: format!("column {idx}"),
            message: e.to_string(),
        })
    }

    /// The name of column `idx`.
    pub fn column_name(&self, idx: usize) -> Option<&str> {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => row.as_ref().column_name(idx).ok(),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => row.columns().get(idx).map(|c| c.name()),
            RowRef::Values(_) => None,
        }
    }
}
