//! Models to JSON (in field order, without an intermediate tree) and JSON
//! bodies to models (only writable fields, each checked by its kind).

use std::collections::HashMap;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Map;
use tack_orm::{Connection, FieldMeta, Instance, ManyToManyMeta, Model, ValidationErrors, Value};

use crate::crud::{Config, Readable, Writable};
use crate::error::Error;

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

/// Related data loaded for a batch of objects, in the batch's row order.
#[derive(Default)]
pub(crate) struct Loaded {
    nested: HashMap<&'static str, Vec<Option<serde_json::Value>>>,
    many: HashMap<&'static str, Vec<Vec<Value>>>,
}

/// A related object as the API nests it: every field by name.
fn nested_object(instance: &Instance) -> serde_json::Value {
    let object = instance
        .fields()
        .map(|(field, value)| {
            let json = serde_json::to_value(JsonValue(value)).unwrap_or(serde_json::Value::Null);
            (field.name.to_owned(), json)
        })
        .collect();
    serde_json::Value::Object(object)
}

/// Loads the nested objects and many-to-many ids the readable fields show
/// (one query per relation, through the ORM's model handles).
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
                let ids: Vec<Value> = rows.iter().map(|r| r[*i].clone()).collect();
                let objects = (relation.target)().handle().get_many(conn, &ids)?;
                let objects = objects.iter().map(|o| o.as_ref().map(nested_object));
                loaded.nested.insert(field.name, objects.collect());
            }
            Readable::Many(m2m) => {
                let sources: Vec<Value> = rows.iter().map(|r| r[meta.pk].clone()).collect();
                let ids = meta.handle().many_ids_for(conn, m2m.name, &sources)?;
                loaded.many.insert(m2m.name, ids);
            }
        }
    }
    Ok(loaded)
}

/// One object as the API shows it.
pub(crate) struct Object<'a> {
    pub(crate) readable: &'a [Readable],
    pub(crate) values: &'a [Value],
    /// The object's row in the batch `loaded` was loaded for.
    pub(crate) row: usize,
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
                Readable::Nested(f, _) => {
                    let object = self
                        .loaded
                        .nested
                        .get(f.name)
                        .and_then(|objects| objects.get(self.row))
                        .and_then(Option::as_ref);
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
                        .and_then(|all| all.get(self.row))
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
    loaded: &'a Loaded,
) -> impl Iterator<Item = Object<'a>> {
    rows.iter().enumerate().map(move |(row, values)| Object {
        readable,
        values,
        row,
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
                    if mode != Mode::Patch && field.required() {
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
