//! The operations and schemas a controller adds to an OpenAPI document.

mod common;

use std::process::Command;

use common::*;
use serde_json::{Value, json};
use tack_apidoc::{ApiDoc, SecurityScheme};
use tack_crud::Crud;
use tack_orm::AsyncDatabase;

fn document() -> Value {
    let file = tack_test::db::sqlite();
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    let articles = articles(&db).nested(&["author"]);
    let comments = Crud::<Comment>::new(AsyncDatabase::new(db.clone(), 1))
        .read_only(&["created_at"])
        .filter_fields(&["article"]);
    let mut doc =
        ApiDoc::new("Newsroom API", "1.0").with_security_scheme("bearer", SecurityScheme::bearer());
    articles
        .document_with(&mut doc, "/api/articles", |action, op| {
            if action.is_read() {
                op
            } else {
                op.security(["bearer"])
            }
        })
        .unwrap();
    comments.document(&mut doc, "/api/comments/").unwrap();
    serde_json::to_value(doc.build().unwrap()).unwrap()
}

#[test]
fn every_action_is_documented() {
    let doc = document();
    let paths = &doc["paths"];
    let cases = [
        ("/api/articles/", "get"),
        ("/api/articles/", "post"),
        ("/api/articles/{id}/", "get"),
        ("/api/articles/{id}/", "put"),
        ("/api/articles/{id}/", "patch"),
        ("/api/articles/{id}/", "delete"),
        ("/api/comments/", "get"),
        ("/api/comments/{id}/", "delete"),
    ];
    for (path, method) in cases {
        assert!(paths[path][method].is_object(), "{method} {path} missing");
    }
    let post = &paths["/api/articles/"]["post"];
    assert_eq!(post["security"], json!([{"bearer": []}]));
    assert!(post["responses"]["422"].is_object());
    assert!(post["responses"]["201"].is_object());
    assert!(paths["/api/articles/"]["get"].get("security").is_none());
    let id = &paths["/api/articles/{id}/"]["get"]["parameters"][0];
    assert_eq!(id["in"], "path");
    assert_eq!(id["schema"]["type"], "integer");
}

#[test]
fn list_parameters_come_from_the_configuration() {
    let doc = document();
    let params: Vec<String> = doc["paths"]["/api/articles/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    for name in [
        "page",
        "page_size",
        "search",
        "ordering",
        "status",
        "author",
        "tags",
        "title__icontains",
        "published_at__gte",
        "published_at__isnull",
        "tag",
    ] {
        assert!(
            params.iter().any(|p| p == name),
            "{name} missing from {params:?}"
        );
    }
    let status = doc["paths"]["/api/articles/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap()
        .clone();
    assert_eq!(status["schema"]["enum"], json!(["draft", "published"]));
}

#[test]
fn schemas_follow_the_model() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let read = &schemas["Article"];
    assert_eq!(read["properties"]["title"]["maxLength"], 200);
    assert_eq!(
        read["properties"]["published_at"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(read["properties"]["created_at"]["readOnly"], true);
    assert_eq!(read["properties"]["tags"]["type"], "array");
    assert_eq!(read["properties"]["author"]["type"], "object");
    assert_eq!(
        read["properties"]["author"]["properties"]["display_name"]["type"],
        "string"
    );
    let write = &schemas["ArticleWrite"];
    // Read-only fields may be sent back (they are ignored); nothing else.
    assert_eq!(write["properties"]["created_at"]["readOnly"], true);
    assert_eq!(write["properties"]["id"]["readOnly"], true);
    assert_eq!(write["properties"]["author"]["type"], "integer");
    assert_eq!(write["additionalProperties"], false);
    let required: Vec<&str> = write["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["title", "slug", "author"]);
    assert!(schemas["ArticlePatch"].get("required").is_none());
    assert_eq!(
        schemas["Comment"]["properties"]["article"]["type"],
        "integer"
    );
}

#[test]
fn the_document_passes_the_openapi_validator() {
    let found = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but openapi-spec-validator is missing"
        );
        eprintln!("skipping: openapi-spec-validator is not installed");
        return;
    }
    let path = std::env::temp_dir().join(format!("tack-crud-openapi-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string_pretty(&document()).unwrap()).unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn article_schemas_snapshot() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    insta::assert_json_snapshot!(
        "article_schemas",
        json!({
            "Article": schemas["Article"],
            "ArticleWrite": schemas["ArticleWrite"],
            "ArticlePatch": schemas["ArticlePatch"],
        })
    );
}
