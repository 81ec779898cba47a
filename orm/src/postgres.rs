//! The PostgreSQL driver glue (the synchronous `postgres` client).

use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::error::{Error, Result};
use crate::value::Value;

/// A client with its per-connection cache of prepared statements.
pub(crate) struct PgConn {
    /// Always `Some` until dropped (see the `Drop` impl).
    client: Option<postgres::Client>,
    cache: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub(crate) fn connect(url: &str) -> Result<Self> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            if e.as_db_error().is_none() {
                Error::ConnectionLost {
                    source: Box::new(e),
                }
            } else {
                Error::InvalidUrl {
                    url: redact(url),
                    reason: e.to_string(),
                }
            }
        })?;
        Ok(PgConn {
            client: Some(client),
            cache: HashMap::new(),
        })
    }

    pub(crate) fn client(&mut self) -> &mut postgres::Client {
        // Invariant: `client` is only taken in `drop`.
        self.client
            .as_mut()
            .expect("the client is present until the connection is dropped")
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(postgres::Client::is_closed)
    }

    pub(crate) fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(stmt) = self.cache.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client().prepare(sql).map_err(|e| map_error(e, sql))?;
        if self.cache.len() > 512 {
            self.cache.clear();
        }
        self.cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

impl Drop for PgConn {
    /// Closing the synchronous client runs its own small runtime, which
    /// panics on an async runtime's thread: close it on a plain thread, so a
    /// `Database` may be dropped anywhere.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Bool(b) => b.to_sql_checked(ty, out),
            Value::I32(i) => match *ty {
                Type::INT8 => i64::from(*i).to_sql_checked(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql_checked(ty, out),
                Type::FLOAT8 => f64::from(*i).to_sql_checked(ty, out),
                _ => i.to_sql_checked(ty, out),
            },
            Value::I64(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql_checked(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql_checked(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql_checked(ty, out),
                _ => i.to_sql_checked(ty, out),
            },
            Value::F64(x) => match *ty {
                Type::FLOAT4 => (*x as f32).to_sql_checked(ty, out),
                _ => x.to_sql_checked(ty, out),
            },
            Value::Text(s) => match *ty {
                Type::JSON | Type::JSONB => {
                    postgres::types::Json(serde_json::Value::String(s.clone()))
                        .to_sql_checked(ty, out)
                }
                _ => s.as_str().to_sql_checked(ty, out),
            },
            Value::Bytes(b) => b.as_slice().to_sql_checked(ty, out),
            Value::Date(d) => d.to_sql_checked(ty, out),
            Value::Time(t) => t.to_sql_checked(ty, out),
            Value::Duration(d) => crate::value::micros(*d).to_sql_checked(ty, out),
            Value::Decimal(d) => match *ty {
                Type::FLOAT8 => f64::try_from(*d)?.to_sql_checked(ty, out),
                Type::TEXT | Type::VARCHAR => d.to_string().to_sql_checked(ty, out),
                _ => d.to_sql_checked(ty, out),
            },
            Value::DateTime(dt) => match *ty {
                Type::TIMESTAMP => dt.naive_utc().to_sql_checked(ty, out),
                _ => dt.to_sql_checked(ty, out),
            },
            Value::Uuid(u) => match *ty {
                Type::TEXT | Type::VARCHAR => u.to_string().to_sql_checked(ty, out),
                _ => u.to_sql_checked(ty, out),
            },
            Value::Json(j) => match *ty {
                Type::TEXT | Type::VARCHAR => j.to_string().to_sql_checked(ty, out),
                _ => postgres::types::Json(j).to_sql_checked(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

pub(crate) fn value_at(row: &postgres::Row, idx: usize) -> Result<Value> {
    let Some(column) = row.columns().get(idx) else {
        return Err(Error::query(format!("no column {idx} in the row")));
    };
    let err = |e: postgres::Error| Error::InvalidValue {
        field: column.name().to_owned(),
        message: e.to_string(),
    };
    macro_rules! get {
        ($t:ty, $variant:expr) => {
            row.try_get::<_, Option<$t>>(idx)
                .map_err(err)?
                .map_or(Value::Null, $variant)
        };
    }
    Ok(match *column.type_() {
        Type::BOOL => get!(bool, Value::Bool),
        Type::INT2 => get!(i16, |v| Value::I32(i32::from(v))),
        Type::INT4 => get!(i32, Value::I32),
        Type::INT8 => get!(i64, Value::I64),
        Type::FLOAT4 => get!(f32, |v| Value::F64(f64::from(v))),
        Type::FLOAT8 => get!(f64, Value::F64),
        Type::BYTEA => get!(Vec<u8>, Value::Bytes),
        Type::DATE => get!(NaiveDate, Value::Date),
        Type::TIME => get!(NaiveTime, Value::Time),
        Type::TIMESTAMPTZ => get!(DateTime<Utc>, Value::DateTime),
        Type::TIMESTAMP => get!(NaiveDateTime, |v| Value::DateTime(v.and_utc())),
        Type::UUID => get!(uuid::Uuid, Value::Uuid),
        Type::JSON | Type::JSONB => get!(serde_json::Value, Value::Json),
        _ => get!(String, Value::Text),
    })
}

/// Column `idx` read as the Rust type of `kind` directly (no per-row look
/// at the column type), falling back to [`value_at`] when the column holds
/// another type.
#[inline]
pub(crate) fn value_as(
    row: &postgres::Row,
    idx: usize,
    kind: crate::value::FieldKind,
) -> Result<Value> {
    use crate::value::FieldKind as K;
    macro_rules! typed {
        ($t:ty, $variant:expr) => {
            if let Ok(v) = row.try_get::<_, Option<$t>>(idx) {
                return Ok(v.map_or(Value::Null, $variant));
            }
        };
    }
    match kind {
        K::Bool => typed!(bool, Value::Bool),
        K::I32 => typed!(i32, Value::I32),
        K::I64 => typed!(i64, Value::I64),
        K::F64 => typed!(f64, Value::F64),
        K::Text => typed!(String, Value::Text),
        K::Bytes => typed!(Vec<u8>, Value::Bytes),
        K::Date => typed!(NaiveDate, Value::Date),
        K::Time => typed!(NaiveTime, Value::Time),
        K::Duration => typed!(i64, |v| Value::Duration(chrono::TimeDelta::microseconds(v))),
        K::Decimal => typed!(rust_decimal::Decimal, Value::Decimal),
        K::DateTime => typed!(DateTime<Utc>, Value::DateTime),
        K::Uuid => typed!(uuid::Uuid, Value::Uuid),
        K::Json => typed!(serde_json::Value, Value::Json),
    }
    value_at(row, idx)
}

/// Column `idx` borrowed from the row, for the kinds that read without a
/// conversion (numbers, text, bytes); `None` for the others or when the
/// column holds another type.
#[inline]
pub(crate) fn borrowed(
    row: &postgres::Row,
    idx: usize,
    kind: crate::value::FieldKind,
) -> Option<crate::value::Borrowed<'_>> {
    use crate::value::{Borrowed, FieldKind as K};
    fn read<'a, T: postgres::types::FromSql<'a>>(
        row: &'a postgres::Row,
        idx: usize,
        wrap: impl FnOnce(T) -> Borrowed<'a>,
    ) -> Option<Borrowed<'a>> {
        Some(
            row.try_get::<_, Option<T>>(idx)
                .ok()?
                .map_or(Borrowed::Null, wrap),
        )
    }
    match kind {
        K::I64 => read(row, idx, Borrowed::Integer),
        K::I32 => read(row, idx, |v: i32| Borrowed::Integer(i64::from(v))),
        K::Bool => read(row, idx, |v: bool| Borrowed::Integer(i64::from(v))),
        K::F64 => read(row, idx, Borrowed::Real),
        K::Text => read(row, idx, Borrowed::Text),
        K::Bytes => read(row, idx, Borrowed::Blob),
        _ => None,
    }
}

pub(crate) fn is_lost(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => code.code().starts_with("08") || code.code().starts_with("57P"),
        None => {
            error.as_db_error().is_none()
                && error.source().is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

pub(crate) fn map_error(error: postgres::Error, sql: &str) -> Error {
    use postgres::error::SqlState;
    if is_lost(&error) {
        return Error::ConnectionLost {
            source: Box::new(error),
        };
    }
    let Some(db) = error.as_db_error() else {
        return Error::Database {
            sql: sql.to_owned(),
            source: Box::new(error),
        };
    };
    let code = db.code().clone();
    if code == SqlState::UNIQUE_VIOLATION {
        let constraint = db
            .constraint()
            .map(str::to_owned)
            .or_else(|| db.detail().map(str::to_owned))
            .unwrap_or_else(|| db.message().to_owned());
        return Error::UniqueViolation {
            constraint,
            source: Box::new(error),
        };
    }
    if code.code().starts_with("23") {
        let message = match (db.table(), db.constraint()) {
            (Some(table), Some(constraint)) => {
                format!("{} (table {table}, constraint {constraint})", db.message())
            }
            _ => db.message().to_owned(),
        };
        return Error::Integrity {
            message,
            source: Box::new(error),
        };
    }
    if code == SqlState::LOCK_NOT_AVAILABLE
        || code == SqlState::T_R_SERIALIZATION_FAILURE
        || code == SqlState::T_R_DEADLOCK_DETECTED
    {
        return Error::Busy {
            message: db.message().to_owned(),
        };
    }
    let mut text = db.message().to_owned();
    for (label, part) in [("detail", db.detail()), ("hint", db.hint())] {
        if let Some(part) = part {
            text.push_str(&format!("; {label}: {part}"));
        }
    }
    Error::Database {
        sql: sql.to_owned(),
        source: Box::new(ServerMessage {
            text,
            source: error,
        }),
    }
}

/// The server's own words for an error (the driver's `Display` says only
/// "db error"), keeping the driver's error as its source.
#[derive(Debug)]
struct ServerMessage {
    text: String,
    source: postgres::Error,
}

impl std::fmt::Display for ServerMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ServerMessage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
