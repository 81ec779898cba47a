//! The SQLite driver glue (rusqlite).

use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::{Error, Result};
use crate::value::{DATETIME_FORMAT, TIME_FORMAT, Value};

pub(crate) fn open(path: &str) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(|e| Error::InvalidUrl {
        url: format!("sqlite://{path}"),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| map_error(e, "busy_timeout"))?;
    conn.set_prepared_statement_cache_capacity(256);
    let pragmas = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                   PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;";
    // Two connections that switch a fresh file to WAL at the same moment:
    // SQLite answers one of them "locked" at once, without waiting out the
    // busy timeout (it would deadlock otherwise). Try again within it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match conn.execute_batch(pragmas) {
            Ok(()) => return Ok(conn),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(map_error(e, "PRAGMA")),
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl rusqlite::ToSql for Value {
    #[inline]
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as V;
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(V::Null),
            Value::Bool(b) => ToSqlOutput::Owned(V::Integer(i64::from(*b))),
            Value::I32(i) => ToSqlOutput::Owned(V::Integer(i64::from(*i))),
            Value::I64(i) => ToSqlOutput::Owned(V::Integer(*i)),
            Value::F64(x) => ToSqlOutput::Owned(V::Real(*x)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Date(d) => ToSqlOutput::Owned(V::Text(d.to_string())),
            Value::Time(t) => ToSqlOutput::Owned(V::Text(t.format(TIME_FORMAT).to_string())),
            Value::Duration(d) => ToSqlOutput::Owned(V::Integer(crate::value::micros(*d))),
            Value::Decimal(d) => ToSqlOutput::Owned(decimal_to_sql(d)?),
            Value::DateTime(dt) => {
                ToSqlOutput::Owned(V::Text(dt.format(DATETIME_FORMAT).to_string()))
            }
            Value::Uuid(u) => ToSqlOutput::Owned(V::Text(u.hyphenated().to_string())),
            Value::Json(j) => ToSqlOutput::Owned(V::Text(j.to_string())),
        })
    }
}

/// The significant digits SQLite keeps of a number (a REAL's 15, as Django
/// relies on too): more would be rounded, so writes refuse them.
const SQLITE_DECIMAL_DIGITS: u32 = 15;

/// The significant digits of `d` (`0.0012` has 2, `120.50` has 4).
fn significant_digits(d: &rust_decimal::Decimal) -> u32 {
    let digits = d.normalize().mantissa().unsigned_abs().to_string();
    let trimmed = digits.trim_start_matches('0');
    u32::try_from(trimmed.len()).unwrap_or(u32::MAX).max(1)
}

/// A decimal as SQLite keeps numbers: an integer when it is one, else a
/// REAL, which holds 15 significant digits exactly; a decimal with more is
/// refused rather than rounded.
fn decimal_to_sql(d: &rust_decimal::Decimal) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    if d.fract().is_zero()
        && let Ok(i) = i64::try_from(d.trunc())
    {
        return Ok(V::Integer(i));
    }
    let digits = significant_digits(d);
    if digits > SQLITE_DECIMAL_DIGITS {
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!(
                "the decimal {d} has {digits} significant digits; SQLite keeps {} exactly \
                 (use PostgreSQL for more)",
                SQLITE_DECIMAL_DIGITS
            )
            .into(),
        ));
    }
    d.to_string()
        .parse::<f64>()
        .map(V::Real)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

#[inline]
pub(crate) fn value_at(row: &rusqlite::Row<'_>, idx: usize) -> Result<Value> {
    let value = row
        .get_ref(idx)
        .map_err(|e| map_error(e, "reading a row"))?;
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::I64(i),
        ValueRef::Real(x) => Value::F64(x),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|e| Error::InvalidValue {
                    field: format!("column {idx}"),
                    message: e.to_string(),
                })?
                .to_owned(),
        ),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    })
}

#[inline]
pub(crate) fn borrowed<'r>(
    row: &'r rusqlite::Row<'_>,
    idx: usize,
) -> Option<crate::value::Borrowed<'r>> {
    use crate::value::Borrowed;
    Some(match row.get_ref(idx).ok()? {
        ValueRef::Null => Borrowed::Null,
        ValueRef::Integer(i) => Borrowed::Integer(i),
        ValueRef::Real(x) => Borrowed::Real(x),
        ValueRef::Text(t) => Borrowed::Text(std::str::from_utf8(t).ok()?),
        ValueRef::Blob(b) => Borrowed::Blob(b),
    })
}

pub(crate) fn map_error(error: rusqlite::Error, sql: &str) -> Error {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        let message = message.clone().unwrap_or_else(|| failure.to_string());
        match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return Error::Busy { message };
            }
            ErrorCode::ConstraintViolation => {
                // Extended codes: 2067 UNIQUE, 1555 PRIMARY KEY.
                if matches!(failure.extended_code, 2067 | 1555) {
                    let constraint = message
                        .split_once(": ")
                        .map_or_else(|| message.clone(), |(_, cols)| cols.to_owned());
                    return Error::UniqueViolation {
                        constraint,
                        source: Box::new(error),
                    };
                }
                let message = if failure.extended_code == 787 {
                    "a foreign key refers to a missing row, or protected rows still refer to this one"
                        .to_owned()
                } else {
                    message
                };
                return Error::Integrity {
                    message,
                    source: Box::new(error),
                };
            }
            _ => {}
        }
    }
    Error::Database {
        sql: sql.to_owned(),
        source: Box::new(error),
    }
}
