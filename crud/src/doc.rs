//! The controller's operations in an OpenAPI document, with schemas built
//! from the model's metadata.

use serde_json::{Map, Value as Json, json};
use tack_apidoc::{ApiDoc, Operation, Parameter, schema_ref};
use tack_orm::{FieldKind, FieldMeta, Model, ModelMeta};

use crate::crud::{Crud, Readable, Writable};
use crate::permission::Action;

/// The JSON Schema of one value of `field` (nullable when the field is).
fn field_schema(field: &FieldMeta) -> Json {
    let mut schema = kind_schema(field.kind);
    if let Some(object) = schema.as_object_mut() {
        if field.kind == FieldKind::Text && !field.blank && field.choices.is_empty() {
            object.insert("minLength".into(), json!(1));
        }
        if let Some(max) = field.max_length {
            object.insert("maxLength".into(), json!(max));
        }
        if !field.choices.is_empty() {
            let values: Vec<&str> = field.choices.iter().map(|(v, _)| *v).collect();
            object.insert("enum".into(), json!(values));
        }
        if !field.help_text.is_empty() {
            object.insert("description".into(), json!(field.help_text));
        }
        // A default computed at run time (the current time, a new UUID)
        // differs between calls and is not documented as a constant.
        if let Some(default) = field.default
            && default() == default()
        {
            let value = serde_json::to_value(crate::json::JsonValue(&default()));
            object.insert("default".into(), value.unwrap_or(Json::Null));
        }
    }
    if field.null { nullable(schema) } else { schema }
}

fn nullable(mut schema: Json) -> Json {
    if let Some(object) = schema.as_object_mut() {
        if let Some(Json::Array(values)) = object.get_mut("enum") {
            values.push(Json::Null);
        }
        if let Some(kind) = object.get("type").cloned() {
            object.insert("type".into(), json!([kind, "null"]));
            return schema;
        }
    }
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn kind_schema(kind: FieldKind) -> Json {
    match kind {
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::I32 => json!({"type": "integer", "format": "int32"}),
        FieldKind::I64 => json!({"type": "integer", "format": "int64"}),
        FieldKind::F64 => json!({"type": "number", "format": "double"}),
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::Bytes => {
            json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}})
        }
        FieldKind::Date => json!({"type": "string", "format": "date"}),
        FieldKind::Time => json!({"type": "string", "format": "time"}),
        FieldKind::Duration => {
            json!({"type": "string", "description": "[DD] [HH:[MM:]]ss[.uuuuuu]"})
        }
        FieldKind::Decimal => json!({
            "type": "string",
            "format": "decimal",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$"
        }),
        FieldKind::DateTime => json!({"type": "string", "format": "date-time"}),
        FieldKind::Uuid => json!({"type": "string", "format": "uuid"}),
        _ => json!({}),
    }
}

fn object_schema(meta: &ModelMeta, properties: Map<String, Json>, required: Vec<&str>) -> Json {
    let mut schema = json!({
        "type": "object",
        "title": meta.verbose_name,
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn nested_schema(target: &'static ModelMeta) -> Json {
    let properties: Map<String, Json> = target
        .fields
        .iter()
        .map(|f| (f.name.to_owned(), field_schema(f)))
        .collect();
    let names: Vec<&str> = target.fields.iter().map(|f| f.name).collect();
    json!({"type": "object", "title": target.verbose_name, "properties": properties, "required": names})
}

/// A text query parameter: any text but NUL, which no database stores.
fn text_parameter() -> Json {
    json!({"type": "string", "pattern": "^[^\\u0000]*$"})
}

fn with(mut schema: Json, key: &str, value: Json) -> Json {
    if let Some(object) = schema.as_object_mut() {
        object.insert(key.into(), value);
    }
    schema
}

impl<M: Model> Crud<M> {
    /// The JSON Schema of an object as the API shows it.
    pub fn read_schema(&self) -> Json {
        let meta = M::meta();
        let config = &self.config;
        let mut properties = Map::new();
        for readable in &config.readable {
            let writable = config.writable.iter().any(|w| w.name() == readable.name());
            let schema = match readable {
                Readable::Field(field, _) => field_schema(field),
                Readable::Nested(field, _) => {
                    let target = field.relation.map(|r| (r.target)());
                    let schema = target.map_or_else(|| field_schema(field), nested_schema);
                    if field.null { nullable(schema) } else { schema }
                }
                Readable::Many(m2m) => {
                    json!({"type": "array", "items": kind_schema((m2m.target)().pk_field().kind)})
                }
            };
            let schema = if writable {
                schema
            } else {
                with(schema, "readOnly", json!(true))
            };
            properties.insert(readable.name().to_owned(), schema);
        }
        let required = config.readable.iter().map(Readable::name).collect();
        object_schema(meta, properties, required)
    }

    /// The JSON Schema of a create (and PUT) body; with `partial`, of a
    /// PATCH body (nothing required). The read-only fields are listed
    /// (`readOnly`: sent back, they are ignored); any other member is
    /// refused, as the controller does.
    pub fn write_schema(&self, partial: bool) -> Json {
        let meta = M::meta();
        let mut properties = Map::new();
        let mut needed = Vec::new();
        for writable in &self.config.writable {
            let schema = match writable {
                Writable::Field(field) => {
                    if !partial && field.required() {
                        needed.push(field.name);
                    }
                    field_schema(field)
                }
                Writable::Many(m2m) => {
                    json!({"type": "array", "items": kind_schema((m2m.target)().pk_field().kind)})
                }
            };
            properties.insert(writable.name().to_owned(), schema);
        }
        let read = self.read_schema();
        if let Some(readable) = read["properties"].as_object() {
            for (name, schema) in readable {
                if !properties.contains_key(name) {
                    properties.insert(name.clone(), schema.clone());
                }
            }
        }
        object_schema(meta, properties, needed)
    }

    fn list_parameters(&self, mut op: Operation) -> Operation {
        let config = &self.config;
        op = op
            .parameter(
                Parameter::query("page")
                    .description("The page number, from 1.")
                    .schema(json!({"type": "integer", "minimum": 1, "maximum": u64::MAX})),
            )
            .parameter(
                Parameter::query("page_size")
                    .description(format!(
                        "Objects per page (default {}, at most {}).",
                        config.page_size, config.max_page_size
                    ))
                    .schema(
                        json!({"type": "integer", "minimum": 1, "maximum": config.max_page_size}),
                    ),
            );
        if !config.search.is_empty() {
            op = op.parameter(
                Parameter::query("search")
                    .description(format!(
                        "Words that must each appear in one of: {}.",
                        config.search.join(", ")
                    ))
                    .schema(text_parameter()),
            );
        }
        if !config.ordering.is_empty() {
            // Field names are identifiers: no escaping is needed.
            let one = format!("[-+]?({})", config.ordering.join("|"));
            op = op.parameter(
                Parameter::query("ordering")
                    .description(format!(
                        "Comma-separated fields, `-` for descending: {}.",
                        config.ordering.join(", ")
                    ))
                    .schema(json!({"type": "string", "pattern": format!("^({one}(,{one})*)?$")})),
            );
        }
        for filter in &config.filters {
            let schema = match filter.lookup_name {
                "isnull" => json!({"type": "boolean"}),
                "in" | "range" => {
                    json!({"type": "string", "description": "comma-separated values"})
                }
                "contains" | "icontains" | "startswith" | "istartswith" | "endswith"
                | "iendswith" => text_parameter(),
                _ => {
                    let mut schema = kind_schema(filter.field.kind);
                    if !filter.field.choices.is_empty() {
                        let values: Vec<&str> =
                            filter.field.choices.iter().map(|(v, _)| *v).collect();
                        schema["enum"] = json!(values);
                    }
                    schema
                }
            };
            op = op.parameter(
                Parameter::query(filter.param.clone())
                    .description(format!("Filter: `{}`.", filter.lookup))
                    .schema(schema),
            );
        }
        op
    }

    /// Adds this controller's schemas and operations to `doc`, the
    /// collection served at `prefix` (`"/api/articles"`).
    pub fn document(&self, doc: &mut ApiDoc, prefix: &str) -> Result<(), tack_apidoc::Error> {
        self.document_with(doc, prefix, |_, op| op)
    }

    /// Like [`Crud::document`], passing each operation through `customize`
    /// (to add security requirements to writes, say).
    pub fn document_with(
        &self,
        doc: &mut ApiDoc,
        prefix: &str,
        customize: impl Fn(Action, Operation) -> Operation,
    ) -> Result<(), tack_apidoc::Error> {
        let meta = M::meta();
        let name = &self.config.schema_name;
        let write = format!("{name}Write");
        let patch = format!("{name}Patch");
        doc.schema(name, self.read_schema())?;
        doc.schema(&write, self.write_schema(false))?;
        doc.schema(&patch, self.write_schema(true))?;
        let collection = format!("{}/", prefix.trim_end_matches('/'));
        let pk = meta.pk_field();
        let converter = match pk.kind {
            FieldKind::I32 | FieldKind::I64 => ":int",
            FieldKind::Uuid => ":uuid",
            _ => "",
        };
        let item = format!("{collection}{{{}{converter}}}/", pk.name);
        let tag = meta.verbose_name_plural;
        let one = meta.verbose_name;
        let base = || Operation::new().tag(tag);
        let page = json!({
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
                "results": {"type": "array", "items": schema_ref(name)},
            }
        });
        let list = self
            .list_parameters(base().summary(format!("List {tag}")))
            .response_schema(200, &format!("A page of {tag}"), page)
            .problem(400, "Unknown or invalid query parameters")
            .problem(403, "Not allowed")
            .problem(404, "No such page");
        doc.route("GET", &collection, customize(Action::List, list))?;
        let create = base()
            .summary(format!("Create a {one}"))
            .json_body_schema(schema_ref(&write))
            .response_schema(201, &format!("The new {one}"), schema_ref(name))
            .problem(400, "Malformed JSON or unknown fields")
            .problem(403, "Not allowed")
            .problem(409, "A unique value is taken")
            .problem(415, "The body is not JSON")
            .problem(422, "Invalid fields");
        doc.route("POST", &collection, customize(Action::Create, create))?;
        let retrieve = base()
            .summary(format!("One {one}"))
            .response_schema(200, &format!("The {one}"), schema_ref(name))
            .problem(403, "Not allowed")
            .problem(404, &format!("No such {one}"));
        doc.route("GET", &item, customize(Action::Retrieve, retrieve))?;
        for (method, summary, body) in [
            ("PUT", format!("Replace a {one}"), &write),
            ("PATCH", format!("Change some fields of a {one}"), &patch),
        ] {
            let update = base()
                .summary(summary)
                .json_body_schema(schema_ref(body))
                .response_schema(200, &format!("The {one} as saved"), schema_ref(name))
                .problem(400, "Malformed JSON or unknown fields")
                .problem(403, "Not allowed")
                .problem(404, &format!("No such {one}"))
                .problem(409, "A unique value is taken")
                .problem(415, "The body is not JSON")
                .problem(422, "Invalid fields");
            doc.route(method, &item, customize(Action::Update, update))?;
        }
        let delete = base()
            .summary(format!("Delete a {one}"))
            .response_empty(204, "Deleted")
            .problem(403, "Not allowed")
            .problem(404, &format!("No such {one}"))
            .problem(409, "Other rows still refer to it");
        doc.route("DELETE", &item, customize(Action::Delete, delete))?;
        Ok(())
    }
}
