//! The OpenAPI 3.1 document model.
//!
//! Every type serializes to the JSON the specification names and reads back
//! with serde. Maps are `BTreeMap`s so a document always serializes in the
//! same order. Schemas are plain JSON Schema 2020-12 values
//! ([`serde_json::Value`]), as OpenAPI 3.1 uses them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The OpenAPI version every document of this crate declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// A complete OpenAPI 3.1 document, as [`crate::ApiDoc::build`] returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenApi {
    /// The OpenAPI version: [`OPENAPI_VERSION`].
    pub openapi: String,
    /// The API's title, version and description.
    pub info: Info,
    /// Where the API is served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// The operations, by OpenAPI path template (`/users/{id}/`).
    #[serde(default)]
    pub paths: BTreeMap<String, PathItem>,
    /// Schemas and security schemes that operations refer to.
    #[serde(default, skip_serializing_if = "Components::is_empty")]
    pub components: Components,
    /// The security requirements of every operation that sets none of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<SecurityRequirement>,
    /// Descriptions of the tags operations use, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl OpenApi {
    /// The document as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Every member is a string, a number, a bool or a JSON value with
        // string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every operation with its method and path, in path order then in
    /// [`Method::ALL`] order.
    pub fn operations(&self) -> impl Iterator<Item = (Method, &str, &Operation)> {
        self.paths.iter().flat_map(|(path, item)| {
            Method::ALL
                .into_iter()
                .filter_map(move |method| Some((method, path.as_str(), item.get(method)?)))
        })
    }
}

/// The API's title, version and description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    /// The API's name.
    pub title: String,
    /// The version of the API (not of OpenAPI).
    pub version: String,
    /// A longer description (CommonMark in OpenAPI; shown as text by the docs page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A base URL the API is served at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    /// The URL, absolute or relative to where the document is served (`/api`).
    pub url: String,
    /// What this server is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A tag's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// The tag, as operations name it.
    pub name: String,
    /// What the operations under this tag are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An HTTP method OpenAPI can document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
}

impl Method {
    /// Every method, in the order the docs page lists them.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
        Method::Trace,
    ];

    /// The method's name in upper case (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<&http::Method> for Method {
    type Error = crate::Error;

    fn try_from(method: &http::Method) -> Result<Self, Self::Error> {
        Method::ALL
            .into_iter()
            .find(|known| known.as_str() == method.as_str())
            .ok_or_else(|| crate::Error::UnsupportedMethod {
                method: method.to_string(),
            })
    }
}

impl TryFrom<http::Method> for Method {
    type Error = crate::Error;

    fn try_from(method: http::Method) -> Result<Self, Self::Error> {
        Method::try_from(&method)
    }
}

impl TryFrom<&str> for Method {
    type Error = crate::Error;

    fn try_from(method: &str) -> Result<Self, Self::Error> {
        Method::ALL
            .into_iter()
            .find(|known| known.as_str().eq_ignore_ascii_case(method))
            .ok_or_else(|| crate::Error::UnsupportedMethod {
                method: method.to_owned(),
            })
    }
}

/// The operations on one path, one per method.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathItem {
    /// GET
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<Operation>,
    /// PUT
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put: Option<Operation>,
    /// POST
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Operation>,
    /// DELETE
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<Operation>,
    /// OPTIONS
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Operation>,
    /// HEAD
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Operation>,
    /// PATCH
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Operation>,
    /// TRACE
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Operation>,
}

impl Operation {
    /// Every schema value in the operation: parameters, body, responses.
    pub(crate) fn schema_roots(&mut self) -> Vec<&mut Value> {
        let parameters = self.parameters.iter_mut().map(|p| &mut p.schema);
        let body = self
            .request_body
            .iter_mut()
            .flat_map(|body| body.content.values_mut().map(|media| &mut media.schema));
        let responses = self
            .responses
            .values_mut()
            .flat_map(|response| response.content.values_mut().map(|media| &mut media.schema));
        parameters.chain(body).chain(responses).collect()
    }
}

impl PathItem {
    /// The operation for `method`, if documented.
    pub fn get(&self, method: Method) -> Option<&Operation> {
        self.slot(method).as_ref()
    }

    pub(crate) fn slot_mut(&mut self, method: Method) -> &mut Option<Operation> {
        match method {
            Method::Get => &mut self.get,
            Method::Put => &mut self.put,
            Method::Post => &mut self.post,
            Method::Delete => &mut self.delete,
            Method::Options => &mut self.options,
            Method::Head => &mut self.head,
            Method::Patch => &mut self.patch,
            Method::Trace => &mut self.trace,
        }
    }

    fn slot(&self, method: Method) -> &Option<Operation> {
        match method {
            Method::Get => &self.get,
            Method::Put => &self.put,
            Method::Post => &self.post,
            Method::Delete => &self.delete,
            Method::Options => &self.options,
            Method::Head => &self.head,
            Method::Patch => &self.patch,
            Method::Trace => &self.trace,
        }
    }
}

/// One operation: a method on a path, described with builder methods.
///
/// ```
/// use tack_apidoc::{Operation, Parameter};
///
/// let operation = Operation::new()
///     .summary("Search articles")
///     .tag("articles")
///     .parameter(Parameter::query("q").required(true).description("Words to look for"))
///     .response_schema(200, "Matching titles", serde_json::json!({"type": "array"}))
///     .problem(400, "The query is empty");
/// assert_eq!(operation.parameters[0].name, "q");
/// assert!(operation.responses.contains_key("400"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Tags that group this operation on the docs page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A one-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// A longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A unique id, as code generators name the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Path, query, header and cookie parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// The request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<RequestBody>,
    /// The responses, by status code (`"200"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub responses: BTreeMap<String, Response>,
    /// Whether clients should stop using this operation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// Who may call it: alternatives, each a set of schemes that must all pass.
    /// `None` uses the document's default; `Some(vec![])` means public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<SecurityRequirement>>,
    /// Schemas this operation's builder generated, moved into the document's
    /// components when the operation is added.
    #[serde(skip)]
    pub(crate) schemas: BTreeMap<String, Value>,
    /// Names among `schemas` that were given by hand and must not change.
    #[serde(skip)]
    pub(crate) fixed_names: BTreeSet<String>,
    /// Problems the builder met, reported when the operation is added.
    #[serde(skip)]
    pub(crate) problems: Vec<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A parameter of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Its name (case-sensitive, except for headers).
    pub name: String,
    /// Where it is sent.
    #[serde(rename = "in")]
    pub location: ParameterLocation,
    /// What it means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be sent (always true for path parameters).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Whether clients should stop sending it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// The JSON Schema of its value.
    pub schema: Value,
    /// An example value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterLocation {
    /// In the path (`/users/{id}/`).
    Path,
    /// In the query string.
    Query,
    /// In a request header.
    Header,
    /// In a cookie.
    Cookie,
}

impl ParameterLocation {
    /// The name OpenAPI gives it (`path`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    /// What the body is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The body's schema, by media type.
    pub content: BTreeMap<String, MediaType>,
    /// Whether a body must be sent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

/// One possible response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// What this response means (required by OpenAPI).
    pub description: String,
    /// The body's schema, by media type; empty for a response without a body.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub content: BTreeMap<String, MediaType>,
}

/// The schema of a body in one media type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaType {
    /// The JSON Schema of the body.
    pub schema: Value,
    /// An example body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

/// Names of security schemes that must all pass, each with its scopes.
pub type SecurityRequirement = BTreeMap<String, Vec<String>>;

/// Reusable parts of the document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    /// Named JSON Schemas, referred to as `#/components/schemas/NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schemas: BTreeMap<String, Value>,
    /// Named security schemes, referred to by operations' `security`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_schemes: BTreeMap<String, SecurityScheme>,
}

impl Components {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.security_schemes.is_empty()
    }
}

/// How a client proves who it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SecurityScheme {
    /// A key sent in a cookie, a header or the query string: a session
    /// cookie, a CSRF header.
    #[serde(rename = "apiKey")]
    ApiKey {
        /// The cookie, header or query parameter's name.
        name: String,
        /// Where the key is sent.
        #[serde(rename = "in")]
        location: ApiKeyLocation,
        /// What the key is and how to get one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// An HTTP authentication scheme (`bearer`, `basic`).
    #[serde(rename = "http")]
    Http {
        /// The scheme, as in the `Authorization` header (`bearer`).
        scheme: String,
        /// A hint at the token's format.
        #[serde(
            rename = "bearerFormat",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        bearer_format: Option<String>,
        /// What the credential is and how to get one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
}

/// Where an API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyLocation {
    /// In a cookie.
    Cookie,
    /// In a request header.
    Header,
    /// In the query string.
    Query,
}

impl SecurityScheme {
    /// A session cookie named `cookie` (Tack's sessions: `sessionid`).
    pub fn session_cookie(cookie: impl Into<String>) -> Self {
        SecurityScheme::ApiKey {
            name: cookie.into(),
            location: ApiKeyLocation::Cookie,
            description: Some("The session cookie set when signing in.".to_owned()),
        }
    }

    /// A CSRF token sent in the header `header` (Tack's CSRF layer:
    /// `X-CSRFToken`), required with a session cookie on unsafe methods.
    pub fn csrf_header(header: impl Into<String>) -> Self {
        SecurityScheme::ApiKey {
            name: header.into(),
            location: ApiKeyLocation::Header,
            description: Some(
                "The CSRF token, required with the session cookie on POST, PUT, PATCH and DELETE."
                    .to_owned(),
            ),
        }
    }

    /// A token sent as `Authorization: Bearer TOKEN`.
    pub fn bearer() -> Self {
        SecurityScheme::Http {
            scheme: "bearer".to_owned(),
            bearer_format: None,
            description: Some("An API token sent as `Authorization: Bearer TOKEN`.".to_owned()),
        }
    }

    /// Replaces the description.
    pub fn with_description(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            SecurityScheme::ApiKey { description, .. }
            | SecurityScheme::Http { description, .. } => {
                *description = Some(text.into());
            }
        }
        self
    }

    /// The scheme's description, if any.
    pub fn description(&self) -> Option<&str> {
        match self {
            SecurityScheme::ApiKey { description, .. }
            | SecurityScheme::Http { description, .. } => description.as_deref(),
        }
    }
}
