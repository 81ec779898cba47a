//! The produced documents, snapshotted, and the parts tests can name.

mod common;

use serde_json::{Value, json};

#[test]
fn routed_document_snapshot() {
    insta::assert_json_snapshot!("routed", common::routed());
}

#[test]
fn handmade_document_snapshot() {
    insta::assert_json_snapshot!("handmade", common::handmade());
}

#[test]
fn documents_are_stable_and_round_trip() {
    let first = common::routed();
    let text = first.to_json();
    assert_eq!(text, common::routed().to_json());
    let back: tack_apidoc::OpenApi = serde_json::from_str(&text).unwrap();
    assert_eq!(back, first);
}

fn operation(document: &Value, method: &str, path: &str) -> Value {
    document["paths"][path][method].clone()
}

#[test]
fn route_patterns_become_typed_path_parameters() {
    let document = serde_json::to_value(common::routed()).unwrap();
    let cases = [
        (
            "get",
            "/articles/{id}/",
            "id",
            json!({"type": "integer", "minimum": 0}),
        ),
        (
            "get",
            "/articles/by-slug/{slug}/",
            "slug",
            json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}),
        ),
        (
            "get",
            "/keys/{key}",
            "key",
            json!({"type": "string", "format": "uuid"}),
        ),
        ("get", "/files/{path}", "path", json!({"type": "string"})),
    ];
    for (method, path, name, schema) in cases {
        let parameters = operation(&document, method, path)["parameters"].clone();
        let parameter = parameters
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name && p["in"] == "path"))
            .unwrap_or_else(|| {
                panic!("{method} {path} has no path parameter {name}: {parameters}")
            });
        assert_eq!(parameter["schema"], schema, "{method} {path}");
        assert_eq!(parameter["required"], true, "{method} {path}");
    }
    // A described path parameter keeps its description and gets the converter's type.
    let id = &operation(&document, "get", "/articles/{id}/")["parameters"][0];
    assert_eq!(id["description"], "The article's id");
}

#[test]
fn query_structs_become_query_parameters() {
    let document = serde_json::to_value(common::routed()).unwrap();
    let parameters = operation(&document, "get", "/articles/")["parameters"].clone();
    let names: Vec<&str> = parameters
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["in"], "query");
            p["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["author", "ordering", "page", "search", "status"]);
    let search = parameters
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "search")
        .unwrap();
    assert_eq!(
        search["description"],
        "Only articles whose title or body contains this text."
    );
    assert_eq!(search.get("required"), None);
}

#[test]
fn bodies_and_errors_refer_to_shared_schemas() {
    let document = serde_json::to_value(common::routed()).unwrap();
    let create = operation(&document, "post", "/articles/");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/ArticleInput"})
    );
    assert_eq!(create["requestBody"]["required"], true);
    assert_eq!(
        create["responses"]["422"]["content"]["application/problem+json"]["schema"],
        json!({"$ref": "#/components/schemas/Problem"})
    );
    assert_eq!(
        create["security"],
        json!([{"csrf": [], "session": []}, {"bearer": []}])
    );
    let schemas = &document["components"]["schemas"];
    for name in [
        "Article",
        "ArticleInput",
        "Problem",
        "Status",
        "Tag",
        "TagRow",
        "TokenRequest",
    ] {
        assert!(schemas.get(name).is_some(), "missing schema {name}");
    }
    assert!(schemas["Problem"]["properties"]["errors"].is_object());
    let token = operation(&document, "post", "/auth/token/");
    assert_eq!(token["security"], json!([]));
    assert_eq!(
        document["components"]["securitySchemes"]["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "The session cookie set when signing in."})
    );
}

#[test]
fn generic_instances_get_their_own_names() {
    let document = serde_json::to_value(common::routed()).unwrap();
    let articles = operation(&document, "get", "/articles/");
    let tags = operation(&document, "get", "/tags/pages/");
    let article_page = response_schema_name(&articles);
    let tag_page = response_schema_name(&tags);
    assert_ne!(article_page, tag_page);
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas[&article_page]["properties"]["results"]["items"]["$ref"],
        "#/components/schemas/Article"
    );
    assert_eq!(
        schemas[&tag_page]["properties"]["results"]["items"]["$ref"],
        "#/components/schemas/Tag"
    );
    let page = &operation(&document, "get", "/tags/pages/")["parameters"][0];
    assert_eq!(page["required"], true);
}

/// The name of the schema an operation's 200 JSON response refers to.
fn response_schema_name(operation: &Value) -> String {
    let reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("no reference in {operation}"));
    reference.rsplit('/').next().unwrap().to_owned()
}
