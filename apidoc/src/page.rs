//! The docs page: the document rendered as one self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::example::example;
use crate::openapi::{
    ApiKeyLocation, MediaType, Method, OpenApi, Operation, Parameter, SecurityRequirement,
    SecurityScheme,
};
use crate::schema::COMPONENTS_PREFIX;

/// The page's stylesheet, written for this page.
const STYLE: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); max-width: 84rem; margin: 0 auto; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto;
  padding: 1.5rem 1rem; border-right: 1px solid var(--line); font-size: 0.9rem; }
nav h2 { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 1.2rem 0 0.4rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 0.15rem 0; }
nav a { color: var(--ink); text-decoration: none; }
nav a:hover { color: var(--accent); }
main { padding: 1.5rem 2.5rem 4rem; }
header h1 { margin: 0 0 0.3rem; font-size: 2rem; }
.version { font-size: 0.9rem; color: var(--muted); font-weight: normal; margin-left: 0.5rem; }
.links a { margin-right: 1rem; }
a { color: var(--accent); }
h2.tag { margin-top: 2.5rem; padding-bottom: 0.3rem; border-bottom: 2px solid var(--line); }
.operation { border: 1px solid var(--line); border-radius: 8px; margin: 1.2rem 0; padding: 1rem 1.25rem; }
.operation h3 { margin: 0; font-size: 1.05rem; display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: baseline; }
.operation h4 { margin: 1.1rem 0 0.4rem; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
.method { font: bold 0.8rem ui-monospace, SFMono-Regular, Menlo, monospace; padding: 0.15rem 0.5rem; border-radius: 4px; color: #fff; background: #6e7781; }
.method.get { background: #1a7f37; } .method.post { background: #0b5cad; } .method.put { background: #9a6700; }
.method.patch { background: #8250df; } .method.delete { background: #cf222e; }
.path { font: 0.95rem ui-monospace, SFMono-Regular, Menlo, monospace; }
.summary { color: var(--muted); }
.badge { font-size: 0.75rem; padding: 0.05rem 0.45rem; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.badge.deprecated { border-color: #cf222e; color: #cf222e; }
.security { font-size: 0.9rem; color: var(--muted); margin: 0.5rem 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0.7rem 0.9rem; overflow-x: auto; margin: 0.4rem 0; }
.response { margin: 0.7rem 0; }
.status { font: bold 0.85rem ui-monospace, SFMono-Regular, Menlo, monospace; margin-right: 0.5rem; }
.status.s2 { color: #1a7f37; } .status.s3 { color: #9a6700; } .status.s4, .status.s5 { color: #cf222e; }
.media { color: var(--muted); font-size: 0.88rem; margin: 0.3rem 0; }
details summary { cursor: pointer; color: var(--muted); font-size: 0.88rem; }
.required { color: #cf222e; font-size: 0.8rem; }
.schema { margin: 1.2rem 0; }
@media (max-width: 52rem) { .layout { display: block; } nav { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); } main { padding: 1rem; } }
"#;

/// Renders `document` as a self-contained HTML page (inline CSS, no
/// scripts): operations grouped by tag with their parameters, bodies,
/// responses, example values and errors, then the schemas. `spec_url` is
/// the link to the JSON document; `viewer_url`, when given, is linked as an
/// external viewer. Every text from the document is HTML-escaped.
pub fn render_html(document: &OpenApi, spec_url: &str, viewer_url: Option<&str>) -> String {
    let schemas = &document.components.schemas;
    let groups = group_by_tag(document);
    let mut html = String::with_capacity(16 * 1024);
    let title = escape(&document.info.title);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · API documentation</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <div class=\"layout\">\n"
    );

    html.push_str("<nav>\n");
    for (tag, operations) in &groups {
        let _ = write!(html, "<h2>{}</h2>\n<ul>\n", escape(tag));
        for entry in operations {
            let _ = writeln!(
                html,
                "<li><a href=\"#{}\"><code>{}</code> {}</a></li>",
                entry.anchor,
                entry.method,
                escape(&entry.path)
            );
        }
        html.push_str("</ul>\n");
    }
    if !schemas.is_empty() {
        html.push_str("<h2>Schemas</h2>\n<ul>\n");
        for name in schemas.keys() {
            let _ = writeln!(
                html,
                "<li><a href=\"#schema-{0}\">{0}</a></li>",
                escape(name)
            );
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</nav>\n<main>\n<header>\n");
    let _ = writeln!(
        html,
        "<h1>{title}<span class=\"version\">{}</span></h1>",
        escape(&document.info.version)
    );
    if let Some(description) = &document.info.description {
        html.push_str(&paragraphs(description));
    }
    let _ = write!(
        html,
        "<p class=\"links\"><a href=\"{}\">OpenAPI document (JSON)</a>",
        escape(spec_url)
    );
    if let Some(viewer) = viewer_url {
        let _ = write!(
            html,
            "<a href=\"{}\" rel=\"noopener\">Open in an external viewer</a>",
            escape(viewer)
        );
    }
    html.push_str("</p>\n");
    if !document.servers.is_empty() {
        html.push_str("<p>Base URL: ");
        let urls: Vec<String> = document
            .servers
            .iter()
            .map(|server| format!("<code>{}</code>", escape(&server.url)))
            .collect();
        html.push_str(&urls.join(", "));
        html.push_str("</p>\n");
    }
    html.push_str("</header>\n");

    for (tag, operations) in &groups {
        let _ = writeln!(html, "<section>\n<h2 class=\"tag\">{}</h2>", escape(tag));
        if let Some(description) = document
            .tags
            .iter()
            .find(|t| t.name == *tag)
            .and_then(|t| t.description.as_deref())
        {
            html.push_str(&paragraphs(description));
        }
        for entry in operations {
            render_operation(&mut html, document, entry);
        }
        html.push_str("</section>\n");
    }

    if !schemas.is_empty() {
        html.push_str("<section>\n<h2 class=\"tag\">Schemas</h2>\n");
        for (name, schema) in schemas {
            let _ = writeln!(
                html,
                "<div class=\"schema\" id=\"schema-{0}\">\n<h3>{0}</h3>",
                escape(name)
            );
            if let Some(description) = schema.get("description").and_then(Value::as_str) {
                html.push_str(&paragraphs(description));
            }
            render_schema(&mut html, schema, schemas);
            html.push_str("</div>\n");
        }
        html.push_str("</section>\n");
    }

    let security_schemes = &document.components.security_schemes;
    if !security_schemes.is_empty() {
        html.push_str(
            "<section>\n<h2 class=\"tag\">Authentication</h2>\n<table>\n\
             <tr><th>Name</th><th>How</th><th>Description</th></tr>\n",
        );
        for (name, scheme) in security_schemes {
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(name),
                scheme_how(scheme),
                text_html(scheme.description().unwrap_or(""))
            );
        }
        html.push_str("</table>\n</section>\n");
    }
    html.push_str("</main>\n</div>\n</body>\n</html>\n");
    html
}

/// One operation's place on the page.
struct Entry<'a> {
    method: Method,
    path: String,
    operation: &'a Operation,
    anchor: String,
}

/// Operations under their first tag: described tags first in their order,
/// then other tags by first use, then untagged operations under "Other".
fn group_by_tag(document: &OpenApi) -> Vec<(String, Vec<Entry<'_>>)> {
    let mut order: Vec<String> = document.tags.iter().map(|tag| tag.name.clone()).collect();
    let mut groups: BTreeMap<String, Vec<Entry<'_>>> = BTreeMap::new();
    for (index, (method, path, operation)) in document.operations().enumerate() {
        let tag = operation
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "Other".to_owned());
        if !order.contains(&tag) {
            order.push(tag.clone());
        }
        let slug: String = format!("{}{path}", method.as_str().to_lowercase())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        groups.entry(tag).or_default().push(Entry {
            method,
            path: path.to_owned(),
            operation,
            anchor: format!("op-{index}-{slug}"),
        });
    }
    if let Some(position) = order.iter().position(|tag| tag == "Other") {
        let other = order.remove(position);
        order.push(other);
    }
    order
        .into_iter()
        .filter_map(|tag| {
            let entries = groups.remove(&tag)?;
            Some((tag, entries))
        })
        .collect()
}

fn render_operation(html: &mut String, document: &OpenApi, entry: &Entry<'_>) {
    let schemas = &document.components.schemas;
    let operation = entry.operation;
    let method = entry.method.as_str();
    let _ = write!(
        html,
        "<article class=\"operation\" id=\"{}\">\n<h3><span class=\"method {}\">{method}</span> \
         <span class=\"path\">{}</span>",
        entry.anchor,
        method.to_lowercase(),
        escape(&entry.path)
    );
    if let Some(summary) = &operation.summary {
        let _ = write!(html, " <span class=\"summary\">{}</span>", escape(summary));
    }
    if operation.deprecated {
        html.push_str(" <span class=\"badge deprecated\">deprecated</span>");
    }
    html.push_str("</h3>\n");
    if let Some(id) = &operation.operation_id {
        let _ = writeln!(
            html,
            "<p class=\"security\">Operation id: <code>{}</code></p>",
            escape(id)
        );
    }
    if let Some(description) = &operation.description {
        html.push_str(&paragraphs(description));
    }
    let security = operation.security.as_ref().unwrap_or(&document.security);
    let _ = writeln!(
        html,
        "<p class=\"security\">Authentication: {}</p>",
        security_text(security)
    );

    if !operation.parameters.is_empty() {
        html.push_str(
            "<h4>Parameters</h4>\n<table>\n<tr><th>Name</th><th>In</th><th>Type</th>\
             <th>Description</th></tr>\n",
        );
        for parameter in &operation.parameters {
            render_parameter(html, parameter);
        }
        html.push_str("</table>\n");
    }

    if let Some(body) = &operation.request_body {
        html.push_str("<h4>Request body</h4>\n");
        if let Some(description) = &body.description {
            html.push_str(&paragraphs(description));
        }
        for (media_type, media) in &body.content {
            render_media(html, media_type, media, schemas);
        }
    }

    if !operation.responses.is_empty() {
        html.push_str("<h4>Responses</h4>\n");
        for (status, response) in &operation.responses {
            let class = status.chars().next().map_or('0', |c| c);
            let _ = writeln!(
                html,
                "<div class=\"response\"><span class=\"status s{class}\">{}</span>{}",
                escape(status),
                text_html(&response.description)
            );
            for (media_type, media) in &response.content {
                render_media(html, media_type, media, schemas);
            }
            html.push_str("</div>\n");
        }
    }
    html.push_str("</article>\n");
}

fn render_parameter(html: &mut String, parameter: &Parameter) {
    let required = if parameter.required {
        " <span class=\"required\">required</span>"
    } else {
        ""
    };
    let mut description = parameter
        .description
        .as_deref()
        .map(text_html)
        .unwrap_or_default();
    if parameter.deprecated {
        description.push_str(" <span class=\"badge deprecated\">deprecated</span>");
    }
    if let Some(example) = &parameter.example {
        let _ = write!(
            description,
            " Example: <code>{}</code>",
            escape(&example.to_string())
        );
    }
    let _ = writeln!(
        html,
        "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{description}</td></tr>",
        escape(&parameter.name),
        parameter.location.as_str(),
        type_html(&parameter.schema)
    );
}

fn render_media(
    html: &mut String,
    media_type: &str,
    media: &MediaType,
    schemas: &BTreeMap<String, Value>,
) {
    let _ = writeln!(
        html,
        "<p class=\"media\"><code>{}</code> · {}</p>",
        escape(media_type),
        type_html(&media.schema)
    );
    let example_value = media
        .example
        .clone()
        .unwrap_or_else(|| example(&media.schema, schemas));
    if !example_value.is_null() {
        let _ = writeln!(
            html,
            "<pre class=\"example\">{}</pre>",
            escape(&pretty(&example_value))
        );
    }
}

fn render_schema(html: &mut String, schema: &Value, schemas: &BTreeMap<String, Value>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(properties) = properties.filter(|p| !p.is_empty()) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        html.push_str("<table>\n<tr><th>Field</th><th>Type</th><th>Description</th></tr>\n");
        for (name, property) in properties {
            let mark = if required.contains(&name.as_str()) {
                " <span class=\"required\">required</span>"
            } else {
                ""
            };
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                type_html(property),
                text_html(
                    property
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            );
        }
        html.push_str("</table>\n");
    } else {
        let _ = writeln!(html, "<p class=\"media\">{}</p>", type_html(schema));
    }
    let example_value = example(schema, schemas);
    if !example_value.is_null() {
        let _ = writeln!(
            html,
            "<p class=\"media\">Example</p>\n<pre class=\"example\">{}</pre>",
            escape(&pretty(&example_value))
        );
    }
    let _ = writeln!(
        html,
        "<details><summary>JSON Schema</summary><pre>{}</pre></details>",
        escape(&pretty(schema))
    );
}

/// A short description of a schema's type, with links to named schemas.
fn type_html(schema: &Value) -> String {
    let Some(object) = schema.as_object() else {
        return "any".to_owned();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix(COMPONENTS_PREFIX)
            .unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|value| format!("<code>{}</code>", escape(&value.to_string())))
            .collect();
        return format!("one of {}", values.join(", "));
    }
    if let Some(value) = object.get("const") {
        return format!("<code>{}</code>", escape(&value.to_string()));
    }
    for (key, joiner) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(options) = object.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = options.iter().map(type_html).collect();
            return parts.join(joiner);
        }
    }
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ if object.contains_key("properties") => vec!["object"],
        _ => return "any".to_owned(),
    };
    let parts: Vec<String> = types
        .into_iter()
        .map(|kind| match kind {
            "array" => match object.get("items") {
                Some(items) => format!("array of {}", type_html(items)),
                None => "array".to_owned(),
            },
            "object" => match object.get("additionalProperties") {
                Some(values @ Value::Object(_)) => format!("map of {}", type_html(values)),
                _ => "object".to_owned(),
            },
            other => match object.get("format").and_then(Value::as_str) {
                Some(format) if other != "null" => {
                    format!("{} ({})", escape(other), escape(format))
                }
                _ => escape(other),
            },
        })
        .collect();
    let mut text = parts.join(" or ");
    for (key, label) in [
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("pattern", "pattern"),
    ] {
        if let Some(value) = object.get(key) {
            let shown = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(text, ", {label} <code>{}</code>", escape(&shown));
        }
    }
    text
}

fn security_text(requirements: &[SecurityRequirement]) -> String {
    if requirements.is_empty() {
        return "none (public)".to_owned();
    }
    let alternatives: Vec<String> = requirements
        .iter()
        .map(|requirement| {
            if requirement.is_empty() {
                return "none".to_owned();
            }
            let names: Vec<String> = requirement
                .keys()
                .map(|name| format!("<code>{}</code>", escape(name)))
                .collect();
            names.join(" + ")
        })
        .collect();
    alternatives.join(", or ")
}

fn scheme_how(scheme: &SecurityScheme) -> String {
    match scheme {
        SecurityScheme::ApiKey { name, location, .. } => {
            let place = match location {
                ApiKeyLocation::Cookie => "cookie",
                ApiKeyLocation::Header => "header",
                ApiKeyLocation::Query => "query parameter",
            };
            format!("{place} <code>{}</code>", escape(name))
        }
        SecurityScheme::Http { scheme, .. } => {
            format!("<code>Authorization: {} …</code>", escape(scheme))
        }
    }
}

/// Text as paragraphs, split at blank lines.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| format!("<p>{}</p>\n", text_html(part)))
        .collect()
}

/// Escaped text where `backticks` mark inline code, as in CommonMark.
fn text_html(text: &str) -> String {
    let escaped = escape(text);
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // An unpaired backtick: show the text as it is.
        return escaped;
    }
    let mut html = String::with_capacity(escaped.len() + 16);
    for (index, part) in parts.iter().enumerate() {
        if index % 2 == 1 {
            let _ = write!(html, "<code>{part}</code>");
        } else {
            html.push_str(part);
        }
    }
    html
}

fn pretty(value: &Value) -> String {
    // A JSON value always serializes.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Escapes text for HTML content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn backticks_mark_code() {
        assert_eq!(
            text_html("use `a<b>` or `c`"),
            "use <code>a&lt;b&gt;</code> or <code>c</code>"
        );
        assert_eq!(text_html("one ` alone"), "one ` alone");
    }

    #[test]
    fn types_read_well() {
        let cases = [
            (json!({"type": "string"}), "string"),
            (
                json!({"type": ["string", "null"], "format": "date-time"}),
                "string (date-time) or null",
            ),
            (
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}),
                "array of <a href=\"#schema-Tag\">Tag</a>",
            ),
            (
                json!({"enum": ["a", "b"]}),
                "one of <code>&quot;a&quot;</code>, <code>&quot;b&quot;</code>",
            ),
            (
                json!({"type": "string", "maxLength": 200}),
                "string, max length <code>200</code>",
            ),
            (
                json!({"type": "object", "additionalProperties": {"type": "integer"}}),
                "map of integer",
            ),
            (json!(true), "any"),
        ];
        for (schema, expected) in cases {
            assert_eq!(type_html(&schema), expected, "{schema}");
        }
    }
}
