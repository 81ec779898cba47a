//! Example values generated from JSON Schemas, for the docs page.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::schema::COMPONENTS_PREFIX;

/// How deep examples of nested schemas go, however they are built.
const MAX_DEPTH: usize = 32;

/// An example value for `schema`, following references into `schemas`:
/// the schema's own `example`, `examples`, `default`, `const` or first
/// `enum` value when it has one, else a value built from its type.
///
/// A schema that refers to itself (a tree) is followed once: the inner
/// occurrence is `null`.
pub fn example<'a>(schema: &'a Value, schemas: &'a BTreeMap<String, Value>) -> Value {
    Builder {
        schemas,
        followed: Vec::new(),
    }
    .build(schema, 0)
}

struct Builder<'a> {
    schemas: &'a BTreeMap<String, Value>,
    /// The references being followed, outermost first.
    followed: Vec<&'a str>,
}

impl<'a> Builder<'a> {
    fn build(&mut self, schema: &'a Value, depth: usize) -> Value {
        let Some(object) = schema.as_object() else {
            // `true` (anything) or `false` (nothing): no better example than null.
            return Value::Null;
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(value) = object.get("example").or_else(|| object.get("default")) {
            return value.clone();
        }
        if let Some(value) = object
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|examples| examples.first())
            .or_else(|| object.get("const"))
            .or_else(|| {
                object
                    .get("enum")
                    .and_then(|values| values.as_array()?.first())
            })
        {
            return value.clone();
        }
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let schemas = self.schemas;
            let Some(target) = reference
                .strip_prefix(COMPONENTS_PREFIX)
                .and_then(|name| schemas.get(name))
            else {
                return Value::Null;
            };
            if self.followed.contains(&reference) {
                return Value::Null;
            }
            self.followed.push(reference);
            let value = self.build(target, depth + 1);
            self.followed.pop();
            return value;
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = object
                .get(key)
                .and_then(Value::as_array)
                .and_then(|options| options.iter().find(|option| !is_null_schema(option)))
            {
                return self.build(first, depth + 1);
            }
        }
        if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(members) = self.build(part, depth + 1) {
                    merged.extend(members);
                }
            }
            return Value::Object(merged);
        }
        let kind =
            primary_type(object).or_else(|| object.contains_key("properties").then_some("object"));
        match kind {
            Some("object") => {
                let mut members = Map::new();
                if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                    for (name, property) in properties {
                        members.insert(name.clone(), self.build(property, depth + 1));
                    }
                }
                Value::Object(members)
            }
            Some("array") => match object.get("items") {
                Some(items) => match self.build(items, depth + 1) {
                    Value::Null => json!([]),
                    item => json!([item]),
                },
                None => json!([]),
            },
            Some("string") => string_example(object.get("format").and_then(Value::as_str)),
            Some("integer") => json!(object.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
            Some("number") => json!(object.get("minimum").and_then(Value::as_f64).unwrap_or(1.5)),
            Some("boolean") => json!(true),
            _ => Value::Null,
        }
    }
}

/// The first non-null type of a schema (`["string", "null"]` is a string).
fn primary_type(object: &Map<String, Value>) -> Option<&str> {
    match object.get("type")? {
        Value::String(name) => Some(name),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|name| *name != "null")
            .or(Some("null")),
        _ => None,
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn string_example(format: Option<&str>) -> Value {
    json!(match format {
        Some("date-time") => "2024-01-15T09:30:00Z",
        Some("date") => "2024-01-15",
        Some("time") => "09:30:00",
        Some("uuid") => "3f2c8a9e-5b7d-4c1a-9e2f-6d8b0a4c7e15",
        Some("email") => "user@example.com",
        Some("uri") | Some("url") => "https://example.com/",
        Some("ipv4") => "192.0.2.1",
        Some("ipv6") => "2001:db8::1",
        _ => "string",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_follow_the_schema() {
        let mut schemas = BTreeMap::new();
        schemas.insert(
            "Tag".to_owned(),
            json!({"type": "object", "properties": {"name": {"type": "string"}}}),
        );
        let cases = [
            (json!({"type": "string"}), json!("string")),
            (
                json!({"type": "string", "format": "uuid"}),
                json!("3f2c8a9e-5b7d-4c1a-9e2f-6d8b0a4c7e15"),
            ),
            (
                json!({"type": ["string", "null"], "format": "date-time"}),
                json!("2024-01-15T09:30:00Z"),
            ),
            (json!({"type": "integer", "minimum": 5}), json!(5)),
            (json!({"type": "boolean"}), json!(true)),
            (json!({"enum": ["draft", "published"]}), json!("draft")),
            (json!({"const": 3}), json!(3)),
            (
                json!({"type": "string", "example": "hello"}),
                json!("hello"),
            ),
            (json!({"examples": ["first", "second"]}), json!("first")),
            (
                json!({"$ref": "#/components/schemas/Tag"}),
                json!({"name": "string"}),
            ),
            (json!({"$ref": "#/components/schemas/Missing"}), Value::Null),
            (
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}),
                json!([{"name": "string"}]),
            ),
            (
                json!({"anyOf": [{"type": "null"}, {"type": "integer"}]}),
                json!(1),
            ),
            (
                json!({"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"type": "boolean"}}}]}),
                json!({"a": 1, "b": true}),
            ),
        ];
        for (schema, expected) in cases {
            assert_eq!(example(&schema, &schemas), expected, "{schema}");
        }
    }

    #[test]
    fn recursive_schemas_end() {
        let mut schemas = BTreeMap::new();
        schemas.insert(
            "Node".to_owned(),
            json!({"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}),
        );
        let value = example(&json!({"$ref": "#/components/schemas/Node"}), &schemas);
        assert!(value.to_string().len() < 200, "{value}");
    }
}
