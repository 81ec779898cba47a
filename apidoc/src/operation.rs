//! Describing operations and parameters by hand, without any router.

use std::collections::{BTreeMap, BTreeSet};

use http::StatusCode;
use schemars::JsonSchema;
use serde_json::{Value, json};
use tack_http::{PROBLEM_JSON, Problem};

use crate::openapi::{MediaType, Operation, Parameter, ParameterLocation, RequestBody, Response};
use crate::schema::{self, PROBLEM_SCHEMA, schema_ref};

/// The media type of JSON bodies.
const JSON: &str = "application/json";

impl Operation {
    /// An operation with nothing documented yet.
    pub fn new() -> Self {
        Operation::default()
    }

    /// Sets the one-line summary.
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.summary = Some(text.into());
        self
    }

    /// Sets the longer description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds a tag: the docs page groups operations by their first tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the operation id (unique in the document).
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// Marks the operation as deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Adds a parameter. A path parameter named like one of the route
    /// pattern's replaces the generated one (keep the converter's schema by
    /// not setting one).
    pub fn parameter(mut self, parameter: Parameter) -> Self {
        self.parameters
            .retain(|p| !(p.name == parameter.name && p.location == parameter.location));
        self.parameters.push(parameter);
        self
    }

    /// Adds one query parameter per field of `T` (a struct deserialized from
    /// the query string with serde): its name, schema, description (the
    /// field's doc comment) and whether it is required.
    pub fn query<T: JsonSchema + ?Sized>(self) -> Self {
        let generated = schema::generate::<T>(true);
        self.query_schema(generated.schema)
    }

    /// Adds one query parameter per property of an object schema (a JSON
    /// Schema built at run time): the run-time twin of [`Operation::query`].
    pub fn query_schema(mut self, schema: Value) -> Self {
        let mut definitions = BTreeMap::new();
        let schema = schema::hoist(schema, &mut definitions);
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            self.problems.push(format!(
                "the query schema must be an object with `properties` \
                 (a struct with named fields), not {schema}"
            ));
            return self;
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut parameters: Vec<Parameter> = Vec::new();
        for (name, property) in properties {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|object| object.remove("description"))
                .and_then(|text| text.as_str().map(str::to_owned));
            let mut parameter = Parameter::query(name).schema(property);
            parameter.description = description;
            parameter.required = required.contains(&name.as_str());
            parameters.push(parameter);
        }
        let mut roots: Vec<&mut Value> = parameters.iter_mut().map(|p| &mut p.schema).collect();
        self.adopt(definitions, &mut roots, false);
        for parameter in parameters {
            self = self.parameter(parameter);
        }
        self
    }

    /// Sets a required JSON request body of type `T`.
    pub fn json_body<T: JsonSchema + ?Sized>(mut self) -> Self {
        let generated = schema::generate::<T>(false);
        let mut schema = generated.schema;
        self.adopt(generated.definitions, &mut [&mut schema], false);
        self.body_schema(JSON, schema)
    }

    /// Sets a required JSON request body with a schema built at run time
    /// (use [`schema_ref`] for a schema added by name).
    pub fn json_body_schema(self, schema: Value) -> Self {
        self.body_schema(JSON, schema)
    }

    /// Sets a required request body of any media type with this schema
    /// (`application/x-www-form-urlencoded`, `multipart/form-data`).
    pub fn body_schema(mut self, media_type: impl Into<String>, schema: Value) -> Self {
        let schema = self.take_defs(schema);
        let body = self.request_body.get_or_insert_with(|| RequestBody {
            description: None,
            content: BTreeMap::new(),
            required: true,
        });
        body.content.insert(
            media_type.into(),
            MediaType {
                schema,
                example: None,
            },
        );
        self
    }

    /// Documents a JSON response of type `T` for `status`.
    pub fn response<T: JsonSchema + ?Sized>(mut self, status: u16, description: &str) -> Self {
        let generated = schema::generate::<T>(false);
        let mut schema = generated.schema;
        self.adopt(generated.definitions, &mut [&mut schema], false);
        self.response_content(status, description, JSON, schema)
    }

    /// Documents a JSON response with a schema built at run time.
    pub fn response_schema(self, status: u16, description: &str, schema: Value) -> Self {
        self.response_content(status, description, JSON, schema)
    }

    /// Documents a response of any media type with this schema.
    pub fn response_content(
        mut self,
        status: u16,
        description: &str,
        media_type: &str,
        schema: Value,
    ) -> Self {
        let schema = self.take_defs(schema);
        let response = self.response_entry(status, description);
        response.content.insert(
            media_type.to_owned(),
            MediaType {
                schema,
                example: None,
            },
        );
        self
    }

    /// Documents a response without a body (`204 No Content`, a redirect).
    pub fn response_empty(mut self, status: u16, description: &str) -> Self {
        self.response_entry(status, description);
        self
    }

    /// Documents an error answered as `application/problem+json` (RFC 9457,
    /// [`tack_http::Problem`]); for 422 the problem lists messages per field.
    ///
    /// The response's example is a problem with this status and the
    /// description as its detail.
    pub fn problem(mut self, status: u16, description: &str) -> Self {
        let mut schema = schema_ref(PROBLEM_SCHEMA);
        let definitions = BTreeMap::from([(PROBLEM_SCHEMA.to_owned(), schema::problem_schema())]);
        self.adopt(definitions, &mut [&mut schema], false);
        self = self.response_content(status, description, PROBLEM_JSON, schema);
        if let Ok(code) = StatusCode::from_u16(status) {
            let mut problem = Problem::new(code).with_detail(description);
            if code == StatusCode::UNPROCESSABLE_ENTITY {
                problem = problem.with_field_error("name", "This field is required.");
            }
            let media = self
                .responses
                .get_mut(&status.to_string())
                .and_then(|response| response.content.get_mut(PROBLEM_JSON));
            if let Some(media) = media {
                // A problem holds only strings and JSON values: it converts.
                media.example = serde_json::to_value(problem).ok().map(schema::canonical);
            }
        }
        self
    }

    /// Adds a named schema with this operation, for a schema built at run
    /// time that its bodies refer to with [`schema_ref`]. `$defs` inside it
    /// become named schemas too.
    pub fn schema(mut self, name: &str, schema: Value) -> Self {
        let mut definitions = BTreeMap::new();
        let mut schema = schema::hoist(schema, &mut definitions);
        self.adopt(definitions, &mut [&mut schema], false);
        self.adopt(BTreeMap::from([(name.to_owned(), schema)]), &mut [], true);
        self
    }

    /// Adds the named schema of `T` (and of the types it uses) without using
    /// it in a body yet, under the name schemars gives it.
    pub fn schema_for<T: JsonSchema + ?Sized>(mut self) -> Self {
        self.adopt(schema::generate::<T>(false).definitions, &mut [], true);
        self
    }

    /// Adds an alternative way to be allowed: every scheme named here must
    /// pass (`["session", "csrf"]`); call again for another alternative
    /// (`["bearer"]`). The names are those given to
    /// [`crate::ApiDoc::with_security_scheme`].
    pub fn security<I, S>(mut self, schemes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let requirement = schemes
            .into_iter()
            .map(|scheme| (scheme.into(), Vec::new()))
            .collect();
        self.security.get_or_insert_with(Vec::new).push(requirement);
        self
    }

    /// Marks the operation as open to anyone, overriding the document's
    /// default security.
    pub fn public(mut self) -> Self {
        self.security = Some(Vec::new());
        self
    }

    /// Takes named schemas into the operation (see [`schema::merge`]);
    /// `fixed` names must keep their names.
    fn adopt(
        &mut self,
        definitions: BTreeMap<String, Value>,
        roots: &mut [&mut Value],
        fixed: bool,
    ) {
        if let Some(name) = definitions.keys().find(|name| !schema::valid_name(name)) {
            self.problems.push(format!(
                "the schema name `{name}` may only use letters, digits, `.`, `-` and `_`"
            ));
            return;
        }
        let names: BTreeSet<String> = if fixed {
            definitions.keys().cloned().collect()
        } else {
            BTreeSet::new()
        };
        match schema::merge(&mut self.schemas, definitions, roots, &names) {
            Ok(()) => self.fixed_names.extend(names),
            Err(name) => self.problems.push(format!(
                "two different schemas are named `{name}`; rename one \
                 (`#[schemars(rename = \"...\")]` on a Rust type)"
            )),
        }
    }

    fn take_defs(&mut self, schema: Value) -> Value {
        let mut definitions = BTreeMap::new();
        let mut schema = schema::hoist(schema, &mut definitions);
        self.adopt(definitions, &mut [&mut schema], false);
        schema
    }

    fn response_entry(&mut self, status: u16, description: &str) -> &mut Response {
        if !(100..=599).contains(&status) {
            self.problems
                .push(format!("{status} is not an HTTP status code (100 to 599)"));
        }
        let response = self
            .responses
            .entry(status.to_string())
            .or_insert_with(|| Response {
                description: String::new(),
                content: BTreeMap::new(),
            });
        response.description = description.to_owned();
        response
    }
}

impl Parameter {
    /// A parameter in `location`, a string unless [`Parameter::schema`] says otherwise.
    pub fn new(name: impl Into<String>, location: ParameterLocation) -> Self {
        Parameter {
            name: name.into(),
            location,
            description: None,
            required: location == ParameterLocation::Path,
            deprecated: false,
            schema: json!({"type": "string"}),
            example: None,
        }
    }

    /// An optional query parameter (`?search=`).
    pub fn query(name: impl Into<String>) -> Self {
        Parameter::new(name, ParameterLocation::Query)
    }

    /// An optional request header.
    pub fn header(name: impl Into<String>) -> Self {
        Parameter::new(name, ParameterLocation::Header)
    }

    /// An optional cookie.
    pub fn cookie(name: impl Into<String>) -> Self {
        Parameter::new(name, ParameterLocation::Cookie)
    }

    /// A path parameter (always required).
    pub fn path(name: impl Into<String>) -> Self {
        Parameter::new(name, ParameterLocation::Path)
    }

    /// Sets what it means.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets whether it must be sent (path parameters always must).
    pub fn required(mut self, required: bool) -> Self {
        self.required = required || self.location == ParameterLocation::Path;
        self
    }

    /// Marks it as deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Sets the JSON Schema of its value (`{"type": "integer"}`,
    /// `{"enum": ["draft", "published"]}`).
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = schema::canonical(schema);
        self
    }

    /// Sets the schema to that of `T`, inlined (for scalars and enums).
    pub fn schema_of<T: JsonSchema + ?Sized>(self) -> Self {
        self.schema(schema::generate::<T>(true).schema)
    }

    /// Sets an example value.
    pub fn example(mut self, value: Value) -> Self {
        self.example = Some(value);
        self
    }
}
