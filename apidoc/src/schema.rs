//! JSON Schemas for the document: from Rust types through schemars, or from
//! JSON values built at run time, all moved under `#/components/schemas/`.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// Where named schemas live in an OpenAPI document.
pub(crate) const COMPONENTS_PREFIX: &str = "#/components/schemas/";

/// The name of the shared RFC 9457 problem schema.
pub const PROBLEM_SCHEMA: &str = "Problem";

/// A `$ref` to the component schema `name`: `{"$ref": "#/components/schemas/NAME"}`.
///
/// Use it for schemas added by name with [`crate::ApiDoc::schema`] or
/// [`crate::Operation::schema`]:
///
/// ```
/// assert_eq!(
///     tack_apidoc::schema_ref("Article"),
///     serde_json::json!({"$ref": "#/components/schemas/Article"})
/// );
/// ```
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{COMPONENTS_PREFIX}{name}") })
}

/// A schema and the named schemas it refers to.
pub(crate) struct Generated {
    pub(crate) schema: Value,
    pub(crate) definitions: BTreeMap<String, Value>,
}

/// The JSON Schema of `T` (a `$ref` for named types), with its named
/// subschemas. `inline` asks for the type's own properties rather than a
/// reference (for query parameters).
pub(crate) fn generate<T: JsonSchema + ?Sized>(inline: bool) -> Generated {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
            settings.inline_subschemas = inline;
        })
        .into_generator();
    let schema = generator.subschema_for::<T>().to_value();
    let mut definitions: BTreeMap<String, Value> =
        generator.take_definitions(true).into_iter().collect();
    let mut schema = hoist(schema, &mut definitions);
    rename_invalid(&mut schema, &mut definitions);
    Generated {
        schema: canonical(schema),
        definitions: definitions
            .into_iter()
            .map(|(name, value)| (name, canonical(value)))
            .collect(),
    }
}

/// Moves a schema's `$defs` (or draft-07 `definitions`) into `into`, points
/// its references at `#/components/schemas/`, and drops `$schema`.
pub(crate) fn hoist(mut schema: Value, into: &mut BTreeMap<String, Value>) -> Value {
    if let Value::Object(object) = &mut schema {
        object.remove("$schema");
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = object.remove(key) {
                for (name, def) in defs {
                    let def = hoist(def, into);
                    into.insert(name, def);
                }
            }
        }
    }
    let to_components = |reference: &str| {
        ["#/$defs/", "#/definitions/"].iter().find_map(|prefix| {
            reference
                .strip_prefix(prefix)
                .map(|name| format!("{COMPONENTS_PREFIX}{name}"))
        })
    };
    rewrite_refs(&mut schema, &to_components);
    for def in into.values_mut() {
        rewrite_refs(def, &to_components);
    }
    canonical(schema)
}

/// Whether `name` may name a component: letters, digits, `.`, `-` and `_`.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_'))
}

/// Renames generated schemas whose names OpenAPI does not accept (generic
/// types: `Page<Article>`) to `Page_Article_`-like names, fixing references.
fn rename_invalid(schema: &mut Value, definitions: &mut BTreeMap<String, Value>) {
    let renames: BTreeMap<String, String> = definitions
        .keys()
        .filter(|name| !valid_name(name))
        .map(|name| {
            let fixed = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (name.clone(), fixed)
        })
        .collect();
    if renames.is_empty() {
        return;
    }
    rename(definitions, &renames, &mut [schema]);
}

/// Decodes a name written in a URI fragment's JSON pointer: `%XX` escapes,
/// then `~1` for `/` and `~0` for `~`.
fn decode_ref_name(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Merges the named schemas `incoming` into `target`.
///
/// A schema whose name `target` already uses for a different schema (two
/// generic instances both named `Page`, two `Error` types from different
/// modules) gets the first free name `Page2`, `Page3`..., and the
/// references to it in `incoming` and in `roots` follow. A name in `fixed`
/// must keep its name: a clash on it is an error naming it.
pub(crate) fn merge(
    target: &mut BTreeMap<String, Value>,
    mut incoming: BTreeMap<String, Value>,
    roots: &mut [&mut Value],
    fixed: &BTreeSet<String>,
) -> Result<(), String> {
    loop {
        let clashes: Vec<String> = incoming
            .iter()
            .filter(|(name, schema)| target.get(*name).is_some_and(|taken| taken != *schema))
            .map(|(name, _)| name.clone())
            .collect();
        if clashes.is_empty() {
            break;
        }
        if let Some(name) = clashes.iter().find(|name| fixed.contains(*name)) {
            return Err(name.clone());
        }
        let mut renames: BTreeMap<String, String> = BTreeMap::new();
        for name in clashes {
            let mut number = 2;
            let fresh = loop {
                let candidate = format!("{name}{number}");
                if !target.contains_key(&candidate)
                    && !incoming.contains_key(&candidate)
                    && !renames.values().any(|taken| *taken == candidate)
                {
                    break candidate;
                }
                number += 1;
            };
            renames.insert(name, fresh);
        }
        rename(&mut incoming, &renames, roots);
    }
    target.extend(incoming);
    Ok(())
}

/// Renames named schemas (old name to new), and the references to them in
/// the schemas and in `roots`.
fn rename(
    schemas: &mut BTreeMap<String, Value>,
    renames: &BTreeMap<String, String>,
    roots: &mut [&mut Value],
) {
    for (old, new) in renames {
        if let Some(schema) = schemas.remove(old) {
            schemas.insert(new.clone(), schema);
        }
    }
    let rewrite = |reference: &str| {
        let name = decode_ref_name(reference.strip_prefix(COMPONENTS_PREFIX)?);
        renames
            .get(&name)
            .map(|new| format!("{COMPONENTS_PREFIX}{new}"))
    };
    for schema in schemas.values_mut() {
        rewrite_refs(schema, &rewrite);
    }
    for root in roots.iter_mut() {
        rewrite_refs(root, &rewrite);
    }
}

/// Replaces every `$ref` string for which `rewrite` returns a new target.
fn rewrite_refs(value: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::Object(object) => {
            for (key, member) in object.iter_mut() {
                if key == "$ref" {
                    if let Some(new) = member.as_str().and_then(rewrite) {
                        *member = Value::String(new);
                    }
                } else {
                    rewrite_refs(member, rewrite);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_refs(item, rewrite)),
        _ => {}
    }
}

/// The component names a value refers to with `#/components/schemas/NAME`.
pub(crate) fn referenced_names(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, member) in object {
                if key == "$ref" {
                    if let Some(name) = member
                        .as_str()
                        .and_then(|r| r.strip_prefix(COMPONENTS_PREFIX))
                    {
                        into.insert(name.to_owned());
                    }
                } else {
                    referenced_names(member, into);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| referenced_names(item, into)),
        _ => {}
    }
}

/// The value with every object's keys in sorted order, whichever map
/// serde_json was built with, so documents serialize the same every time.
pub(crate) fn canonical(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let sorted: BTreeMap<String, Value> = object
                .into_iter()
                .map(|(key, member)| (key, canonical(member)))
                .collect();
            Value::Object(sorted.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The RFC 9457 problem document every Tack API answers errors with.
pub(crate) fn problem_schema() -> Value {
    canonical(json!({
        "type": "object",
        "description": "An RFC 9457 problem document (`application/problem+json`). \
            Invalid input (422) lists messages per field in `errors`.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {
                "type": "string",
                "description": "A URI naming the kind of problem; `about:blank` when the status says it all.",
                "example": "about:blank"
            },
            "title": {
                "type": "string",
                "description": "A short summary: by default the status's reason phrase.",
                "example": "Unprocessable Entity"
            },
            "status": {
                "type": "integer",
                "description": "The HTTP status code.",
                "example": 422
            },
            "detail": {
                "type": "string",
                "description": "What went wrong this time, and what to do about it.",
                "example": "Fix the fields below."
            },
            "instance": {
                "type": "string",
                "description": "A URI naming this occurrence (usually the request path)."
            },
            "errors": {
                "type": "object",
                "description": "Messages per field, for invalid input (422).",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "example": {"title": ["This field may not be blank."]}
            }
        },
        "additionalProperties": true
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoists_defs_and_rewrites_refs() {
        let mut into = BTreeMap::new();
        let schema = hoist(
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"tag": {"$ref": "#/$defs/Tag"}},
                "$defs": {"Tag": {"type": "object", "properties": {"parent": {"$ref": "#/$defs/Tag"}}}}
            }),
            &mut into,
        );
        assert_eq!(
            schema,
            json!({"type": "object", "properties": {"tag": {"$ref": "#/components/schemas/Tag"}}})
        );
        assert_eq!(
            into["Tag"]["properties"]["parent"]["$ref"],
            "#/components/schemas/Tag"
        );
    }

    #[test]
    fn ref_names_decode() {
        assert_eq!(decode_ref_name("Page%3CItem%3E"), "Page<Item>");
        assert_eq!(decode_ref_name("a~1b~0c"), "a/b~c");
        assert_eq!(decode_ref_name("100%"), "100%");
    }

    #[test]
    fn clashing_generated_names_are_numbered() {
        let mut target = BTreeMap::from([
            ("Item".to_owned(), json!({"type": "string"})),
            (
                "Page".to_owned(),
                json!({"items": {"$ref": "#/components/schemas/Item"}}),
            ),
        ]);
        let incoming = BTreeMap::from([
            ("Item".to_owned(), json!({"type": "integer"})),
            (
                "Page".to_owned(),
                json!({"items": {"$ref": "#/components/schemas/Item"}}),
            ),
        ]);
        let mut root = json!({"$ref": "#/components/schemas/Page"});
        merge(&mut target, incoming, &mut [&mut root], &BTreeSet::new()).unwrap();
        assert_eq!(root, json!({"$ref": "#/components/schemas/Page2"}));
        assert_eq!(target["Item2"], json!({"type": "integer"}));
        assert_eq!(
            target["Page2"],
            json!({"items": {"$ref": "#/components/schemas/Item2"}})
        );
        assert_eq!(target.len(), 4);
        // The same schema again merges into the existing one.
        let again = BTreeMap::from([("Item".to_owned(), json!({"type": "string"}))]);
        merge(&mut target, again, &mut [], &BTreeSet::new()).unwrap();
        assert_eq!(target.len(), 4);
        // A fixed name cannot move.
        let fixed = BTreeMap::from([("Item".to_owned(), json!({"type": "boolean"}))]);
        let error = merge(
            &mut target,
            fixed,
            &mut [],
            &BTreeSet::from(["Item".to_owned()]),
        );
        assert_eq!(error, Err("Item".to_owned()));
    }

    #[test]
    fn names_are_checked() {
        for (name, ok) in [
            ("Article", true),
            ("a.b-c_1", true),
            ("", false),
            ("Page<T>", false),
        ] {
            assert_eq!(valid_name(name), ok, "{name}");
        }
    }

    #[test]
    fn generic_names_are_renamed() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Page<T> {
            results: Vec<T>,
        }
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Item {
            id: i64,
        }
        let generated = generate::<Page<Item>>(false);
        let mut names = BTreeSet::new();
        referenced_names(&generated.schema, &mut names);
        for definition in generated.definitions.values() {
            referenced_names(definition, &mut names);
        }
        for name in names.iter().chain(generated.definitions.keys()) {
            assert!(valid_name(name), "{name}");
        }
        for name in &names {
            assert!(generated.definitions.contains_key(name), "{name}");
        }
    }
}
