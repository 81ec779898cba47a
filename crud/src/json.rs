//! Models to JSON (in field order, without an intermediate tree) and JSON
//! bodies to models (only writable fields, each checked by its kind).

use std::collections::HashMap;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Map;
use tack_orm::{
    Connection, FieldKind, FieldMeta, ManyToManyMeta, Model, ModelMeta, Row, ValidationErrors,
    Value,
};

use crate::crud::{Config, Readable, Writable};
use crate::error::Error;
use crate::related;

/// A value written as JSON the way `Value::to_json` shapes it.
pub(crate) struct JsonValue<'a>(pub(crate) &'a Value);

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I32(i) => s.serialize_i32(*i),
            Value::I64(i) => s.serialize_i64(*i),
            Value::F64(f) => s.serialize_f64(*f),
            Value::Text(t) => s.serialize_str(t),
            Value::Bytes(b) => {
                let mut seq = s.serialize_seq(Some(b.len()))?;
                for byte in b {
                    seq.serialize_element(byte)?;
                }
                seq.end()
            }
            Value::Json(j) => j.serialize(s),
            // As chrono's serde does (`2024-01-02T12:00:00Z`), like a
            // hand-written serde API.
            Value::DateTime(dt) => dt.serialize(s),
            other => s.collect_str(other),
        }
    }
}

/// Related data loaded for a batch of objects.
#[derive(Default)]
pub(crate) struct Loaded {
    nested: HashMap<&'static str, HashMap<String, serde_json::Value>>,
    many: HashMap<&'static str, HashMap<String, Vec<Value>>>,
}

/// Loads the nested objects and many-to-many ids the readable fields show.
pub(crate) fn load<M: Model>(
    conn: &Connection,
    readable: &[Readable],
    rows: &[Vec<Value>],
) -> tack_orm::Result<Loaded> {
    let meta = M::meta();
    let mut loaded = Loaded::default();
    for field in readable {
        match field {
            Readable::Field(..) => {}
            Readable::Nested(field, i) => {
                let Some(relation) = field.relation else {
                    continue;
                };
                let mut ids: Vec<Value> = rows
                    .iter()
                    .map(|r| r[*i].clone())
                    .filter(|v| !v.is_null())
                    .collect();
                ids.sort_by_key(related::key);
                ids.dedup_by_key(|v| related::key(v));
                let objects = related::objects_by_pk(conn, (relation.target)(), &ids)?;
                loaded.nested.insert(field.name, objects);
            }
            Readable::Many(m2m) => {
                let sources: Vec<Value> = rows.iter().map(|r| r[meta.pk].clone()).collect();
                loaded
                    .many
                    .insert(m2m.name, related::many_ids(conn, m2m, &sources)?);
            }
        }
    }
    Ok(loaded)
}

/// One object as the API shows it.
pub(crate) struct Object<'a> {
    pub(crate) readable: &'a [Readable],
    pub(crate) values: &'a [Value],
    pub(crate) pk: usize,
    pub(crate) loaded: &'a Loaded,
}

struct Ids<'a>(&'a [Value]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for id in self.0 {
            seq.serialize_element(&JsonValue(id))?;
        }
        seq.end()
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.readable.len()))?;
        for field in self.readable {
            match field {
                Readable::Field(f, i) => {
                    map.serialize_entry(f.name, &JsonValue(&self.values[*i]))?
                }
                Readable::Nested(f, i) => {
                    let id = &self.values[*i];
                    let object = self
                        .loaded
                        .nested
                        .get(f.name)
                        .and_then(|objects| objects.get(&related::key(id)));
                    match object {
                        Some(object) => map.serialize_entry(f.name, object)?,
                        None => map.serialize_entry(f.name, &JsonValue(&Value::Null))?,
                    }
                }
                Readable::Many(m2m) => {
                    let ids = self
                        .loaded
                        .many
                        .get(m2m.name)
                        .and_then(|all| all.get(&related::key(&self.values[self.pk])))
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    map.serialize_entry(m2m.name, &Ids(ids))?;
                }
            }
        }
        map.end()
    }
}

/// Serializes objects with their related data.
pub(crate) fn objects<'a>(
    readable: &'a [Readable],
    rows: &'a [Vec<Value>],
    pk: usize,
    loaded: &'a Loaded,
) -> impl Iterator<Item = Object<'a>> {
    rows.iter().map(move |values| Object {
        readable,
        values,
        pk,
        loaded,
    })
}

/// How a body applies to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// POST: required fields must be present.
    Create,
    /// PUT: required fields must be present; the primary key is not written.
    Replace,
    /// PATCH: only the fields present change.
    Patch,
}

/// What a body changed beyond the model's own fields.
#[derive(Default)]
pub(crate) struct Changes {
    /// Foreign keys set from the body, to check that their targets exist.
    pub(crate) foreign_keys: Vec<(&'static FieldMeta, Value)>,
    /// Many-to-many sets from the body.
    pub(crate) many: Vec<(&'static ManyToManyMeta, Vec<Value>)>,
}

/// Whether a field must be in a create or replace body.
pub(crate) fn required(field: &FieldMeta) -> bool {
    !field.null && field.default.is_none() && !field.blank && !field.auto
}

/// Refuses names that are neither readable nor writable; readable-only
/// names are ignored (they are read-only).
pub(crate) fn check_keys<M: Model>(
    config: &Config<M>,
    body: &Map<String, serde_json::Value>,
) -> Result<(), Error> {
    let unknown: Vec<String> = body
        .keys()
        .filter(|k| {
            !config.writable.iter().any(|w| w.name() == k.as_str())
                && !config.readable.iter().any(|r| r.name() == k.as_str())
        })
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::UnknownFields {
            fields: unknown,
            writable: config.writable.iter().map(Writable::name).collect(),
        })
    }
}

/// Sets the writable fields present in `body` on `model`, collecting
/// per-field messages; never touches other fields.
pub(crate) fn apply<M: Model>(
    config: &Config<M>,
    model: &mut M,
    body: &Map<String, serde_json::Value>,
    mode: Mode,
) -> Result<Changes, Error> {
    let mut errors = ValidationErrors::new();
    let mut changes = Changes::default();
    for writable in &config.writable {
        match writable {
            Writable::Field(field) => {
                if field.primary_key && mode != Mode::Create {
                    continue;
                }
                let Some(json) = body.get(field.name) else {
                    if mode != Mode::Patch && required(field) {
                        errors.add(field.name, "this field is required");
                    }
                    continue;
                };
                let value = match Value::from_json(json, field.kind) {
                    Ok(value) => value,
                    Err(error) => {
                        errors.add(field.name, error.to_string());
                        continue;
                    }
                };
                if value.is_null() && !field.null {
                    errors.add(field.name, "this field may not be null");
                    continue;
                }
                let before = errors.get(field.name).len();
                field.validate_value(&value, &mut errors);
                if errors.get(field.name).len() > before {
                    continue;
                }
                if field.relation.is_some() && !value.is_null() {
                    changes.foreign_keys.push((field, value.clone()));
                }
                if let Err(error) = model.set_value(field.name, value) {
                    errors.add(field.name, orm_message(&error));
                }
            }
            Writable::Many(m2m) => {
                let Some(json) = body.get(m2m.name) else {
                    continue;
                };
                let kind = (m2m.target)().pk_field().kind;
                let ids = match json {
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|item| match item {
                            serde_json::Value::Null => Err("an id may not be null".to_owned()),
                            item => Value::from_json(item, kind).map_err(|e| e.to_string()),
                        })
                        .collect::<Result<Vec<_>, _>>(),
                    _ => Err("expected a list of ids".to_owned()),
                };
                match ids {
                    Ok(ids) => changes.many.push((m2m, ids)),
                    Err(message) => errors.add(m2m.name, message),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(Error::Invalid {
            model: M::meta().name,
            errors,
        })
    }
}

fn orm_message(error: &tack_orm::Error) -> String {
    match error {
        tack_orm::Error::InvalidValue { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A fresh object: defaults where the model declares them, `NULL` for
/// nullable fields, and a zero value of the field's kind otherwise (the
/// first choice for choice fields).
pub(crate) fn blank<M: Model>() -> tack_orm::Result<M> {
    let meta: &'static ModelMeta = M::meta();
    let values: Vec<Value> = meta.fields.iter().map(zero).collect();
    M::from_row(&Row::from_values(&values), 0)
}

fn zero(field: &FieldMeta) -> Value {
    if let Some(default) = field.default {
        return default();
    }
    if field.null {
        return Value::Null;
    }
    if let Some((first, _)) = field.choices.first() {
        return Value::Text((*first).to_owned());
    }
    let text = |t: &str| {
        Value::Text(t.to_owned())
            .coerce(field.kind)
            .unwrap_or(Value::Null)
    };
    match field.kind {
        FieldKind::Bool => Value::Bool(false),
        FieldKind::I32 => Value::I32(0),
        FieldKind::I64 => Value::I64(0),
        FieldKind::F64 => Value::F64(0.0),
        FieldKind::Text => Value::Text(String::new()),
        FieldKind::Bytes => Value::Bytes(Vec::new()),
        FieldKind::Date => text("1970-01-01"),
        FieldKind::DateTime => text("1970-01-01T00:00:00Z"),
        FieldKind::Uuid => text("00000000-0000-0000-0000-000000000000"),
        FieldKind::Json => Value::Json(serde_json::Value::Null),
        _ => Value::Null,
    }
}
