//! Documenting routes: the errors a user gets for mistakes.

use serde_json::json;
use tack_apidoc::{ApiDoc, Error, Operation, Parameter, SecurityScheme, schema_ref};

fn doc() -> ApiDoc {
    ApiDoc::new("Test", "1").with_security_scheme("bearer", SecurityScheme::bearer())
}

#[test]
fn mistakes_are_reported_with_what_to_fix() {
    type Setup = fn(&mut ApiDoc) -> Result<(), Error>;
    let cases: Vec<(&str, Setup, &str)> = vec![
        (
            "unknown converter",
            |d| d.route("GET", "/users/{id:integer}/", None).map(drop),
            "the route pattern `/users/{id:integer}/` is invalid: unknown converter `integer` for parameter `id`; use str, int, slug, uuid or path",
        ),
        (
            "unsupported method",
            |d| d.route("CONNECT", "/", None).map(drop),
            "the method `CONNECT` cannot be documented",
        ),
        (
            "documented twice",
            |d| {
                d.route("GET", "/a/{id:int}/", None)?;
                d.route(http::Method::GET, "/a/{id}/", None).map(drop)
            },
            "the operation GET /a/{id}/ is documented twice",
        ),
        (
            "ambiguous paths",
            |d| {
                d.route("GET", "/a/{id}/", None)?;
                d.route("PUT", "/a/{slug}/", None).map(drop)
            },
            "the paths `/a/{id}/` and `/a/{slug}/` differ only in parameter names",
        ),
        (
            "operation ids",
            |d| {
                d.route("GET", "/a/", Operation::new().operation_id("list"))?;
                d.route("GET", "/b/", Operation::new().operation_id("list"))
                    .map(drop)
            },
            "the operation id `list` is used by both GET /a/ and GET /b/",
        ),
        (
            "stray path parameter",
            |d| {
                d.route(
                    "GET",
                    "/a/",
                    Operation::new().parameter(Parameter::path("id")),
                )
                .map(drop)
            },
            "the operation GET /a/ is invalid: the path parameter `id` is not in the route pattern",
        ),
        (
            "query type without fields",
            |d| {
                d.route("GET", "/a/", Operation::new().query::<u32>())
                    .map(drop)
            },
            "the operation GET /a/ is invalid: the query schema must be an object with `properties`",
        ),
        (
            "status out of range",
            |d| {
                d.route("GET", "/a/", Operation::new().response_empty(999, "x"))
                    .map(drop)
            },
            "999 is not an HTTP status code",
        ),
        (
            "schema conflict",
            |d| {
                d.schema("Thing", json!({"type": "string"}))?;
                d.schema("Thing", json!({"type": "integer"})).map(drop)
            },
            "two different schemas are named `Thing`",
        ),
        (
            "schema name",
            |d| d.schema("Thing<T>", json!({"type": "string"})).map(drop),
            "the schema name `Thing<T>` may only use letters, digits",
        ),
        (
            "unknown schema",
            |d| {
                d.route(
                    "GET",
                    "/a/",
                    Operation::new().response_schema(200, "x", schema_ref("Nope")),
                )?;
                d.build().map(drop)
            },
            "the operation GET /a/ refers to the schema `Nope`, which was never added",
        ),
        (
            "unknown security scheme",
            |d| {
                d.route("GET", "/a/", Operation::new().security(["session"]))?;
                d.build().map(drop)
            },
            "the operation GET /a/ requires the security scheme `session`, which was never declared",
        ),
    ];
    for (name, setup, message) in cases {
        let mut doc = doc();
        let error = setup(&mut doc).expect_err(name);
        assert!(
            error.to_string().contains(message),
            "{name}: got `{error}`, expected it to contain `{message}`"
        );
    }
}

#[test]
fn same_schema_twice_is_fine() {
    let mut doc = doc();
    doc.schema("Thing", json!({"type": "string"})).unwrap();
    doc.schema("Thing", json!({"type": "string"})).unwrap();
    doc.route(
        "GET",
        "/a/",
        Operation::new().response_schema(200, "x", schema_ref("Thing")),
    )
    .unwrap();
    assert!(doc.build().is_ok());
}

#[test]
fn run_time_schemas_bring_their_defs() {
    let mut doc = doc();
    doc.schema(
        "Order",
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}}},
            "$defs": {"Line": {"type": "object", "properties": {"qty": {"type": "integer"}}}}
        }),
    )
    .unwrap();
    let document = doc.build().unwrap();
    let schemas = &document.components.schemas;
    assert_eq!(
        schemas["Order"]["properties"]["lines"]["items"],
        json!({"$ref": "#/components/schemas/Line"})
    );
    assert!(schemas.contains_key("Line"));
    assert!(schemas["Order"].get("$schema").is_none());
}

#[test]
fn undocumented_routes_keep_their_parameters() {
    let mut doc = doc();
    doc.route("GET", "/files/{*path}", None).unwrap();
    let document = doc.build().unwrap();
    let operation = document.paths["/files/{path}"].get.as_ref().unwrap();
    assert_eq!(operation.parameters.len(), 1);
    assert_eq!(operation.parameters[0].name, "path");
    assert_eq!(
        operation.parameters[0].description.as_deref(),
        Some("The rest of the path; it may contain `/`.")
    );
}

#[test]
fn flattened_query_structs_give_every_field() {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Paging {
        /// The page number.
        page: Option<u32>,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Filters {
        /// Text to look for.
        search: String,
        #[serde(flatten)]
        paging: Paging,
    }
    let mut doc = doc();
    doc.route("GET", "/a/", Operation::new().query::<Filters>())
        .unwrap();
    let document = doc.build().unwrap();
    let parameters = &document.paths["/a/"].get.as_ref().unwrap().parameters;
    let names: Vec<(&str, bool)> = parameters
        .iter()
        .map(|p| (p.name.as_str(), p.required))
        .collect();
    assert_eq!(names, [("page", false), ("search", true)]);
}
