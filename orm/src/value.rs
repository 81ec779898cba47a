//! The backend-neutral value type and the conversions between Rust types and it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A single SQL value, independent of the database that stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A double-precision float.
    F64(f64),
    /// Text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A calendar date.
    Date(NaiveDate),
    /// A time of day, without a date or zone.
    Time(NaiveTime),
    /// A span of time (stored as whole microseconds).
    Duration(TimeDelta),
    /// An exact decimal number (`NUMERIC` on PostgreSQL; on SQLite, a
    /// number of at most 15 significant digits, as Django keeps it).
    Decimal(Decimal),
    /// A point in time, in UTC.
    DateTime(DateTime<Utc>),
    /// A UUID.
    Uuid(Uuid),
    /// A JSON document.
    Json(serde_json::Value),
}

/// The kind of a model field: what Rust type it holds and so which column type
/// each dialect gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `String` (and text choices).
    Text,
    /// `Vec<u8>`.
    Bytes,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::NaiveTime`.
    Time,
    /// `chrono::TimeDelta` (`chrono::Duration`), stored as microseconds.
    Duration,
    /// `rust_decimal::Decimal` (re-exported as `tack_orm::Decimal`).
    Decimal,
    /// `chrono::DateTime<Utc>`.
    DateTime,
    /// `uuid::Uuid`.
    Uuid,
    /// `serde_json::Value`.
    Json,
}

impl FieldKind {
    /// A short lowercase name (`"text"`, `"datetime"`, ...), as used in schema files.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Bool => "bool",
            FieldKind::I32 => "i32",
            FieldKind::I64 => "i64",
            FieldKind::F64 => "f64",
            FieldKind::Text => "text",
            FieldKind::Bytes => "bytes",
            FieldKind::Date => "date",
            FieldKind::Time => "time",
            FieldKind::Duration => "duration",
            FieldKind::Decimal => "decimal",
            FieldKind::DateTime => "datetime",
            FieldKind::Uuid => "uuid",
            FieldKind::Json => "json",
        }
    }
}

/// Why a [`Value`] could not become the Rust type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// What was expected.
    pub expected: &'static str,
    /// What was found, described.
    pub found: String,
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for ValueError {}

impl ValueError {
    /// A mismatch between `expected` and the value `found`.
    pub fn new(expected: &'static str, found: &Value) -> Self {
        let mut text = format!("{found:?}");
        if text.len() > 60 {
            let cut = (0..=60)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        ValueError {
            expected,
            found: text,
        }
    }
}

/// The text form SQLite stores a date-time in: fixed width, so it sorts.
pub(crate) const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

impl Value {
    /// A hashable form of a key value, for grouping rows by primary or
    /// foreign key (integers of either width agree).
    pub(crate) fn key(&self) -> String {
        match self {
            Value::I32(i) => i.to_string(),
            Value::I64(i) => i.to_string(),
            other => format!("{other:?}"),
        }
    }

    /// Whether this is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// This value converted to the storage of `kind`, parsing text when needed
    /// (query strings arrive as text). `NULL` stays `NULL`.
    pub fn coerce(self, kind: FieldKind) -> Result<Value, ValueError> {
        let value = match (kind, self) {
            (_, Value::Null) => Value::Null,
            (FieldKind::Bool, v) => Value::Bool(bool::from_value(v)?),
            (FieldKind::I32, v) => Value::I32(i32::from_value(v)?),
            (FieldKind::I64, v) => Value::I64(i64::from_value(v)?),
            (FieldKind::F64, v) => Value::F64(f64::from_value(v)?),
            (FieldKind::Text, v) => Value::Text(String::from_value(v)?),
            (FieldKind::Bytes, v) => Value::Bytes(Vec::<u8>::from_value(v)?),
            (FieldKind::Date, v) => Value::Date(NaiveDate::from_value(v)?),
            (FieldKind::Time, v) => Value::Time(NaiveTime::from_value(v)?),
            (FieldKind::Duration, v) => Value::Duration(TimeDelta::from_value(v)?),
            (FieldKind::Decimal, v) => Value::Decimal(Decimal::from_value(v)?),
            (FieldKind::DateTime, v) => Value::DateTime(DateTime::<Utc>::from_value(v)?),
            (FieldKind::Uuid, v) => Value::Uuid(Uuid::from_value(v)?),
            (FieldKind::Json, v) => Value::Json(serde_json::Value::from_value(v)?),
        };
        Ok(value)
    }

    /// The value as JSON (dates as RFC 3339 text, bytes as an array of numbers).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::I32(i) => (*i).into(),
            Value::I64(i) => (*i).into(),
            Value::F64(f) => (*f).into(),
            Value::Text(s) => s.clone().into(),
            Value::Bytes(b) => b.clone().into(),
            Value::Date(d) => d.to_string().into(),
            Value::Time(t) => t.to_string().into(),
            Value::Duration(d) => duration_string(*d).into(),
            // As text, as Django REST framework writes decimals: exact.
            Value::Decimal(d) => d.to_string().into(),
            Value::DateTime(dt) => dt.to_rfc3339().into(),
            Value::Uuid(u) => u.to_string().into(),
            Value::Json(j) => j.clone(),
        }
    }

    /// A value from JSON, shaped for a field of `kind` (the way a JSON API
    /// body becomes a model field).
    pub fn from_json(json: &serde_json::Value, kind: FieldKind) -> Result<Value, ValueError> {
        let raw = match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) if kind == FieldKind::Json => {
                Value::Json(n.clone().into())
            }
            // The number's own digits, not a float's approximation.
            serde_json::Value::Number(n) if kind == FieldKind::Decimal => {
                Value::Text(n.to_string())
            }
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::I64(i),
                None => Value::F64(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) if kind != FieldKind::Json => Value::Text(s.clone()),
            other => Value::Json(other.clone()),
        };
        raw.coerce(kind)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::I32(i) => write!(f, "{i}"),
            Value::I64(i) => write!(f, "{i}"),
            Value::F64(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Duration(d) => f.write_str(&duration_string(*d)),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::DateTime(dt) => write!(f, "{}", dt.to_rfc3339()),
            Value::Uuid(u) => write!(f, "{u}"),
            Value::Json(j) => write!(f, "{j}"),
        }
    }
}

/// A Rust value that can be written to the database.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

/// A Rust value that can be read back from a [`Value`].
pub trait FromValue: Sized {
    /// Converts, or says what was expected.
    fn from_value(value: Value) -> Result<Self, ValueError>;
}

/// A type a model field can have: its kind and whether it may be `NULL`.
pub trait FieldType: ToValue + FromValue {
    /// The column kind.
    const KIND: FieldKind;
    /// Whether the column accepts `NULL` (true for `Option<T>`).
    const NULLABLE: bool = false;

    /// Reads a value straight from a driver's borrowed column, or `None`
    /// to take the general path (which also explains failures).
    #[doc(hidden)]
    #[inline]
    fn from_borrowed(value: Borrowed<'_>) -> Option<Self> {
        Self::from_value(value.to_value()).ok()
    }
}

/// A column value borrowed from the driver's row (the storage classes of
/// SQLite), read without building a [`Value`] first.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Borrowed<'a> {
    /// `NULL`.
    Null,
    /// An integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl Borrowed<'_> {
    /// The owned value.
    pub fn to_value(self) -> Value {
        match self {
            Borrowed::Null => Value::Null,
            Borrowed::Integer(i) => Value::I64(i),
            Borrowed::Real(x) => Value::F64(x),
            Borrowed::Text(t) => Value::Text(t.to_owned()),
            Borrowed::Blob(b) => Value::Bytes(b.to_vec()),
        }
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        Ok(value)
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    #[inline]
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: FieldType> FieldType for Option<T> {
    const KIND: FieldKind = T::KIND;
    const NULLABLE: bool = true;

    #[inline]
    fn from_borrowed(value: Borrowed<'_>) -> Option<Self> {
        match value {
            Borrowed::Null => Some(None),
            other => T::from_borrowed(other).map(Some),
        }
    }
}

macro_rules! simple {
    ($ty:ty, $kind:ident, $variant:ident, $expected:literal, |$v:ident| { $($arm:pat => $conv:expr),* $(,)? }) => {
        impl ToValue for $ty {
            #[inline]
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
        }
        impl FromValue for $ty {
            #[inline]
            fn from_value($v: Value) -> Result<Self, ValueError> {
                match $v {
                    Value::$variant(x) => Ok(x),
                    $($arm => $conv,)*
                    other => Err(ValueError::new($expected, &other)),
                }
            }
        }
        impl FieldType for $ty {
            const KIND: FieldKind = FieldKind::$kind;

            #[inline]
            fn from_borrowed(value: Borrowed<'_>) -> Option<Self> {
                <$ty as FromBorrowed>::read(value)
            }
        }
    };
}

/// The direct reads from borrowed columns, per type.
trait FromBorrowed: Sized {
    fn read(value: Borrowed<'_>) -> Option<Self>;
}

macro_rules! from_borrowed {
    ($($ty:ty => |$v:ident| $body:expr),* $(,)?) => {$(
        impl FromBorrowed for $ty {
            #[inline]
            fn read($v: Borrowed<'_>) -> Option<Self> {
                $body
            }
        }
    )*};
}

from_borrowed!(
    bool => |v| match v { Borrowed::Integer(i) => Some(i != 0), _ => None },
    i32 => |v| match v { Borrowed::Integer(i) => i32::try_from(i).ok(), _ => None },
    i64 => |v| match v { Borrowed::Integer(i) => Some(i), _ => None },
    f64 => |v| match v { Borrowed::Real(x) => Some(x), Borrowed::Integer(i) => Some(i as f64), _ => None },
    String => |v| match v { Borrowed::Text(t) => Some(t.to_owned()), _ => None },
    Vec<u8> => |v| match v { Borrowed::Blob(b) => Some(b.to_vec()), _ => None },
    NaiveDate => |v| match v { Borrowed::Text(t) => t.parse().ok(), _ => None },
    NaiveTime => |v| match v { Borrowed::Text(t) => t.parse().ok(), _ => None },
    TimeDelta => |v| match v { Borrowed::Integer(i) => Some(TimeDelta::microseconds(i)), _ => None },
    Decimal => |v| match v {
        Borrowed::Integer(i) => Some(Decimal::from(i)),
        Borrowed::Real(x) => decimal_from_real(x),
        Borrowed::Text(t) => t.parse().ok(),
        _ => None,
    },
    DateTime<Utc> => |v| match v { Borrowed::Text(t) => parse_datetime(t), _ => None },
    Uuid => |v| match v { Borrowed::Text(t) => t.parse().ok(), _ => None },
    serde_json::Value => |v| match v { Borrowed::Text(t) => serde_json::from_str(t).ok(), _ => None },
);

/// A time of day as people and browsers write it: `09:30`, `09:30:15`,
/// `09:30:15.250`.
fn parse_time(text: &str) -> Result<NaiveTime, ValueError> {
    let text = text.trim();
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
        .ok_or_else(|| ValueError {
            expected: "a time of day (HH:MM or HH:MM:SS)",
            found: format!("{text:?}"),
        })
}

/// A duration as the whole microseconds both databases store (saturating).
pub(crate) fn micros(d: TimeDelta) -> i64 {
    d.num_microseconds().unwrap_or(if d < TimeDelta::zero() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A duration as Django writes it: `[-][D ]HH:MM:SS[.ffffff]`.
pub(crate) fn duration_string(d: TimeDelta) -> String {
    let micros = micros(d);
    let sign = if micros < 0 { "-" } else { "" };
    let micros = micros.unsigned_abs();
    let (seconds, fraction) = (micros / 1_000_000, micros % 1_000_000);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let mut out = String::from(sign);
    if days > 0 {
        out.push_str(&format!("{days} "));
    }
    out.push_str(&format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    ));
    if fraction > 0 {
        out.push_str(&format!(".{fraction:06}"));
    }
    out
}

/// A duration as Django reads one: `[-][D day[s], |D ][[HH:]MM:]SS[.f]`
/// (`1:30:00`, `3 days, 04:05:06`, `90`).
pub(crate) fn parse_duration(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (days, clock) = match text.split_once(' ') {
        Some((days, rest)) => {
            let rest = rest.trim_start();
            let rest = ["days,", "day,", "days", "day"]
                .iter()
                .find_map(|word| rest.strip_prefix(word))
                .unwrap_or(rest)
                .trim_start();
            (days.parse::<i64>().ok()?, rest)
        }
        None => (0, text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let (seconds, whole) = {
        let last = parts[parts.len() - 1];
        let seconds: f64 = last.parse().ok()?;
        (
            seconds,
            parts[..parts.len() - 1]
                .iter()
                .map(|p| p.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .ok()?,
        )
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    let (hours, minutes) = match whole.as_slice() {
        [] => (0, 0),
        [m] => (0, *m),
        [h, m] => (*h, *m),
        _ => return None,
    };
    let micros =
        ((days * 86_400 + hours * 3600 + minutes * 60) as f64 * 1e6 + seconds * 1e6).round();
    let delta = TimeDelta::microseconds(micros as i64);
    Some(if negative { -delta } else { delta })
}

/// The decimal a stored REAL stands for: its shortest round-trip text,
/// which gives back the digits written for any number of at most 15
/// significant digits.
fn decimal_from_real(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    format!("{x}").parse().ok()
}

/// A decimal as people write it: `12.50`, `-3`, `1e3`, ` 7.1 `.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    text.parse()
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// The text form SQLite stores a time of day in: fixed width, so it sorts.
pub(crate) const TIME_FORMAT: &str = "%H:%M:%S%.6f";

fn parse_text<T: std::str::FromStr>(text: &str, expected: &'static str) -> Result<T, ValueError> {
    text.trim().parse().map_err(|_| ValueError {
        expected,
        found: format!("{text:?}"),
    })
}

simple!(bool, Bool, Bool, "a boolean", |v| {
    Value::I64(i) => Ok(i != 0),
    Value::I32(i) => Ok(i != 0),
    Value::Text(ref t) => match t.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ValueError::new("a boolean", &v)),
    },
});
simple!(i32, I32, I32, "a 32-bit integer", |v| {
    Value::I64(i) => i32::try_from(i).map_err(|_| ValueError::new("a 32-bit integer", &Value::I64(i))),
    Value::Bool(b) => Ok(i32::from(b)),
    Value::Text(t) => parse_text(&t, "a 32-bit integer"),
});
simple!(i64, I64, I64, "an integer", |v| {
    Value::I32(i) => Ok(i64::from(i)),
    Value::Bool(b) => Ok(i64::from(b)),
    Value::Text(t) => parse_text(&t, "an integer"),
});
simple!(f64, F64, F64, "a number", |v| {
    Value::I64(i) => Ok(i as f64),
    Value::I32(i) => Ok(f64::from(i)),
    Value::Text(t) => parse_text(&t, "a number"),
});
simple!(String, Text, Text, "text", |v| {
    Value::Uuid(u) => Ok(u.to_string()),
    Value::Bytes(b) => String::from_utf8(b).map_err(|e| ValueError { expected: "UTF-8 text", found: e.to_string() }),
});
simple!(Vec<u8>, Bytes, Bytes, "bytes", |v| {
    Value::Text(t) => Ok(t.into_bytes()),
});
simple!(NaiveDate, Date, Date, "a date (YYYY-MM-DD)", |v| {
    Value::Text(t) => parse_text(&t, "a date (YYYY-MM-DD)"),
    Value::DateTime(dt) => Ok(dt.date_naive()),
});
simple!(NaiveTime, Time, Time, "a time of day (HH:MM or HH:MM:SS)", |v| {
    Value::Text(t) => parse_time(&t),
    Value::DateTime(dt) => Ok(dt.time()),
});
simple!(TimeDelta, Duration, Duration, "a duration ([DD] [[HH:]MM:]SS[.ffffff])", |v| {
    Value::I64(i) => Ok(TimeDelta::microseconds(i)),
    Value::I32(i) => Ok(TimeDelta::microseconds(i64::from(i))),
    Value::Text(ref t) => parse_duration(t).ok_or_else(|| ValueError::new("a duration ([DD] [[HH:]MM:]SS[.ffffff])", &v)),
});
simple!(Decimal, Decimal, Decimal, "a decimal number", |v| {
    Value::I64(i) => Ok(Decimal::from(i)),
    Value::I32(i) => Ok(Decimal::from(i)),
    Value::F64(x) => decimal_from_real(x).ok_or_else(|| ValueError::new("a decimal number", &Value::F64(x))),
    Value::Text(ref t) => parse_decimal(t).ok_or_else(|| ValueError::new("a decimal number", &v)),
});
simple!(DateTime<Utc>, DateTime, DateTime, "a date-time (RFC 3339)", |v| {
    Value::Text(ref t) => parse_datetime(t).ok_or_else(|| ValueError::new("a date-time (RFC 3339)", &v)),
});
simple!(Uuid, Uuid, Uuid, "a UUID", |v| {
    Value::Text(t) => parse_text(&t, "a UUID"),
    Value::Bytes(b) => Uuid::from_slice(&b).map_err(|e| ValueError { expected: "a UUID", found: e.to_string() }),
});
simple!(serde_json::Value, Json, Json, "JSON", |v| {
    Value::Text(ref t) => serde_json::from_str(t).map_err(|_| ValueError::new("JSON", &v)),
    Value::Null => Ok(serde_json::Value::Null),
    Value::Bool(b) => Ok(b.into()),
    Value::I64(i) => Ok(i.into()),
    Value::I32(i) => Ok(i.into()),
    Value::F64(x) => Ok(x.into()),
});

macro_rules! from_into {
    ($($ty:ty => $variant:ident),*) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Value {
                Value::$variant(v.into())
            }
        }
    )*};
}

from_into!(bool => Bool, i32 => I32, i64 => I64, f64 => F64, String => Text, &str => Text,
    Vec<u8> => Bytes, NaiveDate => Date, NaiveTime => Time, TimeDelta => Duration, Decimal => Decimal, DateTime<Utc> => DateTime, Uuid => Uuid,
    serde_json::Value => Json);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_as_django_does() {
        let d = |s: i64, us: i64| TimeDelta::seconds(s) + TimeDelta::microseconds(us);
        let cases = [
            ("01:30:00", d(5400, 0), "01:30:00"),
            ("90", d(90, 0), "00:01:30"),
            ("2:05", d(125, 0), "00:02:05"),
            ("3 04:05:06", d(3 * 86_400 + 14_706, 0), "3 04:05:06"),
            ("3 days, 04:05:06", d(3 * 86_400 + 14_706, 0), "3 04:05:06"),
            ("1 day, 0:00:00.5", d(86_400, 500_000), "1 00:00:00.500000"),
            ("-00:00:01", d(-1, 0), "-00:00:01"),
        ];
        for (text, expected, written) in cases {
            assert_eq!(parse_duration(text), Some(expected), "{text}");
            assert_eq!(duration_string(expected), written, "{text}");
            assert_eq!(
                parse_duration(written),
                Some(expected),
                "{written} reads back"
            );
        }
        for bad in ["", "soon", "1:2:3:4", "x 01:00:00", "-5s", "1e999"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn coercion_table() {
        let cases: Vec<(Value, FieldKind, Option<Value>)> = vec![
            (
                Value::Text("42".into()),
                FieldKind::I64,
                Some(Value::I64(42)),
            ),
            (Value::Text("x".into()), FieldKind::I64, None),
            (
                Value::Text("true".into()),
                FieldKind::Bool,
                Some(Value::Bool(true)),
            ),
            (Value::I64(1), FieldKind::Bool, Some(Value::Bool(true))),
            (Value::I64(1 << 40), FieldKind::I32, None),
            (
                Value::Text("2024-01-02".into()),
                FieldKind::Date,
                Some(Value::Date(NaiveDate::from_ymd_opt(2024, 1, 2).unwrap())),
            ),
            (Value::Null, FieldKind::Uuid, Some(Value::Null)),
        ];
        for (input, kind, expected) in cases {
            assert_eq!(
                input.clone().coerce(kind).ok(),
                expected,
                "{input:?} as {kind:?}"
            );
        }
    }

    #[test]
    fn datetimes_round_trip_through_sqlite_text() {
        let now = Utc::now();
        let text = now.format(DATETIME_FORMAT).to_string();
        let back = parse_datetime(&text).unwrap();
        assert_eq!(back.timestamp_micros(), now.timestamp_micros());
    }
}
