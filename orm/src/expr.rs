//! Filters (Q objects), lookups, F expressions, typed columns and ordering.

use std::marker::PhantomData;
use std::ops::{Add, BitAnd, BitOr, Div, Mul, Not, Sub};

use crate::error::{Error, Result};
use crate::model::{Model, ModelMeta};
use crate::value::{FieldKind, Value};

/// A comparison between a field and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lookup {
    /// `=` (`IS NULL` for `NULL`).
    Exact,
    /// Not equal (`NULL`-safe).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// One of a list.
    In,
    /// Text contains, case-sensitive.
    Contains,
    /// Text contains, ignoring case.
    IContains,
    /// Text starts with.
    StartsWith,
    /// Text starts with, ignoring case.
    IStartsWith,
    /// Text ends with.
    EndsWith,
    /// Text ends with, ignoring case.
    IEndsWith,
    /// `IS NULL` when the value is true, `IS NOT NULL` when false.
    IsNull,
    /// Between two values, inclusive.
    Range,
}

impl Lookup {
    /// Every lookup with its name in runtime paths (`title__icontains`).
    pub const ALL: &'static [(&'static str, Lookup)] = &[
        ("exact", Lookup::Exact),
        ("ne", Lookup::Ne),
        ("lt", Lookup::Lt),
        ("lte", Lookup::Lte),
        ("gt", Lookup::Gt),
        ("gte", Lookup::Gte),
        ("in", Lookup::In),
        ("contains", Lookup::Contains),
        ("icontains", Lookup::IContains),
        ("startswith", Lookup::StartsWith),
        ("istartswith", Lookup::IStartsWith),
        ("endswith", Lookup::EndsWith),
        ("iendswith", Lookup::IEndsWith),
        ("isnull", Lookup::IsNull),
        ("range", Lookup::Range),
    ];

    /// The lookup named `name`.
    pub fn from_name(name: &str) -> Option<Lookup> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
    }

    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            Lookup::Contains
                | Lookup::IContains
                | Lookup::StartsWith
                | Lookup::IStartsWith
                | Lookup::EndsWith
                | Lookup::IEndsWith
        )
    }
}

/// A value expression: a literal (always bound), a field (`F`), or arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A bound value.
    Value(Value),
    /// A field by path (`views`, `author__id`).
    Field(String),
    /// `left op right` with op one of `+ - * /`.
    Binary(Box<Expr>, &'static str, Box<Expr>),
}

/// A reference to a field's current value in the database, for filters and
/// updates: `F::new("views") + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct F(pub String);

impl F {
    /// The field (or relation path) `name`.
    pub fn new(name: impl Into<String>) -> F {
        F(name.into())
    }
}

impl From<F> for Expr {
    fn from(f: F) -> Expr {
        Expr::Field(f.0)
    }
}

impl<V: Into<Value>> From<V> for Expr {
    fn from(v: V) -> Expr {
        Expr::Value(v.into())
    }
}

macro_rules! arith {
    ($($trait:ident $method:ident $op:literal),*) => {$(
        impl<R: Into<Expr>> $trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                Expr::Binary(Box::new(self), $op, Box::new(rhs.into()))
            }
        }
        impl<R: Into<Expr>> $trait<R> for F {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                Expr::Binary(Box::new(self.into()), $op, Box::new(rhs.into()))
            }
        }
    )*};
}
arith!(Add add "+", Sub sub "-", Mul mul "*", Div div "/");

/// The right-hand side of a lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// One value or expression.
    Expr(Expr),
    /// A list (for `in`).
    List(Vec<Value>),
    /// Two bounds (for `range`).
    Range(Value, Value),
}

/// A filter: lookups combined with AND, OR and NOT (`&`, `|`, `!`).
#[derive(Debug, Clone, PartialEq)]
pub enum Q {
    /// All must hold (an empty list holds).
    And(Vec<Q>),
    /// One must hold (an empty list does not).
    Or(Vec<Q>),
    /// Must not hold (rows where it is unknown, through `NULL`, are kept).
    Not(Box<Q>),
    /// One comparison.
    Lookup {
        /// The field path (`title`, `author__display_name`).
        path: String,
        /// The comparison.
        lookup: Lookup,
        /// What it compares with.
        operand: Operand,
    },
}

impl Q {
    /// A lookup on a field path with an operand.
    pub fn lookup(path: impl Into<String>, lookup: Lookup, operand: impl Into<Expr>) -> Q {
        let operand = match (lookup, operand.into()) {
            (Lookup::In, Expr::Value(Value::Json(serde_json::Value::Array(items)))) => {
                Operand::List(
                    items
                        .iter()
                        .map(|j| Value::from_json(j, FieldKind::Json).unwrap_or(Value::Null))
                        .collect(),
                )
            }
            (_, expr) => Operand::Expr(expr),
        };
        Q::Lookup {
            path: path.into(),
            lookup,
            operand,
        }
    }

    /// `path IN (values)`.
    pub fn is_in(path: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Q {
        Q::Lookup {
            path: path.into(),
            lookup: Lookup::In,
            operand: Operand::List(values.into_iter().collect()),
        }
    }

    /// `path BETWEEN low AND high`.
    pub fn range(path: impl Into<String>, low: impl Into<Value>, high: impl Into<Value>) -> Q {
        Q::Lookup {
            path: path.into(),
            lookup: Lookup::Range,
            operand: Operand::Range(low.into(), high.into()),
        }
    }

    /// Parses `"title__icontains"` into a path and a lookup (exact when the
    /// last part names no lookup) and builds the filter, checking the path
    /// against `meta`. Text values are converted to the field's type, so
    /// query-string values work (`"42"`, `"true"`, `"2024-01-02"`); for `in`
    /// a text value is split on commas, for `range` it must be `low,high`.
    pub fn parse(meta: &'static ModelMeta, name: &str, value: impl Into<Value>) -> Result<Q> {
        let (path, lookup) = match name.rsplit_once("__") {
            Some((path, last)) => match Lookup::from_name(last) {
                Some(lookup) => (path, lookup),
                None => (name, Lookup::Exact),
            },
            None => (name, Lookup::Exact),
        };
        let field = crate::query::resolve_field(meta, path)?;
        let value = value.into();
        let coerce = |v: Value| {
            if lookup.is_text() || (lookup == Lookup::IsNull) {
                return Ok(v);
            }
            v.coerce(field.kind).map_err(|e| Error::InvalidValue {
                field: name.to_owned(),
                message: e.to_string(),
            })
        };
        let split = |v: Value| -> Vec<Value> {
            match v {
                Value::Text(t) => t
                    .split(',')
                    .map(|p| Value::Text(p.trim().to_owned()))
                    .collect(),
                Value::Json(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|j| Value::from_json(j, field.kind).unwrap_or(Value::Null))
                    .collect(),
                other => vec![other],
            }
        };
        let operand = match lookup {
            Lookup::In => Operand::List(
                split(value)
                    .into_iter()
                    .map(coerce)
                    .collect::<Result<_>>()?,
            ),
            Lookup::Range => {
                let parts = split(value);
                let [low, high] =
                    <[Value; 2]>::try_from(parts).map_err(|_| Error::InvalidValue {
                        field: name.to_owned(),
                        message: "a range takes two values: low,high".into(),
                    })?;
                Operand::Range(coerce(low)?, coerce(high)?)
            }
            Lookup::IsNull => Operand::Expr(Expr::Value(Value::Bool(bool::from_value_lossy(
                value, name,
            )?))),
            _ => Operand::Expr(Expr::Value(coerce(value)?)),
        };
        Ok(Q::Lookup {
            path: path.to_owned(),
            lookup,
            operand,
        })
    }
}

trait Lossy {
    fn from_value_lossy(v: Value, name: &str) -> Result<bool>;
}

impl Lossy for bool {
    fn from_value_lossy(v: Value, name: &str) -> Result<bool> {
        <bool as crate::value::FromValue>::from_value(v).map_err(|e| Error::InvalidValue {
            field: name.to_owned(),
            message: e.to_string(),
        })
    }
}

impl Default for Q {
    /// The filter every row meets (an empty AND).
    fn default() -> Q {
        Q::And(Vec::new())
    }
}

impl BitAnd for Q {
    type Output = Q;
    fn bitand(self, rhs: Q) -> Q {
        match self {
            Q::And(mut items) => {
                items.push(rhs);
                Q::And(items)
            }
            other => Q::And(vec![other, rhs]),
        }
    }
}

impl BitOr for Q {
    type Output = Q;
    fn bitor(self, rhs: Q) -> Q {
        match self {
            Q::Or(mut items) => {
                items.push(rhs);
                Q::Or(items)
            }
            other => Q::Or(vec![other, rhs]),
        }
    }
}

impl Not for Q {
    type Output = Q;
    fn not(self) -> Q {
        Q::Not(Box::new(self))
    }
}

/// One key of an ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The field path.
    pub path: String,
    /// Descending when true.
    pub descending: bool,
}

impl Order {
    /// Ascending by `path`.
    pub fn asc(path: impl Into<String>) -> Order {
        Order {
            path: path.into(),
            descending: false,
        }
    }

    /// Descending by `path`.
    pub fn desc(path: impl Into<String>) -> Order {
        Order {
            path: path.into(),
            descending: true,
        }
    }

    /// `"-published_at"` is descending, `"title"` ascending.
    pub fn parse(text: &str) -> Order {
        let text = text.trim();
        match text.strip_prefix('-') {
            Some(path) => Order::desc(path),
            None => Order::asc(text.strip_prefix('+').unwrap_or(text)),
        }
    }
}

/// `field = expression` in an `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The field's name.
    pub field: String,
    /// The new value.
    pub expr: Expr,
}

impl Assignment {
    /// Sets `field` (a name from run time: checked when the update runs).
    pub fn new(field: impl Into<String>, expr: impl Into<Expr>) -> Assignment {
        Assignment {
            field: field.into(),
            expr: expr.into(),
        }
    }
}

/// A typed column of model `M` whose values are `T`, generated by
/// `#[derive(Model)]` as `Article::TITLE`.
pub struct Column<M, T> {
    name: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<M: Model, T: Into<Value>> Column<M, T> {
    /// The column for field `name`.
    pub const fn new(name: &'static str) -> Self {
        Column {
            name,
            _types: PhantomData,
        }
    }

    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn q(self, lookup: Lookup, value: Value) -> Q {
        Q::Lookup {
            path: self.name.to_owned(),
            lookup,
            operand: Operand::Expr(Expr::Value(value)),
        }
    }

    /// Equal to `value`.
    pub fn eq(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Exact, value.into().into())
    }

    /// Not equal to `value` (rows holding `NULL` count as not equal).
    pub fn ne(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Ne, value.into().into())
    }

    /// Less than `value`.
    pub fn lt(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Lt, value.into().into())
    }

    /// At most `value`.
    pub fn lte(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Lte, value.into().into())
    }

    /// Greater than `value`.
    pub fn gt(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Gt, value.into().into())
    }

    /// At least `value`.
    pub fn gte(self, value: impl Into<T>) -> Q {
        self.q(Lookup::Gte, value.into().into())
    }

    /// One of `values`.
    pub fn is_in<V: Into<T>>(self, values: impl IntoIterator<Item = V>) -> Q {
        Q::is_in(self.name, values.into_iter().map(|v| v.into().into()))
    }

    /// Between `low` and `high`, inclusive.
    pub fn range(self, low: impl Into<T>, high: impl Into<T>) -> Q {
        Q::range(self.name, low.into().into(), high.into().into())
    }

    /// `NULL` (true) or not `NULL` (false).
    pub fn is_null(self, null: bool) -> Q {
        self.q(Lookup::IsNull, Value::Bool(null))
    }

    /// Text contains `text` (case-sensitive).
    pub fn contains(self, text: &str) -> Q {
        self.q(Lookup::Contains, Value::Text(text.to_owned()))
    }

    /// Text contains `text`, ignoring case.
    pub fn icontains(self, text: &str) -> Q {
        self.q(Lookup::IContains, Value::Text(text.to_owned()))
    }

    /// Text starts with `text`.
    pub fn startswith(self, text: &str) -> Q {
        self.q(Lookup::StartsWith, Value::Text(text.to_owned()))
    }

    /// Text starts with `text`, ignoring case.
    pub fn istartswith(self, text: &str) -> Q {
        self.q(Lookup::IStartsWith, Value::Text(text.to_owned()))
    }

    /// Text ends with `text`.
    pub fn endswith(self, text: &str) -> Q {
        self.q(Lookup::EndsWith, Value::Text(text.to_owned()))
    }

    /// Text ends with `text`, ignoring case.
    pub fn iendswith(self, text: &str) -> Q {
        self.q(Lookup::IEndsWith, Value::Text(text.to_owned()))
    }

    /// Compares with an expression (`Article::VIEWS.cmp(Lookup::Gt, F::new("likes") * 2)`).
    pub fn cmp(self, lookup: Lookup, expr: impl Into<Expr>) -> Q {
        Q::Lookup {
            path: self.name.to_owned(),
            lookup,
            operand: Operand::Expr(expr.into()),
        }
    }

    /// This field as an expression, for arithmetic (`Article::VIEWS.f() + 1`).
    pub fn f(self) -> Expr {
        Expr::Field(self.name.to_owned())
    }

    /// Ascending order by this field.
    pub fn asc(self) -> Order {
        Order::asc(self.name)
    }

    /// Descending order by this field.
    pub fn desc(self) -> Order {
        Order::desc(self.name)
    }

    /// An update setting this field to `value`.
    pub fn set(self, value: impl Into<T>) -> Assignment {
        Assignment::new(self.name, Expr::Value(value.into().into()))
    }

    /// An update setting this field to an expression (`F::new("views") + 1`).
    pub fn set_expr(self, expr: impl Into<Expr>) -> Assignment {
        Assignment::new(self.name, expr)
    }
}
