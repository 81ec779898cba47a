//! Generic code over models it does not know at compile time: the CRUD
//! views, forms and the admin reach any model through its [`ModelHandle`]
//! and work with [`Instance`]s, values by field name.

use std::marker::PhantomData;

use crate::connection::{Connection, Executor};
use crate::error::{Error, Result, ValidationErrors};
use crate::expr::{Lookup, Order, Q};
use crate::model::{FieldMeta, ManyToManyMeta, Model, ModelMeta, is_unset};
use crate::row::Row;
use crate::value::Value;
use crate::write::{self, SaveMode};

/// One object of a model, as values in field order: what generic code reads
/// and changes by field name. Made by [`ModelHandle::blank`] or read with
/// [`ModelHandle::get`] and [`ModelHandle::list`].
#[derive(Clone)]
pub struct Instance {
    meta: &'static ModelMeta,
    values: Vec<Value>,
}

impl PartialEq for Instance {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.meta, other.meta) && self.values == other.values
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct(self.meta.name);
        for (field, value) in self.meta.fields.iter().zip(&self.values) {
            out.field(field.name, value);
        }
        out.finish()
    }
}

impl Instance {
    /// An instance of `meta` from its values in field order; errors when
    /// the count is wrong or a value does not fit its field.
    pub fn from_values(meta: &'static ModelMeta, values: Vec<Value>) -> Result<Instance> {
        if values.len() != meta.fields.len() {
            return Err(Error::query(format!(
                "{} has {} fields, {} values were given",
                meta.name,
                meta.fields.len(),
                values.len()
            )));
        }
        let values = meta
            .fields
            .iter()
            .zip(values)
            .map(|(field, value)| field.coerce(value))
            .collect::<Result<_>>()?;
        Ok(Instance { meta, values })
    }

    /// The instance of a typed model.
    pub fn of<M: Model>(model: &M) -> Instance {
        Instance {
            meta: M::meta(),
            values: model.to_values(),
        }
    }

    /// The model this is an instance of.
    pub fn meta(&self) -> &'static ModelMeta {
        self.meta
    }

    /// A field's value by Rust name or column (`pk` for the primary key).
    pub fn get(&self, field: &str) -> Option<&Value> {
        let at = self.position(field)?;
        Some(&self.values[at])
    }

    /// Sets a field, converting the value to the field's kind; the error
    /// names the field (or lists the fields there are).
    pub fn set(&mut self, field: &str, value: Value) -> Result<()> {
        let at = self
            .position(field)
            .ok_or_else(|| self.meta.unknown_field(field))?;
        self.values[at] = self.meta.fields[at].coerce(value)?;
        Ok(())
    }

    /// Sets a field from text a person typed ([`FieldMeta::parse_input`]).
    pub fn set_input(&mut self, field: &str, text: &str) -> Result<()> {
        let meta = self.meta.try_field(field)?;
        let value = meta.parse_input(text)?;
        self.set(field, value)
    }

    /// The primary key's value (`0` or `NULL` until saved).
    pub fn pk(&self) -> &Value {
        &self.values[self.meta.pk]
    }

    /// Whether the instance has a primary key yet.
    pub fn is_saved(&self) -> bool {
        !(self.meta.pk_field().auto && is_unset(self.pk()))
    }

    /// Every value, in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values taken out, in field order.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The fields with their values, in field order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static FieldMeta, &Value)> {
        let fields: &'static [FieldMeta] = self.meta.fields;
        fields.iter().zip(&self.values)
    }

    /// The typed model this instance holds.
    pub fn to_model<M: Model>(&self) -> Result<M> {
        if !std::ptr::eq(self.meta, M::meta()) {
            return Err(Error::query(format!(
                "an instance of {} is not a {}",
                self.meta.name,
                M::meta().name
            )));
        }
        M::from_row(&Row::from_values(&self.values), 0)
    }

    fn position(&self, field: &str) -> Option<usize> {
        let found = self.meta.field(field)?;
        self.meta.fields.iter().position(|f| std::ptr::eq(f, found))
    }
}

/// What [`ModelHandle::list`] selects: a filter, an order, a window.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The condition rows must meet (field paths by name).
    pub filter: Q,
    /// The order (empty: the model's default order).
    pub order: Vec<Order>,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Rows skipped first.
    pub offset: u64,
}

impl ListQuery {
    /// Every row, in the default order.
    pub fn new() -> ListQuery {
        ListQuery::default()
    }

    /// Only rows meeting `q` (and the filters before).
    pub fn filter(mut self, q: Q) -> ListQuery {
        self.filter = std::mem::take(&mut self.filter) & q;
        self
    }

    /// Ordered by `order` after the orders before.
    pub fn order_by(mut self, order: Order) -> ListQuery {
        self.order.push(order);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> ListQuery {
        self.limit = Some(n);
        self
    }

    /// Skips `n` rows first.
    pub fn offset(mut self, n: u64) -> ListQuery {
        self.offset = n;
        self
    }
}

/// The typed operations a model's handle runs; the derive makes one per
/// model. Object-safe, so a `ModelMeta` can hold it.
#[doc(hidden)]
pub trait ModelOps: Send + Sync {
    fn list(&self, conn: &Connection, query: &ListQuery) -> Result<Vec<Vec<Value>>>;
    fn count(&self, conn: &Connection, filter: &Q) -> Result<u64>;
    fn save(&self, conn: &Connection, values: &[Value], mode: SaveMode) -> Result<Vec<Value>>;
    fn validate(&self, values: &[Value]) -> Result<Result<(), ValidationErrors>>;
    fn display(&self, values: &[Value]) -> Result<String>;
}

impl std::fmt::Debug for dyn ModelOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelOps")
    }
}

/// [`ModelOps`] for the model `M`.
#[doc(hidden)]
pub struct TypedOps<M>(PhantomData<fn() -> M>);

impl<M> TypedOps<M> {
    /// The operations of `M`.
    pub const fn new() -> Self {
        TypedOps(PhantomData)
    }
}

impl<M> Default for TypedOps<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Model> ModelOps for TypedOps<M> {
    fn list(&self, conn: &Connection, query: &ListQuery) -> Result<Vec<Vec<Value>>> {
        let mut qs = M::objects().filter(query.filter.clone());
        for order in &query.order {
            qs = qs.order_by(order.clone());
        }
        if let Some(limit) = query.limit {
            qs = qs.limit(limit);
        }
        if query.offset > 0 {
            qs = qs.offset(query.offset);
        }
        Ok(qs.all(conn)?.iter().map(Model::to_values).collect())
    }

    fn count(&self, conn: &Connection, filter: &Q) -> Result<u64> {
        M::objects().filter(filter.clone()).count(conn)
    }

    fn save(&self, conn: &Connection, values: &[Value], mode: SaveMode) -> Result<Vec<Value>> {
        let mut model = M::from_row(&Row::from_values(values), 0)?;
        write::save_as(conn, &mut model, mode)?;
        Ok(model.to_values())
    }

    fn validate(&self, values: &[Value]) -> Result<Result<(), ValidationErrors>> {
        Ok(M::from_row(&Row::from_values(values), 0)?.validate())
    }

    fn display(&self, values: &[Value]) -> Result<String> {
        Ok(M::from_row(&Row::from_values(values), 0)?.display())
    }
}

/// A model as generic code sees it: rows by field name, for any model.
/// Reach it with `Article::meta().handle()` or [`ModelHandle::of`]; it is
/// `Copy` and costs a pointer. Every method takes any [`Executor`] (a
/// `Database`, or a transaction's `Connection`) and gives the same errors
/// as the typed API.
#[derive(Clone, Copy)]
pub struct ModelHandle {
    meta: &'static ModelMeta,
}

impl std::fmt::Debug for ModelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelHandle({})", self.meta.name)
    }
}

impl PartialEq for ModelHandle {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.meta, other.meta)
    }
}

impl ModelHandle {
    pub(crate) fn new(meta: &'static ModelMeta) -> ModelHandle {
        ModelHandle { meta }
    }

    /// The handle of the typed model `M`.
    pub fn of<M: Model>() -> ModelHandle {
        ModelHandle::new(M::meta())
    }

    /// The model's metadata: fields, relations, names.
    pub fn meta(&self) -> &'static ModelMeta {
        self.meta
    }

    /// A fresh instance, each field at its [`FieldMeta::blank_value`].
    pub fn blank(&self) -> Instance {
        Instance {
            meta: self.meta,
            values: self.meta.blank_values(),
        }
    }

    /// The fields a create form must fill.
    pub fn required_fields(&self) -> Vec<&'static FieldMeta> {
        self.meta.required_fields().collect()
    }

    /// The rows `query` selects.
    pub fn list(&self, exec: &impl Executor, query: &ListQuery) -> Result<Vec<Instance>> {
        let rows = exec.with_connection(|conn| self.meta.ops.list(conn, query))?;
        Ok(rows.into_iter().map(|values| self.wrap(values)).collect())
    }

    /// How many rows meet `filter`.
    pub fn count(&self, exec: &impl Executor, filter: &Q) -> Result<u64> {
        exec.with_connection(|conn| self.meta.ops.count(conn, filter))
    }

    /// The row with primary key `pk` (`NotFound` when there is none; a key
    /// that does not fit the primary key is `InvalidValue`).
    pub fn get(&self, exec: &impl Executor, pk: &Value) -> Result<Instance> {
        let pk = self.meta.pk_field().coerce(pk.clone())?;
        let query = ListQuery::new().filter(self.pk_is(pk)).limit(1);
        self.list(exec, &query)?
            .into_iter()
            .next()
            .ok_or(Error::NotFound {
                model: self.meta.name,
            })
    }

    /// The rows with these primary keys, in the order of `pks` (`None`
    /// where a key has no row; repeated keys are read once).
    pub fn get_many(&self, exec: &impl Executor, pks: &[Value]) -> Result<Vec<Option<Instance>>> {
        let pk_field = self.meta.pk_field();
        let wanted: Vec<Value> = pks
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| pk_field.coerce(v.clone()))
            .collect::<Result<_>>()?;
        let mut found = std::collections::HashMap::new();
        for chunk in wanted.chunks(1000) {
            let query = ListQuery::new().filter(Q::is_in(pk_field.name, chunk.to_vec()));
            for instance in self.list(exec, &query)? {
                found.insert(instance.pk().key(), instance);
            }
        }
        pks.iter()
            .map(|pk| {
                if pk.is_null() {
                    return Ok(None);
                }
                let pk = pk_field.coerce(pk.clone())?;
                Ok(found.get(&pk.key()).cloned())
            })
            .collect()
    }

    /// The keys among `pks` that no row has.
    pub fn missing(&self, exec: &impl Executor, pks: &[Value]) -> Result<Vec<Value>> {
        let found = self.get_many(exec, pks)?;
        Ok(pks
            .iter()
            .zip(found)
            .filter(|(_, found)| found.is_none())
            .map(|(pk, _)| pk.clone())
            .collect())
    }

    /// Checks the field options, validators and the model's `clean`.
    pub fn validate(&self, instance: &Instance) -> Result<(), ValidationErrors> {
        let mut errors = self.field_errors(instance);
        if !errors.is_empty() {
            return Err(errors);
        }
        match self.meta.ops.validate(&instance.values) {
            Ok(result) => return result,
            Err(error) => errors.add("__all__", error.to_string()),
        }
        Err(errors)
    }

    /// The unique rules `instance` would break, as messages on the fields
    /// concerned: unique fields, unique-together constraints, and the
    /// primary key when `creating` a row whose key is not assigned by the
    /// database. One `EXISTS`-style count per rule; rules with a condition
    /// are left to the database (its refusal names them the same way).
    pub fn unique_conflicts(
        &self,
        exec: &impl Executor,
        instance: &Instance,
        creating: bool,
    ) -> Result<ValidationErrors> {
        self.check(instance)?;
        let meta = self.meta;
        let mut errors = ValidationErrors::new();
        let conditional = |name: &str| {
            meta.constraints.iter().any(|c| {
                c.name == name
                    && matches!(
                        c.kind,
                        crate::model::ConstraintKind::Unique {
                            condition: Some(_),
                            ..
                        }
                    )
            })
        };
        for (name, fields) in meta.unique_sets() {
            if conditional(&name) || (fields.len() == 1 && fields[0].primary_key && !creating) {
                continue;
            }
            let mut filter = Q::default();
            let mut complete = true;
            for field in &fields {
                match instance.get(field.name) {
                    Some(value) if !value.is_null() => {
                        filter = filter & Q::lookup(field.name, Lookup::Exact, value.clone());
                    }
                    _ => complete = false,
                }
            }
            if !complete {
                continue; // NULL never collides
            }
            if !creating {
                filter = filter & !self.pk_is(instance.pk().clone());
            }
            if self.count(exec, &filter)? > 0 {
                let message = meta.unique_message(&fields);
                for field in &fields {
                    errors.add(field.name, message.clone());
                }
            }
        }
        Ok(errors)
    }

    /// Validates and inserts `instance` as a new row (never overwriting
    /// one: a taken primary key is a unique violation), then sets what the
    /// database stored, primary key included. Invalid data is
    /// `Error::Validation` and nothing is written.
    pub fn create(&self, exec: &impl Executor, instance: &mut Instance) -> Result<()> {
        self.save(exec, instance, SaveMode::Insert)
    }

    /// Validates and writes `instance` over its row (`NotFound` when the
    /// row is gone), then sets what the database stored.
    pub fn update(&self, exec: &impl Executor, instance: &mut Instance) -> Result<()> {
        self.save(exec, instance, SaveMode::Update)
    }

    /// Each field's options checked on its value alone (before the values
    /// become the typed model, which a value outside the choices cannot).
    fn field_errors(&self, instance: &Instance) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        for (field, value) in instance.fields() {
            if !(field.auto && is_unset(value)) {
                field.validate_value(value, &mut errors);
            }
        }
        errors
    }

    fn save(&self, exec: &impl Executor, instance: &mut Instance, mode: SaveMode) -> Result<()> {
        self.check(instance)?;
        let errors = self.field_errors(instance);
        if !errors.is_empty() {
            return Err(Error::Validation {
                model: self.meta.name,
                errors,
            });
        }
        let stored =
            exec.with_connection(|conn| self.meta.ops.save(conn, &instance.values, mode))?;
        instance.values = stored;
        Ok(())
    }

    /// Deletes the row with primary key `pk` (the database applies the
    /// on-delete rules: see [`ModelHandle::delete_plan`] for what goes with
    /// it); returns whether a row was deleted.
    pub fn delete(&self, exec: &impl Executor, pk: &Value) -> Result<bool> {
        let pk = self.meta.pk_field().coerce(pk.clone())?;
        let sql = write::delete_sql(self.meta, exec.dialect());
        Ok(exec.with_connection(|conn| conn.execute(sql, &[pk]))? > 0)
    }

    /// What deleting the rows `pks` would do, without doing it: the rows
    /// that cascade, those set to `NULL`, those that forbid the delete, and
    /// the many-to-many links that go, found through the foreign keys of
    /// `models` (every model that may refer to this one: the admin passes
    /// its registered models). One query per relation and level.
    pub fn delete_plan(
        &self,
        exec: &impl Executor,
        pks: &[Value],
        models: &[&'static ModelMeta],
    ) -> Result<crate::deletion::DeletePlan> {
        crate::deletion::plan(exec, *self, pks, models)
    }

    /// The display string of an instance (the model's `display`).
    pub fn display(&self, instance: &Instance) -> Result<String> {
        self.check(instance)?;
        self.meta.ops.display(&instance.values)
    }

    /// The ids linked to `pk` through the many-to-many field `field`,
    /// ordered by id.
    pub fn many_ids(&self, exec: &impl Executor, field: &str, pk: &Value) -> Result<Vec<Value>> {
        let mut ids = self.many_ids_for(exec, field, std::slice::from_ref(pk))?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// [`ModelHandle::many_ids`] for many objects in one query (per 1,000),
    /// in the order of `pks`.
    pub fn many_ids_for(
        &self,
        exec: &impl Executor,
        field: &str,
        pks: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let m2m = self.many_field(field)?;
        let pks: Vec<Value> = pks
            .iter()
            .map(|pk| self.meta.pk_field().coerce(pk.clone()))
            .collect::<Result<_>>()?;
        exec.with_connection(|conn| m2m.linked_ids(conn, self.meta, &pks))
    }

    /// Makes `ids` exactly the set linked to `pk` through `field`, in one
    /// transaction; an id with no row is refused and nothing changes.
    pub fn set_many_ids(
        &self,
        exec: &impl Executor,
        field: &str,
        pk: &Value,
        ids: &[Value],
    ) -> Result<()> {
        let m2m = self.many_field(field)?;
        let pk = self.meta.pk_field().coerce(pk.clone())?;
        let target = (m2m.target)();
        let ids: Vec<Value> = ids
            .iter()
            .map(|id| target.pk_field().coerce(id.clone()))
            .collect::<Result<_, _>>()
            .map_err(|error| self.invalid(m2m.name, error))?;
        exec.with_connection(|conn| {
            conn.atomic(|tx| {
                let missing = target.handle().missing(tx, &ids)?;
                if let Some(id) = missing.first() {
                    let message = format!("no {} with id {id}", target.verbose_name);
                    return Err(self.invalid(m2m.name, Error::query(message)));
                }
                m2m.replace_links(tx, &pk, &ids)
            })
        })
    }

    /// A validation error on `field` saying what `error` says.
    fn invalid(&self, field: &str, error: Error) -> Error {
        let message = match error {
            Error::InvalidValue { message, .. } => message,
            other => other.to_string(),
        };
        let mut errors = ValidationErrors::new();
        errors.add(field, message);
        Error::Validation {
            model: self.meta.name,
            errors,
        }
    }

    fn many_field(&self, field: &str) -> Result<&'static ManyToManyMeta> {
        self.meta
            .many_to_many(field)
            .ok_or_else(|| Error::UnknownField {
                model: self.meta.name,
                field: field.to_owned(),
                hint: format!(
                    " (its many-to-many fields: {})",
                    self.meta
                        .many_to_many
                        .iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    fn pk_is(&self, pk: Value) -> Q {
        Q::lookup(self.meta.pk_field().name, Lookup::Exact, pk)
    }

    fn wrap(&self, values: Vec<Value>) -> Instance {
        Instance {
            meta: self.meta,
            values,
        }
    }

    fn check(&self, instance: &Instance) -> Result<()> {
        if std::ptr::eq(instance.meta, self.meta) {
            Ok(())
        } else {
            Err(Error::query(format!(
                "an instance of {} was handed to the handle of {}",
                instance.meta.name, self.meta.name
            )))
        }
    }
}
