//! Query sets: lazy, chainable queries over a model, compiled to one SQL
//! statement with every value bound and every identifier quoted.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::connection::Executor;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::expr::{Expr, Lookup, Operand, Order, Q};
use crate::model::{FieldMeta, Model, ModelMeta, Related, RelationKind};
use crate::row::Row;
use crate::value::{FieldKind, Value};

/// Finds the field a path (`title`, `author__display_name`) ends on,
/// following foreign keys; errors name the model and the bad part.
pub fn resolve_field(meta: &'static ModelMeta, path: &str) -> Result<&'static FieldMeta> {
    if !crosses_relation(path)
        && let Some(field) = meta.field(path)
    {
        return Ok(field);
    }
    let mut current = meta;
    let mut parts = path.split("__").peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if let Some(field) = current.field(part) {
            match (last, field.relation) {
                (true, _) => return Ok(field),
                (false, Some(relation)) => current = (relation.target)(),
                (false, None) => {
                    return Err(Error::UnknownField {
                        model: current.name,
                        field: path.to_owned(),
                        hint: format!(" ({part} is not a relation, so nothing can follow it)"),
                    });
                }
            }
        } else if let Some(m2m) = current.many_to_many(part) {
            current = (m2m.target)();
            if last {
                return Ok(current.pk_field());
            }
        } else {
            let mut error = current.unknown_field(part);
            if let Error::UnknownField { field, .. } = &mut error {
                *field = path.to_owned();
            }
            return Err(error);
        }
    }
    Err(meta.unknown_field(path))
}

/// Whether a path has more than one part (`author__name`).
fn crosses_relation(path: &str) -> bool {
    path.as_bytes().windows(2).any(|pair| pair == b"__")
}

/// Whether no path in `q` crosses a relation (so no JOIN can repeat a row).
fn is_local(q: &Q) -> bool {
    fn expr_local(expr: &Expr) -> bool {
        match expr {
            Expr::Value(_) => true,
            Expr::Field(path) => !crosses_relation(path),
            Expr::Binary(left, _, right) => expr_local(left) && expr_local(right),
        }
    }
    match q {
        Q::And(items) | Q::Or(items) => items.iter().all(is_local),
        Q::Not(inner) => is_local(inner),
        Q::Lookup { path, operand, .. } => {
            !crosses_relation(path)
                && match operand {
                    Operand::Expr(expr) => expr_local(expr),
                    Operand::List(_) | Operand::Range(..) => true,
                }
        }
    }
}

/// Whether `q` (one of the AND-ed filters) holds only where a unique field
/// of `meta` equals a value: then at most one row matches.
fn pins_unique(meta: &ModelMeta, q: &Q) -> bool {
    match q {
        Q::And(items) => items.iter().any(|q| pins_unique(meta, q)),
        Q::Lookup {
            path,
            lookup: Lookup::Exact,
            operand: Operand::Expr(Expr::Value(value)),
        } => {
            !value.is_null()
                && !crosses_relation(path)
                && meta.field(path).is_some_and(|f| f.primary_key || f.unique)
        }
        _ => false,
    }
}

/// Builds SQL text and its parameters for one dialect.
pub(crate) struct Sql {
    pub(crate) dialect: Dialect,
    pub(crate) text: String,
    pub(crate) params: Vec<Value>,
    /// Collect the parameters only (the text is cached for this shape).
    params_only: bool,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::with_capacity(128),
            params: Vec::new(),
            params_only: false,
        }
    }

    /// Collects parameters, writing no text: for a query whose SQL text
    /// was built before (the values are checked and converted the same way).
    fn params_only(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::new(),
            params: Vec::with_capacity(4),
            params_only: true,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        if !self.params_only {
            self.text.push_str(s);
        }
    }

    pub(crate) fn ident(&mut self, ident: &str) {
        if !self.params_only {
            self.dialect.quote_into(&mut self.text, ident);
        }
    }

    pub(crate) fn column(&mut self, alias: Option<&str>, column: &str) {
        if self.params_only {
            return;
        }
        if let Some(alias) = alias {
            self.text.push_str(alias);
            self.text.push('.');
        }
        self.ident(column);
    }

    pub(crate) fn param(&mut self, value: Value) {
        self.params.push(value);
        if !self.params_only {
            self.dialect
                .placeholder_into(&mut self.text, self.params.len());
        }
    }

    /// ` IN (` and one bound parameter per value, then `)`.
    pub(crate) fn in_list(&mut self, values: impl IntoIterator<Item = Value>) {
        self.push(" IN (");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.param(value);
        }
        self.push(")");
    }
}

struct Join {
    key: String,
    alias: String,
    clause: String,
}

/// Resolves paths to aliased columns, adding LEFT JOINs as paths cross relations.
pub(crate) struct Resolver {
    base: &'static ModelMeta,
    dialect: Dialect,
    /// `None` for statements on the bare table (UPDATE's SET).
    base_alias: Option<&'static str>,
    joins: Vec<Join>,
    /// Paths only name their field (no aliases, no joins): the text of
    /// the statement is cached and only its parameters are wanted.
    params_only: bool,
}

impl Resolver {
    pub(crate) fn new(base: &'static ModelMeta, dialect: Dialect) -> Resolver {
        Resolver {
            base,
            dialect,
            base_alias: Some("t0"),
            joins: Vec::new(),
            params_only: false,
        }
    }

    fn params_only(base: &'static ModelMeta, dialect: Dialect) -> Resolver {
        Resolver {
            params_only: true,
            ..Resolver::new(base, dialect)
        }
    }

    fn bare(base: &'static ModelMeta, dialect: Dialect) -> Resolver {
        Resolver {
            base,
            dialect,
            base_alias: None,
            joins: Vec::new(),
            params_only: false,
        }
    }

    fn join(&mut self, key: &str, build: impl FnOnce(&str, Dialect) -> String) -> Result<String> {
        if self.base_alias.is_none() {
            return Err(Error::query(format!(
                "{key}: relations cannot be followed here (in an update's new values)"
            )));
        }
        if let Some(join) = self.joins.iter().find(|j| j.key == key) {
            return Ok(join.alias.clone());
        }
        let alias = format!("t{}", self.joins.len() + 1);
        let clause = build(&alias, self.dialect);
        self.joins.push(Join {
            key: key.to_owned(),
            alias: alias.clone(),
            clause,
        });
        Ok(alias)
    }

    /// The alias and field a path ends on.
    pub(crate) fn resolve(&mut self, path: &str) -> Result<(Option<String>, &'static FieldMeta)> {
        if self.params_only {
            return Ok((None, resolve_field(self.base, path)?));
        }
        let mut meta = self.base;
        let mut alias = self.base_alias.map(str::to_owned);
        let parts: Vec<&str> = path.split("__").collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let key = parts[..=i].join("__");
            if let Some(field) = meta.field(part) {
                if last {
                    return Ok((alias, field));
                }
                let Some(relation) = field.relation else {
                    return Err(resolve_field(self.base, path)
                        .err()
                        .unwrap_or_else(|| self.base.unknown_field(path)));
                };
                let target = (relation.target)();
                let from = alias.clone().unwrap_or_default();
                alias = Some(self.join(&key, |a, d| {
                    format!(
                        " LEFT JOIN {} AS {a} ON {a}.{} = {from}.{}",
                        d.quote(target.table),
                        d.quote(target.pk_field().column),
                        d.quote(field.column)
                    )
                })?);
                meta = target;
            } else if let Some(m2m) = meta.many_to_many(part) {
                let target = (m2m.target)();
                let from = alias.clone().unwrap_or_default();
                let source_pk = meta.pk_field().column;
                let through = self.join(&format!("{key}__through"), |a, d| {
                    format!(
                        " LEFT JOIN {} AS {a} ON {a}.{} = {from}.{}",
                        d.quote(m2m.join_table),
                        d.quote(m2m.source_column),
                        d.quote(source_pk)
                    )
                })?;
                alias = Some(self.join(&key, |a, d| {
                    format!(
                        " LEFT JOIN {} AS {a} ON {a}.{} = {through}.{}",
                        d.quote(target.table),
                        d.quote(target.pk_field().column),
                        d.quote(m2m.target_column)
                    )
                })?);
                meta = target;
                if last {
                    return Ok((alias, meta.pk_field()));
                }
            } else {
                return Err(resolve_field(self.base, path)
                    .err()
                    .unwrap_or_else(|| self.base.unknown_field(path)));
            }
        }
        Err(self.base.unknown_field(path))
    }

    pub(crate) fn joins_sql(&self) -> String {
        self.joins.iter().map(|j| j.clause.as_str()).collect()
    }

    pub(crate) fn expr(
        &mut self,
        sql: &mut Sql,
        expr: &Expr,
        kind: Option<FieldKind>,
        path: &str,
    ) -> Result<()> {
        match expr {
            Expr::Value(value) => {
                let value = match kind {
                    Some(kind) => value
                        .clone()
                        .coerce(kind)
                        .map_err(|e| Error::InvalidValue {
                            field: path.to_owned(),
                            message: e.to_string(),
                        })?,
                    None => value.clone(),
                };
                sql.param(value);
            }
            Expr::Field(field_path) => {
                let (alias, field) = self.resolve(field_path)?;
                sql.column(alias.as_deref(), field.column);
            }
            Expr::Binary(left, op, right) => {
                // Operands of arithmetic keep their own types (`views * 2.5`).
                sql.push("(");
                self.expr(sql, left, None, path)?;
                sql.push(" ");
                sql.push(op);
                sql.push(" ");
                self.expr(sql, right, None, path)?;
                sql.push(")");
            }
        }
        Ok(())
    }

    pub(crate) fn filter(&mut self, sql: &mut Sql, q: &Q) -> Result<()> {
        match q {
            Q::And(items) | Q::Or(items) if items.is_empty() => {
                sql.push(if matches!(q, Q::And(_)) {
                    "1 = 1"
                } else {
                    "1 = 0"
                });
            }
            Q::And(items) | Q::Or(items) => {
                let glue = if matches!(q, Q::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                sql.push("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        sql.push(glue);
                    }
                    self.filter(sql, item)?;
                }
                sql.push(")");
            }
            Q::Not(inner) => {
                // Rows where the condition is unknown (NULL) are kept, as in Django.
                sql.push("NOT COALESCE(");
                self.filter(sql, inner)?;
                sql.push(if sql.dialect == Dialect::Sqlite {
                    ", 0)"
                } else {
                    ", FALSE)"
                });
            }
            Q::Lookup {
                path,
                lookup,
                operand,
            } => self.lookup(sql, path, *lookup, operand)?,
        }
        Ok(())
    }

    fn lookup(
        &mut self,
        sql: &mut Sql,
        path: &str,
        lookup: Lookup,
        operand: &Operand,
    ) -> Result<()> {
        let (alias, field) = self.resolve(path)?;
        let kind = field.kind;
        let invalid = |message: String| Error::InvalidValue {
            field: path.to_owned(),
            message,
        };
        if operand_has_nul(operand) {
            return Err(invalid("text cannot contain NUL characters".into()));
        }
        let coerce = |v: &Value| v.clone().coerce(kind).map_err(|e| invalid(e.to_string()));
        let column = |sql: &mut Sql| sql.column(alias.as_deref(), field.column);
        match (lookup, operand) {
            (Lookup::In, Operand::List(values)) => {
                if values.is_empty() {
                    sql.push("1 = 0");
                    return Ok(());
                }
                column(sql);
                sql.push(" IN (");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.param(coerce(v)?);
                }
                sql.push(")");
            }
            (Lookup::Range, Operand::Range(low, high)) => {
                column(sql);
                sql.push(" BETWEEN ");
                sql.param(coerce(low)?);
                sql.push(" AND ");
                sql.param(coerce(high)?);
            }
            (Lookup::IsNull, Operand::Expr(Expr::Value(v))) => {
                let null = <bool as crate::value::FromValue>::from_value(v.clone())
                    .map_err(|e| invalid(e.to_string()))?;
                column(sql);
                sql.push(if null { " IS NULL" } else { " IS NOT NULL" });
            }
            (l, Operand::Expr(Expr::Value(v))) if l.is_text() => {
                if kind != FieldKind::Text {
                    return Err(invalid(format!("{l:?} works on text fields only")));
                }
                let Value::Text(text) = v else {
                    return Err(invalid(format!("{l:?} takes text")));
                };
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let pattern = match l {
                    Lookup::Contains | Lookup::IContains => format!("%{escaped}%"),
                    Lookup::StartsWith | Lookup::IStartsWith => format!("{escaped}%"),
                    _ => format!("%{escaped}"),
                };
                let insensitive = matches!(
                    l,
                    Lookup::IContains | Lookup::IStartsWith | Lookup::IEndsWith
                );
                match (insensitive, sql.dialect) {
                    (true, Dialect::Sqlite) => {
                        sql.push("LOWER(");
                        column(sql);
                        sql.push(") LIKE LOWER(");
                        sql.param(Value::Text(pattern));
                        sql.push(")");
                    }
                    (true, d) => {
                        column(sql);
                        sql.push(" ");
                        sql.push(d.ilike());
                        sql.push(" ");
                        sql.param(Value::Text(pattern));
                    }
                    (false, _) => {
                        column(sql);
                        sql.push(" LIKE ");
                        sql.param(Value::Text(pattern));
                    }
                }
                sql.push(" ESCAPE '\\'");
            }
            (Lookup::Exact | Lookup::Ne, Operand::Expr(Expr::Value(Value::Null))) => {
                column(sql);
                sql.push(if lookup == Lookup::Exact {
                    " IS NULL"
                } else {
                    " IS NOT NULL"
                });
            }
            (
                Lookup::Exact | Lookup::Ne | Lookup::Lt | Lookup::Lte | Lookup::Gt | Lookup::Gte,
                Operand::Expr(expr),
            ) => {
                column(sql);
                sql.push(match lookup {
                    Lookup::Exact => " = ",
                    Lookup::Ne => " IS DISTINCT FROM ",
                    Lookup::Lt => " < ",
                    Lookup::Lte => " <= ",
                    Lookup::Gt => " > ",
                    _ => " >= ",
                });
                self.expr(sql, expr, Some(kind), path)?;
            }
            (l, _) => {
                return Err(invalid(format!(
                    "the {l:?} lookup does not take this kind of operand"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn order(&mut self, out: &mut Sql, orders: &[Order]) -> Result<()> {
        for (i, order) in orders.iter().enumerate() {
            out.push(if i == 0 { " ORDER BY " } else { ", " });
            let (alias, field) = self.resolve(&order.path)?;
            out.column(alias.as_deref(), field.column);
            if order.descending {
                out.push(" DESC");
            }
        }
        Ok(())
    }
}

/// Whether a filter value holds a NUL character, which SQLite's LIKE stops
/// at and PostgreSQL's text refuses.
fn operand_has_nul(operand: &Operand) -> bool {
    let nul = |v: &Value| matches!(v, Value::Text(t) if t.contains('\0'));
    match operand {
        Operand::Expr(Expr::Value(v)) => nul(v),
        Operand::Expr(_) => false,
        Operand::List(values) => values.iter().any(nul),
        Operand::Range(low, high) => nul(low) || nul(high),
    }
}

/// ` FROM "table" AS t0 <joins> <where>`.
fn from_where(sql: &mut Sql, meta: &ModelMeta, resolver: &Resolver, where_sql: &Sql) {
    sql.push(" FROM ");
    sql.ident(meta.table);
    sql.push(" AS t0");
    sql.push(&resolver.joins_sql());
    sql.push(&where_sql.text);
}

pub(crate) fn select_columns(sql: &mut Sql, alias: &str, meta: &ModelMeta) {
    for (i, field) in meta.fields.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.column(Some(alias), field.column);
    }
}

/// One relation loaded by `select_related`, its columns after its parent's.
#[derive(Debug)]
pub(crate) struct RelatedSpec {
    path: String,
    /// The index of the relation this one hangs from (`None`: the model).
    parent: Option<usize>,
    field: &'static FieldMeta,
    target: &'static ModelMeta,
}

/// A SELECT's text and what its rows hold, built once per query shape and
/// kept on the model (see [`crate::model::StatementCache`]).
#[derive(Debug)]
pub(crate) struct SelectShape {
    text: String,
    related: Vec<RelatedSpec>,
    /// How many parameters the text takes (a check on the shape key).
    params: usize,
}

/// How a SELECT orders its rows beyond the set's own ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordering {
    /// As the set says.
    AsSet,
    /// By primary key when the set is unordered (`first`).
    PkWhenUnordered,
    /// The set's ordering reversed, by primary key when unordered (`last`).
    Reversed,
}

/// One execution of a query set's SELECT.
#[derive(Clone, Copy)]
struct Run<'a> {
    /// A filter added for this run only (`get`).
    extra: Option<&'a Q>,
    /// Overrides the set's limit.
    limit: Option<u64>,
    ordering: Ordering,
}

impl Run<'_> {
    /// The set as it is.
    fn plain() -> Self {
        Run {
            extra: None,
            limit: None,
            ordering: Ordering::AsSet,
        }
    }
}

/// The structural key of a query: everything that shapes its SQL text
/// (paths, lookups, operators, list lengths, which values are `NULL`,
/// ordering, limit and offset literals, relations), and no value that is
/// bound. Strings are length-prefixed, so distinct shapes never collide.
struct ShapeKey(Vec<u8>);

impl ShapeKey {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn len(&mut self, n: usize) {
        self.0
            .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn number(&mut self, n: Option<u64>) {
        match n {
            Some(n) => {
                self.byte(1);
                self.0.extend_from_slice(&n.to_le_bytes());
            }
            None => self.byte(0),
        }
    }

    fn q(&mut self, q: &Q) {
        match q {
            Q::And(items) | Q::Or(items) => {
                self.byte(if matches!(q, Q::And(_)) { b'&' } else { b'|' });
                self.len(items.len());
                for item in items {
                    self.q(item);
                }
            }
            Q::Not(inner) => {
                self.byte(b'!');
                self.q(inner);
            }
            Q::Lookup {
                path,
                lookup,
                operand,
            } => {
                self.byte(b'L');
                self.str(path);
                self.byte(*lookup as u8);
                match operand {
                    Operand::Expr(Expr::Value(v)) if *lookup == Lookup::IsNull => {
                        // The value picks `IS NULL` or `IS NOT NULL`.
                        let null = <bool as crate::value::FromValue>::from_value(v.clone());
                        self.byte(match null {
                            Ok(true) => b'T',
                            Ok(false) => b'F',
                            Err(_) => b'?',
                        });
                    }
                    Operand::Expr(expr) => self.expr(expr),
                    Operand::List(values) => {
                        self.byte(b'l');
                        self.len(values.len());
                    }
                    Operand::Range(..) => self.byte(b'r'),
                }
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            // `= NULL` is written `IS NULL`: nullness shapes the text.
            Expr::Value(Value::Null) => self.byte(b'n'),
            Expr::Value(_) => self.byte(b'v'),
            Expr::Field(path) => {
                self.byte(b'f');
                self.str(path);
            }
            Expr::Binary(left, op, right) => {
                self.byte(b'b');
                self.str(op);
                self.expr(left);
                self.expr(right);
            }
        }
    }
}

/// A lazy query over model `M`. Nothing runs until a method that takes an
/// executor (`all`, `get`, `count`, ...).
pub struct QuerySet<M> {
    pub(crate) filter: Vec<Q>,
    pub(crate) order: Vec<Order>,
    limit: Option<u64>,
    offset: Option<u64>,
    distinct: bool,
    select_related: Vec<String>,
    prefetch_related: Vec<String>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for QuerySet<M> {
    fn clone(&self) -> Self {
        QuerySet {
            filter: self.filter.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            distinct: self.distinct,
            select_related: self.select_related.clone(),
            prefetch_related: self.prefetch_related.clone(),
            _model: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for QuerySet<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySet")
            .field("model", &M::meta().name)
            .field("filter", &self.filter)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

impl<M: Model> Default for QuerySet<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// A projected row from `values`, `annotate` or `aggregate`: values by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Record {
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.values[i])
    }

    /// The names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The values, in order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, in order, taken out.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// An aggregate function over a field: `Count`, `Sum`, `Avg`, `Min`, `Max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    func: &'static str,
    path: Option<String>,
    distinct: bool,
}

impl Aggregate {
    fn of(func: &'static str, path: impl Into<String>) -> Aggregate {
        Aggregate {
            func,
            path: Some(path.into()),
            distinct: false,
        }
    }

    /// `COUNT(field)` (non-null values).
    pub fn count(path: impl Into<String>) -> Aggregate {
        Aggregate::of("COUNT", path)
    }

    /// `COUNT(DISTINCT field)`.
    pub fn count_distinct(path: impl Into<String>) -> Aggregate {
        Aggregate {
            func: "COUNT",
            path: Some(path.into()),
            distinct: true,
        }
    }

    /// `COUNT(*)`.
    pub fn count_all() -> Aggregate {
        Aggregate {
            func: "COUNT",
            path: None,
            distinct: false,
        }
    }

    /// `SUM(field)`.
    pub fn sum(path: impl Into<String>) -> Aggregate {
        Aggregate::of("SUM", path)
    }

    /// `AVG(field)`, as a float.
    pub fn avg(path: impl Into<String>) -> Aggregate {
        Aggregate::of("AVG", path)
    }

    /// `MIN(field)`.
    pub fn min(path: impl Into<String>) -> Aggregate {
        Aggregate::of("MIN", path)
    }

    /// `MAX(field)`.
    pub fn max(path: impl Into<String>) -> Aggregate {
        Aggregate::of("MAX", path)
    }

    /// Writes the aggregate; returns the kind its result decodes to.
    fn write(&self, resolver: &mut Resolver, sql: &mut Sql) -> Result<Option<FieldKind>> {
        let field_kind = match &self.path {
            Some(path) => Some(resolver.resolve(path)?),
            None => None,
        };
        let kind = field_kind.as_ref().map(|(_, f)| f.kind);
        let cast = sql.dialect.aggregate_cast(self.func, kind);
        if cast.is_some() {
            sql.push("CAST(");
        }
        sql.push(self.func);
        sql.push("(");
        if self.distinct {
            sql.push("DISTINCT ");
        }
        match &field_kind {
            Some((alias, field)) => sql.column(alias.as_deref(), field.column),
            None => sql.push("*"),
        }
        sql.push(")");
        if let Some(cast) = cast {
            sql.push(" AS ");
            sql.push(cast);
            sql.push(")");
        }
        Ok(match self.func {
            "COUNT" => Some(FieldKind::I64),
            "AVG" => Some(FieldKind::F64),
            "SUM" if kind == Some(FieldKind::I32) => Some(FieldKind::I64),
            _ => kind,
        })
    }
}

impl<M: Model> QuerySet<M> {
    /// Every row of `M`.
    pub fn new() -> Self {
        QuerySet {
            filter: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            distinct: false,
            select_related: Vec::new(),
            prefetch_related: Vec::new(),
            _model: PhantomData,
        }
    }

    /// Keeps rows matching `q` (AND-ed with earlier filters).
    pub fn filter(mut self, q: Q) -> Self {
        self.filter.push(q);
        self
    }

    /// Drops rows matching `q`.
    pub fn exclude(mut self, q: Q) -> Self {
        self.filter.push(!q);
        self
    }

    /// Filters by a field path and lookup named at run time
    /// (`"title__icontains"`, `"author__display_name"`), checked against the
    /// model's metadata; text values are converted to the field's type.
    pub fn filter_by_name(self, name: &str, value: impl Into<Value>) -> Result<Self> {
        Ok(self.filter(Q::parse(M::meta(), name, value)?))
    }

    /// Like [`QuerySet::filter_by_name`], excluding the matches.
    pub fn exclude_by_name(self, name: &str, value: impl Into<Value>) -> Result<Self> {
        Ok(self.exclude(Q::parse(M::meta(), name, value)?))
    }

    /// Adds an ordering key (earlier keys win).
    pub fn order_by(mut self, order: Order) -> Self {
        self.order.push(order);
        self
    }

    /// Adds ordering keys named at run time: `"-published_at,title"`,
    /// each checked against the metadata.
    pub fn order_by_name(mut self, names: &str) -> Result<Self> {
        for name in names.split(',').filter(|n| !n.trim().is_empty()) {
            let order = Order::parse(name);
            resolve_field(M::meta(), &order.path)?;
            self.order.push(order);
        }
        Ok(self)
    }

    /// Returns at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Drops duplicate rows (after joins through many-to-many relations).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Loads the foreign key `field`'s target in the same query (one JOIN).
    pub fn select_related(mut self, field: &str) -> Self {
        self.select_related.push(field.to_owned());
        self
    }

    /// Loads the relation `field` (a foreign key or many-to-many) for every
    /// result with one extra query.
    pub fn prefetch_related(mut self, field: &str) -> Self {
        self.prefetch_related.push(field.to_owned());
        self
    }

    pub(crate) fn where_clause(&self, resolver: &mut Resolver, sql: &mut Sql) -> Result<()> {
        self.where_with(resolver, sql, None)
    }

    /// The WHERE clause of the set's filters and `extra`.
    fn where_with(&self, resolver: &mut Resolver, sql: &mut Sql, extra: Option<&Q>) -> Result<()> {
        if self.filter.is_empty() && extra.is_none() {
            return Ok(());
        }
        sql.push(" WHERE ");
        for (i, q) in self.filter.iter().chain(extra).enumerate() {
            if i > 0 {
                sql.push(" AND ");
            }
            resolver.filter(sql, q)?;
        }
        Ok(())
    }

    fn resolve_where(&self, dialect: Dialect) -> Result<(Resolver, Sql)> {
        let mut resolver = Resolver::new(M::meta(), dialect);
        let mut where_sql = Sql::new(dialect);
        self.where_clause(&mut resolver, &mut where_sql)?;
        Ok((resolver, where_sql))
    }

    fn limit_clause(&self, sql: &mut Sql, limit: Option<u64>) {
        // LIMIT and OFFSET are written as literals: a bound LIMIT makes
        // SQLite re-plan the statement on every run.
        match (limit, self.offset) {
            (Some(limit), _) => sql.push(&format!(" LIMIT {limit}")),
            (None, Some(_)) if sql.dialect == Dialect::Sqlite => sql.push(" LIMIT -1"),
            _ => {}
        }
        if let Some(offset) = self.offset {
            sql.push(&format!(" OFFSET {offset}"));
        }
    }

    /// The structural key of this run's SELECT (see [`ShapeKey`]).
    fn shape_key(&self, dialect: Dialect, run: Run<'_>, buffer: Vec<u8>) -> Vec<u8> {
        let mut key = ShapeKey(buffer);
        key.byte(dialect as u8);
        key.byte(u8::from(self.distinct));
        key.byte(run.ordering as u8);
        key.number(run.limit.or(self.limit));
        key.number(self.offset);
        key.len(self.filter.len() + usize::from(run.extra.is_some()));
        for q in self.filter.iter().chain(run.extra) {
            key.q(q);
        }
        key.len(self.order.len());
        for order in &self.order {
            key.str(&order.path);
            key.byte(u8::from(order.descending));
        }
        key.len(self.select_related.len());
        for name in &self.select_related {
            key.str(name);
        }
        key.0
    }

    /// This run's SELECT and its parameters: the text from the model's
    /// cache when a query of the same shape ran before, else built now (and
    /// kept). Every value is bound either way.
    fn prepare(&self, dialect: Dialect, run: Run<'_>) -> Result<(Arc<SelectShape>, Vec<Value>)> {
        let meta = M::meta();
        thread_local! {
            /// The key of the query being run (no allocation per query).
            static KEY: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut key = KEY.take();
        key.clear();
        let key = self.shape_key(dialect, run, key);
        let kept = meta.statements.select(&key);
        let key = match kept {
            Some(shape) => {
                KEY.set(key);
                let mut resolver = Resolver::params_only(meta, dialect);
                let mut params = Sql::params_only(dialect);
                self.where_with(&mut resolver, &mut params, run.extra)?;
                // Invariant kept by the key; should it ever break, build afresh.
                if params.params.len() == shape.params {
                    return Ok((shape, params.params));
                }
                self.shape_key(dialect, run, Vec::new())
            }
            None => key,
        };
        let (sql, related) = self.select_sql(dialect, run)?;
        let shape = Arc::new(SelectShape {
            text: sql.text,
            related,
            params: sql.params.len(),
        });
        meta.statements.keep_select(key, shape.clone());
        Ok((shape, sql.params))
    }

    /// The SELECT for one run of this query set.
    fn select_sql(&self, dialect: Dialect, run: Run<'_>) -> Result<(Sql, Vec<RelatedSpec>)> {
        let meta = M::meta();
        let mut resolver = Resolver::new(meta, dialect);
        let mut where_sql = Sql::new(dialect);
        self.where_with(&mut resolver, &mut where_sql, run.extra)?;
        let mut related: Vec<RelatedSpec> = Vec::new();
        let mut related_aliases = Vec::new();
        for name in &self.select_related {
            let mut current = meta;
            let mut parent = None;
            let mut prefix = String::new();
            for part in name.split("__") {
                let field = current.try_field(part).map_err(|_| Error::UnknownField {
                    model: current.name,
                    field: name.clone(),
                    hint: format!(" ({} has no foreign key {part:?})", current.name),
                })?;
                let Some(relation) = field.relation else {
                    return Err(Error::UnknownField {
                        model: current.name,
                        field: name.clone(),
                        hint: " (select_related takes foreign key or one-to-one fields)".into(),
                    });
                };
                if !prefix.is_empty() {
                    prefix.push_str("__");
                }
                prefix.push_str(part);
                let target = (relation.target)();
                match related.iter().position(|r| r.path == prefix) {
                    Some(known) => parent = Some(known),
                    None => {
                        let (alias, _) =
                            resolver.resolve(&format!("{prefix}__{}", target.pk_field().name))?;
                        related.push(RelatedSpec {
                            path: prefix.clone(),
                            parent,
                            field,
                            target,
                        });
                        related_aliases.push(alias.unwrap_or_default());
                        parent = Some(related.len() - 1);
                    }
                }
                current = target;
            }
        }
        let mut order_sql = Sql::new(dialect);
        let mut order = if self.order.is_empty() {
            meta.default_order()
        } else {
            self.order.clone()
        };
        let reverse = run.ordering == Ordering::Reversed;
        if order.is_empty() && run.ordering != Ordering::AsSet {
            order.push(Order::asc(meta.pk_field().name));
        }
        if reverse {
            for o in &mut order {
                o.descending = !o.descending;
            }
        }
        resolver.order(&mut order_sql, &order)?;
        let mut sql = Sql::new(dialect);
        sql.push(if self.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        select_columns(&mut sql, "t0", meta);
        for (spec, alias) in related.iter().zip(&related_aliases) {
            sql.push(", ");
            select_columns(&mut sql, alias, spec.target);
        }
        from_where(&mut sql, meta, &resolver, &where_sql);
        sql.push(&order_sql.text);
        sql.params = where_sql.params;
        self.limit_clause(&mut sql, run.limit.or(self.limit));
        Ok((sql, related))
    }

    fn decode(row: &Row<'_>, related: &[RelatedSpec]) -> Result<M> {
        let mut model = M::from_row(row, 0)?;
        let mut offset = M::meta().fields.len();
        if related.is_empty() {
            return Ok(model);
        }
        if let [spec] = related {
            // One level (the common case): no bookkeeping.
            let value = if row.is_null(offset + spec.target.pk) {
                None
            } else {
                Some((spec.target.decode)(row, offset)?)
            };
            model.set_related(spec.field.name, Related::One(value))?;
            return Ok(model);
        }
        let mut loaded: Vec<Option<Box<dyn std::any::Any + Send>>> =
            Vec::with_capacity(related.len());
        for spec in related {
            let value = if row.is_null(offset + spec.target.pk) {
                None
            } else {
                Some((spec.target.decode)(row, offset)?)
            };
            loaded.push(value);
            offset += spec.target.fields.len();
        }
        // Children come after their parents: attach from the end.
        for (i, spec) in related.iter().enumerate().rev() {
            let value = loaded[i].take();
            match spec.parent {
                Some(p) => {
                    if let Some(parent) = loaded[p].as_mut() {
                        (related[p].target.set_related)(
                            parent.as_mut(),
                            spec.field.name,
                            Related::One(value),
                        )?;
                    }
                }
                None => model.set_related(spec.field.name, Related::One(value))?,
            }
        }
        Ok(model)
    }

    fn fetch(&self, exec: &impl Executor, run: Run<'_>) -> Result<Vec<M>> {
        let (shape, params) = self.prepare(exec.dialect(), run)?;
        let limit = run.limit.or(self.limit);
        let mut out = Vec::with_capacity(limit.map_or(0, |n| n.min(16) as usize));
        exec.with_connection(|conn| {
            let push = |row: &Row<'_>| {
                out.push(Self::decode(row, &shape.related)?);
                Ok(())
            };
            if limit == Some(1) {
                // As a hand-written single-row read: no step to the end.
                conn.query_first(&shape.text, &params, push)?;
            } else {
                conn.query(&shape.text, &params, push)?;
            }
            if !self.prefetch_related.is_empty() && !out.is_empty() {
                crate::relations::prefetch(conn, &mut out, &self.prefetch_related)?;
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Every matching row.
    pub fn all(&self, exec: &impl Executor) -> Result<Vec<M>> {
        self.fetch(exec, Run::plain())
    }

    /// Streams matching rows into `f` one at a time, without collecting them
    /// (the connection is busy until it returns; `prefetch_related` is not
    /// applied).
    pub fn iterator(&self, exec: &impl Executor, mut f: impl FnMut(M) -> Result<()>) -> Result<()> {
        let (shape, params) = self.prepare(exec.dialect(), Run::plain())?;
        exec.with_connection(|conn| {
            conn.query_stream(&shape.text, &params, |row| {
                f(Self::decode(row, &shape.related)?)
            })
        })
    }

    /// The first row in the ordering (by primary key when unordered), if any.
    pub fn first(&self, exec: &impl Executor) -> Result<Option<M>> {
        let run = Run {
            limit: Some(1),
            ordering: Ordering::PkWhenUnordered,
            ..Run::plain()
        };
        Ok(self.fetch(exec, run)?.into_iter().next())
    }

    /// The last row in the ordering (by primary key when unordered), if any.
    pub fn last(&self, exec: &impl Executor) -> Result<Option<M>> {
        let run = Run {
            limit: Some(1),
            ordering: Ordering::Reversed,
            ..Run::plain()
        };
        Ok(self.fetch(exec, run)?.into_iter().next())
    }

    /// The one row matching `q` (and this set's filters): `NotFound` when
    /// none, `MultipleFound` when more.
    pub fn get(&self, exec: &impl Executor, q: Q) -> Result<M> {
        self.one_with(exec, Some(&q))
    }

    /// The one row of this set: `NotFound` when none, `MultipleFound` when more.
    pub fn one(&self, exec: &impl Executor) -> Result<M> {
        self.one_with(exec, None)
    }

    /// `get(pk = value)` on a plain set: the model's statement by primary
    /// key, built once per program. `None` when the query is anything else
    /// (or the value needs the general path's checks and messages).
    fn by_pk(&self, exec: &impl Executor, q: &Q) -> Option<Result<M>> {
        let plain = self.filter.is_empty()
            && self.limit.is_none()
            && self.offset.is_none()
            && self.select_related.is_empty()
            && self.prefetch_related.is_empty();
        let Q::Lookup {
            path,
            lookup: Lookup::Exact,
            operand: Operand::Expr(Expr::Value(value)),
        } = q
        else {
            return None;
        };
        let meta = M::meta();
        let pk = meta.pk_field();
        if !plain || !meta.field(path).is_some_and(|f| f.primary_key) || value.is_null() {
            return None;
        }
        if matches!(value, Value::Text(t) if t.contains('\0')) {
            return None;
        }
        let value = value.clone().coerce(pk.kind).ok()?;
        let sql = crate::write::by_pk_sql(meta, exec.dialect());
        let mut found = None;
        let result = exec.with_connection(|conn| {
            conn.query_first(sql, std::slice::from_ref(&value), |row| {
                found = Some(M::from_row(row, 0)?);
                Ok(())
            })
        });
        Some(result.and_then(|()| found.ok_or(Error::NotFound { model: meta.name })))
    }

    fn one_with(&self, exec: &impl Executor, extra: Option<&Q>) -> Result<M> {
        if let Some(found) = extra.and_then(|q| self.by_pk(exec, q)) {
            return found;
        }
        // A second row is looked for only when one could exist: not when a
        // unique field is pinned and no JOIN can repeat the row.
        let filters = || self.filter.iter().chain(extra);
        let unique = self.offset.is_none()
            && filters().all(is_local)
            && filters().any(|q| pins_unique(M::meta(), q));
        let run = Run {
            extra,
            limit: Some(if unique { 1 } else { 2 }),
            ordering: Ordering::AsSet,
        };
        let mut rows = self.fetch(exec, run)?;
        match rows.len() {
            0 => Err(Error::NotFound {
                model: M::meta().name,
            }),
            1 => Ok(rows.remove(0)),
            _ => {
                let count = match extra {
                    Some(q) => self.clone().filter(q.clone()).count(exec)?,
                    None => self.count(exec)?,
                };
                Err(Error::MultipleFound {
                    model: M::meta().name,
                    count,
                })
            }
        }
    }

    /// The number of matching rows.
    pub fn count(&self, exec: &impl Executor) -> Result<u64> {
        let dialect = exec.dialect();
        let meta = M::meta();
        let (resolver, where_sql) = self.resolve_where(dialect)?;
        let mut sql = Sql::new(dialect);
        let wrapped = self.distinct || self.limit.is_some() || self.offset.is_some();
        if wrapped {
            sql.push(if self.distinct {
                "SELECT COUNT(*) FROM (SELECT DISTINCT "
            } else {
                "SELECT COUNT(*) FROM (SELECT "
            });
            select_columns(&mut sql, "t0", meta);
        } else {
            sql.push("SELECT COUNT(*)");
        }
        from_where(&mut sql, meta, &resolver, &where_sql);
        sql.params = where_sql.params;
        if wrapped {
            self.limit_clause(&mut sql, self.limit);
            sql.push(") AS sub");
        }
        let mut count = 0u64;
        exec.with_connection(|conn| {
            conn.query(&sql.text, &sql.params, |row| {
                count = u64::try_from(row.get::<i64>(0)?).unwrap_or_default();
                Ok(())
            })
        })?;
        Ok(count)
    }

    /// Whether any row matches.
    pub fn exists(&self, exec: &impl Executor) -> Result<bool> {
        let dialect = exec.dialect();
        let meta = M::meta();
        let (resolver, where_sql) = self.resolve_where(dialect)?;
        let mut sql = Sql::new(dialect);
        sql.push("SELECT 1 FROM ");
        sql.ident(meta.table);
        sql.push(" AS t0");
        sql.push(&resolver.joins_sql());
        sql.push(&where_sql.text);
        sql.params = where_sql.params;
        sql.push(" LIMIT 1");
        if let Some(offset) = self.offset {
            sql.push(&format!(" OFFSET {offset}"));
        }
        let mut found = false;
        exec.with_connection(|conn| {
            conn.query(&sql.text, &sql.params, |_| {
                found = true;
                Ok(())
            })
        })?;
        Ok(found)
    }

    /// A projection onto field paths (`values(&["title", "author__display_name"])`),
    /// checked against the metadata; add `annotate` for GROUP BY aggregates.
    pub fn values(self, fields: &[&str]) -> Result<Values<M>> {
        for field in fields {
            resolve_field(M::meta(), field)?;
        }
        Ok(Values {
            qs: self,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            annotations: Vec::new(),
        })
    }

    /// Rows of plain values in the order of `fields`.
    pub fn values_list(self, exec: &impl Executor, fields: &[&str]) -> Result<Vec<Vec<Value>>> {
        Ok(self
            .values(fields)?
            .all(exec)?
            .into_iter()
            .map(Record::into_values)
            .collect())
    }

    /// Aggregates over every matching row: `aggregate(&db, &[("n", Aggregate::count_all())])`.
    pub fn aggregate(
        &self,
        exec: &impl Executor,
        aggregates: &[(&str, Aggregate)],
    ) -> Result<Record> {
        let mut values = Values {
            qs: self.clone(),
            fields: Vec::new(),
            annotations: Vec::new(),
        };
        for (name, aggregate) in aggregates {
            values = values.annotate(name, aggregate.clone());
        }
        values.qs.order.clear();
        values
            .all(exec)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::query("an aggregate query returned no row"))
    }

    /// The primary keys of the matching rows, as an SQL subquery (for
    /// UPDATE and DELETE, which cannot join).
    pub(crate) fn pk_subquery(&self, dialect: Dialect, sql: &mut Sql) -> Result<()> {
        let meta = M::meta();
        let mut resolver = Resolver::new(meta, dialect);
        let mut where_sql = Sql {
            params: std::mem::take(&mut sql.params),
            ..Sql::new(dialect)
        };
        self.where_clause(&mut resolver, &mut where_sql)?;
        let mut order_sql = Sql::new(dialect);
        if self.limit.is_some() || self.offset.is_some() {
            resolver.order(&mut order_sql, &self.order)?;
        }
        sql.ident(meta.pk_field().column);
        sql.push(" IN (SELECT t0.");
        sql.ident(meta.pk_field().column);
        from_where(sql, meta, &resolver, &where_sql);
        sql.push(&order_sql.text);
        sql.params = where_sql.params;
        self.limit_clause(sql, self.limit);
        sql.push(")");
        Ok(())
    }

    /// Sets fields on every matching row in one UPDATE; returns how many
    /// rows changed. Values are bound; `F` expressions refer to the row's
    /// own fields.
    pub fn update(
        &self,
        exec: &impl Executor,
        assignments: &[crate::expr::Assignment],
    ) -> Result<u64> {
        let dialect = exec.dialect();
        let meta = M::meta();
        if assignments.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(dialect);
        sql.push("UPDATE ");
        sql.ident(meta.table);
        sql.push(" SET ");
        let mut bare = Resolver::bare(meta, dialect);
        for (i, assignment) in assignments.iter().enumerate() {
            let field = meta.try_field(&assignment.field)?;
            if field.primary_key {
                return Err(Error::InvalidValue {
                    field: field.name.into(),
                    message: "the primary key cannot be updated".into(),
                });
            }
            if i > 0 {
                sql.push(", ");
            }
            sql.ident(field.column);
            sql.push(" = ");
            if let Expr::Value(value) = &assignment.expr {
                let mut errors = crate::error::ValidationErrors::new();
                let value = value
                    .clone()
                    .coerce(field.kind)
                    .map_err(|e| Error::InvalidValue {
                        field: field.name.into(),
                        message: e.to_string(),
                    })?;
                field.validate_value(&value, &mut errors);
                if !errors.is_empty() {
                    return Err(Error::Validation {
                        model: meta.name,
                        errors,
                    });
                }
            }
            bare.expr(&mut sql, &assignment.expr, Some(field.kind), field.name)?;
        }
        if !self.filter.is_empty() || self.limit.is_some() || self.offset.is_some() {
            sql.push(" WHERE ");
            self.pk_subquery(dialect, &mut sql)?;
        }
        exec.with_connection(|conn| conn.execute(&sql.text, &sql.params))
    }

    /// Deletes every matching row; the database applies each relation's
    /// on-delete rule (cascade, set null, protect, restrict) in the same
    /// statement. Returns how many rows of `M` were deleted.
    pub fn delete(&self, exec: &impl Executor) -> Result<u64> {
        let dialect = exec.dialect();
        let meta = M::meta();
        let mut sql = Sql::new(dialect);
        sql.push("DELETE FROM ");
        sql.ident(meta.table);
        if !self.filter.is_empty() || self.limit.is_some() || self.offset.is_some() {
            sql.push(" WHERE ");
            self.pk_subquery(dialect, &mut sql)?;
        }
        exec.with_connection(|conn| conn.execute(&sql.text, &sql.params))
    }
}

/// A `values(...)` projection, optionally grouped with `annotate`.
pub struct Values<M> {
    qs: QuerySet<M>,
    fields: Vec<String>,
    annotations: Vec<(String, Aggregate)>,
}

impl<M: Model> std::fmt::Debug for Values<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Values")
            .field("fields", &self.fields)
            .field("annotations", &self.annotations)
            .finish()
    }
}

impl<M: Model> Values<M> {
    /// Adds an aggregate named `name`; with fields, rows are grouped by them.
    pub fn annotate(mut self, name: &str, aggregate: Aggregate) -> Self {
        self.annotations.push((name.to_owned(), aggregate));
        self
    }

    /// Orders by a field or an annotation name (`"-n"`).
    pub fn order_by_name(mut self, names: &str) -> Result<Self> {
        for name in names.split(',').filter(|n| !n.trim().is_empty()) {
            let order = Order::parse(name);
            if !self.annotations.iter().any(|(n, _)| *n == order.path) {
                resolve_field(M::meta(), &order.path)?;
            }
            self.qs.order.push(order);
        }
        Ok(self)
    }

    /// Runs the projection.
    pub fn all(&self, exec: &impl Executor) -> Result<Vec<Record>> {
        let dialect = exec.dialect();
        let meta = M::meta();
        let mut resolver = Resolver::new(meta, dialect);
        let mut where_sql = Sql::new(dialect);
        self.qs.where_clause(&mut resolver, &mut where_sql)?;
        let mut select = Sql::new(dialect);
        let mut kinds = Vec::new();
        let mut group = Vec::new();
        for (i, path) in self.fields.iter().enumerate() {
            if i > 0 {
                select.push(", ");
            }
            let (alias, field) = resolver.resolve(path)?;
            let start = select.text.len();
            select.column(alias.as_deref(), field.column);
            group.push(select.text[start..].to_owned());
            kinds.push(Some(field.kind));
        }
        for (i, (name, aggregate)) in self.annotations.iter().enumerate() {
            if i > 0 || !self.fields.is_empty() {
                select.push(", ");
            }
            kinds.push(aggregate.write(&mut resolver, &mut select)?);
            select.push(" AS ");
            select.ident(name);
        }
        let mut order_sql = Sql::new(dialect);
        for (i, order) in self.qs.order.iter().enumerate() {
            order_sql.push(if i == 0 { " ORDER BY " } else { ", " });
            if self.annotations.iter().any(|(n, _)| *n == order.path) {
                order_sql.ident(&order.path);
            } else {
                let (alias, field) = resolver.resolve(&order.path)?;
                order_sql.column(alias.as_deref(), field.column);
            }
            if order.descending {
                order_sql.push(" DESC");
            }
        }
        let mut sql = Sql::new(dialect);
        sql.push(if self.qs.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        sql.push(&select.text);
        from_where(&mut sql, meta, &resolver, &where_sql);
        if !self.annotations.is_empty() && !group.is_empty() {
            sql.push(" GROUP BY ");
            sql.push(&group.join(", "));
        }
        sql.push(&order_sql.text);
        sql.params = where_sql.params;
        self.qs.limit_clause(&mut sql, self.qs.limit);
        let names: Arc<[String]> = self
            .fields
            .iter()
            .cloned()
            .chain(self.annotations.iter().map(|(n, _)| n.clone()))
            .collect();
        let mut out = Vec::new();
        exec.with_connection(|conn| {
            conn.query(&sql.text, &sql.params, |row| {
                let mut values = Vec::with_capacity(kinds.len());
                for (i, kind) in kinds.iter().enumerate() {
                    let value = row.value(i)?;
                    values.push(match kind {
                        Some(kind) => value.clone().coerce(*kind).unwrap_or(value),
                        None => value,
                    });
                }
                out.push(Record {
                    names: names.clone(),
                    values,
                });
                Ok(())
            })
        })?;
        Ok(out)
    }
}

/// Whether `field` is a one-to-one relation (used by the schema helper).
pub(crate) fn is_one_to_one(field: &FieldMeta) -> bool {
    field
        .relation
        .is_some_and(|r| r.kind == RelationKind::OneToOne)
}
