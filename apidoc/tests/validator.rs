//! The produced documents pass an independent OpenAPI 3.1 validator: the
//! Python package `openapi-spec-validator`.
//!
//! When the validator is missing the test fails if `CI` is set, and
//! otherwise prints why it is skipped.

mod common;

use std::io::Write as _;
use std::process::Command;

use serde_json::json;
use tack_apidoc::{ApiDoc, OpenApi, Operation, Parameter};

/// The command that installs the validator.
const INSTALL: &str = "python3 -m pip install openapi-spec-validator";

/// Whether `python3 -m openapi_spec_validator` can run; `false` after
/// printing a skip line, a panic under `CI`.
fn validator_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the OpenAPI validator is missing; install it with `{INSTALL}`"
        );
        eprintln!("skipping: openapi-spec-validator is not installed (`{INSTALL}`)");
    }
    found
}

/// Runs the validator on the document as JSON: `Ok` or its complaint.
fn validate(document: &serde_json::Value) -> Result<(), String> {
    let mut file = tempfile::Builder::new()
        .prefix("openapi-")
        .suffix(".json")
        .tempfile()
        .unwrap();
    file.write_all(serde_json::to_string_pretty(document).unwrap().as_bytes())
        .unwrap();
    file.flush().unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(file.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

fn hostile() -> OpenApi {
    let mut doc = ApiDoc::new("<script>alert('title')</script>", "1 & 2");
    doc.route(
        "POST",
        "/things/{id:uuid}/",
        Operation::new()
            .summary("<img src=x onerror=alert(1)>")
            .tag("\"><b>tag</b>")
            .parameter(Parameter::query("q\"><i>").description("</td></tr></table>"))
            .json_body_schema(json!({"type": "object", "properties": {"<x>": {"type": "string"}}}))
            .response_empty(204, "<em>done</em>"),
    )
    .unwrap();
    doc.build().unwrap()
}

#[test]
fn documents_pass_the_openapi_validator() {
    if !validator_available() {
        return;
    }
    let documents = [
        ("routed", common::routed()),
        ("handmade", common::handmade()),
        ("hostile", hostile()),
    ];
    for (name, document) in documents {
        let value = serde_json::to_value(&document).unwrap();
        if let Err(complaint) = validate(&value) {
            panic!("the {name} document is not valid OpenAPI 3.1:\n{complaint}");
        }
    }
}

#[test]
fn the_validator_rejects_a_broken_document() {
    if !validator_available() {
        return;
    }
    // A path template whose parameter is not declared must be refused: the
    // validator is really checking.
    let mut value = serde_json::to_value(common::routed()).unwrap();
    value["paths"]["/articles/{id}/"]["get"]["parameters"] = json!([]);
    assert!(validate(&value).is_err());
}
