//! Relation fields: foreign keys, one-to-one, many-to-many, and prefetching.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;

use crate::connection::{Connection, Executor};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{ManyToManyMeta, Model, ModelMeta, Related};
use crate::query::{Sql, select_columns};
use crate::row::Row;
use crate::value::{FieldKind, FieldType, FromValue, ToValue, Value, ValueError};
use crate::write::ModelExt;

/// A foreign key to model `T`: its primary key, and the object itself once
/// loaded with `select_related`, `prefetch_related` or [`ForeignKey::get`].
pub struct ForeignKey<T: Model> {
    id: T::Pk,
    cached: Option<Box<T>>,
}

/// A one-to-one relation: a unique foreign key.
pub type OneToOne<T> = ForeignKey<T>;

impl<T: Model> ForeignKey<T> {
    /// A reference to the row with primary key `id`.
    pub fn new(id: impl Into<T::Pk>) -> Self {
        ForeignKey {
            id: id.into(),
            cached: None,
        }
    }

    /// The referenced primary key.
    pub fn id(&self) -> T::Pk {
        self.id.clone()
    }

    /// The related object if it was loaded.
    pub fn cached(&self) -> Option<&T> {
        self.cached.as_deref()
    }

    /// The related object: the loaded one, or fetched now by primary key.
    pub fn get(&self, exec: &impl Executor) -> Result<T> {
        match &self.cached {
            Some(obj) => Ok((**obj).clone()),
            None => T::find(exec, self.id.clone()),
        }
    }
}

impl<T: Model> From<&T> for ForeignKey<T> {
    fn from(obj: &T) -> Self {
        ForeignKey {
            id: obj.pk(),
            cached: Some(Box::new(obj.clone())),
        }
    }
}

impl<T: Model> Clone for ForeignKey<T> {
    fn clone(&self) -> Self {
        ForeignKey {
            id: self.id.clone(),
            cached: self.cached.clone(),
        }
    }
}

impl<T: Model> std::fmt::Debug for ForeignKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForeignKey<{}>({})", T::meta().name, self.id.to_value())
    }
}

impl<T: Model> PartialEq for ForeignKey<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id.to_value() == other.id.to_value()
    }
}

impl<T: Model> ToValue for ForeignKey<T> {
    fn to_value(&self) -> Value {
        self.id.to_value()
    }
}

impl<T: Model> FromValue for ForeignKey<T> {
    #[inline]
    fn from_value(value: Value) -> Result<Self, ValueError> {
        Ok(ForeignKey {
            id: T::Pk::from_value(value)?,
            cached: None,
        })
    }
}

impl<T: Model> FieldType for ForeignKey<T> {
    const KIND: FieldKind = T::Pk::KIND;

    #[inline]
    fn from_borrowed(value: crate::value::Borrowed<'_>) -> Option<Self> {
        Some(ForeignKey {
            id: T::Pk::from_borrowed(value)?,
            cached: None,
        })
    }
}

impl<T: Model> serde::Serialize for ForeignKey<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.id.to_value().to_json().serialize(s)
    }
}

/// A many-to-many field: not a column but a join table. Holds the related
/// objects after `prefetch_related`; change it with the generated accessor
/// (`article.tags().add(&db, &tag)`).
pub struct ManyToMany<T> {
    loaded: Option<Vec<T>>,
}

/// The accessors and impls that [`ManyToMany`] and [`Reverse`] share: both
/// hold the related objects once `prefetch_related` has loaded them.
macro_rules! loaded_relation {
    ($name:ident, $what:literal) => {
        impl<T> $name<T> {
            /// An empty, unloaded relation.
            pub fn new() -> Self {
                $name { loaded: None }
            }

            #[doc = concat!("The prefetched ", $what, ", if loaded.")]
            pub fn loaded(&self) -> Option<&[T]> {
                self.loaded.as_deref()
            }
        }

        impl<T> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T: Clone> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    loaded: self.loaded.clone(),
                }
            }
        }

        impl<T: std::fmt::Debug> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match &self.loaded {
                    Some(items) => f.debug_list().entries(items).finish(),
                    None => f.write_str(concat!(stringify!($name), "(not loaded)")),
                }
            }
        }

        impl<T: Model> serde::Serialize for $name<T> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_pks(self.loaded.as_deref(), s)
            }
        }
    };
}

loaded_relation!(ManyToMany, "objects");

/// The rows of model `T` whose foreign key points at this object, as a
/// field: `#[tack(related_field = "author")] pub articles: Reverse<Article>`.
/// Not a column; filled by `prefetch_related("articles")` (one query for
/// all the objects loaded).
pub struct Reverse<T> {
    loaded: Option<Vec<T>>,
}

loaded_relation!(Reverse, "rows");

impl<T: Model> RelatedField for Reverse<T> {
    fn set_related(&mut self, related: Related) -> Result<()> {
        if let Related::Many(items) = related {
            self.loaded = Some(
                items
                    .into_iter()
                    .map(downcast::<T>)
                    .collect::<Result<_>>()?,
            );
        }
        Ok(())
    }
}

/// Loaded related objects serialize as their primary keys.
fn serialize_pks<T: Model, S: serde::Serializer>(
    items: Option<&[T]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let ids: Vec<serde_json::Value> = items
        .unwrap_or_default()
        .iter()
        .map(|t| t.pk().to_value().to_json())
        .collect();
    ids.serialize(s)
}

/// A relation field that can hold loaded objects (implemented for
/// `ForeignKey<T>`, `Option<ForeignKey<T>>` and `ManyToMany<T>`; the derive
/// calls it).
pub trait RelatedField {
    /// Stores the loaded object(s).
    fn set_related(&mut self, related: Related) -> Result<()>;
}

fn downcast<T: 'static>(b: Box<dyn Any + Send>) -> Result<T> {
    b.downcast::<T>()
        .map(|b| *b)
        .map_err(|_| Error::query("a related object of the wrong model was loaded"))
}

impl<T: Model> RelatedField for ForeignKey<T> {
    fn set_related(&mut self, related: Related) -> Result<()> {
        if let Related::One(Some(obj)) = related {
            let obj = obj
                .downcast::<T>()
                .map_err(|_| Error::query("a related object of the wrong model was loaded"))?;
            self.cached = Some(obj);
        }
        Ok(())
    }
}

impl<T: Model> RelatedField for Option<ForeignKey<T>> {
    fn set_related(&mut self, related: Related) -> Result<()> {
        match (self, related) {
            (Some(fk), related) => fk.set_related(related),
            (None, _) => Ok(()),
        }
    }
}

impl<T: Model> RelatedField for ManyToMany<T> {
    fn set_related(&mut self, related: Related) -> Result<()> {
        if let Related::Many(items) = related {
            self.loaded = Some(
                items
                    .into_iter()
                    .map(downcast::<T>)
                    .collect::<Result<_>>()?,
            );
        }
        Ok(())
    }
}

/// The many-to-many relation of one saved object: `article.tags()`.
pub struct ManyRelated<S, T> {
    source: Value,
    meta: &'static ManyToManyMeta,
    _types: PhantomData<fn() -> (S, T)>,
}

impl<S, T> std::fmt::Debug for ManyRelated<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ManyRelated({} of {})", self.meta.name, self.source)
    }
}

impl<S: Model, T: Model> ManyRelated<S, T> {
    /// The relation `meta` of the object whose primary key is `source`.
    pub fn new(source: Value, meta: &'static ManyToManyMeta) -> Self {
        ManyRelated {
            source,
            meta,
            _types: PhantomData,
        }
    }

    fn check_saved(&self) -> Result<()> {
        if crate::model::is_unset(&self.source) {
            return Err(Error::query(format!(
                "save the {} before changing its {} relation",
                S::meta().name,
                self.meta.name
            )));
        }
        Ok(())
    }

    fn each_target(&self, exec: &impl Executor, sql: &str, targets: &[&T]) -> Result<()> {
        exec.with_connection(|conn| {
            conn.atomic(|tx| {
                for target in targets {
                    tx.execute(sql, &[self.source.clone(), target.pk().to_value()])?;
                }
                Ok(())
            })
        })
    }

    /// Links `targets` (already linked ones are skipped), in one transaction.
    pub fn add(&self, exec: &impl Executor, targets: &[&T]) -> Result<()> {
        self.check_saved()?;
        self.each_target(exec, &self.meta.link_sql(exec.dialect(), true), targets)
    }

    /// Unlinks `targets`.
    pub fn remove(&self, exec: &impl Executor, targets: &[&T]) -> Result<()> {
        let d = exec.dialect();
        let sql = format!(
            "{} AND {} = {}",
            self.meta.unlink_sql(d),
            d.quote(self.meta.target_column),
            placeholder(d, 2)
        );
        self.each_target(exec, &sql, targets)
    }

    /// Unlinks everything.
    pub fn clear(&self, exec: &impl Executor) -> Result<()> {
        let sql = self.meta.unlink_sql(exec.dialect());
        exec.with_connection(|conn| {
            conn.execute(&sql, std::slice::from_ref(&self.source))
                .map(|_| ())
        })
    }

    /// Makes `targets` exactly the linked set, in one transaction.
    pub fn set(&self, exec: &impl Executor, targets: &[&T]) -> Result<()> {
        self.check_saved()?;
        let ids: Vec<Value> = targets.iter().map(|t| t.pk().to_value()).collect();
        exec.with_connection(|conn| self.meta.replace_links(conn, &self.source, &ids))
    }

    /// The linked objects, ordered by primary key.
    pub fn all(&self, exec: &impl Executor) -> Result<Vec<T>> {
        let mut grouped = fetch_many(
            exec,
            S::meta(),
            self.meta,
            std::slice::from_ref(&self.source),
        )?;
        let items = grouped.remove(&key(&self.source)).unwrap_or_default();
        items
            .iter()
            .map(|values| T::from_row(&Row::from_values(values), 0))
            .collect()
    }
}

fn placeholder(d: Dialect, n: usize) -> String {
    let mut s = String::new();
    d.placeholder_into(&mut s, n);
    s
}

fn key(value: &Value) -> String {
    value.key()
}

impl ManyToManyMeta {
    /// `INSERT` of one (source, target) link; `skip_linked` ignores a
    /// link that is already there.
    fn link_sql(&self, d: Dialect, skip_linked: bool) -> String {
        format!(
            "INSERT INTO {} ({}, {}) VALUES ({}, {}){}",
            d.quote(self.join_table),
            d.quote(self.source_column),
            d.quote(self.target_column),
            placeholder(d, 1),
            placeholder(d, 2),
            if skip_linked {
                " ON CONFLICT DO NOTHING"
            } else {
                ""
            }
        )
    }

    /// `DELETE` of every link of one source.
    fn unlink_sql(&self, d: Dialect) -> String {
        format!(
            "DELETE FROM {} WHERE {} = {}",
            d.quote(self.join_table),
            d.quote(self.source_column),
            placeholder(d, 1)
        )
    }

    /// Makes `targets` exactly the set linked to `source`, in one
    /// transaction (repeated ids count once).
    pub(crate) fn replace_links(
        &self,
        conn: &Connection,
        source: &Value,
        targets: &[Value],
    ) -> Result<()> {
        let d = conn.dialect();
        let insert = self.link_sql(d, false);
        conn.atomic(|tx| {
            tx.execute(&self.unlink_sql(d), std::slice::from_ref(source))?;
            let mut seen = std::collections::HashSet::new();
            for target in targets {
                if seen.insert(target.key()) {
                    tx.execute(&insert, &[source.clone(), target.clone()])?;
                }
            }
            Ok(())
        })
    }

    /// The target ids linked to each of `sources` (of the model `source`),
    /// in the order of `sources`, each list ordered by id.
    pub(crate) fn linked_ids(
        &self,
        conn: &Connection,
        source: &'static ModelMeta,
        sources: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let source_kind = source.pk_field().kind;
        let target_kind = (self.target)().pk_field().kind;
        let mut grouped: HashMap<String, Vec<Value>> = HashMap::new();
        for chunk in sources.chunks(1000) {
            let mut sql = Sql::new(conn.dialect());
            sql.push("SELECT ");
            sql.ident(self.source_column);
            sql.push(", ");
            sql.ident(self.target_column);
            sql.push(" FROM ");
            sql.ident(self.join_table);
            sql.push(" WHERE ");
            sql.ident(self.source_column);
            sql.in_list(chunk.iter().cloned());
            sql.push(" ORDER BY ");
            sql.ident(self.target_column);
            conn.query(&sql.text, &sql.params, |row| {
                let coerce =
                    |v: Value, kind| v.coerce(kind).map_err(|e| Error::query(e.to_string()));
                let owner = coerce(row.value(0)?, source_kind)?;
                let target = coerce(row.value(1)?, target_kind)?;
                grouped.entry(owner.key()).or_default().push(target);
                Ok(())
            })?;
        }
        Ok(sources
            .iter()
            .map(|s| grouped.get(&s.key()).cloned().unwrap_or_default())
            .collect())
    }
}

/// Target rows of a many-to-many relation for each source key, as values.
fn fetch_many(
    exec: &impl Executor,
    source: &'static ModelMeta,
    m2m: &'static ManyToManyMeta,
    sources: &[Value],
) -> Result<HashMap<String, Vec<Vec<Value>>>> {
    let target = (m2m.target)();
    let d = exec.dialect();
    let mut out: HashMap<String, Vec<Vec<Value>>> = HashMap::new();
    for chunk in sources.chunks(5000) {
        let mut sql = Sql::new(d);
        sql.push("SELECT j.");
        sql.ident(m2m.source_column);
        sql.push(", ");
        select_columns(&mut sql, "t", target);
        sql.push(" FROM ");
        sql.ident(target.table);
        sql.push(" AS t JOIN ");
        sql.ident(m2m.join_table);
        sql.push(" AS j ON j.");
        sql.ident(m2m.target_column);
        sql.push(" = t.");
        sql.ident(target.pk_field().column);
        sql.push(" WHERE j.");
        sql.ident(m2m.source_column);
        sql.in_list(chunk.iter().map(|v| {
            v.clone()
                .coerce(source.pk_field().kind)
                .unwrap_or_else(|_| v.clone())
        }));
        sql.push(" ORDER BY t.");
        sql.ident(target.pk_field().column);
        let width = target.fields.len();
        exec.with_connection(|conn| {
            conn.query(&sql.text, &sql.params, |row| {
                let source = row
                    .value(0)?
                    .coerce(source.pk_field().kind)
                    .map_err(|e| Error::query(e.to_string()))?;
                let values = (1..=width)
                    .map(|i| row.value(i))
                    .collect::<Result<Vec<_>>>()?;
                out.entry(key(&source)).or_default().push(values);
                Ok(())
            })
        })?;
    }
    Ok(out)
}

/// Loads each named relation of `models` with one query per relation.
pub(crate) fn prefetch<M: Model>(
    conn: &Connection,
    models: &mut [M],
    names: &[String],
) -> Result<()> {
    let meta = M::meta();
    for name in names {
        if let Some(m2m) = meta.many_to_many(name) {
            let target = (m2m.target)();
            let sources: Vec<Value> = models.iter().map(|m| m.pk().to_value()).collect();
            let grouped = fetch_many(conn, meta, m2m, &sources)?;
            for model in models.iter_mut() {
                let rows = grouped
                    .get(&key(&model.pk().to_value()))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let items = rows
                    .iter()
                    .map(|values| (target.decode)(&Row::from_values(values), 0))
                    .collect::<Result<Vec<_>>>()?;
                model.set_related(name, Related::Many(items))?;
            }
            continue;
        }
        if let Some(reverse) = meta.reverse(name) {
            prefetch_reverse(conn, models, name, reverse)?;
            continue;
        }
        let field = meta.try_field(name)?;
        let Some(relation) = field.relation else {
            return Err(Error::UnknownField {
                model: meta.name,
                field: name.clone(),
                hint: " (prefetch_related takes a foreign key, reverse or many-to-many field)"
                    .into(),
            });
        };
        let target = (relation.target)();
        let mut ids: Vec<Value> = models
            .iter()
            .filter_map(|m| m.get_value(field.name))
            .filter(|v| !v.is_null())
            .collect();
        ids.sort_by_key(key);
        ids.dedup();
        let mut rows: HashMap<String, Vec<Value>> = HashMap::new();
        for chunk in ids.chunks(5000) {
            let mut sql = Sql::new(conn.dialect());
            sql.push("SELECT ");
            select_columns(&mut sql, "t", target);
            sql.push(" FROM ");
            sql.ident(target.table);
            sql.push(" AS t WHERE t.");
            sql.ident(target.pk_field().column);
            sql.in_list(chunk.iter().cloned());
            conn.query(&sql.text, &sql.params, |row| {
                let values = (0..target.fields.len())
                    .map(|i| row.value(i))
                    .collect::<Result<Vec<_>>>()?;
                let pk = values[target.pk]
                    .clone()
                    .coerce(target.pk_field().kind)
                    .map_err(|e| Error::query(e.to_string()))?;
                rows.insert(key(&pk), values);
                Ok(())
            })?;
        }
        for model in models.iter_mut() {
            let Some(id) = model.get_value(field.name) else {
                continue;
            };
            let related = match rows.get(&key(&id)) {
                Some(values) => Some((target.decode)(&Row::from_values(values), 0)?),
                None => None,
            };
            model.set_related(name, Related::One(related))?;
        }
    }
    Ok(())
}

/// Loads the rows that refer to each of `models` through `reverse`, with one
/// query (per 5,000 objects).
fn prefetch_reverse<M: Model>(
    conn: &Connection,
    models: &mut [M],
    name: &str,
    reverse: &'static crate::model::ReverseMeta,
) -> Result<()> {
    let source = (reverse.source)();
    let field = source.try_field(reverse.field)?;
    let at = source
        .fields
        .iter()
        .position(|f| f.name == field.name)
        .unwrap_or(0);
    let pks: Vec<Value> = models.iter().map(|m| m.pk().to_value()).collect();
    let mut grouped: HashMap<String, Vec<Vec<Value>>> = HashMap::new();
    for chunk in pks.chunks(5000) {
        let mut sql = Sql::new(conn.dialect());
        sql.push("SELECT ");
        select_columns(&mut sql, "t", source);
        sql.push(" FROM ");
        sql.ident(source.table);
        sql.push(" AS t WHERE t.");
        sql.ident(field.column);
        sql.in_list(chunk.iter().cloned());
        sql.push(" ORDER BY t.");
        sql.ident(source.pk_field().column);
        conn.query(&sql.text, &sql.params, |row| {
            let values = (0..source.fields.len())
                .map(|i| row.value(i))
                .collect::<Result<Vec<_>>>()?;
            let owner = values[at]
                .clone()
                .coerce(M::meta().pk_field().kind)
                .map_err(|e| Error::query(e.to_string()))?;
            grouped.entry(key(&owner)).or_default().push(values);
            Ok(())
        })?;
    }
    for model in models.iter_mut() {
        let rows = grouped
            .get(&key(&model.pk().to_value()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let items = rows
            .iter()
            .map(|values| (source.decode)(&Row::from_values(values), 0))
            .collect::<Result<Vec<_>>>()?;
        model.set_related(name, Related::Many(items))?;
    }
    Ok(())
}
